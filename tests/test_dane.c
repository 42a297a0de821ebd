/*
 * test_dane.c - the DANE verdict (docs/dane.md), one table row per rule.
 *
 * Each row builds a master file (SPEC 6, with docs/dane.md 8's $DNSSEC marks
 * and TLSA records whose data the test computes from its own PKI), runs
 * esa_dane_check for example.com from 192.0.2.1 through mx1.example.net,
 * and asserts what the record says: applies, pass, refuse, the RFC 8460
 * result type, the steps, and which queries were sent (lazy lookups).
 * Then the folding into the decision (docs/dane.md 5), the wire parser's
 * TLSA records, the trust of the AD bit, and secure-mx.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "dns_impl.h"
#include "dnswire.h"
#include "pki.h"

/* The test PKI: a DANE-TA root, leaves it issued, and a stranger's key. */
static struct test_ca ta;
static struct test_leaf leaf_mx, leaf_domain, leaf_other, leaf_wild,
			leaf_expired;
static EVP_PKEY *stranger;

/* issue - a leaf of ta for one dNSName */
static void issue(struct test_leaf *l, const char *dns, bool expired)
{
	struct test_name n = { .value = dns };
	struct test_leaf_spec spec;

	memset(&spec, 0, sizeof(spec));
	spec.dns = &n;
	spec.ndns = 1;
	if (expired) {
		spec.validity_set = true;
		spec.not_before = -7200;
		spec.not_after = -3600;
	}
	cr_assert_eq(test_leaf_issue(l, &ta, &spec), 0);
}

static void pki_setup(void)
{
	cr_assert_eq(test_ca_root(&ta, "DANE TA", TEST_KEY_EC), 0);
	issue(&leaf_mx, "mx1.example.net", false);
	issue(&leaf_domain, "example.com", false);
	issue(&leaf_other, "other.example", false);
	issue(&leaf_wild, "*.example.net", false);
	issue(&leaf_expired, "mx1.example.net", true);
	stranger = test_key_new(TEST_KEY_EC);
	cr_assert_not_null(stranger);
}

static void pki_teardown(void)
{
	test_leaf_free(&leaf_mx);
	test_leaf_free(&leaf_domain);
	test_leaf_free(&leaf_other);
	test_leaf_free(&leaf_wild);
	test_leaf_free(&leaf_expired);
	test_ca_free(&ta);
	EVP_PKEY_free(stranger);
}

/* hex_of - DER selected from x (selector 0 cert, 1 SPKI), digested by
 * mtype (0 none, 1 SHA2-256, 2 SHA2-512), as hex into out */
static void hex_of(X509 *x, EVP_PKEY *key, int selector, int mtype,
		   char *out, size_t outsz)
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	const unsigned char *data;
	size_t len, o = 0;
	int n;

	if (key != NULL)
		n = i2d_PUBKEY(key, &der);
	else if (selector == 1)
		n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	else
		n = i2d_X509(x, &der);
	cr_assert_gt(n, 0);
	data = der;
	len = (size_t)n;
	if (mtype > 0) {
		cr_assert_eq(EVP_Digest(der, len, md, &mdlen, mtype == 1 ?
					EVP_sha256() : EVP_sha512(), NULL), 1);
		data = md;
		len = mdlen;
	}
	for (size_t i = 0; i < len && o + 3 < outsz; i++)
		o += (size_t)snprintf(out + o, outsz - o, "%02x", data[i]);
	OPENSSL_free(der);
}

/* Which leaf the server presents. */
enum leaf_pick { L_MX, L_DOMAIN, L_OTHER, L_WILD, L_EXPIRED };

static struct test_leaf *leaf_of(enum leaf_pick p)
{
	switch (p) {
	case L_MX: return &leaf_mx;
	case L_DOMAIN: return &leaf_domain;
	case L_OTHER: return &leaf_other;
	case L_WILD: return &leaf_wild;
	case L_EXPIRED: return &leaf_expired;
	}
	return &leaf_mx;
}

/* One TLSA record a row publishes: usage, selector, mtype, and whose data
 * (the presented leaf, the TA, a stranger's key) or a literal hex. */
enum tlsa_of { T_NONE, T_LEAF, T_TA, T_STRANGER, T_HEX };
struct tlsa_spec {
	int usage, selector, mtype;
	enum tlsa_of of;
	const char *hex;
};

struct row {
	const char *name;
	enum esa_dane setting;
	const char *mx_mark, *a_mark, *tlsa_mark;	/* $DNSSEC words */
	const char *via;		/* "" : not known */
	const char *peer;		/* the peer address */
	enum leaf_pick leaf;
	struct tlsa_spec tlsa[3];
	/* expected */
	bool applies, pass, refuse;
	const char *result;
	enum esa_dane_step mx, addr, tls;
	bool tlsa_queried;
};

