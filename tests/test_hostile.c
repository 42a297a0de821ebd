/*
 * test_hostile.c - hostile certificates and the regressions found by
 * fuzzing, each case failing closed with a reason in the decision record
 * (issue 6)
 *
 * Certificates: DNS-IDs with an embedded NUL, '*' in odd places, IP
 * addresses, more than 253 octets, non-ASCII octets; CN-IDs in every ASN.1
 * string type, several CNs, an empty subject; 10,000 SANs.  Each is issued
 * by the test PKI (tests/pki.c), so it goes through DER and OpenSSL's
 * parser exactly as a server's certificate would, and is decided by
 * esa_identity_check with SPEC 7's DNS from a static zone.  Hostile DNS
 * answers are in test_hostile_dns.c.
 *
 * Decisions written down here (SPEC: "write the choice down"):
 *  - A dNSName is an IA5String by the ASN.1 module of RFC 5280 (an IMPLICIT
 *    [2] tag): DER has no way to say another string type, so "non-IA5
 *    dNSName" can only mean non-IA5 octets, which are tested (names.c's
 *    "not an IA5String" branch cannot be reached from DER).  OpenSSL
 *    refuses to encode or parse a CN string that does not convert to
 *    UTF-8 (odd-length BMPString), but it parses a CN of a type that is
 *    not a string at all (BIT STRING, RELATIVE-OID, ...): that one reaches
 *    "commonName cannot be decoded", and is tested with the regressions.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <criterion/criterion.h>

#include "hostilefix.h"
#include "internal.h"
#include "json.h"
#include "pki.h"
#include "spec7.h"


static struct test_ca ca;
static esa_resolver *zone;

/* pki_setup - a CA and SPEC 7's zone, for every certificate test */
static void pki_setup(void)
{
	cr_assert_eq(test_ca_root(&ca, "Hostile Test CA", TEST_KEY_EC), 0);
	zone = spec7_resolver(NULL);
}

static void pki_teardown(void)
{
	esa_resolver_free(zone);
	test_ca_free(&ca);
}

/* decide_cert - issue spec, decide both modes for recipient */
static struct esa_result *decide_cert(const struct test_leaf_spec *spec,
				      const char *recipient)
{
	struct esa_target t = target(recipient);
	struct esa_result *res = esa_result_new();
	struct test_leaf leaf;

	cr_assert_not_null(res);
	cr_assert_eq(test_leaf_issue(&leaf, &ca, spec), 0,
		     "cannot issue the certificate");
	cr_assert_eq(esa_identity_check(res, leaf.cert, &t, zone, 3000), 0);
	test_leaf_free(&leaf);
	return res;
}

TestSuite(hostile_cert, .init = pki_setup, .fini = pki_teardown);

/* ---- DNS-IDs ---------------------------------------------------------------- */

struct dnsid_row {
	const char *row;
	const char *value;
	size_t len;		/* 0: strlen */
	const char *recipient;	/* a name a careless matcher would accept */
	const char *problem;	/* expected in the presented id's problem */
};

