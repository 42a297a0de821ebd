/*
 * test_result.c - the decision record's accessors, the delivery decision of
 * SPEC 5, and the explanation as text and JSON (SPEC 7, 8.2)
 *
 * Records are built by hand here, as identity.c would fill them, so these
 * tests need neither certificates nor DNS.  JSON output is checked for
 * well-formedness by a small validator (RFC 8259 grammar, strings must be
 * valid UTF-8 without raw control characters) and for expected members.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/x509_vfy.h>

#include "internal.h"
#include "result_impl.h"

/* ---- building records ---------------------------------------------------- */

/* add_id - append a presented identifier, as names.c would */
static void add_id(struct esa_result *res, enum esa_id_kind kind,
		   const char *raw, size_t len, const char *display,
		   const char *problem)
{
	struct esa_idlist *l = &res->ids;
	struct esa_presented *p;

	l->ids = realloc(l->ids, (l->n + 1) * sizeof(*l->ids));
	cr_assert_not_null(l->ids);
	p = &l->ids[l->n++];
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->raw = malloc(len + 1);
	cr_assert_not_null(p->raw);
	memcpy(p->raw, raw, len);
	p->raw[len] = '\0';
	p->len = len;
	p->display = strdup(display);
	p->problem = problem;
	if (kind == ESA_ID_DNS)
		l->ndns++;
	else
		l->ncn++;
}

/* add_try - append a try to a verdict, as identity.c does */
static void add_try(struct esa_verdict *v, enum esa_source src,
		    const char *ref, enum esa_id_kind against,
		    enum esa_try_outcome outcome, int matched, const char *note)
{
	cr_assert_eq(esa_verdict_add_try(v, src, ref, against, outcome,
					 matched, note), 0);
}

/* add_dns - append a logged DNS query */
static void add_dns(struct esa_result *res, const char *name, uint16_t type,
		    enum esa_dns_status st, int rcode, size_t count, bool ad)
{
	struct esa_dnsq *q;

	res->dns = realloc(res->dns, (res->ndns + 1) * sizeof(*res->dns));
	cr_assert_not_null(res->dns);
	q = &res->dns[res->ndns++];
	memset(q, 0, sizeof(*q));
	esa_strlcpy(q->name, name, sizeof(q->name));
	q->type = type;
	q->status = st;
	q->rcode = rcode;
	q->count = count;
	q->ad = ad;
	q->ms = 3;
}

/* set_verdict - mark a verdict computed, passed or not */
static void set_verdict(struct esa_result *res, enum esa_mode m, bool pass,
			enum esa_source src, int matched, const char *ref,
			const char *reason)
{
	struct esa_verdict *v = &res->verdict[m];

	v->computed = true;
	v->pass = pass;
	v->source = src;
	v->matched = matched;
	esa_strlcpy(v->reference, ref, sizeof(v->reference));
	esa_strlcpy(v->reason, reason, sizeof(v->reason));
}

/* reference_example - the record of SPEC 7 for peer 192.0.2.1 */
static struct esa_result *reference_example(void)
{
	struct esa_result *res = esa_result_new();
	struct esa_verdict *v, *h;

	cr_assert_not_null(res);
	strcpy(res->recipient, "example.com");
	strcpy(res->peer, "192.0.2.1");
	strcpy(res->via, "mx01.subd.emailhosted.not");
	res->chain.checked = true;
	res->chain.ok = true;
	res->chain.depth = 0;
	strcpy(res->chain.text, "verified to a trusted CA");
	add_id(res, ESA_ID_DNS, "*.emailhosted.not", 17, "*.emailhosted.not", NULL);
	add_id(res, ESA_ID_DNS, "emailhosted.not", 15, "emailhosted.not", NULL);
	add_id(res, ESA_ID_CN, "*.emailhosted.not", 17, "*.emailhosted.not", NULL);
	v = &res->verdict[ESA_MODE_VERIFY];
	add_try(v, ESA_SOURCE_RECIPIENT, "example.com", ESA_ID_DNS,
		ESA_TRY_NOMATCH, -1, NULL);
	add_try(v, ESA_SOURCE_RECIPIENT, "example.com", ESA_ID_CN,
		ESA_TRY_NOMATCH, -1, NULL);
	add_try(v, ESA_SOURCE_PTR, "mx0a.emailhosted.not", ESA_ID_CN,
		ESA_TRY_MATCH, 2, "forward-confirmed: A 192.0.2.1");
	set_verdict(res, ESA_MODE_VERIFY, true, ESA_SOURCE_PTR, 2,
		    "mx0a.emailhosted.not", "CN-ID *.emailhosted.not matches "
		    "forward-confirmed PTR name mx0a.emailhosted.not");
	h = &res->verdict[ESA_MODE_HOSTED];
	add_try(h, ESA_SOURCE_RECIPIENT, "example.com", ESA_ID_DNS,
		ESA_TRY_NOMATCH, -1, NULL);
	add_try(h, ESA_SOURCE_MX, "mx01.subd.emailhosted.not", ESA_ID_DNS,
		ESA_TRY_NOMATCH, -1, "MX 10");
	add_try(h, ESA_SOURCE_MX, "mx02.subd.emailhosted.not", ESA_ID_DNS,
		ESA_TRY_NOMATCH, -1, "MX 20");
	set_verdict(res, ESA_MODE_HOSTED, false, ESA_SOURCE_NONE, -1, "",
		    "no DNS-ID matches the recipient domain or an MX name");
	add_dns(res, "1.2.0.192.in-addr.arpa", ESA_T_PTR, ESA_DNS_OK, 0, 1, false);
	add_dns(res, "mx0a.emailhosted.not", ESA_T_A, ESA_DNS_OK, 0, 1, false);
	add_dns(res, "example.com", ESA_T_MX, ESA_DNS_OK, 0, 2, true);
	return res;
}

