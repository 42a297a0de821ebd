/*
 * dane.c - the DANE verdict (docs/dane.md): RFC 7672 for SMTP, as AsyncOS's
 * DANE support (None, Opportunistic, Mandatory) and, where Cisco is silent,
 * Postfix's dane / dane-only levels.
 *
 * esa_dane_check() fills one struct esa_dane_record in the order of
 * `daneverify`: the MX host and whether its MX RRset was secure (docs 3.1),
 * the host's address records (secure, and leading to the peer; docs 3.2),
 * the TLSA RRset at _PORT._tcp.HOST (docs 3.3), which records are usable
 * (docs 4), then OpenSSL's own DANE check of the chain the server sent,
 * run on the side in an X509_STORE_CTX with an empty trust store.  The
 * record says whether DANE applied, passed or refuses, with an RFC 8460
 * result type; esa_dane_accept() folds it into the connection's decision.
 *
 * Fail closed: a lookup that fails refuses (dnssec-invalid); OpenSSL
 * failing to set the check up refuses; hostile TLSA data is unusable or,
 * when it cannot even be read, a failed lookup.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "dns_impl.h"
#include "json.h"

/* esa_dane_name - the config word of a DANE setting */
const char *esa_dane_name(enum esa_dane dane)
{
	switch (dane) {
	case ESA_DANE_NONE:		return "none";
	case ESA_DANE_OPPORTUNISTIC:	return "opportunistic";
	case ESA_DANE_MANDATORY:	return "mandatory";
	}
	return "none";
}