#define S "secure"
#define I "insecure"
#define B "bogus"
#define EE_SPKI_256 { 3, 1, 1, T_LEAF, NULL }
#define TA_CERT_256 { 2, 0, 1, T_TA, NULL }

static const struct row rows[] = {
	/* docs/dane.md 4: DANE-EE, every selector and matching type */
	{ "ee-spki-sha256", ESA_DANE_OPPORTUNISTIC, S, S, S, "", "192.0.2.1", L_OTHER,
	  { EE_SPKI_256 }, true, true, false, "", ESA_STEP_SECURE,
	  ESA_STEP_SECURE, ESA_STEP_SECURE, true },
	{ "ee-cert-sha512", ESA_DANE_MANDATORY, S, S, S, "", "192.0.2.1", L_OTHER,
	  { { 3, 0, 2, T_LEAF, NULL } }, true, true, false, "", ESA_STEP_SECURE,
	  ESA_STEP_SECURE, ESA_STEP_SECURE, true },
	{ "ee-spki-full", ESA_DANE_MANDATORY, S, S, S, "", "192.0.2.1", L_OTHER,
	  { { 3, 1, 0, T_LEAF, NULL } }, true, true, false, "", ESA_STEP_SECURE,
	  ESA_STEP_SECURE, ESA_STEP_SECURE, true },
	/* DANE-EE ignores the validity period (RFC 7671 5.1) */
	{ "ee-expired-leaf", ESA_DANE_MANDATORY, S, S, S, "", "192.0.2.1", L_EXPIRED,
	  { EE_SPKI_256 }, true, true, false, "", ESA_STEP_SECURE,
	  ESA_STEP_SECURE, ESA_STEP_SECURE, true },
	{ "ee-mismatch", ESA_DANE_OPPORTUNISTIC, S, S, S, "", "192.0.2.1", L_MX,
	  { { 3, 1, 1, T_STRANGER, NULL } }, true, false, true, "tlsa-invalid",
	  ESA_STEP_SECURE, ESA_STEP_SECURE, ESA_STEP_SECURE, true },
	/* DANE-TA: the chain to the matched anchor, names H and D */
	{ "ta-mx-name", ESA_DANE_OPPORTUNISTIC, S, S, S, "", "192.0.2.1", L_MX,
	  { TA_CERT_256 }, true, true, false, "", ESA_STEP_SECURE,
	  ESA_STEP_SECURE, ESA_STEP_SECURE, true },
	{ "ta-spki-recipient-name", ESA_DANE_MANDATORY, S, S, S, "", "192.0.2.1",
	  L_DOMAIN, { { 2, 1, 1, T_TA, NULL } }, true, true, false, "",
	  ESA_STEP_SECURE, ESA_STEP_SECURE, ESA_STEP_SECURE, true },
	{ "ta-wildcard", ESA_DANE_MANDATORY, S, S, S, "", "192.0.2.1", L_WILD,
	  { TA_CERT_256 }, true, true, false, "", ESA_STEP_SECURE,
	  ESA_STEP_SECURE, ESA_STEP_SECURE, true },
	{ "ta-name-mismatch", ESA_DANE_OPPORTUNISTIC, S, S, S, "", "192.0.2.1",
	  L_OTHER, { TA_CERT_256 }, true, false, true,
	  "certificate-host-mismatch", ESA_STEP_SECURE, ESA_STEP_SECURE,
	  ESA_STEP_SECURE, true },
	{ "ta-expired-leaf", ESA_DANE_OPPORTUNISTIC, S, S, S, "", "192.0.2.1",
	  L_EXPIRED, { TA_CERT_256 }, true, false, true, "certificate-expired",
	  ESA_STEP_SECURE, ESA_STEP_SECURE, ESA_STEP_SECURE, true },
	/* one record of several matches */
	{ "mismatch-then-ta", ESA_DANE_MANDATORY, S, S, S, "", "192.0.2.1", L_MX,
	  { { 3, 1, 1, T_STRANGER, NULL }, TA_CERT_256 }, true, true, false, "",
	  ESA_STEP_SECURE, ESA_STEP_SECURE, ESA_STEP_SECURE, true },
	/* unusable records (RFC 7672 3.1.3; docs/dane.md 4) */
	{ "pkix-only-opportunistic", ESA_DANE_OPPORTUNISTIC, S, S, S, "",
	  "192.0.2.1", L_MX, { { 1, 1, 1, T_LEAF, NULL }, { 0, 0, 1, T_TA, NULL } },
	  false, false, false, "tlsa-invalid", ESA_STEP_SECURE, ESA_STEP_SECURE,
	  ESA_STEP_SECURE, true },
	{ "pkix-only-mandatory", ESA_DANE_MANDATORY, S, S, S, "", "192.0.2.1",
	  L_MX, { { 1, 1, 1, T_LEAF, NULL } }, false, false, true,
	  "tlsa-invalid", ESA_STEP_SECURE, ESA_STEP_SECURE, ESA_STEP_SECURE, true },
	{ "short-digest-mandatory", ESA_DANE_MANDATORY, S, S, S, "", "192.0.2.1",
	  L_MX, { { 3, 1, 1, T_HEX, "00112233" }, { 3, 1, 2, T_HEX, "aabb" } },
	  false, false, true, "tlsa-invalid", ESA_STEP_SECURE, ESA_STEP_SECURE,
	  ESA_STEP_SECURE, true },
	{ "unknown-params-mandatory", ESA_DANE_MANDATORY, S, S, S, "",
	  "192.0.2.1", L_MX, { { 4, 1, 1, T_LEAF, NULL }, { 3, 2, 1, T_LEAF, NULL },
	  { 3, 1, 9, T_LEAF, NULL } }, false, false, true, "tlsa-invalid",
	  ESA_STEP_SECURE, ESA_STEP_SECURE, ESA_STEP_SECURE, true },
	{ "full-cert-not-der", ESA_DANE_MANDATORY, S, S, S, "", "192.0.2.1",
	  L_MX, { { 3, 0, 0, T_HEX, "30030201" } }, false, false, true,
	  "tlsa-invalid", ESA_STEP_SECURE, ESA_STEP_SECURE, ESA_STEP_SECURE, true },
	/* the TLSA RRset (RFC 7672 2.2) */
	{ "insecure-tlsa-opportunistic", ESA_DANE_OPPORTUNISTIC, S, S, I, "",
	  "192.0.2.1", L_MX, { EE_SPKI_256 }, false, false, false, "",
	  ESA_STEP_SECURE, ESA_STEP_SECURE, ESA_STEP_INSECURE, true },
	{ "insecure-tlsa-mandatory", ESA_DANE_MANDATORY, S, S, I, "", "192.0.2.1",
	  L_MX, { EE_SPKI_256 }, false, false, true, "dane-required",
	  ESA_STEP_SECURE, ESA_STEP_SECURE, ESA_STEP_INSECURE, true },
	{ "bogus-tlsa-opportunistic", ESA_DANE_OPPORTUNISTIC, S, S, B, "",
	  "192.0.2.1", L_MX, { EE_SPKI_256 }, false, false, true, "dnssec-invalid",
	  ESA_STEP_SECURE, ESA_STEP_SECURE, ESA_STEP_FAILED, true },
	{ "no-tlsa-opportunistic", ESA_DANE_OPPORTUNISTIC, S, S, S, "",
	  "192.0.2.1", L_MX, { { 0 } }, false, false, false, "", ESA_STEP_SECURE,
	  ESA_STEP_SECURE, ESA_STEP_ABSENT, true },
	{ "no-tlsa-mandatory", ESA_DANE_MANDATORY, S, S, S, "", "192.0.2.1",
	  L_MX, { { 0 } }, false, false, true, "dane-required", ESA_STEP_SECURE,
	  ESA_STEP_SECURE, ESA_STEP_ABSENT, true },
	/* MX and address records (RFC 7672 2.2.1, 2.2.2): lazily, no TLSA */
	{ "insecure-mx-opportunistic", ESA_DANE_OPPORTUNISTIC, I, S, S, "",
	  "192.0.2.1", L_MX, { EE_SPKI_256 }, false, false, false, "",
	  ESA_STEP_INSECURE, ESA_STEP_SKIPPED, ESA_STEP_SKIPPED, false },
	{ "insecure-mx-mandatory", ESA_DANE_MANDATORY, I, S, S, "", "192.0.2.1",
	  L_MX, { EE_SPKI_256 }, false, false, true, "dane-required",
	  ESA_STEP_INSECURE, ESA_STEP_SKIPPED, ESA_STEP_SKIPPED, false },
	{ "bogus-mx-opportunistic", ESA_DANE_OPPORTUNISTIC, B, S, S, "",
	  "192.0.2.1", L_MX, { EE_SPKI_256 }, false, false, false, "",
	  ESA_STEP_FAILED, ESA_STEP_SKIPPED, ESA_STEP_SKIPPED, false },
	{ "bogus-mx-mandatory", ESA_DANE_MANDATORY, B, S, S, "", "192.0.2.1",
	  L_MX, { EE_SPKI_256 }, false, false, true, "dnssec-invalid",
	  ESA_STEP_FAILED, ESA_STEP_SKIPPED, ESA_STEP_SKIPPED, false },
	{ "insecure-address", ESA_DANE_MANDATORY, S, I, S, "", "192.0.2.1",
	  L_MX, { EE_SPKI_256 }, false, false, true, "dane-required",
	  ESA_STEP_SECURE, ESA_STEP_INSECURE, ESA_STEP_SKIPPED, false },
	{ "bogus-address", ESA_DANE_OPPORTUNISTIC, S, B, S, "", "192.0.2.1",
	  L_MX, { EE_SPKI_256 }, false, false, true, "dnssec-invalid",
	  ESA_STEP_SECURE, ESA_STEP_FAILED, ESA_STEP_SKIPPED, false },
	{ "address-not-the-peer", ESA_DANE_MANDATORY, S, S, S, "", "192.0.2.77",
	  L_MX, { EE_SPKI_256 }, false, false, true, "dane-required",
	  ESA_STEP_SECURE, ESA_STEP_SECURE, ESA_STEP_SKIPPED, false },
	{ "via-not-an-mx", ESA_DANE_MANDATORY, S, S, S, "mx9.example.net",
	  "192.0.2.1", L_MX, { EE_SPKI_256 }, false, false, true, "dane-required",
	  ESA_STEP_SECURE, ESA_STEP_SKIPPED, ESA_STEP_SKIPPED, false },
	{ "via-the-mx", ESA_DANE_MANDATORY, S, S, S, "mx1.example.net",
	  "192.0.2.1", L_OTHER, { EE_SPKI_256 }, true, true, false, "",
	  ESA_STEP_SECURE, ESA_STEP_SECURE, ESA_STEP_SECURE, true },
};