/* ---- a small JSON validator (RFC 8259 grammar) --------------------------- */

struct jv {
	const unsigned char *s;
	int depth;
};

static bool jv_value(struct jv *p);

/* jv_ws - skip insignificant whitespace */
static void jv_ws(struct jv *p)
{
	while (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r')
		p->s++;
}

/* jv_utf8 - length of a well-formed UTF-8 sequence at s, 0 if none */
static size_t jv_utf8(const unsigned char *s)
{
	size_t len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : 2, i;

	if (s[0] < 0xC2 || s[0] > 0xF4)
		return 0;
	for (i = 1; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) ||
	    (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))
		return 0;
	return len;
}

/* jv_string - a string: escapes valid, no raw controls, valid UTF-8 */
static bool jv_string(struct jv *p)
{
	size_t n;
	int i;

	if (*p->s++ != '"')
		return false;
	while (*p->s != '"') {
		if (*p->s < 0x20)
			return false;	/* raw control, or end of text */
		if (*p->s == '\\') {
			p->s++;
			if (*p->s == 'u') {
				for (i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF",
						    p->s[i]) || p->s[i] == 0)
						return false;
				p->s += 5;
			} else if (*p->s && strchr("\"\\/bfnrt", *p->s)) {
				p->s++;
			} else {
				return false;
			}
		} else if (*p->s >= 0x80) {
			n = jv_utf8(p->s);
			if (n == 0)
				return false;
			p->s += n;
		} else {
			p->s++;
		}
	}
	p->s++;
	return true;
}

/* jv_number - -?int frac? exp? */
static bool jv_number(struct jv *p)
{
	const unsigned char *start;

	if (*p->s == '-')
		p->s++;
	start = p->s;
	if (*p->s == '0')
		p->s++;
	else
		while (*p->s >= '0' && *p->s <= '9')
			p->s++;
	if (p->s == start)
		return false;
	if (*p->s == '.') {
		start = ++p->s;
		while (*p->s >= '0' && *p->s <= '9')
			p->s++;
		if (p->s == start)
			return false;
	}
	if (*p->s == 'e' || *p->s == 'E') {
		p->s++;
		if (*p->s == '+' || *p->s == '-')
			p->s++;
		start = p->s;
		while (*p->s >= '0' && *p->s <= '9')
			p->s++;
		if (p->s == start)
			return false;
	}
	return true;
}

/* jv_container - an object (members) or an array (elements) */
static bool jv_container(struct jv *p, bool object)
{
	char close = object ? '}' : ']';

	if (++p->depth > 64)
		return false;
	p->s++;
	jv_ws(p);
	if (*p->s == close) {
		p->s++;
		p->depth--;
		return true;
	}
	for (;;) {
		jv_ws(p);
		if (object) {
			if (!jv_string(p))
				return false;
			jv_ws(p);
			if (*p->s++ != ':')
				return false;
		}
		if (!jv_value(p))
			return false;
		jv_ws(p);
		if (*p->s == ',') {
			p->s++;
			continue;
		}
		if (*p->s++ != close)
			return false;
		p->depth--;
		return true;
	}
}

/* jv_value - any value */
static bool jv_value(struct jv *p)
{
	jv_ws(p);
	switch (*p->s) {
	case '{': return jv_container(p, true);
	case '[': return jv_container(p, false);
	case '"': return jv_string(p);
	case 't': p->s += 4; return memcmp(p->s - 4, "true", 4) == 0;
	case 'f': p->s += 5; return memcmp(p->s - 5, "false", 5) == 0;
	case 'n': p->s += 4; return memcmp(p->s - 4, "null", 4) == 0;
	default: return jv_number(p);
	}
}