/* esa_dane_parse - a DANE setting by name (any case) */
int esa_dane_parse(const char *text, enum esa_dane *out)
{
	static const enum esa_dane all[] = {
		ESA_DANE_NONE, ESA_DANE_OPPORTUNISTIC, ESA_DANE_MANDATORY,
	};

	if (text == NULL || out == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (esa_ascii_streq(text, esa_dane_name(all[i]))) {
			*out = all[i];
			return 0;
		}
	return -1;
}

/* esa_config_set_dane - the DANE setting of a configuration */
int esa_config_set_dane(esa_config *cfg, const char *setting)
{
	char shown[80];

	if (cfg == NULL)
		return -1;
	if (esa_dane_parse(setting, &cfg->dane) != 0) {
		esa_dns_printable(setting ? setting : "(null)", shown,
				  sizeof(shown));
		snprintf(cfg->err, sizeof(cfg->err), "bad DANE setting '%s' "
			 "(expected none, opportunistic or mandatory)", shown);
		return -1;
	}
	return 0;
}

/* esa_config_set_secure_mx - Hosted on DNSSEC-secure MX names only */
int esa_config_set_secure_mx(esa_config *cfg, bool on)
{
	if (cfg == NULL)
		return -1;
	cfg->secure_mx = on;
	return 0;
}

/* esa_dane_step_name - the log word of a lookup step */
const char *esa_dane_step_name(enum esa_dane_step s)
{
	switch (s) {
	case ESA_STEP_SKIPPED:	return "skipped";
	case ESA_STEP_SECURE:	return "secure";
	case ESA_STEP_INSECURE:	return "insecure";
	case ESA_STEP_ABSENT:	return "absent";
	case ESA_STEP_FAILED:	return "failed";
	case ESA_STEP_ROUTE:	return "route";
	}
	return "skipped";
}

/* esa_answer_secure - AD set, and by a resolver trusted to validate */
bool esa_answer_secure(const esa_resolver *r, const struct esa_answer *ans)
{
	return r != NULL && r->ad_trusted && ans->ad;
}

/* step_of - what a lookup's answer says as a DANE step */
static enum esa_dane_step step_of(const esa_resolver *r,
				  const struct esa_answer *ans)
{
	switch (ans->status) {
	case ESA_DNS_OK:
		return esa_answer_secure(r, ans) ? ESA_STEP_SECURE
						 : ESA_STEP_INSECURE;
	case ESA_DNS_NODATA:
	case ESA_DNS_NXDOMAIN:
		return ESA_STEP_ABSENT;
	default:
		return ESA_STEP_FAILED;
	}
}

/* not_applying - DANE does not apply to this host: Opportunistic falls
 * back to the TLS setting, Mandatory refuses (dane-required) */
static void not_applying(struct esa_dane_record *d, const char *why)
{
	d->applies = false;
	if (d->setting == ESA_DANE_MANDATORY) {
		d->refuse = true;
		d->result = "dane-required";
		esa_cat(d->reason, sizeof(d->reason), "DANE required: ", why,
			(char *)NULL);
	} else {
		esa_cat(d->reason, sizeof(d->reason), "DANE does not apply (",
			why, "): the TLS setting decides", (char *)NULL);
	}
}

/* lookup_failed - a lookup DANE needed failed: the host is unusable under
 * both settings (RFC 7672 2.1.1, 2.2) */
static void lookup_failed(struct esa_dane_record *d, const char *why)
{
	d->refuse = true;
	d->result = "dnssec-invalid";
	esa_cat(d->reason, sizeof(d->reason), "DNSSEC lookup failed: ", why,
		(char *)NULL);
}

/* is_route_host - is name one of the recipient domain's FQDN routes? */
static bool is_route_host(const struct esa_target *t, const char *name)
{
	for (size_t i = 0; i < t->nroutes; i++)
		if (!t->routes[i].is_ip &&
		    esa_ascii_streq(t->routes[i].host, name))
			return true;
	return false;
}

/* addr_step - the host's A/AAAA for the peer's family: 1 secure and (when
 * the peer is known) leading to it, 0 not, -1 lookup failed; d->addr set,
 * why filled when not 1 */
static int addr_step(struct esa_result *res, struct esa_dane_record *d,
		     const struct esa_target *t, esa_resolver *r,
		     const char *host, uint64_t deadline, char *why,
		     size_t whysz)
{
	int fam = t->have_peer ? t->peer_family : AF_INET;
	size_t alen = fam == AF_INET6 ? 16 : 4;
	struct esa_answer ans;
	int rc = 0;

	esa_lookup_logged(res, r, host, fam == AF_INET6 ? ESA_T_AAAA : ESA_T_A,
			  deadline, &ans);
	d->addr = step_of(r, &ans);
	if (d->addr == ESA_STEP_FAILED) {
		esa_strlcpy(why, ans.reason, whysz);
		rc = -1;
		goto out;
	}
	if (d->addr != ESA_STEP_SECURE) {
		esa_cat(why, whysz, fam == AF_INET6 ? "AAAA" : "A", " of ", host,
			" is ", esa_dane_step_name(d->addr), (char *)NULL);
		goto out;
	}
	for (size_t i = 0; i < ans.count; i++) {
		if (t->have_peer && memcmp(ans.rr[i].addr, t->peer, alen) != 0)
			continue;
		esa_format_ip(fam, ans.rr[i].addr, d->addr_text,
			      sizeof(d->addr_text));
		rc = 1;
		goto out;
	}
	esa_cat(why, whysz, "no secure address of ", host, " is the peer",
		(char *)NULL);
out:
	esa_answer_free(&ans);
	return rc;
}

/* choose_host - docs/dane.md 3.1-3.2: the TLSA base domain into d->host;
 * 1 found, 0 DANE does not apply (why), -1 a lookup failed (why) */
static int choose_host(struct esa_result *res, struct esa_dane_record *d,
		       const struct esa_target *t, esa_resolver *r,
		       uint64_t deadline, char *why, size_t whysz)
{
	struct esa_answer mx;
	int rc = 0, fam;
	unsigned char ip[16];

	if (t->via[0] != '\0' && esa_parse_ip(t->via, &fam, ip) == 0) {
		esa_cat(why, whysz, "the route ", t->via, " is an address, with "
			"no TLSA base domain", (char *)NULL);
		return 0;
	}
	if (t->via[0] != '\0' && is_route_host(t, t->via)) {
		d->mx = ESA_STEP_ROUTE;	/* configuration names the host */
		esa_strlcpy(d->host, t->via, sizeof(d->host));
		return addr_step(res, d, t, r, d->host, deadline, why, whysz);
	}
	if (t->recipient[0] == '\0') {
		esa_strlcpy(why, "no recipient domain", whysz);
		return 0;
	}
	esa_lookup_logged(res, r, t->recipient, ESA_T_MX, deadline, &mx);
	d->mx = step_of(r, &mx);
	if (d->mx == ESA_STEP_ABSENT && esa_answer_secure(r, &mx) &&
	    !mx.null_mx) {
		/* securely no MX: the domain is its own host (RFC 5321 5.1) */
		esa_strlcpy(d->host, t->recipient, sizeof(d->host));
		rc = addr_step(res, d, t, r, d->host, deadline, why, whysz);
		goto out;
	}
	if (d->mx == ESA_STEP_FAILED) {
		esa_strlcpy(why, mx.reason, whysz);
		rc = d->setting == ESA_DANE_MANDATORY ? -1 : 0;
		goto out;
	}
	if (d->mx != ESA_STEP_SECURE) {
		esa_cat(why, whysz, "MX of ", t->recipient, " is ",
			esa_dane_step_name(d->mx), (char *)NULL);
		goto out;
	}
	for (size_t i = 0; i < mx.count && rc != 1; i++) {
		char w[ESA_ERR_MAX] = "";
		int one;

		if (t->via[0] != '\0' && !esa_ascii_streq(t->via, mx.rr[i].name))
			continue;
		esa_strlcpy(d->host, mx.rr[i].name, sizeof(d->host));
		one = addr_step(res, d, t, r, d->host, deadline, w, sizeof(w));
		if (one == 1 || rc == 0 || why[0] == '\0')
			esa_strlcpy(why, w, whysz);	/* a failure wins */
		rc = one == 1 ? 1 : one < 0 ? -1 : rc;
		if (one != 1 && t->via[0] == '\0')
			d->host[0] = '\0';	/* not this one: the next MX */
	}
	if (rc == 0 && why[0] == '\0')
		esa_cat(why, whysz, t->via[0] ? t->via : "the peer",
			" is not a secure MX host of ", t->recipient,
			(char *)NULL);
out:
	esa_answer_free(&mx);
	return rc;
}

/* hex_prefix - the first octets of data as hex, for logs */
static void hex_prefix(const unsigned char *data, size_t len, char *out,
		       size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < len && o + 3 <= outsz; i++) {
		out[o++] = hex[data[i] >> 4];
		out[o++] = hex[data[i] & 0xf];
	}
	out[o < outsz ? o : outsz - 1] = '\0';
}

