/*
 * internal.h - private interfaces between the modules of libesaverify
 *
 * Layers (STYLE.md 2): tls.c (the table of SPEC 5 and the enums' names),
 * match.c (pure string rules, SPEC 3), idn.c (domain normalisation),
 * names.c (presented identifiers from an X509), dns.c (one lookup
 * interface and its cache, SPEC 6) with two resolvers, dns_libresolv.c and
 * dnsfile.c, config.c (settings, SPEC 5) with config_routes.c and
 * config_file.c (routes, destinations file, SPEC 8.4), identity.c (the two
 * algorithms and the decision record, SPEC 4), result.c (text and JSON from
 * the record), recipient.c (which recipient domain(s), SPEC 8.3, and how
 * several candidates fold into one decision), callback.c (the OpenSSL
 * glue, SPEC 2 and 5; its per-connection state is private to it).
 * The command-line tool and the shim include this header too; users do not.
 */
#ifndef ESA_INTERNAL_H
#define ESA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <pthread.h>
#include "esaverify.h"

#define ESA_NAME_MAX 256	/* a DNS name, text form, with its NUL */
#define ESA_ERR_MAX 512		/* an error or reason string */

/* ---- tls.c: SPEC 5, one table -------------------------------------------- */

/* Predicates over the table of SPEC 5 (esa_tls_verifies is public).  An
 * unknown value is false everywhere. */
bool esa_tls_valid(enum esa_tls tls);		/* one of 1..6 */
enum esa_mode esa_tls_mode(enum esa_tls tls);	/* 4, 5 Verify; 6 Hosted */
unsigned esa_tls_modes(enum esa_tls tls);	/* 1 << esa_tls_mode, or 0 */
bool esa_tls_requires_tls(enum esa_tls tls);	/* 3, 5, 6: none without TLS */
bool esa_tls_refuses_failure(enum esa_tls tls);	/* 5, 6: a failed check refuses */
/* What a bad setting is told it should have been. */
#define ESA_TLS_EXPECTED "expected no, preferred, required, preferred-verify, " \
	"required-verify, required-verify-hosted or 1-6"

/* ---- match.c: SPEC 3 and the name primitive (match.h) ------------------ */

#include "match.h"

/* ---- idn.c --------------------------------------------------------------- */

/* esa_domain_normalize - turn a user-given domain (ASCII or UTF-8 Unicode)
 * into the A-label, lower-case form without a trailing dot, and check it is
 * a valid reference identifier.  0 on success; -1 with a one-line reason in
 * why (e.g. "invalid domain 'a..b': empty label"). */
int esa_domain_normalize(const char *in, char *out, size_t outsz,
			 char *why, size_t whysz);

/* ---- dns.c, dns_libresolv.c, dnsfile.c: SPEC 6 -------------------------- */

enum esa_rrtype {
	ESA_T_A = 1,
	ESA_T_CNAME = 5,
	ESA_T_PTR = 12,
	ESA_T_MX = 15,
	ESA_T_AAAA = 28,
	ESA_T_TLSA = 52,	/* RFC 6698; docs/dane.md */
};

enum esa_dns_status {
	ESA_DNS_OK = 0,		/* rcode NOERROR with >= 1 record of the type */
	ESA_DNS_NODATA,		/* NOERROR, no record of the type */
	ESA_DNS_NXDOMAIN,
	ESA_DNS_SERVFAIL,
	ESA_DNS_REFUSED,
	ESA_DNS_TIMEOUT,	/* no answer within the budget */
	ESA_DNS_MALFORMED,	/* answer unparseable, wrong id/name/type, ... */
	ESA_DNS_ERROR,		/* anything else (resolver setup, bad query name) */
};
const char *esa_dns_status_name(enum esa_dns_status st); /* "nxdomain", ... */
const char *esa_rrtype_name(uint16_t type);		   /* "A", "MX", ... */

/* TLSA association data kept per record: every digest, every SPKI up to
 * RSA 4096; a larger record makes its answer malformed (docs/dane.md 4). */