/* json_valid - is text exactly one well-formed JSON object? */
static bool json_valid(const char *text)
{
	struct jv p = { (const unsigned char *)text, 0 };

	jv_ws(&p);
	if (*p.s != '{' || !jv_value(&p))
		return false;
	jv_ws(&p);
	return *p.s == '\0';
}

/* the validator itself rejects what it must */
Test(result, validator_self_check)
{
	cr_expect(json_valid("{\"a\":[1,-2.5e3,true,false,null,\"\\u00e9\"]}"));
	cr_expect_not(json_valid("{\"a\":1,}"));
	cr_expect_not(json_valid("{\"a\" 1}"));
	cr_expect_not(json_valid("{\"a\":\"x\ny\"}"));
	cr_expect_not(json_valid("{\"a\":\"\xff\"}"));
	cr_expect_not(json_valid("{\"a\":\"\\x41\"}"));
	cr_expect_not(json_valid("{\"a\":01}"));
	cr_expect_not(json_valid("{} {}"));
}

/* ---- helpers for output -------------------------------------------------- */

/* to_json - esa_result_json, asserted to succeed and be well formed */
static char *to_json(const struct esa_result *res)
{
	char *json = NULL;

	cr_assert_eq(esa_result_json(res, &json), 0);
	cr_assert_not_null(json);
	cr_assert(json_valid(json), "not valid JSON: %s", json);
	return json;
}

/* to_text - esa_result_explain into a malloc'd string */
static char *to_text(const struct esa_result *res)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f);
	cr_assert_eq(esa_result_explain(res, f), 0);
	fclose(f);
	return text;
}

#define expect_has(hay, needle) \
	cr_expect_not_null(strstr((hay), (needle)), "missing %s in:\n%s", \
			   (needle), (hay))
#define expect_lacks(hay, needle) \
	cr_expect_null(strstr((hay), (needle)), "unexpected %s in:\n%s", \
		       (needle), (hay))

/* ---- accessors ----------------------------------------------------------- */

/* a new record: nothing computed, chain not checked, setting 5 */
Test(result, new_record_defaults)
{
	struct esa_result *res = esa_result_new();

	cr_assert_not_null(res);
	cr_expect_not(res->chain.checked);
	cr_expect(esa_result_chain_ok(res));
	cr_expect_eq(res->tls, ESA_TLS_REQUIRED_VERIFY);
	for (int m = 0; m < 2; m++) {
		cr_expect_not(res->verdict[m].computed);
		cr_expect_eq(res->verdict[m].matched, -1);
		cr_expect_not(esa_result_pass(res, (enum esa_mode)m));
		cr_expect_eq(esa_result_source(res, (enum esa_mode)m),
			     ESA_SOURCE_NONE);
		cr_expect_str_eq(esa_result_reason(res, (enum esa_mode)m),
				 "not computed");
	}
	cr_expect_not(esa_result_accept(res, ESA_TLS_REQUIRED_VERIFY));
	esa_result_free(res);
}

/* NULL and bad modes answer "fail", never crash */
Test(result, null_and_bad_mode)
{
	struct esa_result *res = reference_example();
	char *json = (char *)1;

	esa_result_free(NULL);
	cr_expect_not(esa_result_chain_ok(NULL));
	cr_expect_not(esa_result_pass(NULL, ESA_MODE_VERIFY));
	cr_expect_eq(esa_result_source(NULL, ESA_MODE_VERIFY), ESA_SOURCE_NONE);
	cr_expect_str_eq(esa_result_reason(NULL, ESA_MODE_VERIFY), "no result");
	cr_expect_not(esa_result_pass(res, (enum esa_mode)7));
	cr_expect_str_eq(esa_result_reason(res, (enum esa_mode)-1),
			 "not computed");
	cr_expect_eq(esa_result_explain(NULL, stdout), -1);
	cr_expect_eq(esa_result_explain(res, NULL), -1);
	cr_expect_eq(esa_result_json(NULL, &json), -1);
	cr_expect_null(json);
	cr_expect_eq(esa_result_json(res, NULL), -1);
	esa_result_free(res);
}