/* tlsa_line - one record's master-file line */
static void tlsa_line(const struct tlsa_spec *t, X509 *leaf, char *out,
		      size_t outsz)
{
	char hex[4096] = "";

	switch (t->of) {
	case T_LEAF: hex_of(leaf, NULL, t->selector, t->mtype > 2 ? 1 : t->mtype,
			    hex, sizeof(hex)); break;
	case T_TA: hex_of(ta.cert, NULL, t->selector, t->mtype, hex,
			  sizeof(hex)); break;
	case T_STRANGER: hex_of(NULL, stranger, 1, t->mtype, hex,
				sizeof(hex)); break;
	case T_HEX: snprintf(hex, sizeof(hex), "%s", t->hex); break;
	case T_NONE: break;
	}
	snprintf(out, outsz, "_25._tcp.mx1.example.net. TLSA %d %d %d %s\n",
		 t->usage, t->selector, t->mtype, hex);
}

/* zone_of - the row's master file */
static char *zone_of(const struct row *r, X509 *leaf)
{
	size_t sz = 32768, o;
	char *z = malloc(sz);

	cr_assert_not_null(z);
	o = (size_t)snprintf(z, sz, "$DNSSEC %s\nexample.com. MX 10 mx1.example.net.\n"
			     "$DNSSEC %s\nmx1.example.net. A 192.0.2.1\n"
			     "$DNSSEC %s\n", r->mx_mark, r->a_mark, r->tlsa_mark);
	for (size_t k = 0; k < 3 && r->tlsa[k].of != T_NONE; k++)
		tlsa_line(&r->tlsa[k], leaf, z + o, sz - o), o = strlen(z);
	/* the name exists even without TLSA records */
	snprintf(z + o, sz - o, "$DNSSEC secure\nmx1.example.net. AAAA 2001:db8::1\n");
	return z;
}