#define ESA_TLSA_DATA_MAX 1024

struct esa_rr {
	uint16_t type;		/* ESA_T_A, ESA_T_AAAA, ESA_T_MX or ESA_T_PTR */
	uint32_t ttl;
	uint16_t pref;		/* MX preference */
	char name[ESA_NAME_MAX];	/* MX exchange / PTR target: lower case, no trailing dot */
	unsigned char addr[16];	/* A: first 4 octets; AAAA: 16 */
	/* TLSA (RFC 6698 2.1): usage, selector, matching type, data */
	uint8_t usage, selector, mtype;
	uint16_t dlen;
	unsigned char data[ESA_TLSA_DATA_MAX];
};

#define ESA_DNS_MAX_RR 64	/* records kept per answer; more are dropped */

/* One answer.  Only records of the asked type are kept (CNAMEs are followed,
 * at most 8 deep, and not kept); owner names are checked against the query
 * name or the CNAME chain, so records for other names are ignored. */
struct esa_answer {
	enum esa_dns_status status;
	int rcode;		/* DNS RCODE, -1 if no answer arrived */
	bool ad;		/* AD bit of the answer */
	bool cached;		/* served from the cache */
	unsigned ms;		/* time the lookup took */
	uint32_t ttl;		/* min TTL of the kept records (0 if none) */
	bool null_mx;		/* an MX "." (RFC 7505) was answered, not kept */
	size_t count;
	struct esa_rr *rr;	/* count records, malloc'd; esa_answer_free */
	size_t cap;		/* allocated entries of rr */
	char reason[ESA_ERR_MAX];	/* why status != OK, one line */
};
void esa_answer_free(struct esa_answer *ans);

typedef struct esa_resolver esa_resolver;

/* A libresolv resolver (res_ninit/res_nquery/ns_initparse, per-call state,
 * never the global _res).  nameserver "IP[:PORT]" ("[v6]:port" or bare v6,
 * esa_nameserver_parse; an IPv4 address in brackets is refused) replaces
 * the system's list; NULL or "" uses /etc/resolv.conf.  Thread-safe;
 * answers cached for their TTL (capped at 3600 s).  NULL with err set on a
 * bad nameserver. */
esa_resolver *esa_resolver_libresolv(const char *nameserver, char *err,
				     size_t errsz);
/* A static resolver answering from an RFC 1035 master file (dnsfile.c):
 * NAME [TTL] [IN] TYPE RDATA for A, AAAA, MX, PTR, CNAME; $ORIGIN, $TTL;
 * names absent are NXDOMAIN; a PTR owner may also be written as an IP
 * address.  Errors name the file, the line and the problem. */
esa_resolver *esa_resolver_static_file(const char *path, char *err,
				       size_t errsz);
/* The same from text in memory; label names it in errors. */
esa_resolver *esa_resolver_static_text(const char *text, size_t len,
				       const char *label, char *err,
				       size_t errsz);
void esa_resolver_free(esa_resolver *r);
/* Take or release the resolver's cache lock (esa_config_fork_lock). */
void esa_resolver_fork_lock(esa_resolver *r, bool lock);
/* Drop every cached answer (tests, benchmarks). */
void esa_resolver_flush(esa_resolver *r);
/* Number of queries actually sent to a server (not served from the cache)
 * since creation: for tests and benchmarks. Static: lookups answered. */
unsigned long esa_resolver_queries(const esa_resolver *r);

/* esa_lookup - look name up for type, with an absolute deadline from
 * esa_now_ms().  Always fills *out (status says what happened); returns 0 if
 * status is OK, -1 otherwise.  name is text, trailing dot optional. */
int esa_lookup(esa_resolver *r, const char *name, uint16_t type,
	       uint64_t deadline_ms, struct esa_answer *out);

/* esa_dns_parse_answer - read a whole DNS message answering name
 * (canonical: lower case, no trailing dot) for type exactly as the
 * libresolv backend reads its answers (dns_libresolv.c; also in dns_impl.h
 * for the fuzzer).  The shim feeds it the answers the program itself got.
 * Fills *out (esa_answer_free); next gets an unchased CNAME target or "".
 * Returns how long the answer may be kept, in seconds. */