static const struct dnsid_row dnsid_rows[] = {
	{ "embedded NUL", "example.com\0.evil.test", 22, "example.com",
	  "NUL" },
	{ "NUL at the end", "example.com\0", 12, "example.com", "NUL" },
	{ "two wildcards", "*.*.example.com", 0, "a.b.example.com",
	  "more than one wildcard" },
	{ "partial wildcard", "f*.example.com", 0, "foo.example.com",
	  "partial wildcard" },
	{ "suffix wildcard", "*oo.example.com", 0, "foo.example.com",
	  "partial wildcard" },
	{ "A-label wildcard", "xn--*.example.com", 0,
	  "xn--bcher-kva.example.com", "partial wildcard" },
	{ "bare wildcard", "*", 0, "example.com", "fewer than two labels" },
	{ "wildcard over a TLD", "*.com", 0, "example.com",
	  "fewer than two labels" },
	{ "wildcard not leftmost", "a.*.example.com", 0, "a.b.example.com",
	  "not in the leftmost label" },
	{ "wildcard last", "example.*", 0, "example.com",
	  "not in the leftmost label" },
	{ "IPv4 address", "192.0.2.1", 0, "example.com", "IP address" },
	{ "IPv4 shorthand", "0x7f.1", 0, "example.com", "IP address" },
	{ "IPv6 address", "2001:db8::1", 0, "example.com", "IP address" },
	{ "U-label (non-ASCII)", "b\xc3\xbc" "cher.example", 0,
	  "xn--bcher-kva.example", "not ASCII" },
	{ "Latin-1 octet", "exampl\xe9.com", 0, "example.com", "not ASCII" },
	{ "empty", "", 0, "example.com", "empty name" },
	{ "only a dot", ".", 0, "example.com", "empty name" },
	{ "empty label", "example..com", 0, "example.com", "empty label" },
	{ "space", "example.com evil", 0, "example.com",
	  "character outside LDH" },
	{ "underscore", "_mta-sts.example.com", 0, "example.com",
	  "character outside LDH" },
	{ "leading hyphen", "-example.com", 0, "example.com", "hyphen" },
	{ "single label", "localhost", 0, "example.com", "single label" },
};

Test(hostile_cert, dns_ids_that_can_never_match)
{
	for (size_t i = 0; i < sizeof(dnsid_rows) / sizeof(dnsid_rows[0]); i++) {
		const struct dnsid_row *r = &dnsid_rows[i];
		struct test_name dns = { r->value, r->len ? r->len :
					 strlen(r->value), TEST_STR_UTF8, false };
		struct test_leaf_spec spec = { .dns = &dns, .ndns = 1 };
		struct esa_result *res = decide_cert(&spec, r->recipient);

		cr_assert_eq(res->ids.ndns, 1, "%s: DNS-ID not collected", r->row);
		cr_expect_eq(res->ids.ids[0].len, dns.len,
			     "%s: octets lost", r->row);
		cr_expect_not_null(res->ids.ids[0].problem, "%s: usable?", r->row);
		if (res->ids.ids[0].problem != NULL)
			cr_expect(strstr(res->ids.ids[0].problem, r->problem),
				  "%s: problem '%s', want '%s'", r->row,
				  res->ids.ids[0].problem, r->problem);
		expect_failed_closed(res, ESA_MODE_VERIFY, r->row);
		expect_failed_closed(res, ESA_MODE_HOSTED, r->row);
		/* the record names the DNS-ID try against the recipient */
		cr_expect_eq(res->verdict[ESA_MODE_VERIFY].tries[0].outcome,
			     ESA_TRY_NOMATCH, "%s", r->row);
		esa_result_free(res);
	}
}

Test(hostile_cert, name_longer_than_253_octets)
{
	char name[300];
	struct test_name dns;
	struct test_leaf_spec spec = { .dns = &dns, .ndns = 1 };
	struct esa_result *res;

	/* 254 octets of labels ending in example.com: a careless suffix
	 * compare would take it for a subdomain */
	memset(name, 'a', sizeof(name));
	for (size_t i = 50; i < 240; i += 51)
		name[i] = '.';
	memcpy(name + 254 - strlen(".example.com"), ".example.com",
	       sizeof(".example.com"));
	cr_assert_eq(strlen(name), 254);
	dns = (struct test_name)NAME(name);
	res = decide_cert(&spec, "example.com");
	cr_assert_eq(res->ids.ndns, 1);
	cr_expect_str_eq(res->ids.ids[0].problem, "longer than 253 octets");
	expect_failed_closed(res, ESA_MODE_VERIFY, "254 octets");
	expect_failed_closed(res, ESA_MODE_HOSTED, "254 octets");
	esa_result_free(res);

	/* and as a 254-octet wildcard: "*." then 252 octets */
	name[0] = '*';
	name[1] = '.';
	res = decide_cert(&spec, "example.com");
	cr_expect_str_eq(res->ids.ids[0].problem, "longer than 253 octets");
	expect_failed_closed(res, ESA_MODE_HOSTED, "254-octet wildcard");
	esa_result_free(res);
}

