/*
 * dane.h - the DANE verdict (docs/dane.md; RFC 7672, RFC 7671), private to
 * the library, the tool and the shim (included through internal.h).
 *
 * esa_dane_check() walks one connection the way AsyncOS's `daneverify`
 * does (secure MX, secure address, secure TLSA, certificate check) and
 * fills one decision record; the explanation, the JSON object and the
 * decision come from that record.  Lookups are lazy: only when the
 * configuration asks for DANE, and each only when the step before allowed
 * DANE.  The certificate check is OpenSSL's own DANE, on the side.
 */
#ifndef ESA_DANE_H
#define ESA_DANE_H

#include <stdbool.h>
#include <stdint.h>

#define ESA_DANE_MAX_TLSA 16	/* TLSA records recorded (and used) per host */

/* What one lookup step found (docs/dane.md 2, 3). */
enum esa_dane_step {
	ESA_STEP_SKIPPED = 0,	/* not needed or not reached */
	ESA_STEP_SECURE,	/* records, AD from a trusted resolver */
	ESA_STEP_INSECURE,	/* records without trustworthy AD */
	ESA_STEP_ABSENT,	/* NXDOMAIN or NODATA */
	ESA_STEP_FAILED,	/* SERVFAIL (bogus), timeout, malformed, ... */
	ESA_STEP_ROUTE,		/* MX step: the host is a configured route */
};
const char *esa_dane_step_name(enum esa_dane_step s);

struct esa_dane_tlsa {
	uint8_t usage, selector, mtype;
	uint16_t dlen;
	bool usable;
	char why[64];		/* why not usable, "" if usable */
	char data_hex[20];	/* the first octets, for logs */
};

struct esa_dane_record {
	enum esa_dane setting;
	char host[ESA_NAME_MAX];	/* TLSA base domain, "" if none */
	char tlsa_name[ESA_NAME_MAX];	/* "_25._tcp.HOST" */
	int port;
	enum esa_dane_step mx, addr, tlsa;
	char addr_text[64];		/* the secure address that led to the peer */
	struct esa_dane_tlsa rec[ESA_DANE_MAX_TLSA];
	size_t nrec, nusable;
	bool applies;		/* secure TLSA with >= 1 usable record */
	bool checked;		/* the certificate check ran */
	bool pass;		/* DANE authenticated the server */
	bool refuse;		/* DANE alone refuses the connection */
	int matched;		/* index in rec of the matching record, -1 */
	int matched_depth;	/* chain depth it matched at, -1 */
	char matched_name[ESA_NAME_MAX];	/* DANE-TA: the name that matched */
	int x509_error;		/* of the certificate check, X509_V_OK */
	const char *result;	/* RFC 8460 result type, "" */
	char reason[ESA_ERR_MAX];	/* one line */
};

struct x509_st;
struct stack_st_X509;

/* esa_dane_check - the DANE walk for target t (t->via the host used, else
 * chosen among the MX hosts) under setting, into a new res->dane; DNS
 * through r, appended to res->dns, until deadline (esa_now_ms).  leaf and
 * untrusted are the chain the server sent (untrusted may be NULL).  Does
 * nothing with setting NONE.  0, or -1 out of memory (res->dane then
 * refuses when it could be allocated at all). */
int esa_dane_check(struct esa_result *res, enum esa_dane setting,
		   const struct esa_target *t, struct x509_st *leaf,
		   struct stack_st_X509 *untrusted, esa_resolver *r,
		   uint64_t deadline);
void esa_dane_free(struct esa_dane_record *d);

/* esa_dane_accept - the connection's decision with DANE folded in
 * (docs/dane.md 5): tls_accept is the TLS setting's own decision. */
bool esa_dane_accept(const struct esa_dane_record *d, bool tls_accept);
/* Does DANE decide on its own (pass or refuse), replacing the TLS
 * setting's verdict? */
bool esa_dane_decides(const struct esa_dane_record *d);

/* The daneverify-like walk, as text (esa_result_explain). */
void esa_dane_explain(const struct esa_dane_record *d, const char *domain,
		      FILE *out);
struct esa_json;
/* The "dane" object of the log line and esa-check --json. */
void esa_dane_json(const struct esa_dane_record *d, struct esa_json *j);
/* esa_dane_json_brief - the same for a summary line: setting, host,
 * applies, pass, refuse, result, reason */
void esa_dane_json_brief(const struct esa_dane_record *d,
			 struct esa_json *j);

#endif