uint32_t esa_dns_parse_answer(const unsigned char *msg, size_t len,
			      const char *name, uint16_t type,
			      struct esa_answer *out, char next[ESA_NAME_MAX]);

/* Monotonic milliseconds. */
uint64_t esa_now_ms(void);
/* Monotonic microseconds (util.c). */
uint64_t esa_now_us(void);
/* esa_wait_fd - poll fd for events (POLLIN, POLLOUT) until deadline
 * (esa_now_ms()), across EINTR; 0 when it is ready (an error on fd shows in
 * the next read or write), or -1 with errno: ETIMEDOUT when the time is up
 * (util.c; the DNS client and esa-check live). */
int esa_wait_fd(int fd, short events, uint64_t deadline);
/* The reverse-lookup name of an address: "1.2.0.192.in-addr.arpa" or the
 * ip6.arpa nibble form.  family AF_INET or AF_INET6. */
int esa_reverse_name(int family, const unsigned char *addr, char *out,
		     size_t outsz);

/* ---- config.c, config_routes.c, config_file.c: SPEC 5, 8.4 ------------- */

struct esa_route {
	char host[ESA_NAME_MAX];	/* FQDN (normalised) or IP literal text */
	bool is_ip;
	int family;		/* AF_INET / AF_INET6 when is_ip */
	unsigned char ip[16];
	int port;		/* 0: default */
	int pri;		/* 0 highest, the default */
};

/* A nameserver as written: "IP", "IP:PORT", "[IPv6]:PORT", "[IPv6]" or a
 * bare IPv6 address (two or more colons and no brackets: never a port, so
 * "::1:53" is an address). */
struct esa_nameserver {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int port;		/* 1..65535; 0 when none is given */
	bool bracketed;		/* the address was written in brackets */
	char text[64];		/* canonical: "192.0.2.1", "192.0.2.1:5353",
				 * "2001:db8::1", "[2001:db8::1]:53" */
};

/* esa_nameserver_parse - the one parser of that grammar (config.c), for
 * esa_config_set_nameserver and the libresolv backend.  0 with *ns filled,
 * or -1 with "bad nameserver '...': PROBLEM (expected IP[:PORT],
 * [IPv6]:PORT or a bare IPv6 address)" in err (NULL: no message). */
int esa_nameserver_parse(const char *text, struct esa_nameserver *ns,
			 char *err, size_t errsz);

/* esa_routes_parse - "HOST[:PORT][/pri=N], ..." into a malloc'd array,
 * sorted by priority, ties in given order (stable).  IPv6 literals as
 * "[2001:db8::1]:25".  0, or -1 with a one-line reason naming the bad item. */
int esa_routes_parse(const char *text, struct esa_route **out, size_t *n,
		     char *why, size_t whysz);

struct esa_dest {
	char domain[ESA_NAME_MAX];	/* "default", "example.com", ".example.org" */
	enum esa_tls tls;
};
struct esa_domain_routes {
	char domain[ESA_NAME_MAX];
	struct esa_route *routes;
	size_t n;
};

/* A chain that passed stage I against a configuration's store: the
 * certificates as the server sent them (references), and the wall-clock
 * window in which that verdict stands (chain.c). */
#define ESA_CHAIN_MEMO 16
struct x509_st;
struct esa_chain_memo {
	struct x509_st **certs;	/* leaf, then the untrusted ones; NULL = free */
	int ncerts;
	long long from, until;	/* time(NULL) bounds, from <= now < until */
	int level;		/* the security level it verified at */
};
/* Forget every remembered chain (cfg->lock held). */
struct esa_config;
void esa_chain_memo_flush(struct esa_config *cfg);