Test(hostile_cert, a_wildcard_covers_exactly_one_label)
{
	struct test_name dns = NAME("*.example.com");
	struct test_leaf_spec spec = { .dns = &dns, .ndns = 1 };
	struct esa_result *res = decide_cert(&spec, "example.com");

	/* usable, but "*" never stands for an empty label */
	cr_expect_null(res->ids.ids[0].problem);
	expect_failed_closed(res, ESA_MODE_HOSTED, "*.example.com vs example.com");
	esa_result_free(res);
	res = decide_cert(&spec, "a.b.example.com");
	expect_failed_closed(res, ESA_MODE_HOSTED, "*.example.com vs a.b...");
	esa_result_free(res);
	res = decide_cert(&spec, "mail.example.com");
	cr_expect(res->verdict[ESA_MODE_HOSTED].pass,
		  "the control: one label is covered");
	esa_result_free(res);
}

/* ---- CN-IDs ----------------------------------------------------------------- */

Test(hostile_cert, cn_in_every_string_type_is_decoded_then_matched)
{
	static const enum test_strtype types[] = {
		TEST_STR_UTF8, TEST_STR_PRINTABLE, TEST_STR_IA5, TEST_STR_BMP,
		TEST_STR_T61, TEST_STR_UNIVERSAL,
	};
	static const char *const names[] = {
		"UTF8String", "PrintableString", "IA5String", "BMPString",
		"T61String", "UniversalString",
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct test_name cn = { "example.com", 0, types[i], false };
		struct test_leaf_spec spec = { .cn = &cn, .ncn = 1 };
		struct esa_result *res = decide_cert(&spec, "example.com");

		cr_assert_eq(res->ids.ncn, 1, "%s", names[i]);
		cr_expect_str_eq(res->ids.ids[0].raw, "example.com",
				 "%s decoded wrong", names[i]);
		cr_expect(res->verdict[ESA_MODE_VERIFY].pass, "%s: %s", names[i],
			  res->verdict[ESA_MODE_VERIFY].reason);
		cr_expect(res->verdict[ESA_MODE_HOSTED].pass, "%s: %s", names[i],
			  res->verdict[ESA_MODE_HOSTED].reason);
		esa_result_free(res);
	}
}

struct cn_row {
	const char *row;
	struct test_name cn;
	const char *recipient;
	const char *problem;
};