/* queried - was a query of this type sent (res->dns)? */
static bool queried(const struct esa_result *res, uint16_t type)
{
	for (size_t i = 0; i < res->ndns; i++)
		if (res->dns[i].type == type)
			return true;
	return false;
}

/* run_row - one row's check into a new result */
static struct esa_result *run_row(const struct row *r)
{
	struct test_leaf *l = leaf_of(r->leaf);
	char err[ESA_ERR_MAX] = "", *z = zone_of(r, l->cert);
	esa_resolver *rs = esa_resolver_static_text(z, strlen(z), r->name, err,
						    sizeof(err));
	STACK_OF(X509) *chain = sk_X509_new_null();
	struct esa_result *res = esa_result_new();
	struct esa_target t;

	cr_assert_not_null(rs, "%s: %s", r->name, err);
	cr_assert_not_null(res);
	cr_assert(chain != NULL && sk_X509_push(chain, l->cert) > 0 &&
		  sk_X509_push(chain, ta.cert) > 0);
	memset(&t, 0, sizeof(t));
	strcpy(t.recipient, "example.com");
	strcpy(t.via, r->via);
	t.have_peer = true;
	t.peer_family = AF_INET;
	inet_pton(AF_INET, r->peer, t.peer);
	cr_assert_eq(esa_dane_check(res, r->setting, &t, l->cert, chain, rs,
				    esa_now_ms() + 5000), 0);
	sk_X509_free(chain);
	esa_resolver_free(rs);
	free(z);
	return res;
}

TestSuite(dane, .init = pki_setup, .fini = pki_teardown);