struct esa_config {
	enum esa_tls tls;		/* default setting */
	char nameserver[128];		/* "" = system */
	char dns_file[4096];		/* "" = none */
	unsigned dns_budget_ms;
	char cafile[4096], capath[4096], crlfile[4096];	/* "" = unset */
	unsigned chain_flags;		/* ESA_CHAIN_*: beyond stock (SPEC 2) */
	enum esa_dane dane;		/* docs/dane.md 1; default none */
	bool secure_mx;			/* Hosted: DNSSEC-secure MX names only */
	struct esa_dest *dests;
	size_t ndests, dests_cap;
	struct esa_domain_routes *routes;
	size_t nroutes, routes_cap;
	char err[ESA_ERR_MAX];
	/* built lazily by esa_config_resolver, under lock */
	pthread_mutex_t lock;
	esa_resolver *resolver;
	/* built lazily by esa_config_shared_store, under lock: loading a CA
	 * bundle costs far more than a handshake, so it is done once */
	struct x509_store_st *store;
	/* chains that verified against store, under lock (chain.c) */
	struct esa_chain_memo memo[ESA_CHAIN_MEMO];
	unsigned memo_next;
	int refs;
};

/* The routes configured for domain (exact domain only), or NULL. */
const struct esa_domain_routes *esa_config_routes_for(const esa_config *cfg,
						      const char *domain);
/* The resolver configured (static file, nameserver or system), created on
 * first use and shared; NULL with cfg->err set if it cannot be made. */
esa_resolver *esa_config_resolver(esa_config *cfg);
/* Take (lock true) or release every lock of cfg and its resolver, around
 * fork() (pthread_atfork), so that no child inherits one held. */
void esa_config_fork_lock(esa_config *cfg, bool lock);
/* Parse a destinations file given as text (for tests and fuzzing). */
int esa_config_load_text(esa_config *cfg, const char *text, size_t len,
			 const char *label);

/* ---- names.c: presented identifiers ------------------------------------- */

enum esa_id_kind { ESA_ID_DNS, ESA_ID_CN };

struct esa_presented {
	enum esa_id_kind kind;
	char *raw;		/* the octets as decoded (UTF-8 for CN), NUL-terminated copy */
	size_t len;		/* octets in raw, excluding the terminator */
	char *display;		/* printable escaped form for logs; == raw
				 * when raw needs no escaping */
	const char *problem;	/* NULL if usable, else why it can never match */
};

struct esa_idlist {
	struct esa_presented *ids;
	size_t n;
	size_t ndns;		/* how many are DNS-IDs (SPEC 4.1, 4.2) */
	size_t ncn;
	size_t cap;		/* allocated entries of ids */
};

struct x509_st;
/* Collect DNS-IDs (subjectAltName dNSName) then every subject CN. 0 or -1. */
int esa_presented_collect(struct x509_st *leaf, struct esa_idlist *out);
void esa_idlist_free(struct esa_idlist *l);

/* ---- identity.c: SPEC 4 and the decision record ------------------------ */

/* What the connection is known to be. */
struct esa_target {
	char recipient[ESA_NAME_MAX];	/* normalised; "" = unknown */
	bool have_peer;
	int peer_family;
	unsigned char peer[16];
	char via[ESA_NAME_MAX];		/* route or MX host used; "" = unknown */
	const struct esa_route *routes;	/* for the recipient domain, or NULL */
	size_t nroutes;
	int port;			/* server port; 0 = unknown (25) */
	bool secure_mx;			/* Hosted: secure MX answers only */
};

enum esa_try_outcome {
	ESA_TRY_MATCH,		/* p ~= r */
	ESA_TRY_NOMATCH,	/* no presented identifier matched r */
	ESA_TRY_BAD_REFERENCE,	/* r is not a valid hostname */
	ESA_TRY_NOT_CONFIRMED,	/* PTR name whose A/AAAA lacks the peer */
	ESA_TRY_NOT_PEER,	/* FQDN route that does not lead to the peer */
	ESA_TRY_LOOKUP_FAILED,	/* DNS gave nothing usable */
};

/* One reference identifier tried against the presented set. */
struct esa_try {
	enum esa_source source;
	char reference[ESA_NAME_MAX];
	enum esa_id_kind against;	/* which kind of presented ids were compared */
	enum esa_try_outcome outcome;
	int matched;		/* index into the idlist, -1 if none */
	char note[ESA_ERR_MAX];	/* extra detail, e.g. "A 192.0.2.9 only" */
};

