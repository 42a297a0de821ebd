/*
 * result.c - the decision record: accessors, the delivery decision, and its
 * explanation as text and JSON
 *
 * The record (struct esa_result, internal.h) is filled by chain.c /
 * callback.c (stage I) and identity.c (stage II); this file only reads it.
 * Per STYLE.md 2 the explanation comes from the record - the tries the
 * algorithm appended as it went - never from a second walk.
 *
 * Contracts:
 *  - esa_result_new returns an empty record (every member zero, every
 *    text buffer an empty string; both verdicts "not computed",
 *    no match, chain "not checked", TLS setting 5) or NULL; esa_result_free
 *    frees the presented identifiers, every verdict's tries and the DNS log,
 *    then the record; NULL is allowed.
 *  - Accessors take NULL and a bad mode and then answer "fail"/"none".
 *  - esa_result_accept applies the table of SPEC 5; a chain that was not
 *    checked (esa-check --no-chain) counts as OK.  An unknown setting fails
 *    closed.
 *  - esa_result_explain writes text to out, 0 or -1 (bad argument or a write
 *    error); every string from the certificate goes out escaped.
 *  - esa_result_json stores a malloc'd NUL-terminated object in *json (the
 *    caller frees it), 0; or -1 with *json NULL.
 */
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include <openssl/x509_vfy.h>

#include "result_impl.h"

/* The record's text buffers, which esa_result_new leaves as empty strings
 * without zeroing them: they are 3.3 KB of the record's 3.6 KB, zeroed
 * once per decision for nothing (only the text up to the NUL is read).
 * Everything else, a member added later included, is zeroed. */
#define TEXT(m) { offsetof(struct esa_result, m), \
		  sizeof(((struct esa_result *)0)->m) }
static const struct { size_t at, size; } texts[] = {	/* in order */
	TEXT(recipient), TEXT(via), TEXT(chain.text),
	TEXT(verdict[0].reference), TEXT(verdict[0].reason),
	TEXT(verdict[1].reference), TEXT(verdict[1].reason),
	TEXT(error), TEXT(stock_host),
};
#define AFTER(a, b) _Static_assert(offsetof(struct esa_result, a) < \
	offsetof(struct esa_result, b), "texts[] out of order: " #b)
AFTER(recipient, via);
AFTER(via, chain.text);
AFTER(chain.text, verdict[0].reference);
AFTER(verdict[0].reference, verdict[0].reason);
AFTER(verdict[0].reason, verdict[1].reference);
AFTER(verdict[1].reference, verdict[1].reason);
AFTER(verdict[1].reason, error);
AFTER(error, stock_host);

/* esa_result_new - an empty record */
struct esa_result *esa_result_new(void)
{
	struct esa_result *res = malloc(sizeof(*res));
	unsigned char *b = (unsigned char *)res;
	size_t at = 0;
	int m;

	if (res == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		memset(b + at, 0, texts[i].at - at);	/* the members before */
		b[texts[i].at] = '\0';
		at = texts[i].at + texts[i].size;
	}
	memset(b + at, 0, sizeof(*res) - at);
	res->tls = ESA_TLS_REQUIRED_VERIFY;
	res->chain.depth = -1;
	res->chain.auth_level = -1;
	for (m = 0; m < 2; m++) {
		res->verdict[m].mode = (enum esa_mode)m;
		res->verdict[m].matched = -1;
	}
	return res;
}

/* esa_result_free - free the record and everything it holds */
void esa_result_free(struct esa_result *res)
{
	int m;

	if (res == NULL)
		return;
	esa_idlist_free(&res->ids);
	for (m = 0; m < 2; m++)
		free(res->verdict[m].tries);
	free(res->dns);
	free(res->candidates);
	esa_dane_free(res->dane);
	free(res);
}

/* verdict - the verdict of a mode, NULL for a bad mode or one not computed */
static const struct esa_verdict *verdict(const esa_result *res,
					 enum esa_mode mode)
{
	if (res == NULL || (mode != ESA_MODE_VERIFY && mode != ESA_MODE_HOSTED))
		return NULL;
	if (!res->verdict[mode].computed)
		return NULL;
	return &res->verdict[mode];
}

/* esa_result_chain_ok - did stage I pass (or was it not checked)? */
bool esa_result_chain_ok(const esa_result *res)
{
	if (res == NULL)
		return false;
	return !res->chain.checked || res->chain.ok;
}

