/*
 * test_hostile.c - hostile input, each case failing closed with a reason in
 * the decision record (issue 6)
 *
 * Certificates: DNS-IDs with an embedded NUL, '*' in odd places, IP
 * addresses, more than 253 octets, non-ASCII octets; CN-IDs in every ASN.1
 * string type, several CNs, an empty subject; 10,000 SANs.  Each is issued
 * by the test PKI (tests/pki.c), so it goes through DER and OpenSSL's
 * parser exactly as a server's certificate would, and is decided by
 * esa_identity_check with SPEC 7's DNS from a static zone.
 *
 * DNS: answers that are truncated, cut short, loop in their compression,
 * answer another name or type, carry 500 PTR records, never come, say
 * SERVFAIL, or carry another query ID; a PTR name whose A record is a CNAME
 * chain; all from a scripted UDP server on 127.0.0.1 through
 * esa_resolver_libresolv and esa_identity_decide.  And a real unbound
 * (tests/unbound.c) killed between the PTR and the A query.
 *
 * Decisions written down here (SPEC: "write the choice down"):
 *  - A PTR name whose A record is reached through CNAMEs is forward-
 *    confirmed: the DNS layer follows CNAMEs (at most 8, in one answer or
 *    by asking again), as a stub resolver's getaddrinfo would; the name
 *    compared with the CN is still the PTR name, never a CNAME target.  A
 *    chain longer than 8, or a loop, fails closed.
 *  - Of 500 PTR records 64 are kept (ESA_DNS_MAX_RR) and the first 8 are
 *    tried (SPEC 4.1 step 3): a confirming name further down is not seen.
 *  - A dNSName is an IA5String by the ASN.1 module of RFC 5280 (an IMPLICIT
 *    [2] tag): DER has no way to say another string type, so "non-IA5
 *    dNSName" can only mean non-IA5 octets, which are tested (names.c's
 *    "not an IA5String" branch cannot be reached from DER).  OpenSSL
 *    refuses to encode or parse a CN string that does not convert to
 *    UTF-8 (odd-length BMPString), but it parses a CN of a type that is
 *    not a string at all (BIT STRING, RELATIVE-OID, ...): that one reaches
 *    "commonName cannot be decoded", and is tested with the regressions.
 *
 * Regression tests for bugs found while fuzzing close the file.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "dnswire.h"
#include "internal.h"
#include "json.h"
#include "pki.h"
#include "unbound.h"

#define NAME(s) { (s), 0, TEST_STR_UTF8, false }

/* SPEC 7's DNS, on 192.0.2.1 */
static const char spec7_zone[] =
	"$TTL 300\n"
	"example.com. MX 10 mx01.subd.emailhosted.not.\n"
	"example.com. MX 20 mx02.subd.emailhosted.not.\n"
	"mx01.subd.emailhosted.not. A 192.0.2.1\n"
	"mx02.subd.emailhosted.not. A 192.0.2.2\n"
	"192.0.2.1 PTR mx0a.emailhosted.not.\n"
	"mx0a.emailhosted.not. A 192.0.2.1\n";

static struct test_ca ca;
static esa_resolver *zone;

/* pki_setup - a CA and SPEC 7's zone, for every certificate test */
static void pki_setup(void)
{
	char err[ESA_ERR_MAX];

	cr_assert_eq(test_ca_root(&ca, "Hostile Test CA", TEST_KEY_EC), 0);
	zone = esa_resolver_static_text(spec7_zone, strlen(spec7_zone), "spec7",
					err, sizeof(err));
	cr_assert_not_null(zone, "%s", err);
}

static void pki_teardown(void)
{
	esa_resolver_free(zone);
	test_ca_free(&ca);
}

/* target - recipient (normalised here) from peer 192.0.2.1 */
static struct esa_target target(const char *recipient)
{
	struct esa_target t;
	char why[ESA_ERR_MAX];

	memset(&t, 0, sizeof(t));
	cr_assert_eq(esa_domain_normalize(recipient, t.recipient,
					  sizeof(t.recipient), why,
					  sizeof(why)), 0, "%s", why);
	t.have_peer = true;
	t.peer_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", t.peer);
	return t;
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

/* failed_closed - the verdict fails, with a reason, matching nothing */
static void expect_failed_closed(const struct esa_result *res,
				 enum esa_mode m, const char *row)
{
	const struct esa_verdict *v = &res->verdict[m];