struct esa_verdict {
	enum esa_mode mode;
	bool computed;
	bool pass;
	enum esa_source source;		/* of the matching reference */
	int matched;			/* idlist index, -1 */
	char reference[ESA_NAME_MAX];	/* the matching reference, "" */
	char reason[ESA_ERR_MAX];	/* one line */
	struct esa_try *tries;
	size_t ntries;
	size_t tries_cap;		/* allocated entries of tries */
};

struct esa_dnsq {
	char name[ESA_NAME_MAX];
	uint16_t type;
	enum esa_dns_status status;
	int rcode;
	size_t count;
	bool ad;
	bool cached;
	unsigned ms;
};

#define ESA_MAX_CANDIDATES 8	/* recipient domains weighed per connection */

/* Where a connection's recipient domain came from (SPEC 8.3, the log's
 * "recipient_source"; recipient.c has the names). */
enum esa_recipient_source {
	ESA_RCPT_NONE = 0,	/* "": not from a connection (esa-check) */
	ESA_RCPT_SET,		/* "set": esa_ssl_set_recipient */
	ESA_RCPT_ENV,		/* "env": ESA_RECIPIENT_DOMAIN (the shim) */
	ESA_RCPT_CONFIG_ROUTE,	/* "config-route": a configured route */
	ESA_RCPT_MX_LOOKUP,	/* "mx-lookup": the program's own MX lookups */
	ESA_RCPT_HOST,		/* "host": the name it asked OpenSSL to check */
	ESA_RCPT_SNI,		/* "sni": the name it sent */
};

/* One candidate recipient domain as chosen, and, when there were several,
 * its own verdicts (for the log). */
struct esa_candidate_verdict {
	char domain[ESA_NAME_MAX];
	char via[ESA_NAME_MAX];
	enum esa_tls tls;
	bool verify_pass;
	bool hosted_pass;
	bool accept;
};

struct esa_result {
	char recipient[ESA_NAME_MAX];
	enum esa_recipient_source recipient_source;	/* NONE offline */
	char peer[64];		/* text, "" if unknown */
	char via[ESA_NAME_MAX];
	enum esa_tls tls;
	struct {
		bool checked;	/* false with --no-chain */
		bool memo;	/* the verdict of an earlier verification */
		bool ok;
		int error;	/* X509_V_ERR_* */
		int depth;
		char text[ESA_ERR_MAX];
		unsigned long flags;	/* X509_V_FLAG_* that applied */
		int auth_level;		/* the security level that applied */
	} chain;
	struct esa_idlist ids;
	struct esa_verdict verdict[2];	/* by enum esa_mode */
	struct esa_dnsq *dns;
	size_t ndns;
	size_t dns_cap;			/* allocated entries of dns */
	char error[ESA_ERR_MAX];	/* set when the check itself could not run */
	bool stock_ok;			/* OpenSSL's own verdict (chain + host) */
	char stock_host[ESA_NAME_MAX];	/* the name the program asked for */
	bool accept;			/* the decision under tls (callback) */
	uint64_t elapsed_us;		/* time the decision took */
	/* the recipient domains chosen for the connection (recipient.c), the
	 * first one first; with several (recipient_source "mx-lookup") each
	 * one's verdicts, and a mode passes, and the connection is accepted,
	 * only if it does for every one of them */
	struct esa_candidate_verdict *candidates;	/* malloc'd, or NULL */
	size_t ncandidates;
	struct esa_dane_record *dane;	/* dane.c; NULL when DANE is none */
};

/* esa_verdict_add_try - append one tried reference identifier (note may be
 * NULL) to v; 0, or -1 on allocation failure */
int esa_verdict_add_try(struct esa_verdict *v, enum esa_source src,
			const char *ref, enum esa_id_kind against,
			enum esa_try_outcome outcome, int matched,
			const char *note);