Test(hostile_cert, hostile_cn_content_in_every_string_type)
{
	static const struct cn_row rows[] = {
		{ "BMP with U+00E4", { "ex\xc3\xa4mple.com", 0, TEST_STR_BMP,
		  false }, "example.com", "not ASCII" },
		{ "BMP with U+0000", { "\0e\0x\0\0\0.\0c\0o\0m", 14,
		  TEST_STR_BMP, true }, "ex.com", "NUL" },
		{ "Universal with U+1F600", { "\xf0\x9f\x98\x80.example.com", 0,
		  TEST_STR_UNIVERSAL, false }, "example.com", "not ASCII" },
		{ "T61 Latin-1 octet", { "exampl\xc3\xa9.com", 0, TEST_STR_T61,
		  false }, "example.com", "not ASCII" },
		{ "UTF8 with NUL", { "example.com\0.evil.test", 22,
		  TEST_STR_UTF8, false }, "example.com", "NUL" },
		{ "IA5 IP address", { "192.0.2.1", 0, TEST_STR_IA5, false },
		  "example.com", "IP address" },
		{ "Printable partial wildcard", { "f*.example.com", 0,
		  TEST_STR_PRINTABLE, true }, "foo.example.com",
		  "partial wildcard" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct cn_row *r = &rows[i];
		struct test_leaf_spec spec = { .cn = &r->cn, .ncn = 1 };
		struct esa_result *res = decide_cert(&spec, r->recipient);

		cr_assert_eq(res->ids.ncn, 1, "%s: CN not collected", r->row);
		cr_expect_not_null(res->ids.ids[0].problem, "%s: usable?", r->row);
		if (res->ids.ids[0].problem != NULL)
			cr_expect(strstr(res->ids.ids[0].problem, r->problem),
				  "%s: problem '%s'", r->row,
				  res->ids.ids[0].problem);
		expect_failed_closed(res, ESA_MODE_VERIFY, r->row);
		expect_failed_closed(res, ESA_MODE_HOSTED, r->row);
		/* no usable CN-ID: the PTR is not even asked */
		cr_expect_eq(res->verdict[ESA_MODE_VERIFY].tries[
			     res->verdict[ESA_MODE_VERIFY].ntries - 1].outcome,
			     ESA_TRY_LOOKUP_FAILED, "%s", r->row);
		esa_result_free(res);
	}
}

Test(hostile_cert, cn_longer_than_253_octets)
{
	char name[300];
	struct test_name cn;
	struct test_leaf_spec spec = { .cn = &cn, .ncn = 1 };
	struct esa_result *res;

	/* "*." and 250 more octets ending in example.com: 254 in all */
	memset(name, 'a', sizeof(name));
	name[0] = '*';
	for (size_t i = 1; i < 240; i += 50)
		name[i] = '.';
	memcpy(name + 254 - strlen(".example.com"), ".example.com",
	       sizeof(".example.com"));
	cr_assert_eq(strlen(name), 254);
	cn = (struct test_name)NAME(name);
	res = decide_cert(&spec, "mail.example.com");
	cr_assert_eq(res->ids.ncn, 1);
	cr_expect_str_eq(res->ids.ids[0].problem, "longer than 253 octets");
	expect_failed_closed(res, ESA_MODE_VERIFY, "254-octet CN");
	expect_failed_closed(res, ESA_MODE_HOSTED, "254-octet CN");
	esa_result_free(res);
}

Test(hostile_cert, several_cns_every_one_counts)
{
	static const struct test_name none[] = {
		NAME("evil.test"), NAME("mx0b.emailhosted.not"), NAME("x.test") };
	static const struct test_name one[] = {
		NAME("evil.test"), NAME("example.com"), NAME("x.test") };
	struct test_leaf_spec spec = { .cn = none, .ncn = 3, .org = "Org" };
	struct esa_result *res = decide_cert(&spec, "example.com");
	const struct esa_verdict *v = &res->verdict[ESA_MODE_VERIFY];

	cr_expect_eq(res->ids.ncn, 3);
	/* no CN matches the domain; the PTR name mx0a is confirmed but no CN
	 * matches it either */
	expect_failed_closed(res, ESA_MODE_VERIFY, "three CNs, none matching");
	expect_failed_closed(res, ESA_MODE_HOSTED, "three CNs, none matching");
	cr_expect_eq(v->tries[v->ntries - 1].source, ESA_SOURCE_PTR);
	cr_expect_str_eq(v->tries[v->ntries - 1].reference, "mx0a.emailhosted.not");
	esa_result_free(res);

	spec.cn = one;
	res = decide_cert(&spec, "example.com");
	cr_expect(res->verdict[ESA_MODE_VERIFY].pass, "the second CN counts");
	cr_expect_eq(res->verdict[ESA_MODE_VERIFY].matched, 1);
	cr_expect(res->verdict[ESA_MODE_HOSTED].pass);
	esa_result_free(res);
}

Test(hostile_cert, empty_subject_and_no_san)
{
	struct test_leaf_spec spec;
	struct esa_result *res;

	memset(&spec, 0, sizeof(spec));
	res = decide_cert(&spec, "example.com");
	cr_expect_eq(res->ids.n, 0);
	expect_failed_closed(res, ESA_MODE_VERIFY, "empty subject");
	expect_failed_closed(res, ESA_MODE_HOSTED, "empty subject");
	/* Verify asks no DNS at all: without a CN-ID no PTR name could help */
	for (size_t i = 0; i < res->ndns; i++)
		cr_expect_neq(res->dns[i].type, ESA_T_PTR, "PTR asked");
	esa_result_free(res);
}

Test(hostile_cert, only_ip_and_email_sans)
{
	static const char *const ips[] = { "192.0.2.1", "::1" };
	static const char *const mails[] = { "postmaster@example.com" };
	struct test_leaf_spec spec = { .ip = ips, .nip = 2, .email = mails,
				       .nemail = 1 };
	struct esa_result *res = decide_cert(&spec, "example.com");

	cr_expect_eq(res->ids.n, 0, "iPAddress and rfc822Name are not DNS-IDs");
	expect_failed_closed(res, ESA_MODE_VERIFY, "IP and email SANs");
	expect_failed_closed(res, ESA_MODE_HOSTED, "IP and email SANs");
	esa_result_free(res);
}

/* 10,000 dNSNames: collected, decided correctly, and quickly (the time is
 * printed, not asserted) */
Test(hostile_cert, ten_thousand_sans)
{
	enum { N = 10000 };
	struct test_name *dns = calloc(N, sizeof(*dns));
	char (*names)[40] = calloc(N, sizeof(*names));
	struct test_leaf_spec spec = { .ndns = N };
	struct esa_result *res;
	uint64_t t0;

	cr_assert(dns != NULL && names != NULL);
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "host%05d.example.net", i);
		dns[i] = (struct test_name)NAME(names[i]);
	}
	spec.dns = dns;

	/* none matches: both modes fail; hosted compares every MX name with
	 * all 10,000 */
	t0 = esa_now_us();
	res = decide_cert(&spec, "example.com");
	cr_log_info("10,000 SANs, no match: %llu us",
		    (unsigned long long)(esa_now_us() - t0));
	cr_assert_eq(res->ids.ndns, N);
	expect_failed_closed(res, ESA_MODE_VERIFY, "10,000 SANs");
	expect_failed_closed(res, ESA_MODE_HOSTED, "10,000 SANs");
	esa_result_free(res);

	/* the last one matches the recipient domain */
	snprintf(names[N - 1], sizeof(names[N - 1]), "*.example.com");
	t0 = esa_now_us();
	res = decide_cert(&spec, "mail.example.com");
	cr_log_info("10,000 SANs, the last matching: %llu us",
		    (unsigned long long)(esa_now_us() - t0));
	cr_expect(res->verdict[ESA_MODE_VERIFY].pass, "%s",
		  res->verdict[ESA_MODE_VERIFY].reason);
	cr_expect_eq(res->verdict[ESA_MODE_VERIFY].matched, N - 1);
	cr_expect(res->verdict[ESA_MODE_HOSTED].pass);
	esa_result_free(res);
	free(dns);
	free(names);
}