/* usable_why - docs/dane.md 4: NULL if the record may be used for SMTP,
 * else why not */
static const char *usable_why(const struct esa_rr *rr)
{
	if (rr->usage == 0 || rr->usage == 1)
		return "PKIX usage, unusable for SMTP (RFC 7672 3.1.3)";
	if (rr->usage != 2 && rr->usage != 3)
		return "unknown usage";
	if (rr->selector > 1)
		return "unknown selector";
	if (rr->mtype > 2)
		return "unknown matching type";
	if (rr->mtype == 1 && rr->dlen != 32)
		return "SHA2-256 digest not 32 octets";
	if (rr->mtype == 2 && rr->dlen != 64)
		return "SHA2-512 digest not 64 octets";
	if (rr->mtype == 0 && rr->dlen == 0)
		return "empty association data";
	return NULL;
}

/* tlsa_step - the TLSA RRset: 1 secure with records (d->rec filled),
 * 0 DANE does not apply (why), -1 the lookup failed (why) */
static int tlsa_step(struct esa_result *res, struct esa_dane_record *d,
		     esa_resolver *r, uint64_t deadline, struct esa_answer *ans,
		     char *why, size_t whysz)
{
	char port[24];

	esa_cat(d->tlsa_name, sizeof(d->tlsa_name), "_",
		esa_utoa((unsigned)d->port, port), "._tcp.", d->host,
		(char *)NULL);
	esa_lookup_logged(res, r, d->tlsa_name, ESA_T_TLSA, deadline, ans);
	d->tlsa = step_of(r, ans);
	if (d->tlsa == ESA_STEP_FAILED) {
		esa_strlcpy(why, ans->reason, whysz);
		return -1;
	}
	if (d->tlsa != ESA_STEP_SECURE) {
		esa_cat(why, whysz, d->tlsa == ESA_STEP_ABSENT ? "no TLSA at " :
			"insecure TLSA at ", d->tlsa_name, (char *)NULL);
		return 0;
	}
	for (size_t i = 0; i < ans->count && d->nrec < ESA_DANE_MAX_TLSA; i++) {
		struct esa_dane_tlsa *e = &d->rec[d->nrec++];
		const char *bad = usable_why(&ans->rr[i]);

		e->usage = ans->rr[i].usage;
		e->selector = ans->rr[i].selector;
		e->mtype = ans->rr[i].mtype;
		e->dlen = ans->rr[i].dlen;
		e->usable = bad == NULL;
		esa_strlcpy(e->why, bad ? bad : "", sizeof(e->why));
		hex_prefix(ans->rr[i].data, ans->rr[i].dlen, e->data_hex,
			   sizeof(e->data_hex));
	}
	return 1;
}