/* esa_identity_decide - run one algorithm (SPEC 4.1 or 4.2) for target on
 * the presented identifiers in res->ids, appending DNS queries to res->dns
 * and filling res->verdict[mode].  DNS is queried lazily.  A NULL resolver
 * acts as one that answers nothing (every lookup fails). 0, or -1 on
 * allocation failure (the verdict then fails). */
int esa_identity_decide(struct esa_result *res, enum esa_mode mode,
			const struct esa_target *t, esa_resolver *r,
			uint64_t deadline_ms);
struct esa_result *esa_result_new(void);
void esa_result_free(struct esa_result *res);
/* Fill res->ids from the leaf and run both modes. */
int esa_identity_check(struct esa_result *res, struct x509_st *leaf,
		       const struct esa_target *t, esa_resolver *r,
		       unsigned budget_ms);

/* The same for a bit mask of modes (1u << ESA_MODE_VERIFY, ...). */
int esa_identity_check_modes(struct esa_result *res, struct x509_st *leaf,
			     const struct esa_target *t, esa_resolver *r,
			     unsigned budget_ms, unsigned modes);

/* esa_lookup_logged - esa_lookup, the query appended to res->dns (the
 * identity algorithms' and dane.c's one way to ask); 0 if OK, else -1. */
int esa_lookup_logged(struct esa_result *res, esa_resolver *r,
		      const char *name, uint16_t type, uint64_t deadline,
		      struct esa_answer *ans);
/* esa_answer_secure - is ans DNSSEC-secure: AD set by a resolver trusted to
 * validate (docs/dane.md 2)? */
bool esa_answer_secure(const esa_resolver *r, const struct esa_answer *ans);

/* ---- dane.c: the DANE verdict (docs/dane.md) ------------------------------ */

#include "dane.h"

/* ---- chain.c: stage I outside a handshake (SPEC 2) ---------------------- */

struct x509_store_st;
struct stack_st_X509;
/* A new X509_STORE from cfg's trust settings (cafile/capath, CRLs with
 * CRL checking switched on); the system default paths when none is set.
 * NULL with err set if a file cannot be loaded. */
struct x509_store_st *esa_config_store(const esa_config *cfg, char *err,
				       size_t errsz);
/* The same store, built on first use and kept in cfg until its trust
 * settings change; the caller gets its own reference (X509_STORE_free).
 * NULL with err set if a file cannot be loaded (tried again next time). */
struct x509_store_st *esa_config_shared_store(esa_config *cfg, char *err,
					      size_t errsz);
/* esa_chain_check - verify leaf plus untrusted intermediates against cfg's
 * store for TLS server use at time at (0: now) and security level level
 * (-1: a stock client's, esa_chain_stock_auth_level); fills res->chain,
 * with the flags and level that applied.  0 if the chain verified, -1
 * otherwise (res->chain.text says why). */
int esa_chain_check(esa_config *cfg, struct x509_st *leaf,
		    struct stack_st_X509 *untrusted, long long at, int level,
		    struct esa_result *res);
/* The X509_V_FLAG_* bits a configuration's store carries (SPEC 2): none of
 * a stock client's handshake beyond CRL checking with CRLs configured,
 * plus what esa_config_set_chain_flags opted into. */
unsigned long esa_chain_store_flags(const esa_config *cfg);
/* Only the opt-in profiles of those (X509_STRICT, PARTIAL_CHAIN): what a
 * handshake against the program's own store gets added to its parameters
 * (esa_ssl_install, esa_ctx_install, the shim when it enforces). */
unsigned long esa_chain_profile_flags(const esa_config *cfg);
/* The security level of a stock TLS client on this machine (a fresh
 * SSL_CTX's, which reads openssl.cnf); stage I outside a handshake. */
int esa_chain_stock_auth_level(void);
/* The names of the X509_V_FLAG_* bits of flags, for the log: each known bit
 * in turn (out[i] = "x509_strict", ...), at most max; returns the count. */
size_t esa_chain_flag_names(unsigned long flags, const char **out,
			    size_t max);