	cr_expect(v->computed, "%s: %s not computed", row, esa_mode_name(m));
	cr_expect(!v->pass, "%s: %s passed on %s", row, esa_mode_name(m),
		  v->reference);
	cr_expect_eq(v->matched, -1, "%s", row);
	cr_expect_neq(v->reason[0], '\0', "%s: no reason", row);
	cr_expect(!esa_result_accept(res, m == ESA_MODE_VERIFY ?
				     ESA_TLS_REQUIRED_VERIFY :
				     ESA_TLS_REQUIRED_VERIFY_HOSTED),
		  "%s: delivered", row);
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

/* ==== DNS: a scripted server on 127.0.0.1 ================================== */

/*
 * The peer is 192.0.2.N; the PTR query for N.2.0.192.in-addr.arpa is
 * answered as scenario N says.  A queries are answered by the first label
 * of the name asked.  The certificate is SPEC 7's (CN *.emailhosted.not),
 * the recipient example.com, so Verify can only pass through step 3.
 */
enum {
	S_SERVFAIL = 10, S_SILENT, S_WRONG_ID, S_TC, S_CUT, S_PTR_LOOP,
	S_OTHER_NAME, S_OTHER_TYPE, S_500_LATE, S_500_EARLY, S_CNAME_ONE,
	S_CNAME_CHASE, S_CNAME_LONG, S_A_SERVFAIL, S_PLAIN, S_A_WRONG_ID,
	S_A_LOOP, S_MX500 = 40,
};

static void rr_a(struct dw_pkt *p, const char *owner, unsigned last)
{
	size_t at = dw_rr_begin(p, owner, ESA_T_A, 300);

	dw_put32(p, 0xc0000200u | last);
	dw_rr_end(p, at);
}

static void rr_name(struct dw_pkt *p, const char *owner, unsigned type,
		    const char *target)
{
	size_t at = dw_rr_begin(p, owner, type, 300);

	dw_put_name(p, target);
	dw_rr_end(p, at);
}

/* ptr_script - the answer to the PTR of 192.0.2.N; -1: send nothing */
static int ptr_script(struct dw_pkt *p, unsigned n, unsigned *flags,
		      int *idshift)
{
	char name[64];
	size_t at;

	switch (n) {
	case S_SERVFAIL: *flags |= 2; break;
	case S_SILENT: return -1;
	case S_WRONG_ID: *idshift = 1; rr_name(p, NULL, ESA_T_PTR, "mxok.emailhosted.not"); break;
	case S_TC: *flags |= 0x0200; break;
	case S_CUT:
		rr_name(p, NULL, ESA_T_PTR, "mxok.emailhosted.not");
		p->n -= 5;	/* the message ends inside the record */
		break;
	case S_PTR_LOOP:
		at = dw_rr_begin(p, NULL, ESA_T_PTR, 300);
		dw_put16(p, 0xc000 | (unsigned)p->n);	/* points at itself */
		dw_rr_end(p, at);
		break;
	case S_OTHER_NAME:
		rr_name(p, "1.2.0.192.in-addr.arpa", ESA_T_PTR,
			"mxok.emailhosted.not");
		break;
	case S_OTHER_TYPE: rr_a(p, NULL, n); break;
	case S_500_LATE:
	case S_500_EARLY:
		for (unsigned i = 0; i < 500; i++) {
			bool good = i == (n == S_500_LATE ? 499u : 3u);

			snprintf(name, sizeof(name), good ?
				 "mx%u.emailhosted.not" : "h%u.evil.test", good ? n : i);
			rr_name(p, NULL, ESA_T_PTR, name);
		}
		break;
	default:
		snprintf(name, sizeof(name), "mx%u.emailhosted.not", n);
		rr_name(p, NULL, ESA_T_PTR, name);
		break;
	}
	return 0;
}

/* a_script - the answer to A of mxN.emailhosted.not (and CNAME targets) */
static int a_script(struct dw_pkt *p, const char *label, unsigned *flags,
		    int *idshift)
{
	unsigned n = 0;
	char o[32], t[32];

	if (sscanf(label, "mx%u", &n) != 1 && sscanf(label, "d%u", &n) != 1)
		return 0;	/* NODATA */
	if (label[0] == 'd') {		/* a CNAME target, asked again */
		rr_a(p, NULL, n);
		return 0;
	}
	switch (n) {
	case S_CNAME_ONE:	/* the whole chain in one answer */
		rr_name(p, NULL, ESA_T_CNAME, "c1.other.test");
		rr_name(p, "c1.other.test", ESA_T_CNAME, "c2.other.test");
		rr_a(p, "c2.other.test", n);
		break;
	case S_CNAME_CHASE:	/* a server that does not chase: ask again */
		snprintf(t, sizeof(t), "d%u.other.test", n);
		rr_name(p, NULL, ESA_T_CNAME, t);
		break;
	case S_CNAME_LONG:	/* nine CNAMEs, then the address */
		rr_name(p, NULL, ESA_T_CNAME, "l1.other.test");
		for (int i = 1; i <= 9; i++) {
			snprintf(o, sizeof(o), "l%d.other.test", i);
			snprintf(t, sizeof(t), "l%d.other.test", i + 1);
			rr_name(p, o, ESA_T_CNAME, t);
		}
		rr_a(p, "l10.other.test", n);
		break;
	case S_A_SERVFAIL: *flags |= 2; break;
	case S_A_WRONG_ID: *idshift = 1; rr_a(p, NULL, n); break;
	case S_A_LOOP:
		rr_name(p, NULL, ESA_T_CNAME, "x.other.test");
		rr_name(p, "x.other.test", ESA_T_CNAME, "mx26.emailhosted.not");
		break;
	default: rr_a(p, NULL, n); break;
	}
	return 0;
}

/* mx_script - MX of mx500.example: 500 exchanges, the matching one 100th */
static void mx_script(struct dw_pkt *p)
{
	char name[64];

	for (unsigned i = 0; i < 500; i++) {
		size_t at = dw_rr_begin(p, NULL, ESA_T_MX, 300);

		dw_put16(p, 10);
		snprintf(name, sizeof(name), i == 99 ? "mail.mx500.example" :
			 "h%u.mx500.example", i);
		dw_put_name(p, name);
		dw_rr_end(p, at);
	}
}

/* build_reply - header and question of q, then the scenario's records;
 * 0 when nothing is to be sent */
static size_t build_reply(const unsigned char *q, size_t qlen, struct dw_pkt *p)
{
	unsigned flags = 0x8180, n = 0, qtype;
	size_t qend = 12;
	char label[64];
	int idshift = 0, rc = 0;

	while (qend < qlen && q[qend] != 0)
		qend += (size_t)q[qend] + 1;
	qend += 5;
	if (qlen < 17 || qend > qlen || q[12] >= sizeof(label))
		return 0;
	memcpy(label, q + 13, q[12]);
	label[q[12]] = '\0';
	qtype = (unsigned)q[qend - 4] << 8 | q[qend - 3];
	memset(p, 0, sizeof(*p));
	memcpy(p->b, q, qend);
	p->n = qend;
	if (qtype == ESA_T_PTR && sscanf(label, "%u", &n) == 1)
		rc = ptr_script(p, n, &flags, &idshift);
	else if (qtype == ESA_T_A)
		rc = a_script(p, label, &flags, &idshift);
	else if (qtype == ESA_T_MX && strcmp(label, "mx500") == 0)
		mx_script(p);
	else if (qtype == ESA_T_MX && strcmp(label, "mxfail") == 0)
		flags |= 2;
	if (rc < 0)
		return 0;
	p->b[1] = (unsigned char)(p->b[1] + idshift);	/* another query ID */
	p->b[2] = (unsigned char)(flags >> 8);
	p->b[3] = (unsigned char)flags;
	p->b[4] = 0; p->b[5] = 1;
	p->b[6] = (unsigned char)(p->an >> 8); p->b[7] = (unsigned char)p->an;
	p->b[8] = 0; p->b[9] = 0; p->b[10] = 0; p->b[11] = 0;
	return p->n;
}

/* udp_socket - a UDP socket on 127.0.0.1 at a free port */
static int udp_socket(int *port)
{
	struct sockaddr_in s;
	socklen_t sl = sizeof(s);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0);
	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&s, sizeof(s)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&s, &sl), 0);
	*port = ntohs(s.sin_port);
	return fd;
}