/* SPEC 7: Verify passes through the PTR name, Hosted fails */
Test(result, reference_example_accessors)
{
	struct esa_result *res = reference_example();

	cr_expect(esa_result_chain_ok(res));
	cr_expect(esa_result_pass(res, ESA_MODE_VERIFY));
	cr_expect_eq(esa_result_source(res, ESA_MODE_VERIFY), ESA_SOURCE_PTR);
	cr_expect_not(esa_result_pass(res, ESA_MODE_HOSTED));
	cr_expect_eq(esa_result_source(res, ESA_MODE_HOSTED), ESA_SOURCE_NONE);
	cr_expect_str_eq(esa_result_reason(res, ESA_MODE_HOSTED),
			 "no DNS-ID matches the recipient domain or an MX name");
	cr_expect(esa_result_accept(res, ESA_TLS_REQUIRED_VERIFY));
	cr_expect_not(esa_result_accept(res, ESA_TLS_REQUIRED_VERIFY_HOSTED));
	esa_result_free(res);
}

/* a record with nothing computed but an error reports the error */
Test(result, reason_is_error_when_not_computed)
{
	struct esa_result *res = esa_result_new();

	strcpy(res->error, "no recipient domain");
	cr_expect_str_eq(esa_result_reason(res, ESA_MODE_HOSTED),
			 "no recipient domain");
	esa_result_free(res);
}

/* ---- SPEC 5: the delivery decision --------------------------------------- */

struct accept_row {
	enum esa_tls tls;
	bool chain, verify, hosted;
	bool accept;
};

/* Every setting x chain x Verify x Hosted; the "accept" column is SPEC 5. */
static const struct accept_row accept_rows[] = {
	/* 1 no: no TLS, nothing verified */
	{ 1, 0, 0, 0, 1 }, { 1, 0, 0, 1, 1 }, { 1, 0, 1, 0, 1 }, { 1, 0, 1, 1, 1 },
	{ 1, 1, 0, 0, 1 }, { 1, 1, 0, 1, 1 }, { 1, 1, 1, 0, 1 }, { 1, 1, 1, 1, 1 },
	/* 2 preferred: deliver encrypted, nothing verified */
	{ 2, 0, 0, 0, 1 }, { 2, 0, 0, 1, 1 }, { 2, 0, 1, 0, 1 }, { 2, 0, 1, 1, 1 },
	{ 2, 1, 0, 0, 1 }, { 2, 1, 0, 1, 1 }, { 2, 1, 1, 0, 1 }, { 2, 1, 1, 1, 1 },
	/* 3 required: deliver encrypted, nothing verified */
	{ 3, 0, 0, 0, 1 }, { 3, 0, 0, 1, 1 }, { 3, 0, 1, 0, 1 }, { 3, 0, 1, 1, 1 },
	{ 3, 1, 0, 0, 1 }, { 3, 1, 0, 1, 1 }, { 3, 1, 1, 0, 1 }, { 3, 1, 1, 1, 1 },
	/* 4 preferred-verify: deliver, a failure is only logged */
	{ 4, 0, 0, 0, 1 }, { 4, 0, 0, 1, 1 }, { 4, 0, 1, 0, 1 }, { 4, 0, 1, 1, 1 },
	{ 4, 1, 0, 0, 1 }, { 4, 1, 0, 1, 1 }, { 4, 1, 1, 0, 1 }, { 4, 1, 1, 1, 1 },
	/* 5 required-verify: chain and Verify */
	{ 5, 0, 0, 0, 0 }, { 5, 0, 0, 1, 0 }, { 5, 0, 1, 0, 0 }, { 5, 0, 1, 1, 0 },
	{ 5, 1, 0, 0, 0 }, { 5, 1, 0, 1, 0 }, { 5, 1, 1, 0, 1 }, { 5, 1, 1, 1, 1 },
	/* 6 required-verify-hosted: chain and Verify Hosted Domains */
	{ 6, 0, 0, 0, 0 }, { 6, 0, 0, 1, 0 }, { 6, 0, 1, 0, 0 }, { 6, 0, 1, 1, 0 },
	{ 6, 1, 0, 0, 0 }, { 6, 1, 0, 1, 1 }, { 6, 1, 1, 0, 0 }, { 6, 1, 1, 1, 1 },
};

/* record_for - a record with the chain and both verdicts as given */
static struct esa_result *record_for(bool checked, bool chain, bool verify,
				     bool hosted)
{
	struct esa_result *res = esa_result_new();

	cr_assert_not_null(res);
	res->chain.checked = checked;
	res->chain.ok = chain;
	set_verdict(res, ESA_MODE_VERIFY, verify,
		    verify ? ESA_SOURCE_RECIPIENT : ESA_SOURCE_NONE, -1, "", "");
	set_verdict(res, ESA_MODE_HOSTED, hosted,
		    hosted ? ESA_SOURCE_RECIPIENT : ESA_SOURCE_NONE, -1, "", "");
	return res;
}

