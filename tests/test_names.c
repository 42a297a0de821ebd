/*
 * test_names.c - presented identifiers of a leaf certificate (names.c)
 *
 * esa_presented_collect() against certificates made by tests/pki.c: the
 * DNS-IDs (subjectAltName dNSName) first, then every subject CN, in
 * certificate order; CN values decoded from each ASN.1 string type to
 * UTF-8; hostile octets (NUL, non-ASCII, control characters, over-long
 * names, IP-like names) kept exactly, marked unusable with a reason, and
 * shown escaped.  Every certificate goes through DER and back first, so
 * the tests see what a TLS client would parse.  SPEC 1 and 3.
 */
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "internal.h"
#include "pki.h"

static struct test_ca ca;
static X509 *cert;
static struct esa_idlist ids;

/* suite_init - one CA per test process */
static void suite_init(void)
{
	cr_assert_eq(test_ca_root(&ca, "Names Test CA", TEST_KEY_EC), 0,
		     "cannot make the test CA");
}

/* suite_fini - free what the test made */
static void suite_fini(void)
{
	esa_idlist_free(&ids);
	X509_free(cert);
	cert = NULL;
	test_ca_free(&ca);
}

TestSuite(names, .init = suite_init, .fini = suite_fini, .timeout = 30);

/* reparse - the certificate as a peer would see it: DER and back */
static X509 *reparse(X509 *in)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	X509 *out;
	int len = i2d_X509(in, &der);

	cr_assert_gt(len, 0, "cannot encode the test certificate");
	p = der;
	out = d2i_X509(NULL, &p, len);
	OPENSSL_free(der);
	cr_assert_not_null(out, "cannot parse the test certificate back");
	return out;
}

/* issue - a leaf from spec, re-parsed, into the global cert */
static void issue(const struct test_leaf_spec *spec)
{
	struct test_leaf leaf;

	cr_assert_eq(test_leaf_issue(&leaf, &ca, spec), 0,
		     "cannot issue the test certificate");
	X509_free(cert);
	cert = reparse(leaf.cert);
	test_leaf_free(&leaf);
}

/* collect - issue spec and collect its presented identifiers */
static void collect(const struct test_leaf_spec *spec)
{
	issue(spec);
	cr_assert_eq(esa_presented_collect(cert, &ids), 0,
		     "esa_presented_collect failed");
}