static struct dw_server fk;
static esa_resolver *lr;
static struct esa_idlist spec7_ids;

/* spec7_presented - SPEC 7's certificate, through DER, into ids */
static void spec7_presented(struct esa_idlist *ids)
{
	static const struct test_name cn[] = { NAME("*.emailhosted.not") };
	static const struct test_name dns[] = {
		NAME("*.emailhosted.not"), NAME("emailhosted.not") };
	struct test_leaf_spec spec = { .cn = cn, .ncn = 1, .dns = dns,
				       .ndns = 2 };
	struct test_leaf leaf;

	cr_assert_eq(test_leaf_issue(&leaf, &ca, &spec), 0);
	cr_assert_eq(esa_presented_collect(leaf.cert, ids), 0);
	test_leaf_free(&leaf);
}

static void fake_setup(void)
{
	char ns[64], err[ESA_ERR_MAX];

	cr_assert_eq(test_ca_root(&ca, "Hostile Test CA", TEST_KEY_EC), 0);
	spec7_presented(&spec7_ids);
	memset(&fk, 0, sizeof(fk));
	fk.fd = udp_socket(&fk.port);
	fk.reply = build_reply;
	cr_assert_eq(pthread_create(&fk.th, NULL, dw_server_main, &fk), 0);
	snprintf(ns, sizeof(ns), "127.0.0.1:%d", fk.port);
	lr = esa_resolver_libresolv(ns, err, sizeof(err));
	cr_assert_not_null(lr, "%s", err);
}

