/*
 * live.h - esa-check's live mode (SPEC 8.2, 4.3)
 *
 * Without --cert, esa-check finds the hosts that receive mail for the
 * recipient domain (its SMTP routes, else its MX records, else the domain
 * itself), connects to their addresses in order, says EHLO and STARTTLS,
 * runs the TLS handshake with the esaverify callback installed, and reports
 * each host's decision record as the offline mode does.  The first host
 * whose chain and every requested mode pass is used; the rest are not
 * contacted (SPEC 4.3).
 *
 * Three files share this header:
 *   live.c         the host list, the search and the exit status;
 *   live_smtp.c    one SMTP STARTTLS session with one address;
 *   live_report.c  the text explanation and the JSON object.
 *
 * Ownership: struct live holds everything one run takes (hosts, lookups,
 * attempts, each attempt's SSL and with it the SSL's decision record, the
 * SSL_CTX) and live_run frees it all before it returns.  The esa_config is
 * the caller's.
 */
#ifndef ESA_CLI_LIVE_H
#define ESA_CLI_LIVE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/ssl.h>

#include "internal.h"

/* What the command line asked of live mode. */
struct live_opts {
	const char *domain;	/* the recipient domain, normalised */
	unsigned modes;		/* 1 << enum esa_mode of each mode requested */
	int port;		/* --port: for hosts without a port of their own */
	unsigned timeout_ms;	/* connect, each SMTP reply, the handshake */
	bool json;		/* one JSON object instead of the text */
	bool no_chain;		/* --no-chain: stage I does not count */
	long long at;		/* --at: stage I time; 0 now */
	/* for esa-check --survey (survey.c); zero in plain live mode */
	SSL_CTX *ctx;		/* shared client context; NULL: one of its own */
	bool all_hosts;		/* contact every host, not only up to a pass */
	bool stock;		/* also ask OpenSSL to check the host name
				 * (SSL_set1_host, as Postfix's "verify"
				 * level does): the record's stock verdict */
};

/* live_run - the whole live check; prints the explanation or the JSON
 * object on stdout.  Returns the exit status: 0 a host passed every
 * requested mode, 1 none did, 2 the tool could not run (err then holds one
 * line, without the "esa-check: " prefix). */
int live_run(esa_config *cfg, const struct live_opts *o, char *err,
	     size_t errsz);

/* ---- between live.c, live_smtp.c, live_report.c and survey.c ---------- */

/* Where a host came from (SPEC 4.3; RFC 5321 5.1 for the implicit MX). */
enum live_source {
	LIVE_SRC_ROUTE,		/* "route": an SMTP route of the domain */
	LIVE_SRC_MX,		/* "mx": an MX record's exchange */
	LIVE_SRC_IMPLICIT,	/* "implicit-mx": no MX, the domain itself */
};

/* One host to try, in the order of the search. */
struct live_host {
	char name[ESA_NAME_MAX];	/* FQDN (normalised) or IP literal */
	enum live_source source;
	int pri;		/* route priority or MX preference */
	int port;		/* the route's port, 0 for --port */
	bool is_ip;		/* an IP-literal route: no lookup */
	int family;
	unsigned char ip[16];
};

/* How one attempt ended. */
enum live_outcome {
	LIVE_NO_ADDRESS,	/* "no-address": the name gave no address */
	LIVE_REFUSED,		/* "refused": TCP connection refused */
	LIVE_TIMEOUT,		/* "timeout": a step took longer than allowed */
	LIVE_NET_ERROR,		/* "network-error": other socket errors */
	LIVE_SMTP_ERROR,	/* "smtp-error": an unexpected reply */
	LIVE_NO_STARTTLS,	/* "no-starttls": not offered after EHLO */
	LIVE_TLS_FAILED,	/* "tls-failed": the handshake failed */
	LIVE_FAILED,		/* "failed": chain or a requested mode fails */
	LIVE_PASSED,		/* "passed": chain and every requested mode */
};

/* One certificate of the chain the server sent. */
struct live_cert {
	char *subject;		/* RFC 2253, malloc'd */
	char *issuer;
};