/* SPEC 5 table, all 48 rows */
Test(result, accept_table)
{
	size_t i;

	for (i = 0; i < sizeof(accept_rows) / sizeof(accept_rows[0]); i++) {
		const struct accept_row *row = &accept_rows[i];
		struct esa_result *res = record_for(true, row->chain,
						    row->verify, row->hosted);

		cr_expect_eq(esa_result_accept(res, row->tls), row->accept,
			     "setting %d chain %d verify %d hosted %d: want %d",
			     row->tls, row->chain, row->verify, row->hosted,
			     row->accept);
		esa_result_free(res);
	}
}

/* a chain not checked (--no-chain) counts as OK; a failed one never does */
Test(result, accept_chain_not_checked)
{
	struct esa_result *res = record_for(false, false, true, true);

	cr_expect(esa_result_chain_ok(res));
	cr_expect(esa_result_accept(res, ESA_TLS_REQUIRED_VERIFY));
	cr_expect(esa_result_accept(res, ESA_TLS_REQUIRED_VERIFY_HOSTED));
	esa_result_free(res);
	res = record_for(true, false, true, true);
	cr_expect_not(esa_result_chain_ok(res));
	cr_expect_not(esa_result_accept(res, ESA_TLS_REQUIRED_VERIFY));
	esa_result_free(res);
}

/* a verdict not computed is a failure under settings 5 and 6 */
Test(result, accept_not_computed_fails_closed)
{
	struct esa_result *res = record_for(true, true, true, true);

	res->verdict[ESA_MODE_HOSTED].computed = false;
	cr_expect(esa_result_accept(res, ESA_TLS_REQUIRED_VERIFY));
	cr_expect_not(esa_result_accept(res, ESA_TLS_REQUIRED_VERIFY_HOSTED));
	esa_result_free(res);
}

/* unknown settings and a missing record */
Test(result, accept_unknown_setting_and_null)
{
	struct esa_result *res = record_for(true, true, true, true);

	cr_expect_not(esa_result_accept(res, (enum esa_tls)0));
	cr_expect_not(esa_result_accept(res, (enum esa_tls)7));
	cr_expect(esa_result_accept(NULL, ESA_TLS_PREFERRED_VERIFY));
	cr_expect_not(esa_result_accept(NULL, ESA_TLS_REQUIRED_VERIFY));
	cr_expect_not(esa_result_accept(NULL, ESA_TLS_REQUIRED_VERIFY_HOSTED));
	esa_result_free(res);
}

/* ---- JSON (SPEC 8.2) ----------------------------------------------------- */

/* the SPEC 7 record: every member of 8.2, in shape */
Test(result, json_reference_example)
{
	struct esa_result *res = reference_example();
	char *j = to_json(res);

	expect_has(j, "{\"recipient_domain\":\"example.com\",\"peer\":\"192.0.2.1\","
		      "\"via\":\"mx01.subd.emailhosted.not\",\"tls\":\"required-verify\"");
	expect_has(j, "\"chain\":{\"checked\":true,\"ok\":true,\"error\":null,"
		      "\"depth\":0,\"flags\":[],\"auth_level\":null}");
	expect_has(j, "\"presented\":[{\"kind\":\"dns\",\"value\":\"*.emailhosted.not\","
		      "\"usable\":true,\"problem\":null},{\"kind\":\"dns\"");
	expect_has(j, "{\"kind\":\"cn\",\"value\":\"*.emailhosted.not\"");
	expect_has(j, "\"verify\":{\"pass\":true,\"presented\":\"*.emailhosted.not\","
		      "\"reference\":\"mx0a.emailhosted.not\",\"source\":\"ptr\","
		      "\"reason\":\"CN-ID *.emailhosted.not matches");
	expect_has(j, "{\"reference\":\"mx0a.emailhosted.not\",\"source\":\"ptr\","
		      "\"compared\":\"cn\",\"outcome\":\"match\","
		      "\"presented\":\"*.emailhosted.not\","
		      "\"note\":\"forward-confirmed: A 192.0.2.1\"}");
	expect_has(j, "{\"reference\":\"example.com\",\"source\":\"recipient-domain\","
		      "\"compared\":\"dns\",\"outcome\":\"no-match\",\"presented\":null,"
		      "\"note\":null}");
	expect_has(j, "\"hosted\":{\"pass\":false,\"presented\":null,"
		      "\"reference\":null,\"source\":null,\"reason\":\"no DNS-ID");
	expect_has(j, "{\"reference\":\"mx02.subd.emailhosted.not\",\"source\":\"mx\"");
	expect_has(j, "\"dns\":[{\"name\":\"1.2.0.192.in-addr.arpa\",\"type\":\"PTR\","
		      "\"status\":\"ok\",\"rcode\":0,\"answers\":1,\"ad\":false,"
		      "\"cached\":false,\"ms\":3}");
	expect_has(j, "{\"name\":\"example.com\",\"type\":\"MX\",\"status\":\"ok\","
		      "\"rcode\":0,\"answers\":2,\"ad\":true");
	expect_has(j, "\"decision\":\"accept\",\"error\":null}");
	free(j);
	esa_result_free(res);
}