static void fake_teardown(void)
{
	esa_resolver_free(lr);
	__atomic_store_n(&fk.stop, 1, __ATOMIC_RELEASE);
	pthread_join(fk.th, NULL);
	close(fk.fd);
	esa_idlist_free(&spec7_ids);
	test_ca_free(&ca);
}

TestSuite(hostile_dns, .init = fake_setup, .fini = fake_teardown);

/* copy_ids - a deep copy of the presented identifiers into res */
static void copy_ids(struct esa_result *res, const struct esa_idlist *from)
{
	struct esa_idlist *l = &res->ids;

	l->ids = calloc(from->n, sizeof(*l->ids));
	cr_assert_not_null(l->ids);
	for (size_t i = 0; i < from->n; i++) {
		l->ids[i] = from->ids[i];
		l->ids[i].raw = malloc(from->ids[i].len + 1);
		cr_assert_not_null(l->ids[i].raw);
		memcpy(l->ids[i].raw, from->ids[i].raw, from->ids[i].len + 1);
		l->ids[i].display = strdup(from->ids[i].display);
	}
	l->n = from->n;
	l->ndns = from->ndns;
	l->ncn = from->ncn;
}

struct run {
	struct esa_result *res;
	const struct esa_verdict *v;
	uint64_t ms;		/* how long the decision took */
};

/* run - decide mode for recipient from peer 192.0.2.last within budget */
static struct run run(enum esa_mode mode, const char *recipient,
		      unsigned last, unsigned budget_ms)
{
	struct esa_target t;
	struct run r;
	char ip[32];
	uint64_t t0;

	snprintf(ip, sizeof(ip), "192.0.2.%u", last);
	memset(&t, 0, sizeof(t));
	esa_strlcpy(t.recipient, recipient, sizeof(t.recipient));
	t.have_peer = true;
	t.peer_family = AF_INET;
	inet_pton(AF_INET, ip, t.peer);
	r.res = esa_result_new();
	cr_assert_not_null(r.res);
	copy_ids(r.res, &spec7_ids);
	t0 = esa_now_ms();
	cr_assert_eq(esa_identity_decide(r.res, mode, &t, lr, t0 + budget_ms), 0);
	r.ms = esa_now_ms() - t0;
	r.v = &r.res->verdict[mode];
	return r;
}

/* last_try - the last reference identifier tried */
static const struct esa_try *last_try(const struct run *r)
{
	cr_assert(r->v->ntries > 0);
	return &r->v->tries[r->v->ntries - 1];
}