/* ==== regressions: bugs found by fuzzing (tests/fuzz/) ===================== */

/* leaf_with_cn_of_type - a leaf whose subject is one CN attribute of ASN.1
 * type (any, string or not) holding value, signed by ca and read back from
 * DER as a server would send it */
static X509 *leaf_with_cn_of_type(int type, const char *value)
{
	struct test_leaf_spec spec;
	struct test_leaf leaf;
	X509_NAME *name = X509_NAME_new();
	unsigned char *der = NULL;
	const unsigned char *p;
	X509 *x;
	int len;

	memset(&spec, 0, sizeof(spec));
	cr_assert_eq(test_leaf_issue(&leaf, &ca, &spec), 0);
	cr_assert_not_null(name);
	cr_assert_eq(X509_NAME_add_entry_by_NID(name, NID_commonName, type,
		(const unsigned char *)value, (int)strlen(value), -1, 0), 1);
	cr_assert_eq(X509_set_subject_name(leaf.cert, name), 1);
	cr_assert(X509_sign(leaf.cert, ca.key, EVP_sha256()) > 0);
	len = i2d_X509(leaf.cert, &der);
	cr_assert_gt(len, 0);
	p = der;
	x = d2i_X509(NULL, &p, len);
	cr_assert_not_null(x, "OpenSSL does not parse it back");
	OPENSSL_free(der);
	X509_NAME_free(name);
	test_leaf_free(&leaf);
	return x;
}