/* ---- recipient.c: which recipient domain(s), SPEC 8.3 -------------------- */

/* What the program's own DNS work says about the peer (the shim watches it,
 * issue 7): host is a name the program resolved to the peer address, domain
 * the recipient domain whose MX records named host ("" when the program only
 * resolved the host, e.g. an SMTP route). */
struct esa_learned {
	char domain[ESA_NAME_MAX];
	char host[ESA_NAME_MAX];
};

/* One possible recipient domain of a connection, and the MX host that led
 * to the peer (SPEC 4.2 step 3, esa-check --via). */
struct esa_candidate {
	char domain[ESA_NAME_MAX];
	char via[ESA_NAME_MAX];
};

/* What is known of a connection's peer when the recipient domain is to be
 * chosen (esa_recipient_choose). */
struct esa_peer_facts {
	const char *name;		/* the name the program asked for, or NULL */
	bool name_is_sni;		/* it was only sent as SNI */
	int family;			/* AF_INET, AF_INET6; 0: address unknown */
	unsigned char addr[16];
	struct esa_learned *learned;	/* the program's own DNS work (shim) */
	size_t nlearned;
};

/* The recipient domain(s) chosen, the first one first. */
struct esa_choice {
	struct esa_candidate cands[ESA_MAX_CANDIDATES];
	size_t n;
	enum esa_recipient_source source;	/* CONFIG_ROUTE .. SNI */
};

/* The log word of a source: "", "set", "env", "config-route", ... */
const char *esa_recipient_source_name(enum esa_recipient_source source);

/* esa_recipient_choose - when no setter gave the recipient domain: the
 * domain whose configured routes name p->name, a learned host or the peer
 * address ("config-route"); else the domains whose MX lookups by the
 * program led to the peer ("mx-lookup"; narrowed to the one p->name names
 * when it names one, as a domain or as its MX host); else p->name ("host",
 * "sni").  false when nothing is known. */
bool esa_recipient_choose(const esa_config *cfg, const struct esa_peer_facts *p,
			  struct esa_choice *ch);
/* Does a failed chain refuse at once for this connection: its recipient
 * (n <= 1) or any of its n > 1 candidates under a setting that refuses
 * failures (an invalid domain: the configuration's default setting)? */
bool esa_recipient_refuses_failure(const esa_config *cfg, const char *recipient,
				   const struct esa_candidate *cands, size_t n);

/* The candidates of a connection in its record (res->candidates, each
 * with the record's setting until noted); 0, or -1 out of memory. */
int esa_candidates_set(struct esa_result *res, const struct esa_candidate *c,
		       size_t n);
/* Candidate i's own verdicts, from the record made for it alone. */
void esa_candidates_note(struct esa_result *res, size_t i,
			 const struct esa_result *of);
/* Fold another candidate's record into res: a mode passes, and the
 * connection is accepted, only if it does for both; the DNS log adds up.
 * other's failing verdicts move into res (other keeps the rest). */
void esa_candidates_merge(struct esa_result *res, struct esa_result *other);
/* Accepted under the record's setting and every candidate's (observe). */
bool esa_candidates_accept(const struct esa_result *res);

/* What ESA does with an SMTP MAIL FROM about to go out in clear. */
struct esa_plaintext {
	enum esa_tls tls;		/* the setting it is judged by */
	char domain[ESA_NAME_MAX];	/* the recipient domain judged for, "" */
	bool reject;			/* ESA would not deliver it */
	char why[ESA_ERR_MAX];		/* one line for the log */
};
/* esa_plaintext_judge - judged for recipient when the host knows it
 * (ESA_RECIPIENT_DOMAIN; NULL or "" if not), else for the domains p leads
 * to (the first whose setting requires TLS, else the first), else by the
 * default; refused under a setting that requires TLS (SPEC 5) or when
 * config_error is set (fail closed). */
void esa_plaintext_judge(const esa_config *cfg, const char *recipient,
			 const struct esa_peer_facts *p,
			 const char *config_error, struct esa_plaintext *out);

/* ---- callback.c: the connection, and what a host (the shim) may ask ------ */