/* esa_result_pass - did the identity algorithm of mode pass? */
bool esa_result_pass(const esa_result *res, enum esa_mode mode)
{
	const struct esa_verdict *v = verdict(res, mode);

	return v != NULL && v->pass;
}

/* esa_result_source - where the matching reference identifier came from */
enum esa_source esa_result_source(const esa_result *res, enum esa_mode mode)
{
	const struct esa_verdict *v = verdict(res, mode);

	return v != NULL && v->pass ? v->source : ESA_SOURCE_NONE;
}

/* esa_result_reason - one line saying why the mode passed or failed */
const char *esa_result_reason(const esa_result *res, enum esa_mode mode)
{
	const struct esa_verdict *v = verdict(res, mode);

	if (res == NULL)
		return "no result";
	if (v == NULL)
		return res->error[0] != '\0' ? res->error : "not computed";
	return v->reason;
}

/* esa_result_accept - would ESA deliver under this setting (SPEC 5)?
 * Settings that refuse a failed verification need a chain that passed
 * and a pass of their algorithm; the others deliver whatever the verdict
 * (setting 4 only logs it); an unknown setting fails closed. */
bool esa_result_accept(const esa_result *res, enum esa_tls tls)
{
	if (!esa_tls_valid(tls))
		return false;
	if (res != NULL && esa_dane_decides(res->dane))	/* docs/dane.md 5 */
		return esa_dane_accept(res->dane, false);
	if (!esa_tls_refuses_failure(tls))
		return true;
	return esa_result_chain_ok(res) &&
	       esa_result_pass(res, esa_tls_mode(tls));
}

/* esa_result_outcome_name - the name of a try's outcome (SPEC 8.2 JSON) */
const char *esa_result_outcome_name(enum esa_try_outcome outcome)
{
	switch (outcome) {
	case ESA_TRY_MATCH: return "match";
	case ESA_TRY_NOMATCH: return "no-match";
	case ESA_TRY_BAD_REFERENCE: return "bad-reference";
	case ESA_TRY_NOT_CONFIRMED: return "not-confirmed";
	case ESA_TRY_NOT_PEER: return "not-peer";
	case ESA_TRY_LOOKUP_FAILED: return "lookup-failed";
	}
	return "unknown";
}

/* esa_result_kind_name - "dns" or "cn" */
const char *esa_result_kind_name(enum esa_id_kind kind)
{
	return kind == ESA_ID_DNS ? "dns" : "cn";
}

/* ---- shared helpers ---------------------------------------------------- */

/* id_at - the presented identifier at index i, NULL if out of range */
static const struct esa_presented *id_at(const struct esa_result *res, int i)
{
	if (i < 0 || (size_t)i >= res->ids.n || res->ids.ids == NULL)
		return NULL;
	return &res->ids.ids[i];
}

/* id_display - the printable form of a presented identifier */
static const char *id_display(const struct esa_presented *p)
{
	if (p == NULL)
		return NULL;
	if (p->display != NULL)
		return p->display;
	return p->raw != NULL ? p->raw : "";
}

/* ---- text ---------------------------------------------------------------- */

/* put_safe - write s with every non-printable byte as \xNN (hostile input) */
static void put_safe(FILE *out, const char *s)
{
	const unsigned char *u = (const unsigned char *)(s ? s : "");

	for (; *u != '\0'; u++) {
		if (*u < 0x20 || *u >= 0x7F)
			fprintf(out, "\\x%02x", *u);
		else
			fputc(*u, out);
	}
}

/* explain_header - recipient, peer, via, setting */
static void explain_header(const struct esa_result *res, FILE *out)
{
	fputs("recipient domain: ", out);
	put_safe(out, res->recipient[0] ? res->recipient : "(unknown)");
	fputs("   peer: ", out);
	put_safe(out, res->peer[0] ? res->peer : "unknown");
	if (res->via[0] != '\0') {
		fputs("   via: ", out);
		put_safe(out, res->via);
	}
	fputc('\n', out);
	if (res->error[0] != '\0') {
		fputs("error: ", out);
		put_safe(out, res->error);
		fputc('\n', out);
	}
}

/* explain_profile - " (x509_strict, partial_chain)": the opt-in profiles
 * that applied beyond a stock client's (SPEC 2), nothing when none did */
static void explain_profile(const struct esa_result *res, FILE *out)
{
	const char *names[16];
	size_t n = esa_chain_flag_names(res->chain.flags &
					(X509_V_FLAG_X509_STRICT |
					 X509_V_FLAG_PARTIAL_CHAIN),
					names, 16);

	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%s", i ? ", " : "; profile: ", names[i]);
}