/* expect_dns_failure - Verify failed closed at the PTR step, because the
 * lookup of type failed with status; the try's note says why */
static void expect_dns_failure(unsigned scenario, uint16_t type,
			       enum esa_dns_status status, const char *note,
			       unsigned budget_ms)
{
	struct run r = run(ESA_MODE_VERIFY, "example.com", scenario, budget_ms);
	const struct esa_try *t = last_try(&r);
	const struct esa_dnsq *q;

	expect_failed_closed(r.res, ESA_MODE_VERIFY, "scenario");
	cr_expect_eq(t->source, ESA_SOURCE_PTR, "scenario %u", scenario);
	cr_expect_eq(t->outcome, ESA_TRY_LOOKUP_FAILED,
		     "scenario %u: outcome %d (%s)", scenario, t->outcome, t->note);
	cr_expect(strstr(t->note, note) != NULL,
		  "scenario %u: note '%s' lacks '%s'", scenario, t->note, note);
	cr_assert(r.res->ndns > 0, "scenario %u: no query logged", scenario);
	q = &r.res->dns[r.res->ndns - 1];
	cr_expect_eq(q->type, type, "scenario %u", scenario);
	cr_expect_eq(q->status, status, "scenario %u: status %s", scenario,
		     esa_dns_status_name(q->status));
	cr_expect_eq(q->count, 0, "scenario %u", scenario);
	cr_expect(r.ms <= budget_ms + 1000, "scenario %u: %llu ms", scenario,
		  (unsigned long long)r.ms);
	esa_result_free(r.res);
}

Test(hostile_dns, the_plain_path_passes)
{
	struct run r = run(ESA_MODE_VERIFY, "example.com", S_PLAIN, 3000);

	cr_expect(r.v->pass, "%s", r.v->reason);
	cr_expect_eq(r.v->source, ESA_SOURCE_PTR);
	cr_expect_str_eq(r.v->reference, "mx24.emailhosted.not");
	esa_result_free(r.res);
}

Test(hostile_dns, servfail)
{
	expect_dns_failure(S_SERVFAIL, ESA_T_PTR, ESA_DNS_SERVFAIL, "SERVFAIL",
			   3000);
}

Test(hostile_dns, no_answer_times_out_within_the_budget)
{
	expect_dns_failure(S_SILENT, ESA_T_PTR, ESA_DNS_TIMEOUT, "timeout", 1500);
}

Test(hostile_dns, answer_for_another_query_id_is_ignored)
{
	/* glibc drops it as spurious and keeps waiting: no answer at all */
	expect_dns_failure(S_WRONG_ID, ESA_T_PTR, ESA_DNS_TIMEOUT, "timeout", 1500);
	expect_dns_failure(S_A_WRONG_ID, ESA_T_A, ESA_DNS_TIMEOUT, "timeout", 1500);
}

Test(hostile_dns, truncated_answer_without_tcp)
{
	/* TC set, and nobody listens for TCP on that port */
	expect_dns_failure(S_TC, ESA_T_PTR, ESA_DNS_TIMEOUT, "truncated", 3000);
}

Test(hostile_dns, message_cut_short)
{
	expect_dns_failure(S_CUT, ESA_T_PTR, ESA_DNS_MALFORMED, "unparseable",
			   3000);
}

Test(hostile_dns, compression_loop)
{
	expect_dns_failure(S_PTR_LOOP, ESA_T_PTR, ESA_DNS_MALFORMED, "", 3000);
}

Test(hostile_dns, answer_for_another_name_or_type)
{
	expect_dns_failure(S_OTHER_NAME, ESA_T_PTR, ESA_DNS_NODATA, "NODATA",
			   3000);
	expect_dns_failure(S_OTHER_TYPE, ESA_T_PTR, ESA_DNS_NODATA, "NODATA",
			   3000);
}