/* One address contacted (or one host that gave no address). */
struct live_attempt {
	size_t host;			/* index into live.hosts */
	size_t *also;			/* further hosts leading here */
	size_t nalso, also_cap;
	bool have_addr;
	int family;
	unsigned char addr[16];
	char addr_text[64];
	int port;
	/* the session, step by step */
	bool connected;
	char banner[256];		/* the greeting's first line, raw */
	bool ehlo_ok;			/* 250 to EHLO */
	bool starttls;			/* STARTTLS offered */
	char starttls_reply[256];
	bool tls_done;			/* the handshake completed */
	char protocol[32];
	char cipher[128];
	int bits;
	struct live_cert *chain;
	size_t nchain;
	SSL *ssl;			/* kept: it owns res */
	struct esa_result *res;		/* the decision record, or NULL */
	/* the end */
	enum live_outcome outcome;
	char reason[ESA_ERR_MAX];	/* one line */
	unsigned ms;
};

/* One DNS query made to find the hosts or their addresses. */
struct live_lookup {
	char name[ESA_NAME_MAX];
	uint16_t type;
	enum esa_dns_status status;
	int rcode;
	size_t count;
	unsigned ms;
	char reason[ESA_ERR_MAX];	/* "" when status is OK */
};

/* Everything one run holds. */
struct live {
	const struct live_opts *o;
	esa_config *cfg;
	esa_resolver *resolver;		/* owned by cfg */
	SSL_CTX *ctx;
	enum esa_tls tls;		/* the domain's setting (decision line) */
	char ehlo[ESA_NAME_MAX];	/* the name said in EHLO */
	enum live_source from;		/* where the host list came from */
	char hosts_error[ESA_ERR_MAX];	/* why there is no host, or "" */
	struct live_host *hosts;
	size_t nhosts, hosts_cap;
	struct live_lookup *lookups;
	size_t nlookups, lookups_cap;
	struct live_attempt *att;
	size_t natt, att_cap;
	long used;			/* the attempt that passed, or -1 */
	long first_pass[2];		/* per mode: first attempt passing it */
	struct esa_result *none;	/* the record when no host gave one */
};

/* Names: "route", "mx", "implicit-mx"; "passed", "refused", ... */
const char *live_source_name(enum live_source s);
const char *live_outcome_name(enum live_outcome o);

/* live_session - one SMTP STARTTLS session with attempt a's address:
 * connect, banner, EHLO, STARTTLS, the handshake under the esaverify
 * callback, QUIT.  Fills a's session fields, a->ssl and a->res, and sets
 * a->outcome (LIVE_FAILED once a record exists; live.c decides the pass)
 * and a->reason.  0, or -1 when the tool itself failed (err set). */
int live_session(struct live *l, struct live_attempt *a, char *err,
		 size_t errsz);

/* live_check - what live_run does before it reports: the hosts, the search,
 * the records, into *l (printing the text as it goes unless o->json).  0, or
 * -1 when the tool itself failed (err set).  Either way live_release(l)
 * frees what it holds. */
int live_check(esa_config *cfg, const struct live_opts *o, struct live *l,
	       char *err, size_t errsz);
void live_release(struct live *l);

/* The record the report's top level describes: the attempt used, else the
 * first with a record, else l->none. */
const struct esa_result *live_top_result(const struct live *l);

/* Text, written as the search goes, and the JSON object at the end. */
void live_report_start(const struct live *l, FILE *out);
void live_report_host(const struct live *l, size_t host, size_t lookup0,
		      FILE *out);
void live_report_duplicate(const struct live *l, size_t att, FILE *out);
void live_report_attempt(const struct live *l, size_t att, FILE *out);
void live_report_end(const struct live *l, FILE *out);
/* 0, or -1 on allocation failure */
int live_report_json(const struct live *l, FILE *out);
struct esa_json;
/* The members of that object, into one the caller has opened. */
void live_report_json_members(const struct live *l, struct esa_json *j);
/* live_json_where - an attempt's "host", "also", "source", "priority",
 * "address" and "port" members (the --json attempts and the survey's
 * hosts) */
void live_json_where(const struct live *l, const struct live_attempt *a,
		     struct esa_json *j);

#endif