/* Every row of the table, each asserting the whole verdict. */
Test(dane, table)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct esa_result *res = run_row(r);
		const struct esa_dane_record *d = res->dane;

		cr_assert_not_null(d, "%s", r->name);
		cr_expect_eq(d->applies, r->applies, "%s: applies %d (%s)",
			     r->name, d->applies, d->reason);
		cr_expect_eq(d->pass, r->pass, "%s: pass %d (%s)", r->name,
			     d->pass, d->reason);
		cr_expect_eq(d->refuse, r->refuse, "%s: refuse %d (%s)", r->name,
			     d->refuse, d->reason);
		cr_expect_str_eq(d->result, r->result, "%s: result '%s' (%s)",
				 r->name, d->result, d->reason);
		cr_expect_eq(d->mx, r->mx, "%s: mx step %s", r->name,
			     esa_dane_step_name(d->mx));
		cr_expect_eq(d->addr, r->addr, "%s: address step %s", r->name,
			     esa_dane_step_name(d->addr));
		cr_expect_eq(d->tlsa, r->tls, "%s: tlsa step %s", r->name,
			     esa_dane_step_name(d->tlsa));
		cr_expect_eq(queried(res, ESA_T_TLSA), r->tlsa_queried,
			     "%s: TLSA queried", r->name);
		cr_expect_neq(d->reason[0], '\0', "%s: a reason", r->name);
		/* the decision follows docs/dane.md 5 */
		cr_expect_eq(esa_dane_accept(d, true), !r->refuse, "%s", r->name);
		cr_expect_eq(esa_dane_accept(d, false), r->pass, "%s", r->name);
		esa_result_free(res);
	}
}

/* docs/dane.md 3: with DANE none nothing is looked up and no record made */
Test(dane, none_is_lazy)
{
	struct row r = rows[0];
	struct esa_result *res;

	r.setting = ESA_DANE_NONE;
	res = run_row(&r);
	cr_assert_null(res->dane);
	cr_assert_eq(res->ndns, 0);
	esa_result_free(res);
}

/* docs/dane.md 5: DANE replaces stage I and identity when it decides */
Test(dane, decision_folds_in)
{
	struct esa_result *res = run_row(&rows[0]);	/* EE pass */

	res->chain.checked = true;
	res->chain.ok = false;		/* no CA signed it */
	cr_assert(esa_result_accept(res, ESA_TLS_REQUIRED_VERIFY_HOSTED));
	cr_assert(esa_result_dane_pass(res));
	cr_assert(esa_result_dane_applies(res));
	esa_result_free(res);

	res = run_row(&rows[4]);	/* EE mismatch refuses even under 2 */
	cr_assert_not(esa_result_accept(res, ESA_TLS_PREFERRED));
	cr_assert_str_eq(esa_result_dane_result(res), "tlsa-invalid");
	esa_result_free(res);

	res = run_row(&rows[16]);	/* insecure TLSA, opportunistic */
	res->chain.checked = true;
	res->chain.ok = false;
	cr_assert(esa_result_accept(res, ESA_TLS_PREFERRED));
	cr_assert_not(esa_result_accept(res, ESA_TLS_REQUIRED_VERIFY));
	esa_result_free(res);
}

/* The explanation walks daneverify's steps; the JSON has the object. */
Test(dane, explain_and_json)
{
	struct esa_result *res = run_row(&rows[5]);	/* TA pass */
	char *text = NULL, *json = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	strcpy(res->recipient, "example.com");
	cr_assert_not_null(f);
	cr_assert_eq(esa_result_explain(res, f), 0);
	fclose(f);
	cr_assert_not_null(strstr(text, "SECURE MX record(mx1.example.net) for example.com"), "%s", text);
	cr_assert_not_null(strstr(text, "SECURE TLSA record found at _25._tcp.mx1.example.net"), "%s", text);
	cr_assert_not_null(strstr(text, "DANE SUCCESS for example.com"), "%s", text);
	cr_assert_eq(esa_result_json(res, &json), 0);
	cr_assert_not_null(strstr(json, "\"dane\":{\"setting\":\"opportunistic\","
				  "\"host\":\"mx1.example.net\""), "%s", json);
	cr_assert_not_null(strstr(json, "\"name\":\"mx1.example.net\""), "%s", json);
	free(text);
	free(json);
	esa_result_free(res);
}

/* The master file's TLSA grammar: errors name the line and the problem. */
Test(dane, master_file_errors)
{
	static const struct { const char *text, *want; } bad[] = {
		{ "x.example. TLSA 3 1 1\n", "missing rdata for TLSA" },
		{ "x.example. TLSA 256 1 1 00\n", "bad TLSA usage '256'" },
		{ "x.example. TLSA 3 x 1 00\n", "bad TLSA selector 'x'" },
		{ "x.example. TLSA 3 1 1 0g\n", "bad hex digit" },
		{ "x.example. TLSA 3 1 1 abc\n", "odd number of hex digits" },
		{ "$DNSSEC maybe\n", "$DNSSEC takes secure, insecure or bogus" },
	};
	char err[ESA_ERR_MAX];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		esa_resolver *r = esa_resolver_static_text(bad[i].text,
			strlen(bad[i].text), "f", err, sizeof(err));

		cr_expect_null(r, "%s", bad[i].text);
		esa_resolver_free(r);
		cr_expect_not_null(strstr(err, bad[i].want), "%s -> %s",
				   bad[i].text, err);
		cr_expect_eq(strncmp(err, "f:1: ", 5), 0, "%s", err);
	}
}