/* explain_chain - stage I (SPEC 2) */
static void explain_chain(const struct esa_result *res, FILE *out)
{
	if (!res->chain.checked) {
		fputs("chain: not checked\n", out);
		return;
	}
	if (res->chain.ok) {
		fputs("chain: ok (verified to a trusted CA", out);
		explain_profile(res, out);
		fputs(")\n", out);
		return;
	}
	fputs("chain: FAILED: ", out);
	put_safe(out, res->chain.text[0] ? res->chain.text : "unknown error");
	if (res->chain.depth >= 0 || (res->chain.flags &
	    (X509_V_FLAG_X509_STRICT | X509_V_FLAG_PARTIAL_CHAIN))) {
		fputs(" (", out);
		if (res->chain.depth >= 0)
			fprintf(out, "depth %d", res->chain.depth);
		explain_profile(res, out);
		fputc(')', out);
	}
	fputc('\n', out);
}

/* explain_presented - the presented identifiers, in certificate order */
static void explain_presented(const struct esa_result *res, FILE *out)
{
	size_t i;

	fputs("presented:", out);
	if (res->ids.n == 0)
		fputs(" none", out);
	for (i = 0; i < res->ids.n; i++) {
		const struct esa_presented *p = &res->ids.ids[i];

		fputs(i ? ", " : " ", out);
		fputs(p->kind == ESA_ID_DNS ? "DNS-ID " : "CN-ID ", out);
		put_safe(out, id_display(p));
		if (p->problem != NULL) {
			fputs(" (unusable: ", out);
			put_safe(out, p->problem);
			fputc(')', out);
		}
	}
	fputc('\n', out);
}

/* try_outcome_text - how a try that compared nothing ended, in words */
static const char *try_outcome_text(enum esa_try_outcome o)
{
	switch (o) {
	case ESA_TRY_BAD_REFERENCE: return "not a valid hostname";
	case ESA_TRY_NOT_CONFIRMED: return "not forward-confirmed";
	case ESA_TRY_NOT_PEER: return "does not lead to the peer";
	case ESA_TRY_LOOKUP_FAILED: return "lookup failed";
	default: return esa_result_outcome_name(o);
	}
}

/* explain_try - one reference identifier tried, one line */
static void explain_try(const struct esa_result *res,
			const struct esa_try *t, FILE *out)
{
	bool compared = t->outcome == ESA_TRY_MATCH ||
			t->outcome == ESA_TRY_NOMATCH;

	fputs("  ", out);
	put_safe(out, esa_source_name(t->source));
	if (t->reference[0] != '\0') {
		fputc(' ', out);
		put_safe(out, t->reference);
	}
	if (!compared) {
		fputs(": ", out);
		fputs(try_outcome_text(t->outcome), out);
	}
	if (t->note[0] != '\0') {
		fputs(" (", out);
		put_safe(out, t->note);
		fputc(')', out);
	}
	if (compared) {
		fputs(t->against == ESA_ID_DNS ? " vs DNS-IDs: " : " vs CN-IDs: ",
		      out);
		if (t->outcome == ESA_TRY_MATCH) {
			fputs("match ", out);
			put_safe(out, id_display(id_at(res, t->matched)));
		} else {
			fputs("no match", out);
		}
	}
	fputc('\n', out);
}

/* explain_mode - one algorithm's verdict and every try it recorded */
static void explain_mode(const struct esa_result *res, enum esa_mode m,
			 FILE *out)
{
	const struct esa_verdict *v = &res->verdict[m];
	size_t i;

	if (!v->computed)
		return;
	fputs(m == ESA_MODE_VERIFY ? "Verify (settings 4, 5): "
				   : "Verify Hosted Domains (setting 6): ", out);
	if (v->pass) {
		fputs("PASS\n", out);
	} else {
		fputs("FAIL", out);
		if (v->reason[0] != '\0') {
			fputs(": ", out);
			put_safe(out, v->reason);
		}
		fputc('\n', out);
	}
	for (i = 0; i < v->ntries && v->tries != NULL; i++)
		explain_try(res, &v->tries[i], out);
}