/* a mode not computed is null */
Test(result, json_mode_not_computed_is_null)
{
	struct esa_result *res = reference_example();
	char *j;

	res->verdict[ESA_MODE_HOSTED].computed = false;
	j = to_json(res);
	expect_has(j, "\"hosted\":null,");
	expect_has(j, "\"verify\":{\"pass\":true");
	free(j);
	esa_result_free(res);
}

/* a failed chain carries its error and depth; an unchecked one is "ok" */
Test(result, json_chain_states)
{
	struct esa_result *res = reference_example();
	char *j;

	res->chain.ok = false;
	res->chain.error = X509_V_ERR_CERT_HAS_EXPIRED;
	strcpy(res->chain.text, "certificate has expired");
	j = to_json(res);
	expect_has(j, "\"chain\":{\"checked\":true,\"ok\":false,"
		      "\"error\":\"certificate has expired\",\"depth\":0,"
		      "\"flags\":[],\"auth_level\":null}");
	expect_has(j, "\"decision\":\"reject\"");
	free(j);
	res->chain.checked = false;
	j = to_json(res);
	expect_has(j, "\"chain\":{\"checked\":false,\"ok\":true,\"error\":null");
	free(j);
	esa_result_free(res);
}

/* the flags that applied and the security level are recorded (issue 11);
 * explain names only the opt-in profiles, so default output is unchanged */
Test(result, chain_flags_recorded)
{
	struct esa_result *res = reference_example();
	char *j, *text;
	size_t len;
	FILE *f;

	res->chain.flags = X509_V_FLAG_TRUSTED_FIRST;
	res->chain.auth_level = 2;
	j = to_json(res);
	expect_has(j, "\"depth\":0,\"flags\":[\"trusted_first\"],"
		      "\"auth_level\":2}");
	free(j);
	f = open_memstream(&text, &len);
	cr_assert_not_null(f);
	esa_result_explain(res, f);
	fclose(f);
	expect_has(text, "chain: ok (verified to a trusted CA)\n");
	free(text);

	res->chain.flags |= X509_V_FLAG_X509_STRICT | X509_V_FLAG_PARTIAL_CHAIN;
	res->chain.ok = false;
	res->chain.depth = 1;
	strcpy(res->chain.text, "CA cert does not include key usage extension");
	j = to_json(res);
	expect_has(j, "\"flags\":[\"x509_strict\",\"partial_chain\","
		      "\"trusted_first\"]");
	free(j);
	f = open_memstream(&text, &len);
	cr_assert_not_null(f);
	esa_result_explain(res, f);
	fclose(f);
	expect_has(text, "chain: FAILED: CA cert does not include key usage "
			 "extension (depth 1; profile: x509_strict, "
			 "partial_chain)\n");
	free(text);
	esa_result_free(res);
}

/* an empty record: unknown peer and via are null, lists empty */
Test(result, json_empty_record)
{
	struct esa_result *res = esa_result_new();
	char *j = to_json(res);

	expect_has(j, "\"recipient_domain\":null,\"peer\":null,\"via\":null");
	expect_has(j, "\"presented\":[],\"verify\":null,\"hosted\":null,\"dns\":[]");
	/* Verify, which setting 5 needs, was not run: no decision */
	expect_has(j, "\"decision\":null,\"error\":null}");
	free(j);
	esa_result_free(res);
}

/* certificate strings are hostile: quotes, backslash, controls, bytes
 * outside UTF-8 all come out escaped, and the object stays valid */