/* A TLSA split over blanks, and the AD mark on answers. */
Test(dane, master_file_marks)
{
	static const char z[] =
		"$DNSSEC secure\n_25._tcp.a.example. TLSA 3 1 1 0011 2233\n"
		"$DNSSEC insecure\nb.example. A 192.0.2.1\n"
		"$DNSSEC secure\nc.example. CNAME b.example.\n";
	char err[ESA_ERR_MAX];
	esa_resolver *r = esa_resolver_static_text(z, strlen(z), "m", err,
						   sizeof(err));
	struct esa_answer a;

	cr_assert_not_null(r, "%s", err);
	cr_assert_eq(esa_lookup(r, "_25._tcp.a.example", ESA_T_TLSA, esa_now_ms() + 1000, &a), 0);
	cr_assert_eq(a.count, 1);
	cr_assert_eq(a.rr[0].dlen, 4);
	cr_assert_eq(a.rr[0].data[3], 0x33);
	cr_assert(a.ad && esa_answer_secure(r, &a));
	esa_answer_free(&a);
	cr_assert_eq(esa_lookup(r, "c.example", ESA_T_A, esa_now_ms() + 1000, &a), 0);
	cr_assert_not(a.ad, "an insecure record behind a secure CNAME");
	esa_answer_free(&a);
	esa_resolver_free(r);
}

/* tlsa_msg - a wire answer for _25._tcp.x.example TLSA with these rdatas */
static size_t tlsa_msg(struct dw_pkt *p, bool ad, const unsigned char *rd[],
		       const size_t rdlen[], size_t n)
{
	memset(p, 0, sizeof(*p));
	dw_put16(p, 0x1234);
	dw_put16(p, 0x8180 | (ad ? 0x20 : 0));
	dw_put16(p, 1);
	dw_put16(p, (unsigned)n);
	dw_put16(p, 0);
	dw_put16(p, 0);
	dw_put_name(p, "_25._tcp.x.example");
	dw_put16(p, ESA_T_TLSA);
	dw_put16(p, 1);
	for (size_t i = 0; i < n; i++) {
		size_t at = dw_rr_begin(p, NULL, ESA_T_TLSA, 300);

		for (size_t k = 0; k < rdlen[i]; k++)
			dw_put8(p, rd[i][k]);
		dw_rr_end(p, at);
	}
	return p->n;
}

/* The libresolv reader: TLSA rdata, AD, and hostile records failing closed */
Test(dane, wire_tlsa)
{
	static const unsigned char good[] = { 3, 1, 1, 0xaa, 0xbb };
	static const unsigned char shortrd[] = { 3, 1 };
	static unsigned char huge[3 + ESA_TLSA_DATA_MAX + 1] = { 3, 0, 0 };
	const unsigned char *rd[2] = { good, shortrd };
	size_t len[2] = { sizeof(good), sizeof(shortrd) };
	struct dw_pkt *p = calloc(1, sizeof(*p));
	char next[ESA_NAME_MAX];
	struct esa_answer a;

	cr_assert_not_null(p);
	tlsa_msg(p, true, rd, len, 1);
	esa_dns_parse_answer(p->b, p->n, "_25._tcp.x.example", ESA_T_TLSA, &a, next);
	cr_assert_eq(a.status, ESA_DNS_OK, "%s", a.reason);
	cr_assert(a.ad);
	cr_assert_eq(a.rr[0].usage, 3);
	cr_assert_eq(a.rr[0].dlen, 2);
	esa_answer_free(&a);
	/* a good record beside an unreadable one: none is trusted */
	tlsa_msg(p, true, rd, len, 2);
	esa_dns_parse_answer(p->b, p->n, "_25._tcp.x.example", ESA_T_TLSA, &a, next);
	cr_assert_eq(a.status, ESA_DNS_MALFORMED);
	cr_assert_eq(a.count, 0);
	esa_answer_free(&a);
	/* longer than we keep */
	rd[0] = huge;
	len[0] = sizeof(huge);
	tlsa_msg(p, true, rd, len, 1);
	esa_dns_parse_answer(p->b, p->n, "_25._tcp.x.example", ESA_T_TLSA, &a, next);
	cr_assert_eq(a.status, ESA_DNS_MALFORMED);
	esa_answer_free(&a);
	free(p);
}