/* explain_dns - every query made, in order */
static void explain_dns(const struct esa_result *res, FILE *out)
{
	size_t i;

	if (res->ndns == 0 || res->dns == NULL) {
		fputs("dns: no queries\n", out);
		return;
	}
	for (i = 0; i < res->ndns; i++) {
		const struct esa_dnsq *q = &res->dns[i];

		fputs(i ? "     " : "dns: ", out);
		put_safe(out, esa_rrtype_name(q->type));
		fputc(' ', out);
		put_safe(out, q->name);
		fprintf(out, " %s", esa_dns_status_name(q->status));
		if (q->status != ESA_DNS_OK && q->rcode >= 0)
			fprintf(out, " (rcode %d)", q->rcode);
		fprintf(out, " %zu answer%s %u ms (%s%s)\n", q->count,
			q->count == 1 ? "" : "s", q->ms,
			q->ad ? "dnssec" : "insecure", q->cached ? ", cached" : "");
	}
}

/* judged - was the mode the record's setting needs computed? */
static bool judged(const struct esa_result *res)
{
	return !esa_tls_verifies(res->tls) ||
	       res->verdict[esa_tls_mode(res->tls)].computed;
}

/* explain_decision - what ESA would do under the record's setting (SPEC 5) */
static void explain_decision(const struct esa_result *res, FILE *out)
{
	const char *name = esa_tls_name(res->tls);
	enum esa_mode needed = esa_tls_mode(res->tls);

	if (!esa_tls_valid(res->tls))
		return;
	if (!judged(res)) {
		fprintf(out, "setting %s (%d): not judged: it needs %s, which was not run\n",
			name ? name : "?", (int)res->tls,
			needed == ESA_MODE_HOSTED ? "Verify Hosted Domains" : "Verify");
		return;
	}
	fprintf(out, "setting %s (%d): %s\n", name ? name : "?", (int)res->tls,
		esa_result_accept(res, res->tls) ? "deliver" : "do not deliver");
}

/* esa_result_explain - the walk-through of SPEC 7, as text */
int esa_result_explain(const esa_result *res, FILE *out)
{
	if (res == NULL || out == NULL)
		return -1;
	explain_header(res, out);
	explain_chain(res, out);
	explain_presented(res, out);
	explain_mode(res, ESA_MODE_VERIFY, out);
	explain_mode(res, ESA_MODE_HOSTED, out);
	esa_dane_explain(res->dane, res->recipient, out);
	explain_dns(res, out);
	explain_decision(res, out);
	return ferror(out) ? -1 : 0;
}

/* ---- JSON (SPEC 8.2) ----------------------------------------------------- */

/* esa_result_json_chain - {"checked", "ok", "error", "depth", "flags",
 * "auth_level"} */
void esa_result_json_chain(const struct esa_result *res, struct esa_json *j)
{
	bool failed = res->chain.checked && !res->chain.ok;
	const char *name[16];
	size_t names;

	esa_json_begin_object(j);
	esa_json_kbool(j, "checked", res->chain.checked);
	esa_json_kbool(j, "ok", esa_result_chain_ok(res));
	if (failed)
		esa_json_kstr(j, "error", res->chain.text[0] ? res->chain.text
							    : "unknown error");
	else
		esa_json_knull(j, "error");
	esa_json_kint(j, "depth", res->chain.depth);
	esa_json_key(j, "flags");	/* the X509_V_FLAG_* that applied */
	esa_json_begin_array(j);
	names = esa_chain_flag_names(res->chain.flags, name, 16);
	for (size_t i = 0; i < names; i++)
		esa_json_str(j, name[i]);
	esa_json_end_array(j);
	if (res->chain.checked && res->chain.auth_level >= 0)
		esa_json_kint(j, "auth_level", res->chain.auth_level);
	else
		esa_json_knull(j, "auth_level");
	esa_json_end_object(j);
}

/* esa_result_json_presented - the presented identifiers */
void esa_result_json_presented(const struct esa_result *res,
			       struct esa_json *j)
{
	size_t i;

	esa_json_begin_array(j);
	for (i = 0; i < res->ids.n && res->ids.ids != NULL; i++) {
		const struct esa_presented *p = &res->ids.ids[i];

		esa_json_begin_object(j);
		esa_json_kstr(j, "kind", esa_result_kind_name(p->kind));
		esa_json_kstr(j, "value", id_display(p));
		esa_json_kbool(j, "usable", p->problem == NULL);
		esa_json_kstr(j, "problem", p->problem);
		esa_json_end_object(j);
	}
	esa_json_end_array(j);
}

/* json_source - a source name, null for none */
static void json_source(struct esa_json *j, enum esa_source source)
{
	esa_json_key(j, "source");
	esa_json_str(j, source == ESA_SOURCE_NONE ? NULL
						  : esa_source_name(source));
}