Test(result, json_hostile_strings)
{
	struct esa_result *res = reference_example();
	struct esa_presented *p = &res->ids.ids[2];
	char *j;

	free(p->display);
	p->display = strdup("a\"b\\c\nd\x01" "e\x7f" "f\xff" "g\xc3\xa9" "h\xc0\xaf");
	p->problem = "bad \"name\"";
	strcpy(res->verdict[ESA_MODE_VERIFY].tries[2].note, "x\ty\r");
	strcpy(res->chain.text, "\x1b[31mred");
	strcpy(res->error, "\"}],{\"decision\":\"accept");
	res->chain.checked = true;
	res->chain.ok = false;
	j = to_json(res);
	expect_has(j, "\"value\":\"a\\\"b\\\\c\\nd\\u0001e\\u007ff\\u00ffg\xc3\xa9h"
		      "\\u00c0\\u00af\",\"usable\":false,\"problem\":\"bad \\\"name\\\"\"");
	expect_has(j, "\"note\":\"x\\ty\\r\"");
	expect_has(j, "\"error\":\"\\u001b[31mred\"");
	expect_has(j, "\"error\":\"\\\"}],{\\\"decision\\\":\\\"accept\"}");
	expect_has(j, "\"decision\":\"reject\"");
	free(j);
	esa_result_free(res);
}

/* an out-of-range matched index is never followed */
Test(result, json_bad_index_is_null)
{
	struct esa_result *res = reference_example();
	char *j;

	res->verdict[ESA_MODE_VERIFY].matched = 99;
	res->verdict[ESA_MODE_VERIFY].tries[2].matched = -7;
	j = to_json(res);
	expect_has(j, "\"verify\":{\"pass\":true,\"presented\":null,");
	expect_has(j, "\"outcome\":\"match\",\"presented\":null");
	free(j);
	esa_result_free(res);
}

/* every outcome has its SPEC 8.2 name */
Test(result, outcome_names)
{
	cr_expect_str_eq(esa_result_outcome_name(ESA_TRY_MATCH), "match");
	cr_expect_str_eq(esa_result_outcome_name(ESA_TRY_NOMATCH), "no-match");
	cr_expect_str_eq(esa_result_outcome_name(ESA_TRY_BAD_REFERENCE),
			 "bad-reference");
	cr_expect_str_eq(esa_result_outcome_name(ESA_TRY_NOT_CONFIRMED),
			 "not-confirmed");
	cr_expect_str_eq(esa_result_outcome_name(ESA_TRY_NOT_PEER), "not-peer");
	cr_expect_str_eq(esa_result_outcome_name(ESA_TRY_LOOKUP_FAILED),
			 "lookup-failed");
	cr_expect_str_eq(esa_result_kind_name(ESA_ID_DNS), "dns");
	cr_expect_str_eq(esa_result_kind_name(ESA_ID_CN), "cn");
}

/* the shim's pieces write values into its own object */
Test(result, json_parts_compose)
{
	struct esa_result *res = reference_example();
	struct esa_json w;
	char *j;

	esa_json_init(&w);
	esa_json_begin_object(&w);
	esa_json_kint(&w, "pid", 42);
	esa_json_key(&w, "chain");
	esa_result_json_chain(res, &w);
	esa_json_key(&w, "hosted");
	esa_result_json_mode(res, ESA_MODE_HOSTED, &w);
	esa_json_end_object(&w);
	j = esa_json_take(&w);
	cr_assert_not_null(j);
	cr_expect(json_valid(j), "%s", j);
	expect_has(j, "{\"pid\":42,\"chain\":{\"checked\":true");
	expect_has(j, "\"hosted\":{\"pass\":false");
	free(j);
	esa_result_free(res);
}

/* ---- text (SPEC 7 walk-through) ------------------------------------------ */

/* the reference example reads like SPEC 7 */
Test(result, text_reference_example)
{
	struct esa_result *res = reference_example();
	char *t = to_text(res);

	expect_has(t, "recipient domain: example.com   peer: 192.0.2.1   "
		      "via: mx01.subd.emailhosted.not\n");
	expect_has(t, "chain: ok (verified to a trusted CA)\n");
	expect_has(t, "presented: DNS-ID *.emailhosted.not, DNS-ID emailhosted.not, "
		      "CN-ID *.emailhosted.not\n");
	expect_has(t, "Verify (settings 4, 5): PASS\n"
		      "  recipient-domain example.com vs DNS-IDs: no match\n"
		      "  recipient-domain example.com vs CN-IDs: no match\n"
		      "  ptr mx0a.emailhosted.not (forward-confirmed: A 192.0.2.1) "
		      "vs CN-IDs: match *.emailhosted.not\n");
	expect_has(t, "Verify Hosted Domains (setting 6): FAIL: no DNS-ID matches "
		      "the recipient domain or an MX name\n"
		      "  recipient-domain example.com vs DNS-IDs: no match\n"
		      "  mx mx01.subd.emailhosted.not (MX 10) vs DNS-IDs: no match\n");
	expect_has(t, "dns: PTR 1.2.0.192.in-addr.arpa ok 1 answer 3 ms (insecure)\n"
		      "     A mx0a.emailhosted.not ok 1 answer 3 ms (insecure)\n"
		      "     MX example.com ok 2 answers 3 ms (dnssec)\n");
	expect_has(t, "setting required-verify (5): deliver\n");
	free(t);
	esa_result_free(res);
}