/* docs/dane.md 2: AD counts only from a configured nameserver */
Test(dane, ad_trust)
{
	char err[ESA_ERR_MAX];
	esa_resolver *sys = esa_resolver_libresolv(NULL, err, sizeof(err));
	esa_resolver *ns = esa_resolver_libresolv("127.0.0.1:53", err, sizeof(err));
	struct esa_answer a;

	cr_assert_not_null(sys, "%s", err);
	cr_assert_not_null(ns, "%s", err);
	memset(&a, 0, sizeof(a));
	a.status = ESA_DNS_OK;
	a.ad = true;
	cr_assert_not(esa_answer_secure(sys, &a), "the system resolver's AD");
	cr_assert(esa_answer_secure(ns, &a));
	a.ad = false;
	cr_assert_not(esa_answer_secure(ns, &a));
	esa_resolver_free(sys);
	esa_resolver_free(ns);
}

/* docs/dane.md 3: secure-mx makes Hosted ignore insecure MX names */
Test(dane, secure_mx_hosted)
{
	static const char z[] =
		"$DNSSEC insecure\nexample.com. MX 10 mx1.example.net.\n"
		"$DNSSEC secure\nexample.org. MX 10 mx1.example.net.\n";
	char err[ESA_ERR_MAX];
	esa_resolver *r = esa_resolver_static_text(z, strlen(z), "s", err,
						   sizeof(err));
	struct esa_target t;

	cr_assert_not_null(r, "%s", err);
	for (int secure_mx = 0; secure_mx < 2; secure_mx++)
		for (int dom = 0; dom < 2; dom++) {
			struct esa_result *res = esa_result_new();

			memset(&t, 0, sizeof(t));
			strcpy(t.recipient, dom ? "example.org" : "example.com");
			t.secure_mx = secure_mx;
			cr_assert_eq(esa_identity_check_modes(res, leaf_mx.cert, &t,
				r, 1000, 1u << ESA_MODE_HOSTED), 0);
			/* insecure MX with secure-mx: no MX name, FAIL */
			cr_expect_eq(esa_result_pass(res, ESA_MODE_HOSTED),
				     !(secure_mx && !dom), "secure_mx %d dom %d: %s",
				     secure_mx, dom,
				     esa_result_reason(res, ESA_MODE_HOSTED));
			esa_result_free(res);
		}
	esa_resolver_free(r);
}

/* docs/dane.md 5: Mandatory needs TLS, a plain-text MAIL FROM is refused */
Test(dane, mandatory_refuses_plaintext)
{
	esa_config *cfg = esa_config_new();
	struct esa_plaintext pt;

	cr_assert_eq(esa_config_set_tls(cfg, "preferred"), 0);
	esa_plaintext_judge(cfg, "example.com", NULL, NULL, &pt);
	cr_assert_not(pt.reject);
	cr_assert_eq(esa_config_set_dane(cfg, "opportunistic"), 0);
	esa_plaintext_judge(cfg, "example.com", NULL, NULL, &pt);
	cr_assert_not(pt.reject, "opportunistic falls back to the setting");
	cr_assert_eq(esa_config_set_dane(cfg, "mandatory"), 0);
	esa_plaintext_judge(cfg, "example.com", NULL, NULL, &pt);
	cr_assert(pt.reject);
	cr_assert_not_null(strstr(pt.why, "DANE mandatory requires one"), "%s", pt.why);
	esa_config_free(cfg);
}

/* The setting's names and the setter's one-line error. */
Test(dane, setting_names)
{
	esa_config *cfg = esa_config_new();
	enum esa_dane d;

	cr_assert_eq(esa_dane_parse("Opportunistic", &d), 0);
	cr_assert_eq(d, ESA_DANE_OPPORTUNISTIC);
	cr_assert_eq(esa_dane_parse("mandatory", &d), 0);
	cr_assert_str_eq(esa_dane_name(d), "mandatory");
	cr_assert_eq(esa_dane_parse("dane-only", &d), -1);
	cr_assert_eq(esa_config_set_dane(cfg, "sometimes"), -1);
	cr_assert_str_eq(esa_config_error(cfg), "bad DANE setting 'sometimes' "
			 "(expected none, opportunistic or mandatory)");
	cr_assert_eq(esa_config_set_dane(cfg, "none"), 0);
	esa_config_free(cfg);
}

/* ---- through the callback: real handshakes on loopback ------------------- */

#include "tls_server.h"

/* One handshake row: the TLS setting, the DANE setting, what is published,
 * what the server sends, and whether the handshake must succeed. */
struct hs_row {
	const char *name;
	enum esa_tls tls;
	enum esa_dane dane;
	const char *tlsa_mark;
	struct tlsa_spec tlsa;
	bool send_ta;		/* the server sends the TA after its leaf */
	bool delivered;
};