Test(hostile_dns, five_hundred_ptr_records)
{
	struct run r = run(ESA_MODE_VERIFY, "example.com", S_500_LATE, 3000);
	size_t ptr_tries = 0;

	/* the confirming name is the 500th: beyond the 64 kept and the 8
	 * tried, so Verify fails; the record shows the 8 names tried */
	expect_failed_closed(r.res, ESA_MODE_VERIFY, "500 PTR, match last");
	for (size_t i = 0; i < r.v->ntries; i++)
		ptr_tries += r.v->tries[i].source == ESA_SOURCE_PTR;
	cr_expect_eq(ptr_tries, 8);
	cr_expect_eq(r.res->dns[0].count, ESA_DNS_MAX_RR);
	cr_expect_eq(r.res->ndns, 1, "no A query: no tried name can match");
	esa_result_free(r.res);

	/* the control: the 4th of 500 is tried and confirmed */
	r = run(ESA_MODE_VERIFY, "example.com", S_500_EARLY, 3000);
	cr_expect(r.v->pass, "%s", r.v->reason);
	cr_expect_str_eq(r.v->reference, "mx19.emailhosted.not");
	esa_result_free(r.res);
}

Test(hostile_dns, ptr_name_whose_a_record_is_a_cname_chain)
{
	struct run r;

	/* the chain in one answer: followed, and the PTR name is confirmed */
	r = run(ESA_MODE_VERIFY, "example.com", S_CNAME_ONE, 3000);
	cr_expect(r.v->pass, "%s", r.v->reason);
	cr_expect_str_eq(r.v->reference, "mx20.emailhosted.not",
			 "the PTR name is compared, never a CNAME target");
	esa_result_free(r.res);

	/* a server that leaves the chase to us */
	r = run(ESA_MODE_VERIFY, "example.com", S_CNAME_CHASE, 3000);
	cr_expect(r.v->pass, "%s", r.v->reason);
	cr_expect_str_eq(r.v->reference, "mx21.emailhosted.not");
	esa_result_free(r.res);

	/* nine CNAMEs: more than 8 fails closed */
	expect_dns_failure(S_CNAME_LONG, ESA_T_A, ESA_DNS_MALFORMED,
			   "CNAME chain longer than 8", 3000);
	/* a CNAME loop fails closed */
	expect_dns_failure(S_A_LOOP, ESA_T_A, ESA_DNS_MALFORMED, "CNAME loop",
			   3000);
}

Test(hostile_dns, a_query_servfail_after_a_good_ptr)
{
	expect_dns_failure(S_A_SERVFAIL, ESA_T_A, ESA_DNS_SERVFAIL, "SERVFAIL",
			   3000);
}

Test(hostile_dns, hosted_mx_servfail_and_500_mx)
{
	struct run r = run(ESA_MODE_HOSTED, "mxfail.example", S_PLAIN, 3000);

	expect_failed_closed(r.res, ESA_MODE_HOSTED, "MX SERVFAIL");
	cr_expect_eq(last_try(&r)->source, ESA_SOURCE_MX);
	cr_expect_eq(last_try(&r)->outcome, ESA_TRY_LOOKUP_FAILED);
	cr_expect(strstr(last_try(&r)->note, "SERVFAIL"), "%s",
		  last_try(&r)->note);
	esa_result_free(r.res);

	/* 500 MX records: 64 kept; the 100th would not match anyway
	 * (*.emailhosted.not), so this shows only the cap and the walk */
	r = run(ESA_MODE_HOSTED, "mx500.example", S_PLAIN, 3000);
	expect_failed_closed(r.res, ESA_MODE_HOSTED, "500 MX");
	cr_expect_eq(r.res->dns[0].count, ESA_DNS_MAX_RR);
	cr_expect_eq(r.v->ntries, 1 + ESA_DNS_MAX_RR);
	esa_result_free(r.res);
}

/* ==== the DNS server killed in the middle of a run ========================= */

/*
 * A UDP relay in front of a real unbound: it forwards each query and relays
 * the answer; after the first answer (the PTR) it kills unbound with
 * SIGKILL, so the A query that follows goes to a dead server.
 */
struct relay {
	int fd, port, up_port;
	pid_t victim;
	int kill_after;		/* answers relayed before the kill; 0: never */
	int relayed;
	int stop;		/* __atomic */
	pthread_t th;
};