/* ---- the certificate check: OpenSSL's DANE on the side ------------------ */

static pthread_once_t dane_once = PTHREAD_ONCE_INIT;
static SSL_CTX *dane_ctx;

/* dane_ctx_init - one SSL_CTX with DANE enabled, for every check */
static void dane_ctx_init(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx != NULL && SSL_CTX_dane_enable(ctx) <= 0) {
		SSL_CTX_free(ctx);
		ctx = NULL;
	}
	dane_ctx = ctx;
}

/* result_for - the RFC 8460 result type of a failed DANE check */
static const char *result_for(int err)
{
	switch (err) {
	case X509_V_ERR_DANE_NO_MATCH:
		return "tlsa-invalid";
	case X509_V_ERR_HOSTNAME_MISMATCH:
		return "certificate-host-mismatch";
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return "certificate-expired";
	}
	return "validation-failure";
}

/* dane_ssl - a scratch SSL carrying the usable records and the names;
 * NULL if OpenSSL refused (then nothing is usable) */
static SSL *dane_ssl(struct esa_dane_record *d, const struct esa_target *t,
		     const struct esa_answer *ans)
{
	SSL *s;

	pthread_once(&dane_once, dane_ctx_init);
	if (dane_ctx == NULL || (s = SSL_new(dane_ctx)) == NULL)
		return NULL;
	/* DANE-TA names: the TLSA base domain and the next-hop domain
	 * (RFC 7672 3.2.2); whole-label wildcards only */
	if (SSL_dane_enable(s, d->host) <= 0 ||
	    (t->recipient[0] != '\0' &&
	     !esa_ascii_streq(t->recipient, d->host) &&
	     SSL_add1_host(s, t->recipient) != 1)) {
		SSL_free(s);
		return NULL;
	}
	SSL_dane_set_flags(s, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	SSL_set_hostflags(s, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	d->nusable = 0;
	for (size_t i = 0, k = 0; i < ans->count && k < d->nrec; i++, k++) {
		const struct esa_rr *rr = &ans->rr[i];
		struct esa_dane_tlsa *e = &d->rec[k];

		if (!e->usable)
			continue;
		if (SSL_dane_tlsa_add(s, rr->usage, rr->selector, rr->mtype,
				      rr->data, rr->dlen) <= 0) {
			e->usable = false;	/* e.g. a Full(0) that is no DER */
			esa_strlcpy(e->why, "refused by OpenSSL (malformed data)",
				    sizeof(e->why));
			continue;
		}
		d->nusable++;
	}
	return s;
}

/* cert_check - docs/dane.md 4: the chain the server sent against the
 * usable records; d->pass, x509_error, matched set */
static void cert_check(struct esa_dane_record *d, const struct esa_target *t,
		       const struct esa_answer *ans, X509 *leaf,
		       STACK_OF(X509) *untrusted)
{
	X509_STORE *store = NULL;
	X509_STORE_CTX *xs = NULL;
	const unsigned char *data = NULL;
	uint8_t u = 0, sel = 0, mt = 0;
	size_t dlen = 0;
	SSL *s = dane_ssl(d, t, ans);
	const char *peer;
	int depth;

	d->x509_error = X509_V_ERR_UNSPECIFIED;
	if (s == NULL || leaf == NULL || d->nusable == 0)
		goto out;
	if ((store = X509_STORE_new()) == NULL ||
	    (xs = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(xs, store, leaf, untrusted) != 1 ||
	    X509_STORE_CTX_set_default(xs, "ssl_server") != 1 ||
	    X509_VERIFY_PARAM_set1(X509_STORE_CTX_get0_param(xs),
				   SSL_get0_param(s)) != 1)
		goto out;
	X509_STORE_CTX_set0_dane(xs, SSL_get0_dane(s));
	d->checked = true;
	d->pass = X509_verify_cert(xs) == 1;
	d->x509_error = X509_STORE_CTX_get_error(xs);
	if (!d->pass)
		goto out;
	SSL_set_verify_result(s, X509_V_OK);
	depth = SSL_get0_dane_tlsa(s, &u, &sel, &mt, &data, &dlen);
	d->matched_depth = depth;
	for (size_t i = 0, k = 0; depth >= 0 && i < ans->count && k < d->nrec;
	     i++, k++)
		if (d->rec[k].usable && ans->rr[i].usage == u &&
		    ans->rr[i].selector == sel && ans->rr[i].mtype == mt &&
		    ans->rr[i].dlen == dlen &&
		    memcmp(ans->rr[i].data, data, dlen) == 0) {
			d->matched = (int)k;
			break;
		}
	peer = X509_VERIFY_PARAM_get0_peername(X509_STORE_CTX_get0_param(xs));
	esa_strlcpy(d->matched_name, peer ? peer : "", sizeof(d->matched_name));
out:
	X509_STORE_CTX_free(xs);
	X509_STORE_free(store);
	SSL_free(s);
}

/* none_usable - a secure RRset without a usable record (docs/dane.md 4):
 * Opportunistic lets the TLS setting decide, Mandatory refuses */
static void none_usable(struct esa_dane_record *d)
{
	d->applies = false;
	d->result = "tlsa-invalid";
	if (d->setting == ESA_DANE_MANDATORY) {
		d->refuse = true;
		esa_cat(d->reason, sizeof(d->reason), "DANE required: no usable "
			"TLSA record at ", d->tlsa_name, (char *)NULL);
	} else {
		esa_cat(d->reason, sizeof(d->reason), "no usable TLSA record at ",
			d->tlsa_name, ": the TLS setting decides", (char *)NULL);
	}
}

/* certificate_step - run the check and word the verdict */
static void certificate_step(struct esa_dane_record *d,
			     const struct esa_target *t,
			     const struct esa_answer *ans, X509 *leaf,
			     STACK_OF(X509) *untrusted)
{
	char n[24], dep[24];

	for (size_t k = 0; k < d->nrec; k++)
		d->nusable += d->rec[k].usable;
	if (d->nusable == 0) {
		none_usable(d);
		return;
	}
	cert_check(d, t, ans, leaf, untrusted);
	if (!d->checked && d->nusable == 0) {	/* OpenSSL refused them all */
		none_usable(d);
		return;
	}
	d->applies = true;
	if (d->pass) {
		d->result = "";
		esa_cat(d->reason, sizeof(d->reason), "DANE SUCCESS: TLSA record ",
			esa_utoa((unsigned long long)d->matched + 1, n),
			" matched at depth ",
			esa_utoa((unsigned long long)(d->matched_depth < 0 ? 0 :
						     d->matched_depth), dep),
			d->matched_name[0] ? ", name " : "", d->matched_name,
			(char *)NULL);
		return;
	}
	d->refuse = true;
	d->result = d->checked ? result_for(d->x509_error) : "validation-failure";
	esa_cat(d->reason, sizeof(d->reason), "DANE FAILURE: ",
		d->checked ? X509_verify_cert_error_string(d->x509_error) :
		"the DANE check could not be set up", (char *)NULL);
}

/* walk - docs/dane.md 3-4 in daneverify's order */
static void walk(struct esa_result *res, struct esa_dane_record *d,
		 const struct esa_target *t, X509 *leaf,
		 STACK_OF(X509) *untrusted, esa_resolver *r, uint64_t deadline)
{
	char why[ESA_ERR_MAX] = "";
	struct esa_answer ans;
	int rc;

	memset(&ans, 0, sizeof(ans));
	rc = choose_host(res, d, t, r, deadline, why, sizeof(why));
	if (rc < 0) {
		lookup_failed(d, why);
		return;
	}
	if (rc == 0) {
		not_applying(d, why);
		return;
	}
	rc = tlsa_step(res, d, r, deadline, &ans, why, sizeof(why));
	if (rc < 0)
		lookup_failed(d, why);
	else if (rc == 0)
		not_applying(d, why);
	else
		certificate_step(d, t, &ans, leaf, untrusted);
	esa_answer_free(&ans);
}

/* esa_dane_check - the DANE record of one connection */
int esa_dane_check(struct esa_result *res, enum esa_dane setting,
		   const struct esa_target *t, struct x509_st *leaf,
		   struct stack_st_X509 *untrusted, esa_resolver *r,
		   uint64_t deadline)
{
	struct esa_dane_record *d;

	if (setting == ESA_DANE_NONE)
		return 0;
	esa_dane_free(res->dane);
	d = res->dane = calloc(1, sizeof(*d));
	if (d == NULL)
		return -1;
	d->setting = setting;
	d->port = t->port > 0 ? t->port : 25;
	d->matched = d->matched_depth = -1;
	d->x509_error = X509_V_OK;
	d->result = "";
	walk(res, d, t, leaf, untrusted, r, deadline);
	return 0;
}

/* esa_dane_free - release a record */
void esa_dane_free(struct esa_dane_record *d)
{
	free(d);
}

/* esa_dane_decides - DANE passed or refuses: the TLS setting is moot */
bool esa_dane_decides(const struct esa_dane_record *d)
{
	return d != NULL && d->setting != ESA_DANE_NONE && (d->pass || d->refuse);
}

/* esa_dane_accept - docs/dane.md 5's table */
bool esa_dane_accept(const struct esa_dane_record *d, bool tls_accept)
{
	if (!esa_dane_decides(d))
		return tls_accept;
	return d->pass && !d->refuse;
}

/* ---- the public accessors ------------------------------------------------ */

bool esa_result_dane_applies(const esa_result *res)
{
	return res != NULL && res->dane != NULL && res->dane->applies;
}

bool esa_result_dane_pass(const esa_result *res)
{
	return res != NULL && res->dane != NULL && res->dane->pass;
}

const char *esa_result_dane_result(const esa_result *res)
{
	return res != NULL && res->dane != NULL ? res->dane->result : "";
}

const char *esa_result_dane_reason(const esa_result *res)
{
	return res != NULL && res->dane != NULL ? res->dane->reason : "";
}

/* ---- the record as text and JSON ----------------------------------------- */

/* esa_dane_explain - the walk in daneverify's words and order */
void esa_dane_explain(const struct esa_dane_record *d, const char *domain,
		      FILE *out)
{
	const char *dom = domain && *domain ? domain : "(no domain)";

	if (d == NULL)
		return;
	fprintf(out, "DANE (%s):\n", esa_dane_name(d->setting));
	if (d->mx == ESA_STEP_ROUTE)
		fprintf(out, "  SMTP route %s is the TLSA base domain\n", d->host);
	else if (d->mx != ESA_STEP_SKIPPED)
		fprintf(out, "  %s MX record%s%s%s for %s\n",
			d->mx == ESA_STEP_SECURE ? "SECURE" :
			d->mx == ESA_STEP_INSECURE ? "INSECURE" :
			d->mx == ESA_STEP_ABSENT ? "NO" : "FAILED",
			d->host[0] ? "(" : "", d->host, d->host[0] ? ")" : "", dom);
	if (d->addr != ESA_STEP_SKIPPED)
		fprintf(out, "  %s address record%s%s%s found for MX(%s) in %s\n",
			d->addr == ESA_STEP_SECURE ? "SECURE" :
			d->addr == ESA_STEP_INSECURE ? "INSECURE" :
			d->addr == ESA_STEP_ABSENT ? "NO" : "FAILED",
			d->addr_text[0] ? " (" : "", d->addr_text,
			d->addr_text[0] ? ")" : "", d->host, dom);
	if (d->tlsa != ESA_STEP_SKIPPED)
		fprintf(out, "  %s TLSA record %s %s for MX(%s) in %s\n",
			d->tlsa == ESA_STEP_SECURE ? "SECURE" :
			d->tlsa == ESA_STEP_INSECURE ? "INSECURE" :
			d->tlsa == ESA_STEP_ABSENT ? "NO" : "FAILED",
			d->tlsa == ESA_STEP_SECURE ||
			d->tlsa == ESA_STEP_INSECURE ? "found at" : "at",
			d->tlsa_name, d->host, dom);
	for (size_t k = 0; k < d->nrec; k++)
		fprintf(out, "    TLSA %u %u %u %s%s: %s\n", d->rec[k].usage,
			d->rec[k].selector, d->rec[k].mtype, d->rec[k].data_hex,
			d->rec[k].dlen * 2u > strlen(d->rec[k].data_hex) ? "..." : "",
			d->rec[k].usable ? (int)k == d->matched ? "usable, matched"
			: "usable" : d->rec[k].why);
	if (d->checked)
		fprintf(out, "  Certificate verification %s\n",
			d->pass ? "successful" : "failed");
	if (d->pass)
		fprintf(out, "  DANE SUCCESS for %s\n", dom);
	else if (d->refuse)
		fprintf(out, "  DANE FAILED for %s\n", dom);
	fprintf(out, "  %s%s%s\n", d->reason, d->result[0] ? "; result " : "",
		d->result);
}

/* json_walk - the lookups behind a verdict: TLSA name, port, the steps'
 * security, the records */
static void json_walk(const struct esa_dane_record *d, struct esa_json *j)
{
	esa_json_kopt(j, "tlsa_name", d->tlsa_name);
	esa_json_kint(j, "port", d->port);
	esa_json_kstr(j, "mx", esa_dane_step_name(d->mx));
	esa_json_kstr(j, "address", esa_dane_step_name(d->addr));
	esa_json_kstr(j, "tlsa", esa_dane_step_name(d->tlsa));
	esa_json_key(j, "records");
	esa_json_begin_array(j);
	for (size_t k = 0; k < d->nrec; k++) {
		esa_json_begin_object(j);
		esa_json_kint(j, "usage", d->rec[k].usage);
		esa_json_kint(j, "selector", d->rec[k].selector);
		esa_json_kint(j, "mtype", d->rec[k].mtype);
		esa_json_kbool(j, "usable", d->rec[k].usable);
		esa_json_kopt(j, "why", d->rec[k].why);
		esa_json_end_object(j);
	}
	esa_json_end_array(j);
}

/* dane_json - the "dane" object (docs/dane.md 7); brief: only setting,
 * host and the verdict (applies, pass, refuse, result, reason) */
static void dane_json(const struct esa_dane_record *d, struct esa_json *j,
		      bool brief)
{
	if (d == NULL) {
		esa_json_null(j);
		return;
	}
	esa_json_begin_object(j);
	esa_json_kstr(j, "setting", esa_dane_name(d->setting));
	esa_json_kopt(j, "host", d->host);
	if (!brief)
		json_walk(d, j);
	esa_json_kbool(j, "applies", d->applies);
	esa_json_kbool(j, "pass", d->pass);
	esa_json_kbool(j, "refuse", d->refuse);
	if (!brief) {		/* which record matched, at which depth */
		if (d->matched >= 0)
			esa_json_kint(j, "matched", d->matched);
		else
			esa_json_knull(j, "matched");
		esa_json_kint(j, "depth", d->matched_depth);
		esa_json_kopt(j, "name", d->matched_name);
	}
	esa_json_kopt(j, "result", d->result);
	esa_json_kstr(j, "reason", d->reason);
	esa_json_end_object(j);
}

void esa_dane_json(const struct esa_dane_record *d, struct esa_json *j)
{
	dane_json(d, j, false);
}

void esa_dane_json_brief(const struct esa_dane_record *d, struct esa_json *j)
{
	dane_json(d, j, true);
}