static const struct hs_row hs_rows[] = {
	/* DANE-EE delivers where no CA would (setting 6, no trusted CA) */
	{ "ee-under-hosted", ESA_TLS_REQUIRED_VERIFY_HOSTED, ESA_DANE_OPPORTUNISTIC,
	  S, EE_SPKI_256, false, true },
	{ "ta-under-verify", ESA_TLS_REQUIRED_VERIFY, ESA_DANE_MANDATORY, S,
	  TA_CERT_256, true, true },
	/* a DANE failure refuses even under preferred */
	{ "mismatch-under-preferred", ESA_TLS_PREFERRED, ESA_DANE_OPPORTUNISTIC, S,
	  { 3, 1, 1, T_STRANGER, NULL }, true, false },
	{ "bogus-under-preferred", ESA_TLS_PREFERRED, ESA_DANE_OPPORTUNISTIC, B,
	  EE_SPKI_256, true, false },
	/* no DANE: the TLS setting decides (the chain has no trusted CA) */
	{ "insecure-under-preferred", ESA_TLS_PREFERRED, ESA_DANE_OPPORTUNISTIC, I,
	  EE_SPKI_256, true, true },
	{ "insecure-under-verify", ESA_TLS_REQUIRED_VERIFY, ESA_DANE_OPPORTUNISTIC,
	  I, EE_SPKI_256, true, false },
	{ "insecure-mandatory", ESA_TLS_PREFERRED, ESA_DANE_MANDATORY, I,
	  EE_SPKI_256, true, false },
};

struct hs_conn {
	esa_config *cfg;
	enum esa_tls tls;
};

static int decisions;	/* on_decide calls: one per handshake */

static void count_decision(SSL *ssl, const struct esa_result *res)
{
	(void)ssl, (void)res;
	decisions++;
}

static void hs_setup(SSL *ssl, void *arg)
{
	struct hs_conn *c = arg;
	struct esa_hooks hooks = { .on_decide = count_decision };

	/* as the shim attaches: with hooks, the callback set by hand */
	cr_assert_eq(esa_ssl_attach(ssl, c->cfg, NULL, &hooks), 0);
	SSL_set_verify(ssl, SSL_VERIFY_PEER, esa_verify_cb);
	cr_assert_eq(esa_ssl_set_recipient(ssl, "example.com"), 0);
	cr_assert_eq(esa_ssl_set_via(ssl, "mx1.example.net"), 0);
	cr_assert_eq(esa_ssl_set_tls(ssl, c->tls), 0);
}

Test(dane, handshakes, .timeout = 60)
{
	struct test_dir dir;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	cr_assert_not_null(ctx);
	cr_assert_eq(test_dir_new(&dir), 0);
	for (size_t i = 0; i < sizeof(hs_rows) / sizeof(hs_rows[0]); i++) {
		const struct hs_row *h = &hs_rows[i];
		X509 *const chain[] = { ta.cert };
		struct test_server_opts so = {
			.cert = leaf_mx.cert, .key = leaf_mx.key,
			.chain = chain, .nchain = h->send_ta ? 1 : 0,
			.connections = 1,
		};
		struct test_server *srv = test_server_start(&so);
		char zone[8192], line[4096], path[128];
		struct hs_conn c = { esa_config_new(), h->tls };
		struct test_handshake hs;
		const esa_result *res;

		cr_assert_not_null(srv);
		tlsa_line(&h->tlsa, leaf_mx.cert, line, sizeof(line));
		snprintf(zone, sizeof(zone), "$DNSSEC secure\n"
			 "example.com. MX 10 mx1.example.net.\n"
			 "mx1.example.net. A 127.0.0.1\n$DNSSEC %s\n_%d%s",
			 h->tlsa_mark, test_server_port(srv),
			 strstr(line, "._tcp."));
		test_dir_file(&dir, "zone", path, sizeof(path));
		cr_assert_eq(test_write_text(path, zone), 0);
		cr_assert_eq(esa_config_set_dns_file(c.cfg, path), 0);
		cr_assert_eq(esa_config_set_dane(c.cfg, esa_dane_name(h->dane)), 0);
		decisions = 0;
		test_tls_handshake(ctx, test_server_port(srv), hs_setup, &c, &hs);
		cr_expect_eq(decisions, 1, "%s: %d decisions", h->name, decisions);
		res = esa_ssl_result(hs.ssl);
		cr_expect_eq(hs.rc == 1, h->delivered, "%s: rc %d, verify %ld (%s)",
			     h->name, hs.rc, hs.verify,
			     esa_result_dane_reason(res));
		if (h->delivered && esa_result_dane_pass(res))
			cr_expect_eq(hs.verify, X509_V_OK, "%s: verify %ld",
				     h->name, hs.verify);
		cr_expect_not_null(res, "%s: a record", h->name);
		test_tls_close(hs.ssl);
		test_server_stop(srv, NULL);
		esa_config_free(c.cfg);
	}
	test_dir_remove(&dir);
	SSL_CTX_free(ctx);
}