/* is_printable - only printable ASCII (what a log line may carry) */
static bool is_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* is_printable_n - the same for len octets */
static bool is_printable_n(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

/* expect_id - identifier i is of kind with exactly these octets; usable or
 * not; its display string is printable */
static void expect_id(size_t i, enum esa_id_kind kind, const char *raw,
		      size_t len, bool usable)
{
	const struct esa_presented *p;

	cr_assert_lt(i, ids.n, "identifier %zu missing (only %zu)", i, ids.n);
	p = &ids.ids[i];
	cr_expect_eq(p->kind, kind, "identifier %zu: kind %d, expected %d", i,
		     p->kind, kind);
	cr_expect_eq(p->len, len, "identifier %zu: len %zu, expected %zu", i,
		     p->len, len);
	cr_expect(p->len == len && memcmp(p->raw, raw, len) == 0,
		  "identifier %zu: octets differ (display '%s')", i,
		  p->display);
	cr_expect_eq(p->raw[p->len], '\0', "identifier %zu not terminated", i);
	if (usable)
		cr_expect_null(p->problem, "identifier %zu ('%s') unusable: %s",
			       i, p->display, p->problem);
	else
		cr_expect_not_null(p->problem,
				   "identifier %zu ('%s') should be unusable",
				   i, p->display);
	cr_assert_not_null(p->display);
	cr_expect(is_printable(p->display),
		  "identifier %zu: display string not printable ASCII", i);
}

/* expect_counts - n, ndns, ncn of the list */
static void expect_counts(size_t ndns, size_t ncn)
{
	cr_assert_eq(ids.ndns, ndns, "ndns %zu, expected %zu", ids.ndns, ndns);
	cr_assert_eq(ids.ncn, ncn, "ncn %zu, expected %zu", ids.ncn, ncn);
	cr_assert_eq(ids.n, ndns + ncn, "n %zu, expected %zu", ids.n,
		     ndns + ncn);
}

#define NAME(s) { (s), sizeof(s) - 1, TEST_STR_UTF8, false }
#define NAMET(s, t) { (s), sizeof(s) - 1, (t), false }
#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- order and counts ----------------------------------------------------- */

Test(names, dns_ids_first_then_every_cn_in_order)
{
	static const struct test_name dns[] = {
		NAME("*.emailhosted.not"), NAME("emailhosted.not"),
	};
	static const struct test_name cn[] = { NAME("*.emailhosted.not") };
	struct test_leaf_spec spec = { .cn = cn, .ncn = 1, .dns = dns,
				       .ndns = 2 };

	collect(&spec);
	expect_counts(2, 1);
	expect_id(0, ESA_ID_DNS, "*.emailhosted.not", 17, true);
	expect_id(1, ESA_ID_DNS, "emailhosted.not", 15, true);
	expect_id(2, ESA_ID_CN, "*.emailhosted.not", 17, true);
	cr_expect_str_eq(ids.ids[0].display, "*.emailhosted.not");
}

Test(names, several_cns_kept_in_subject_order)
{
	static const struct test_name cn[] = {
		NAME("mx1.example.com"), NAME("mx2.example.com"),
		NAME("mx3.example.com"),
	};
	struct test_leaf_spec spec = { .cn = cn, .ncn = 3, .org = "Example" };

	collect(&spec);
	expect_counts(0, 3);
	expect_id(0, ESA_ID_CN, "mx1.example.com", 15, true);
	expect_id(1, ESA_ID_CN, "mx2.example.com", 15, true);
	expect_id(2, ESA_ID_CN, "mx3.example.com", 15, true);
}

Test(names, empty_subject_with_sans)
{
	static const struct test_name dns[] = {
		NAME("mail.example.com"), NAME("example.com"),
	};
	struct test_leaf_spec spec = { .dns = dns, .ndns = 2 };

	collect(&spec);
	cr_assert_eq(X509_NAME_entry_count(X509_get_subject_name(cert)), 0);
	expect_counts(2, 0);
	expect_id(0, ESA_ID_DNS, "mail.example.com", 16, true);
	expect_id(1, ESA_ID_DNS, "example.com", 11, true);
}

Test(names, no_san_no_cn_gives_an_empty_list)
{
	struct test_leaf_spec spec = { .org = "Nameless Inc" };

	collect(&spec);
	expect_counts(0, 0);
}

Test(names, subject_without_cn_attributes_gives_no_cn_id)
{
	static const struct test_name dns[] = { NAME("mail.example.com") };
	struct test_leaf_spec spec = { .dns = dns, .ndns = 1,
				       .org = "mail.example.org" };

	collect(&spec);
	expect_counts(1, 0);	/* O= is not a CN-ID, even if it looks like one */
}

Test(names, ip_address_san_is_not_a_dns_id)
{
	static const struct test_name dns[] = { NAME("mail.example.com") };
	static const char *const ip[] = { "192.0.2.1", "2001:db8::1" };
	static const char *const email[] = { "postmaster@example.com" };
	struct test_leaf_spec spec = { .dns = dns, .ndns = 1, .ip = ip,
				       .nip = 2, .email = email, .nemail = 1 };

	collect(&spec);
	expect_counts(1, 0);	/* SPEC 3.7: IP identities are out of scope */
	expect_id(0, ESA_ID_DNS, "mail.example.com", 16, true);
}

Test(names, only_ip_address_sans_give_no_dns_id)
{
	static const struct test_name cn[] = { NAME("mail.example.com") };
	static const char *const ip[] = { "192.0.2.1" };
	struct test_leaf_spec spec = { .cn = cn, .ncn = 1, .ip = ip, .nip = 1 };

	collect(&spec);
	/* ndns 0 matters: SPEC 4.2 then falls back to the CN-IDs */
	expect_counts(0, 1);
	expect_id(0, ESA_ID_CN, "mail.example.com", 16, true);
}

/* ---- CN string types ------------------------------------------------------ */

/* expect_cn_type - a CN of type holding text decodes to utf8 */
static void expect_cn_type(enum test_strtype type, const char *text,
			   const char *utf8, bool usable)
{
	struct test_name cn[] = { { text, strlen(text), type, false } };
	struct test_leaf_spec spec = { .cn = cn, .ncn = 1 };

	collect(&spec);
	expect_counts(0, 1);
	expect_id(0, ESA_ID_CN, utf8, strlen(utf8), usable);
}

Test(names, cn_utf8string)
{
	expect_cn_type(TEST_STR_UTF8, "mail.example.com", "mail.example.com",
		       true);
}

Test(names, cn_printablestring)
{
	expect_cn_type(TEST_STR_PRINTABLE, "mail.example.com",
		       "mail.example.com", true);
}

Test(names, cn_ia5string)
{
	expect_cn_type(TEST_STR_IA5, "*.example.com", "*.example.com", true);
}

Test(names, cn_bmpstring_decoded_from_ucs2)
{
	expect_cn_type(TEST_STR_BMP, "mail.example.com", "mail.example.com",
		       true);
}

Test(names, cn_t61string)
{
	expect_cn_type(TEST_STR_T61, "mail.example.com", "mail.example.com",
		       true);
}

Test(names, cn_universalstring_decoded_from_ucs4)
{
	expect_cn_type(TEST_STR_UNIVERSAL, "*.example.com", "*.example.com",
		       true);
}

Test(names, cn_string_type_is_recorded_as_the_encoded_type)
{
	/* guard for the tests above: the certificate really carries the tag */
	static const struct {
		enum test_strtype type;
		int tag;
	} rows[] = {
		{ TEST_STR_UTF8, V_ASN1_UTF8STRING },
		{ TEST_STR_PRINTABLE, V_ASN1_PRINTABLESTRING },
		{ TEST_STR_IA5, V_ASN1_IA5STRING },
		{ TEST_STR_BMP, V_ASN1_BMPSTRING },
		{ TEST_STR_T61, V_ASN1_T61STRING },
		{ TEST_STR_UNIVERSAL, V_ASN1_UNIVERSALSTRING },
	};

	for (size_t i = 0; i < N_ELEM(rows); i++) {
		struct test_name cn[] = { NAMET("mail.example.com",
						rows[i].type) };
		struct test_leaf_spec spec = { .cn = cn, .ncn = 1 };
		const X509_NAME *subj;

		issue(&spec);
		subj = X509_get_subject_name(cert);
		cr_expect_eq(ASN1_STRING_type(X509_NAME_ENTRY_get_data(
				     X509_NAME_get_entry(subj, 0))),
			     rows[i].tag, "row %zu", i);
	}
}

/* "café.example.com" in UTF-8: SPEC 3.6, a non-ASCII presented identifier
 * matches nothing, whatever the string type carried it */
#define CAFE_UTF8 "caf\xc3\xa9.example.com"

Test(names, non_ascii_cn_utf8string_unusable)
{
	expect_cn_type(TEST_STR_UTF8, CAFE_UTF8, CAFE_UTF8, false);
	cr_expect(strstr(ids.ids[0].display, "\\xc3\\xa9") != NULL,
		  "display '%s' should escape the non-ASCII octets",
		  ids.ids[0].display);
}

Test(names, non_ascii_cn_bmpstring_decoded_and_unusable)
{
	expect_cn_type(TEST_STR_BMP, CAFE_UTF8, CAFE_UTF8, false);
}

Test(names, non_ascii_cn_universalstring_decoded_and_unusable)
{
	expect_cn_type(TEST_STR_UNIVERSAL, CAFE_UTF8, CAFE_UTF8, false);
}

Test(names, non_ascii_cn_t61string_read_as_latin1_and_unusable)
{
	/* the octet 0xE9 in a T61String; OpenSSL reads T61 as Latin-1 */
	expect_cn_type(TEST_STR_T61, CAFE_UTF8, CAFE_UTF8, false);
}

Test(names, a_label_cn_is_usable)
{
	expect_cn_type(TEST_STR_UTF8, "xn--caf-dma.example.com",
		       "xn--caf-dma.example.com", true);
}

/* ---- hostile octets ------------------------------------------------------- */

Test(names, san_with_embedded_nul_unusable)
{
	static const char evil[] = "mail.example.com\0.evil.example";
	static const struct test_name dns[] = {
		{ evil, sizeof(evil) - 1, TEST_STR_UTF8, false },
		NAME("good.example.com"),
	};
	struct test_leaf_spec spec = { .dns = dns, .ndns = 2 };

	collect(&spec);
	expect_counts(2, 0);
	expect_id(0, ESA_ID_DNS, evil, sizeof(evil) - 1, false);
	cr_expect(strstr(ids.ids[0].display, "\\x00") != NULL,
		  "display '%s' should show the NUL as \\x00",
		  ids.ids[0].display);
	cr_expect(strstr(ids.ids[0].display, ".evil.example") != NULL,
		  "display '%s' should keep what follows the NUL",
		  ids.ids[0].display);
	/* the bad name does not spoil its neighbour */
	expect_id(1, ESA_ID_DNS, "good.example.com", 16, true);
}

Test(names, cn_with_embedded_nul_unusable)
{
	static const char evil[] = "mail.example.com\0.evil.example";
	static const struct test_name cn[] = {
		{ evil, sizeof(evil) - 1, TEST_STR_UTF8, false },
	};
	struct test_leaf_spec spec = { .cn = cn, .ncn = 1 };

	collect(&spec);
	expect_counts(0, 1);
	expect_id(0, ESA_ID_CN, evil, sizeof(evil) - 1, false);
	cr_expect(strstr(ids.ids[0].display, "\\x00") != NULL,
		  "display '%s'", ids.ids[0].display);
}

/* ASCII CNs of the three single-byte types are taken as they are, without
 * ASN1_STRING_to_UTF8 (names.c); this holds them to what it returns, over
 * every ASCII octet, NUL, DEL and backslash included, and checks that a
 * display string shared with the octets only happens when nothing needed
 * escaping */
Test(names, ascii_cn_octets_equal_asn1_string_to_utf8)
{
	static const enum test_strtype types[] = {
		TEST_STR_UTF8, TEST_STR_PRINTABLE, TEST_STR_IA5,
	};
	char text[160];
	size_t n = 0;

	for (int c = 0; c < 0x80; c++)
		text[n++] = (char)c;
	memcpy(text + n, ".example", 8);
	n += 8;
	for (size_t t = 0; t < N_ELEM(types); t++)
		for (size_t len = 1; len <= n; len += (len < 8 ? 1 : 13)) {
			const char *v = text + n - len;	/* suffixes */
			struct test_name cn[] = { { v, len, types[t], false } };
			struct test_leaf_spec spec = { .cn = cn, .ncn = 1 };
			X509_NAME_ENTRY *e;
			unsigned char *utf8 = NULL;
			int ulen;

			collect(&spec);
			e = X509_NAME_get_entry(X509_get_subject_name(cert),
				X509_NAME_get_index_by_NID(
					X509_get_subject_name(cert),
					NID_commonName, -1));
			ulen = ASN1_STRING_to_UTF8(&utf8,
						   X509_NAME_ENTRY_get_data(e));
			cr_assert_geq(ulen, 0);
			expect_counts(0, 1);
			cr_expect(ids.ids[0].len == (size_t)ulen &&
				  memcmp(ids.ids[0].raw, utf8, (size_t)ulen) == 0,
				  "type %d, %zu octets: differs from "
				  "ASN1_STRING_to_UTF8", (int)types[t], len);
			cr_expect((ids.ids[0].display == ids.ids[0].raw) ==
				  (memchr(v, '\\', len) == NULL &&
				   is_printable_n(v, len)),
				  "type %d, %zu octets: display shared wrongly",
				  (int)types[t], len);
			OPENSSL_free(utf8);
			esa_idlist_free(&ids);
		}
}

Test(names, non_ascii_san_octets_unusable_and_escaped)
{
	static const char utf8[] = "b\xc3\xbc" "cher.example.com";
	static const char latin1[] = "b\xfc" "cher.example.com";
	static const struct test_name dns[] = {
		{ utf8, sizeof(utf8) - 1, TEST_STR_UTF8, false },
		{ latin1, sizeof(latin1) - 1, TEST_STR_UTF8, false },
	};
	struct test_leaf_spec spec = { .dns = dns, .ndns = 2 };

	collect(&spec);
	expect_counts(2, 0);
	expect_id(0, ESA_ID_DNS, utf8, sizeof(utf8) - 1, false);
	expect_id(1, ESA_ID_DNS, latin1, sizeof(latin1) - 1, false);
	cr_expect(strstr(ids.ids[0].display, "\\xc3\\xbc") != NULL,
		  "display '%s'", ids.ids[0].display);
	cr_expect(strstr(ids.ids[1].display, "\\xfc") != NULL,
		  "display '%s'", ids.ids[1].display);
}

Test(names, display_escapes_control_characters)
{
	static const char ctl[] = "mail\x01.example\x7f.com\x1b[0m";
	static const struct test_name dns[] = {
		{ ctl, sizeof(ctl) - 1, TEST_STR_UTF8, false },
	};
	static const struct test_name cn[] = {
		{ "a\nb.example.com", 0, TEST_STR_UTF8, false },
	};
	struct test_leaf_spec spec = { .dns = dns, .ndns = 1, .cn = cn,
				       .ncn = 1 };

	collect(&spec);
	expect_counts(1, 1);
	expect_id(0, ESA_ID_DNS, ctl, sizeof(ctl) - 1, false);
	expect_id(1, ESA_ID_CN, "a\nb.example.com", 15, false);
	cr_expect(strstr(ids.ids[0].display, "mail\\x01.example\\x7f.com\\x1b")
		  != NULL, "display '%s'", ids.ids[0].display);
	cr_expect(strstr(ids.ids[1].display, "a\\x0ab.example.com") != NULL
		  || strstr(ids.ids[1].display, "a\\x0Ab.example.com") != NULL,
		  "display '%s'", ids.ids[1].display);
}

Test(names, dns_id_that_looks_like_an_ip_is_unusable)
{
	static const struct test_name dns[] = {
		NAME("192.0.2.1"), NAME("2001:db8::1"),
	};
	struct test_leaf_spec spec = { .dns = dns, .ndns = 2 };

	collect(&spec);
	expect_counts(2, 0);	/* still DNS-IDs: SPEC 4.2 counts them */
	expect_id(0, ESA_ID_DNS, "192.0.2.1", 9, false);	/* SPEC 3.7 */
	expect_id(1, ESA_ID_DNS, "2001:db8::1", 11, false);
}

/* long_name - a name of exactly len octets made of 63-octet labels */
static void long_name(char *buf, size_t len)
{
	size_t i;

	memset(buf, 'a', len);
	for (i = 63; i < len; i += 64)
		buf[i] = '.';
	buf[len] = '\0';
	if (buf[len - 1] == '.')	/* never end on the dot */
		buf[len - 2] = '.', buf[len - 1] = 'b';
}

Test(names, name_of_253_octets_usable_254_unusable)
{
	char n253[254], n254[255];
	struct test_name dns[2];
	struct test_leaf_spec spec = { .dns = dns, .ndns = 2 };

	long_name(n253, 253);
	long_name(n254, 254);
	dns[0] = (struct test_name){ n253, 253, TEST_STR_UTF8, false };
	dns[1] = (struct test_name){ n254, 254, TEST_STR_UTF8, false };
	collect(&spec);
	expect_counts(2, 0);
	expect_id(0, ESA_ID_DNS, n253, 253, true);	/* SPEC 3.3 */
	expect_id(1, ESA_ID_DNS, n254, 254, false);
}

Test(names, cn_of_254_octets_unusable)
{
	char n254[255];
	struct test_name cn[1];
	struct test_leaf_spec spec = { .cn = cn, .ncn = 1 };

	long_name(n254, 254);
	cn[0] = (struct test_name){ n254, 254, TEST_STR_UTF8, false };
	collect(&spec);
	expect_counts(0, 1);
	expect_id(0, ESA_ID_CN, n254, 254, false);
}

Test(names, malformed_wildcards_and_labels_unusable)
{
	static const struct test_name dns[] = {
		NAME("f*.example.com"),		/* partial wildcard, SPEC 3.5 */
		NAME("*.com"),			/* fewer than two labels */
		NAME("*.*.example.com"),
		NAME("mail..example.com"),	/* empty label, SPEC 3.3 */
		NAME("mail_1.example.com"),	/* outside LDH */
		NAME("*.example.com"),		/* the one good wildcard */
		NAME("example.com."),		/* trailing dot, SPEC 3.1 */
	};
	struct test_leaf_spec spec = { .dns = dns, .ndns = N_ELEM(dns) };

	collect(&spec);
	expect_counts(N_ELEM(dns), 0);
	for (size_t i = 0; i < 5; i++)
		expect_id(i, ESA_ID_DNS, dns[i].value, dns[i].len, false);
	expect_id(5, ESA_ID_DNS, "*.example.com", 13, true);
	expect_id(6, ESA_ID_DNS, "example.com.", 12, true);
}

/* ---- failure paths -------------------------------------------------------- */

Test(names, duplicated_san_extension_fails_closed)
{
	static const struct test_name dns[] = { NAME("mail.example.com") };
	struct test_leaf_spec spec = { .dns = dns, .ndns = 1 };
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *gen = GENERAL_NAME_new();
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();
	struct test_leaf leaf;
	X509 *dup;

	cr_assert(gens && gen && s);
	cr_assert_eq(test_leaf_issue(&leaf, &ca, &spec), 0);
	/* a second subjectAltName naming another host: which one counts?
	 * neither: collection fails, so the verdict fails */
	cr_assert_eq(ASN1_STRING_set(s, "evil.example.net", -1), 1);
	GENERAL_NAME_set0_value(gen, GEN_DNS, s);
	cr_assert_gt(sk_GENERAL_NAME_push(gens, gen), 0);
	cr_assert_eq(X509_add1_ext_i2d(leaf.cert, NID_subject_alt_name, gens,
				       0, X509V3_ADD_APPEND), 1);
	GENERAL_NAMES_free(gens);
	cr_assert_gt(X509_sign(leaf.cert, ca.key, EVP_sha256()), 0);
	dup = reparse(leaf.cert);
	test_leaf_free(&leaf);
	X509_free(cert);
	cert = dup;
	cr_expect_eq(esa_presented_collect(cert, &ids), -1,
		     "two subjectAltName extensions must not be accepted");
	cr_expect_eq(ids.n, 0);
}

Test(names, null_certificate_is_an_error)
{
	cr_expect_eq(esa_presented_collect(NULL, &ids), -1);
	cr_expect_eq(ids.n, 0);
}

Test(names, idlist_free_resets_the_list)
{
	static const struct test_name dns[] = { NAME("mail.example.com") };
	struct test_leaf_spec spec = { .dns = dns, .ndns = 1 };

	collect(&spec);
	esa_idlist_free(&ids);
	cr_expect_eq(ids.n, 0);
	cr_expect_eq(ids.ndns, 0);
	cr_expect_null(ids.ids);
	esa_idlist_free(&ids);	/* twice is harmless */
}