static void *relay_main(void *arg)
{
	struct relay *rl = arg;
	unsigned char buf[4096];
	struct sockaddr_in up;
	int ufd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(&up, 0, sizeof(up));
	up.sin_family = AF_INET;
	up.sin_port = htons((unsigned short)rl->up_port);
	up.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	while (ufd >= 0 && !__atomic_load_n(&rl->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd pfd = { .fd = rl->fd, .events = POLLIN };
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n;

		if (poll(&pfd, 1, 50) != 1)
			continue;
		n = recvfrom(rl->fd, buf, sizeof(buf), 0,
			     (struct sockaddr *)&from, &fl);
		if (n <= 0 || sendto(ufd, buf, (size_t)n, 0,
				     (struct sockaddr *)&up, sizeof(up)) < 0)
			continue;
		pfd.fd = ufd;
		if (poll(&pfd, 1, 1000) != 1)
			continue;	/* the server is gone: no answer */
		n = recv(ufd, buf, sizeof(buf), 0);
		if (n <= 0)
			continue;
		sendto(rl->fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
		if (++rl->relayed == rl->kill_after)
			kill(rl->victim, SIGKILL);
	}
	if (ufd >= 0)
		close(ufd);
	return NULL;
}

/* killed_run - SPEC 7's Verify through the relay; kill_after as above */
static void killed_run(int kill_after, bool want_pass)
{
	struct test_unbound ub;
	struct relay rl;
	struct esa_result *res;
	struct esa_target t;
	char ns[64], err[ESA_ERR_MAX];
	esa_resolver *r;
	const unsigned budget = 2000;
	uint64_t t0, ms;

	cr_assert_eq(test_ca_root(&ca, "Hostile Test CA", TEST_KEY_EC), 0);
	spec7_presented(&spec7_ids);
	cr_assert_eq(test_unbound_start(TEST_UNBOUND_SPEC7, &ub), 0, "%s", ub.err);
	memset(&rl, 0, sizeof(rl));
	rl.fd = udp_socket(&rl.port);
	rl.up_port = ub.port;
	rl.victim = ub.pid;
	rl.kill_after = kill_after;
	cr_assert_eq(pthread_create(&rl.th, NULL, relay_main, &rl), 0);
	snprintf(ns, sizeof(ns), "127.0.0.1:%d", rl.port);
	r = esa_resolver_libresolv(ns, err, sizeof(err));
	cr_assert_not_null(r, "%s", err);

	res = esa_result_new();
	copy_ids(res, &spec7_ids);
	t = target("example.com");
	t0 = esa_now_ms();
	cr_assert_eq(esa_identity_decide(res, ESA_MODE_VERIFY, &t, r,
					 t0 + budget), 0);
	ms = esa_now_ms() - t0;

	__atomic_store_n(&rl.stop, 1, __ATOMIC_RELEASE);
	pthread_join(rl.th, NULL);
	close(rl.fd);
	test_unbound_stop(&ub);

	if (want_pass) {
		cr_expect(res->verdict[0].pass, "%s", res->verdict[0].reason);
	} else {
		const struct esa_verdict *v = &res->verdict[0];

		expect_failed_closed(res, ESA_MODE_VERIFY, "server killed");
		cr_expect_eq(res->ndns, 2, "PTR then A");
		cr_expect_eq(res->dns[0].status, ESA_DNS_OK, "the PTR arrived");
		cr_expect_eq(res->dns[1].type, ESA_T_A);
		cr_expect_eq(res->dns[1].status, ESA_DNS_TIMEOUT, "%s",
			     esa_dns_status_name(res->dns[1].status));
		cr_expect_eq(v->tries[v->ntries - 1].outcome, ESA_TRY_LOOKUP_FAILED);
		cr_expect_str_eq(v->tries[v->ntries - 1].reference,
				 "mx0a.emailhosted.not");
		cr_expect(ms <= budget + 1000, "took %llu ms",
			  (unsigned long long)ms);
		cr_log_info("killed between PTR and A: failed closed in %llu ms "
			    "(PTR %u ms, A %u ms)", (unsigned long long)ms,
			    res->dns[0].ms, res->dns[1].ms);
	}
	esa_result_free(res);
	esa_resolver_free(r);
	esa_idlist_free(&spec7_ids);
	test_ca_free(&ca);
}

Test(dns_server_killed, control_run_passes)
{
	killed_run(0, true);
}

Test(dns_server_killed, between_ptr_and_a_fails_closed_within_the_budget)
{
	killed_run(1, false);
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