/* a failed chain names the error and depth; the decision follows */
Test(result, text_chain_failed)
{
	struct esa_result *res = reference_example();
	char *t;

	res->chain.ok = false;
	res->chain.depth = 1;
	strcpy(res->chain.text, "certificate has expired");
	t = to_text(res);
	expect_has(t, "chain: FAILED: certificate has expired (depth 1)\n");
	expect_has(t, "setting required-verify (5): do not deliver\n");
	free(t);
	res->chain.checked = false;
	t = to_text(res);
	expect_has(t, "chain: not checked\n");
	free(t);
	esa_result_free(res);
}

/* tries that compared nothing say why; unknown peer; failed DNS */
Test(result, text_outcomes_without_comparison)
{
	struct esa_result *res = reference_example();
	struct esa_verdict *v = &res->verdict[ESA_MODE_VERIFY];
	char *t;

	res->peer[0] = '\0';
	res->via[0] = '\0';
	v->ntries = 2;
	add_try(v, ESA_SOURCE_PTR, "", ESA_ID_CN, ESA_TRY_LOOKUP_FAILED, -1,
		"PTR not queried: peer address unknown");
	add_try(v, ESA_SOURCE_PTR, "mx9.emailhosted.not", ESA_ID_CN,
		ESA_TRY_NOT_CONFIRMED, -1, "A 192.0.2.9, not 192.0.2.1");
	add_try(v, ESA_SOURCE_ROUTE, "smtp.example.net", ESA_ID_DNS,
		ESA_TRY_NOT_PEER, -1, NULL);
	add_try(v, ESA_SOURCE_RECIPIENT, "a..b", ESA_ID_DNS,
		ESA_TRY_BAD_REFERENCE, -1, "empty label");
	set_verdict(res, ESA_MODE_VERIFY, false, ESA_SOURCE_NONE, -1, "",
		    "no match");
	res->dns[0].status = ESA_DNS_SERVFAIL;
	res->dns[0].rcode = 2;
	res->dns[0].count = 0;
	res->dns[0].cached = true;
	t = to_text(res);
	expect_has(t, "recipient domain: example.com   peer: unknown\n");
	expect_has(t, "Verify (settings 4, 5): FAIL: no match\n");
	expect_has(t, "  ptr: lookup failed (PTR not queried: peer address unknown)\n");
	expect_has(t, "  ptr mx9.emailhosted.not: not forward-confirmed "
		      "(A 192.0.2.9, not 192.0.2.1)\n");
	expect_has(t, "  route smtp.example.net: does not lead to the peer\n");
	expect_has(t, "  recipient-domain a..b: not a valid hostname (empty label)\n");
	expect_has(t, "dns: PTR 1.2.0.192.in-addr.arpa servfail (rcode 2) 0 answers "
		      "3 ms (insecure, cached)\n");
	free(t);
	esa_result_free(res);
}

/* a mode not computed is not reported; an unusable id says why */
Test(result, text_not_computed_and_unusable)
{
	struct esa_result *res = reference_example();
	char *t;

	res->verdict[ESA_MODE_HOSTED].computed = false;
	res->ids.ids[1].problem = "embedded NUL";
	t = to_text(res);
	expect_lacks(t, "Verify Hosted Domains");
	expect_has(t, "DNS-ID emailhosted.not (unusable: embedded NUL)");
	free(t);
	esa_result_free(res);
}

/* no byte of hostile input reaches the terminal raw */
Test(result, text_hostile_strings_escaped)
{
	struct esa_result *res = reference_example();
	char *t;
	size_t i;

	free(res->ids.ids[0].display);
	res->ids.ids[0].display = strdup("evil\n\x1b[2Jname\xff");
	strcpy(res->error, "bad\rthing");
	strcpy(res->verdict[ESA_MODE_VERIFY].tries[2].note, "n\x07te");
	t = to_text(res);
	for (i = 0; t[i] != '\0'; i++)
		cr_expect((t[i] >= 0x20 && t[i] < 0x7f) || t[i] == '\n',
			  "raw byte 0x%02x at %zu", (unsigned char)t[i], i);
	expect_has(t, "DNS-ID evil\\x0a\\x1b[2Jname\\xff,");
	expect_has(t, "error: bad\\x0dthing\n");
	expect_has(t, "(n\\x07te)");
	free(t);
	esa_result_free(res);
}