/* json_tries - the "tried" array of one verdict */
static void json_tries(const struct esa_result *res,
		       const struct esa_verdict *v, struct esa_json *j)
{
	size_t i;

	esa_json_key(j, "tried");
	esa_json_begin_array(j);
	for (i = 0; i < v->ntries && v->tries != NULL; i++) {
		const struct esa_try *t = &v->tries[i];

		esa_json_begin_object(j);
		esa_json_kopt(j, "reference", t->reference);
		json_source(j, t->source);
		esa_json_kstr(j, "compared", esa_result_kind_name(t->against));
		esa_json_kstr(j, "outcome", esa_result_outcome_name(t->outcome));
		esa_json_kstr(j, "presented", id_display(id_at(res, t->matched)));
		esa_json_kopt(j, "note", t->note);
		esa_json_end_object(j);
	}
	esa_json_end_array(j);
}

/* esa_result_json_mode - one verdict, or null when not computed */
void esa_result_json_mode(const struct esa_result *res, enum esa_mode mode,
			  struct esa_json *j)
{
	const struct esa_verdict *v = verdict(res, mode);

	if (v == NULL) {
		esa_json_null(j);
		return;
	}
	esa_json_begin_object(j);
	esa_json_kbool(j, "pass", v->pass);
	esa_json_kstr(j, "presented",
		      v->pass ? id_display(id_at(res, v->matched)) : NULL);
	esa_json_kopt(j, "reference", v->pass ? v->reference : NULL);
	json_source(j, v->pass ? v->source : ESA_SOURCE_NONE);
	esa_json_kstr(j, "reason", v->reason);
	json_tries(res, v, j);
	esa_json_end_object(j);
}

/* esa_result_json_query - the members every DNS query's object begins with */
void esa_result_json_query(struct esa_json *j, const char *name,
			   uint16_t type, enum esa_dns_status status,
			   int rcode, size_t count)
{
	esa_json_kstr(j, "name", name);
	esa_json_kstr(j, "type", esa_rrtype_name(type));
	esa_json_kstr(j, "status", esa_dns_status_name(status));
	esa_json_kint(j, "rcode", rcode);
	esa_json_kuint(j, "answers", count);
}

/* esa_result_json_dns - the DNS queries made, in order */
void esa_result_json_dns(const struct esa_result *res, struct esa_json *j)
{
	size_t i;

	esa_json_begin_array(j);
	for (i = 0; i < res->ndns && res->dns != NULL; i++) {
		const struct esa_dnsq *q = &res->dns[i];

		esa_json_begin_object(j);
		esa_result_json_query(j, q->name, q->type, q->status, q->rcode,
				      q->count);
		esa_json_kbool(j, "ad", q->ad);
		esa_json_kbool(j, "cached", q->cached);
		esa_json_kuint(j, "ms", q->ms);
		esa_json_end_object(j);
	}
	esa_json_end_array(j);
}

/* esa_result_json_fields - the members of the SPEC 8.2 object */
void esa_result_json_fields(const struct esa_result *res, struct esa_json *j)
{
	bool known = esa_tls_valid(res->tls);

	esa_json_kopt(j, "recipient_domain", res->recipient);
	esa_json_kopt(j, "peer", res->peer);
	esa_json_kopt(j, "via", res->via);
	esa_json_kstr(j, "tls", known ? esa_tls_name(res->tls) : NULL);
	esa_json_key(j, "chain");
	esa_result_json_chain(res, j);
	esa_json_key(j, "presented");
	esa_result_json_presented(res, j);
	esa_json_key(j, "verify");
	esa_result_json_mode(res, ESA_MODE_VERIFY, j);
	esa_json_key(j, "hosted");
	esa_result_json_mode(res, ESA_MODE_HOSTED, j);
	if (res->dane != NULL) {
		esa_json_key(j, "dane");
		esa_dane_json(res->dane, j);
	}
	esa_json_key(j, "dns");
	esa_result_json_dns(res, j);
	esa_json_kopt(j, "decision", !judged(res) ? NULL :
		      esa_result_accept(res, res->tls) ? "accept" : "reject");
	esa_json_kopt(j, "error", res->error);
}

/* esa_result_json - the SPEC 8.2 object as malloc'd text */
int esa_result_json(const esa_result *res, char **json)
{
	struct esa_json j;

	if (json == NULL)
		return -1;
	*json = NULL;
	if (res == NULL)
		return -1;
	esa_json_init(&j);
	esa_json_begin_object(&j);
	esa_result_json_fields(res, &j);
	esa_json_end_object(&j);
	*json = esa_json_take(&j);
	return *json != NULL ? 0 : -1;
}