/* names.c kept the octets of a CN it could not decode (its ASN.1 type is
 * not a string: RELATIVE-OID in the input fuzz_names found, regress-cn-
 * not-a-string-type in its corpus) as the identifier to match, only
 * flagging it "cannot be decoded"; identity.c matched it anyway, so
 * Verify passed on CN "mx0a.emailhosted.not" through the PTR name.  Now
 * such an identifier is shown but has nothing to match. */
Test(hostile_cert, regress_cn_of_a_non_string_type_never_matches)
{
	/* RELATIVE-OID (13, the fuzzer's), BIT STRING, REAL, TIME: types
	 * X509_NAME_add_entry_by_NID accepts and ASN1_STRING_to_UTF8 cannot
	 * convert */
	static const int types[] = { 13, V_ASN1_BIT_STRING, V_ASN1_REAL, 14 };

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		X509 *x = leaf_with_cn_of_type(types[i], "mx0a.emailhosted.not");
		struct esa_target t = target("mx0a.emailhosted.not");
		struct esa_result *res = esa_result_new();

		cr_assert_eq(esa_identity_check(res, x, &t, zone, 3000), 0);
		cr_assert_eq(res->ids.ncn, 1, "type %d", types[i]);
		cr_expect_str_eq(res->ids.ids[0].problem,
				 "commonName cannot be decoded", "type %d", types[i]);
		cr_expect_eq(res->ids.ids[0].len, 0, "type %d: octets to match",
			     types[i]);
		cr_expect(strstr(res->ids.ids[0].display, "mx0a") != NULL,
			  "type %d: the log still shows it: %s", types[i],
			  res->ids.ids[0].display);
		/* the recipient itself, and via PTR from 192.0.2.1 */
		expect_failed_closed(res, ESA_MODE_VERIFY, "undecodable CN");
		expect_failed_closed(res, ESA_MODE_HOSTED, "undecodable CN");
		esa_result_free(res);
		X509_free(x);
	}
}


/* json.c let a caller write text that is not JSON: a second top-level value
 * ("{}\"x\"", found by fuzz_json), an object member without its key, a key
 * inside an array, "]" closing an object.  Each now fails the writer. */
Test(regress, json_writer_never_hands_out_invalid_json)
{
	struct esa_json j;

	esa_json_init(&j);
	esa_json_begin_object(&j);
	esa_json_end_object(&j);
	esa_json_str(&j, "x");
	cr_expect_null(esa_json_take(&j), "two top-level values");

	esa_json_init(&j);
	esa_json_int(&j, 1);
	esa_json_int(&j, 2);
	cr_expect_null(esa_json_take(&j), "\"12\"");

	esa_json_init(&j);
	esa_json_begin_object(&j);
	esa_json_kint(&j, "a", 1);
	esa_json_int(&j, 2);
	esa_json_end_object(&j);
	cr_expect_null(esa_json_take(&j), "member without a key");

	esa_json_init(&j);
	esa_json_begin_array(&j);
	esa_json_kint(&j, "a", 1);
	esa_json_end_array(&j);
	cr_expect_null(esa_json_take(&j), "key in an array");

	esa_json_init(&j);
	esa_json_begin_object(&j);
	esa_json_end_array(&j);
	cr_expect_null(esa_json_take(&j), "object closed by ]");

	esa_json_init(&j);
	esa_json_begin_array(&j);
	esa_json_end_object(&j);
	cr_expect_null(esa_json_take(&j), "array closed by }");
}

Test(regress, json_writer_valid_use_still_works)
{
	struct esa_json j;
	char *out;

	esa_json_init(&j);
	esa_json_begin_array(&j);
	esa_json_begin_object(&j);
	esa_json_kstr(&j, "k", "v");
	esa_json_key(&j, "a");
	esa_json_begin_array(&j);
	esa_json_null(&j);
	esa_json_end_array(&j);
	esa_json_end_object(&j);
	esa_json_int(&j, 3);
	esa_json_end_array(&j);
	out = esa_json_take(&j);
	cr_assert_not_null(out);
	cr_expect_str_eq(out, "[{\"k\":\"v\",\"a\":[null]},3]");
	free(out);
}