/* What a host that attaches the library to connections it does not own
 * (the shim) asks of each of them; NULL hooks are not called. */
struct esa_hooks {
	bool observe;		/* decide nothing: verify on the side */
	bool all_modes;		/* compute both algorithms (for logs) */
	/* true: behave as if not installed (ESA_PORTS) */
	bool (*skip)(SSL *ssl);
	/* one verification was decided; res is its record (may be NULL when
	 * memory ran out) */
	void (*on_decide)(SSL *ssl, const struct esa_result *res);
	/* the names the program resolved to the peer and the domains whose MX
	 * records named them, at most max, most recently learned first */
	size_t (*learned)(SSL *ssl, int family, const unsigned char *addr,
			  struct esa_learned *out, size_t max);
};

/* esa_ssl_attach - install on ssl with cfg even if its SSL_CTX has no
 * installation, keeping prev as the program's callback, with the host's
 * hooks (copied).  Nothing is changed on an SSL already under esaverify.
 * 0, or -1. */
int esa_ssl_attach(SSL *ssl, esa_config *cfg, SSL_verify_cb prev,
		   const struct esa_hooks *hooks);
/* Is ssl under esaverify (installed or attached)? */
bool esa_ssl_attached(SSL *ssl);
/* The recipient domain as the host knows it (ESA_RECIPIENT_DOMAIN: source
 * ESA_RCPT_ENV); 0 or -1. */
int esa_ssl_set_recipient_from(SSL *ssl, const char *domain,
			       enum esa_recipient_source source);
/* The peer address the host saw on the connection's socket; kept only
 * when none is known yet. */
void esa_ssl_note_peer(SSL *ssl, int family, const unsigned char addr[16]);
/* The SSL carries a new connection (SSL_clear): what the last one taught
 * (peer, chosen recipient domain, candidates, via, record) is forgotten;
 * what the host set stays. */
void esa_ssl_reset(SSL *ssl);
/* Refuse every verification of ssl, with this reason; the first reason
 * given stays. */
void esa_ssl_refuse(SSL *ssl, const char *why);
/* The program's verify callback, set after attaching: the one chained. */
void esa_ssl_set_prev(SSL *ssl, SSL_verify_cb cb);
/* Compute both algorithms for ssl's record, whatever the setting needs
 * (esa-check live, benchmarks); 0 or -1. */
int esa_ssl_set_all_modes(SSL *ssl);
/* The record of ssl's last decision, for a host that reports from it
 * (esa-check live sets the domain's own setting on it); NULL if none. */
struct esa_result *esa_ssl_record(SSL *ssl);
/* The callback itself, for the shim to recognise and chain. */
int esa_verify_cb(int ok, X509_STORE_CTX *x);

/* ---- small helpers (util.c) --------------------------------------------- */
/* Parse an IPv4 or IPv6 literal; 0 on success. */
int esa_parse_ip(const char *text, int *family, unsigned char addr[16]);
/* Format an address. */
void esa_format_ip(int family, const unsigned char *addr, char *out,
		   size_t outsz);
/* snprintf into a fixed buffer, always terminated, truncation allowed. */
void esa_strlcpy(char *dst, const char *src, size_t dstsz);
/* The strings up to a NULL, concatenated into dst (truncated, always
 * terminated); the length written.  For notes on hot paths, not stdio. */
size_t esa_cat(char *dst, size_t dstsz, ...);
/* Room for want entries of sz bytes in *arr of capacity *cap (doubling
 * from 4); 0 or -1 with nothing changed.  The one array-growth helper. */
int esa_grow(void **arr, size_t *cap, size_t want, size_t sz);
/* All of f, at most max octets, into a malloc'd buffer (a NUL after the
 * len octets); NULL with *problem: too_large, strerror(), out of memory. */
char *esa_read_stream(FILE *f, size_t max, const char *too_large, size_t *len,
		      const char **problem);
/* v in decimal into out (>= 21 bytes); returns out. */
char *esa_utoa(unsigned long long v, char *out);

#endif
