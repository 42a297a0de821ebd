/*
 * test_dnsfile.c - the static master-file resolver (SPEC 6): SPEC 7's
 * reference data, the master-file notation ($ORIGIN, $TTL, @, relative
 * names, CNAME chains, caps), and its parse errors, each naming file, line
 * and problem.  No query leaves the process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "dnslookup.h"
#include "internal.h"

/* static_from - a static resolver from text, failing the test on error */
static esa_resolver *static_from(const char *text)
{
	char err[ESA_ERR_MAX];
	esa_resolver *r = esa_resolver_static_text(text, strlen(text), "t",
						   err, sizeof err);

	cr_assert(r != NULL, "zone did not parse: %s", err);
	return r;
}

/* ==== the static resolver: SPEC 7's reference data ====================== */

static const char spec7_zone[] =
	"; SPEC 7, the reference example\n"
	"$TTL 300\n"
	"example.com.                MX 10 mx01.subd.emailhosted.not.\n"
	"example.com.                MX 20 mx02.subd.emailhosted.not.\n"
	"mx01.subd.emailhosted.not.  A  192.0.2.1\n"
	"mx02.subd.emailhosted.not.  A  192.0.2.2\n"
	"192.0.2.1                   PTR mx0a.emailhosted.not.   ; IP shorthand\n"
	"2.2.0.192.in-addr.arpa.     PTR mx0b.emailhosted.not.\n"
	"mx0a.emailhosted.not.       A  192.0.2.1\n"
	"mx0b.emailhosted.not.       A  192.0.2.2\n";

Test(static_spec7, mx_records_with_preferences)
{
	esa_resolver *r = static_from(spec7_zone);
	struct esa_answer a;

	cr_assert_eq(lookup(r, "example.com", ESA_T_MX, &a), 0);
	cr_assert_eq(a.status, ESA_DNS_OK);
	cr_assert_eq(a.rcode, 0);
	expect_spec7_mx(&a);
	cr_expect(!a.ad, "a static answer is never DNSSEC-validated");
	cr_expect(!a.cached);
	cr_expect_str_eq(a.reason, "");
	esa_answer_free(&a);
	esa_resolver_free(r);
}

Test(static_spec7, a_records)
{
	esa_resolver *r = static_from(spec7_zone);
	struct esa_answer a;
	char ip[64];

	cr_assert_eq(lookup(r, "mx01.subd.emailhosted.not", ESA_T_A, &a), 0);
	cr_assert_eq(a.count, 1);
	cr_expect_eq(a.rr[0].type, ESA_T_A);
	cr_expect_str_eq(ip_of(&a, 0, ip), "192.0.2.1");
	esa_answer_free(&a);
	cr_assert_eq(lookup(r, "mx0b.emailhosted.not", ESA_T_A, &a), 0);
	cr_expect_str_eq(ip_of(&a, 0, ip), "192.0.2.2");
	esa_answer_free(&a);
	esa_resolver_free(r);
}

Test(static_spec7, ptr_as_ip_shorthand_and_as_arpa_name)
{
	esa_resolver *r = static_from(spec7_zone);
	unsigned char ip[16];
	struct esa_answer a;
	char rev[ESA_NAME_MAX];
	int fam;

	cr_assert_eq(esa_parse_ip("192.0.2.1", &fam, ip), 0);
	cr_assert_eq(esa_reverse_name(fam, ip, rev, sizeof rev), 0);
	cr_assert_eq(lookup(r, rev, ESA_T_PTR, &a), 0, "%s", a.reason);
	cr_assert_eq(a.count, 1);
	cr_expect_str_eq(a.rr[0].name, "mx0a.emailhosted.not");
	esa_answer_free(&a);
	cr_assert_eq(lookup(r, "2.2.0.192.in-addr.arpa", ESA_T_PTR, &a), 0);
	cr_expect_str_eq(a.rr[0].name, "mx0b.emailhosted.not");
	esa_answer_free(&a);
	esa_resolver_free(r);
}

Test(static_spec7, absent_name_is_nxdomain)
{
	esa_resolver *r = static_from(spec7_zone);
	struct esa_answer a;

	cr_assert_eq(lookup(r, "nosuch.example.com", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_NXDOMAIN);
	cr_expect_eq(a.rcode, 3);
	cr_expect_eq(a.count, 0);
	cr_expect_str_eq(a.reason, "A nosuch.example.com: NXDOMAIN");
	esa_answer_free(&a);
	/* SPEC 6: absent means absent, even with names below it */
	cr_assert_eq(lookup(r, "subd.emailhosted.not", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_NXDOMAIN);
	esa_answer_free(&a);
	cr_assert_eq(lookup(r, "3.2.0.192.in-addr.arpa", ESA_T_PTR, &a), -1);
	cr_expect_str_eq(a.reason, "PTR 3.2.0.192.in-addr.arpa: NXDOMAIN");
	esa_answer_free(&a);
	esa_resolver_free(r);
}

Test(static_spec7, present_name_without_type_is_nodata)
{
	esa_resolver *r = static_from(spec7_zone);
	struct esa_answer a;

	cr_assert_eq(lookup(r, "example.com", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_NODATA);
	cr_expect_eq(a.rcode, 0);
	cr_expect(strncmp(a.reason, "A example.com: NODATA", 21) == 0,
		  "reason: %s", a.reason);
	esa_answer_free(&a);
	cr_assert_eq(lookup(r, "mx0a.emailhosted.not", ESA_T_AAAA, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_NODATA);
	esa_answer_free(&a);
	esa_resolver_free(r);
}

Test(static_spec7, names_are_case_insensitive_and_trailing_dot_optional)
{
	esa_resolver *r = static_from("MX01.Subd.EmailHosted.NOT. A 192.0.2.1\n"
				      "Example.COM MX 10 MX01.SUBD.emailhosted.not.\n");
	struct esa_answer a;

	cr_assert_eq(lookup(r, "mx01.subd.emailhosted.not.", ESA_T_A, &a), 0);
	esa_answer_free(&a);
	cr_assert_eq(lookup(r, "MX01.SUBD.EMAILHOSTED.NOT", ESA_T_A, &a), 0);
	esa_answer_free(&a);
	cr_assert_eq(lookup(r, "EXAMPLE.com.", ESA_T_MX, &a), 0);
	cr_expect_str_eq(a.rr[0].name, "mx01.subd.emailhosted.not",
			 "names come back lower case, without the dot");
	esa_answer_free(&a);
	esa_resolver_free(r);
}

Test(static_spec7, counter_counts_lookups_and_nothing_is_cached)
{
	esa_resolver *r = static_from(spec7_zone);
	struct esa_answer a;

	cr_expect_eq(esa_resolver_queries(r), 0);
	lookup(r, "example.com", ESA_T_MX, &a);
	esa_answer_free(&a);
	lookup(r, "example.com", ESA_T_MX, &a);
	cr_expect(!a.cached);
	esa_answer_free(&a);
	lookup(r, "nosuch.example.com", ESA_T_MX, &a);
	esa_answer_free(&a);
	cr_expect_eq(esa_resolver_queries(r), 3);
	esa_resolver_flush(r);	/* harmless */
	esa_resolver_free(r);
}

Test(static_spec7, spent_budget_is_a_timeout_without_a_lookup)
{
	esa_resolver *r = static_from(spec7_zone);
	struct esa_answer a;

	cr_assert_eq(esa_lookup(r, "example.com", ESA_T_MX, 0, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_TIMEOUT);
	cr_expect_eq(a.rcode, -1);
	cr_expect_eq(esa_resolver_queries(r), 0);
	cr_expect(strstr(a.reason, "MX example.com: ") == a.reason, "%s", a.reason);
	esa_answer_free(&a);
	esa_resolver_free(r);
}

Test(static_spec7, bad_queries_are_errors)
{
	esa_resolver *r = static_from(spec7_zone);
	struct esa_answer a;

	cr_expect_eq(lookup(r, "a..b", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_ERROR);
	cr_expect_eq(lookup(r, "", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_ERROR);
	cr_expect_eq(lookup(r, "bad\nname", ESA_T_A, &a), -1);
	cr_expect(strchr(a.reason, '\n') == NULL, "one line: %s", a.reason);
	cr_expect_eq(lookup(r, "example.com", ESA_T_CNAME, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_ERROR);
	cr_expect_eq(lookup(NULL, "example.com", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_ERROR);
	cr_expect_eq(esa_resolver_queries(r), 0);
	esa_resolver_free(r);
}

/* ==== the static resolver: master-file features ======================== */

static const char origin_zone[] =
	"$ORIGIN example.org.\n"
	"$TTL 1h\n"
	"@         MX 5 mail\n"
	"mail      A 198.51.100.5\n"
	"          AAAA 2001:db8::5          ; blank owner: mail again\n"
	"www   600 IN A 198.51.100.6\n"
	"www2  IN 700 A 198.51.100.7        ; class before TTL\n"
	"sub.example.net. A 203.0.113.1      ; absolute: no origin\n"
	"\n"
	"   ; an indented comment\r\n"
	"crlf      A 198.51.100.9\r\n"
	"$ORIGIN sub\n"
	"host      A 198.51.100.8\n"
	"2001:db8::25 PTR host\n";

Test(static_file, origin_ttl_relative_names_and_at)
{
	esa_resolver *r = static_from(origin_zone);
	struct esa_answer a;
	char ip[64];

	cr_assert_eq(lookup(r, "example.org", ESA_T_MX, &a), 0, "%s", a.reason);
	cr_expect_eq(a.rr[0].pref, 5);
	cr_expect_str_eq(a.rr[0].name, "mail.example.org");
	cr_expect_eq(a.rr[0].ttl, 3600, "$TTL 1h");
	esa_answer_free(&a);
	cr_assert_eq(lookup(r, "mail.example.org", ESA_T_AAAA, &a), 0);
	cr_expect_str_eq(ip_of(&a, 0, ip), "2001:db8::5");
	esa_answer_free(&a);
	cr_assert_eq(lookup(r, "www.example.org", ESA_T_A, &a), 0);
	cr_expect_eq(a.ttl, 600);
	esa_answer_free(&a);
	cr_assert_eq(lookup(r, "www2.example.org", ESA_T_A, &a), 0);
	cr_expect_eq(a.ttl, 700);
	esa_answer_free(&a);
	cr_assert_eq(lookup(r, "sub.example.net", ESA_T_A, &a), 0);
	esa_answer_free(&a);
	cr_assert_eq(lookup(r, "crlf.example.org", ESA_T_A, &a), 0);
	cr_expect_str_eq(ip_of(&a, 0, ip), "198.51.100.9");
	esa_answer_free(&a);
	cr_assert_eq(lookup(r, "host.sub.example.org", ESA_T_A, &a), 0,
		     "$ORIGIN sub is relative to example.org");
	esa_answer_free(&a);
	esa_resolver_free(r);
}

Test(static_file, ipv6_ptr_shorthand)
{
	esa_resolver *r = static_from(origin_zone);
	unsigned char ip[16];
	char rev[ESA_NAME_MAX];
	struct esa_answer a;
	int fam;

	cr_assert_eq(esa_parse_ip("2001:db8::25", &fam, ip), 0);
	cr_assert_eq(esa_reverse_name(fam, ip, rev, sizeof rev), 0);
	cr_assert_eq(lookup(r, rev, ESA_T_PTR, &a), 0, "%s", a.reason);
	cr_expect_str_eq(a.rr[0].name, "host.sub.example.org");
	esa_answer_free(&a);
	esa_resolver_free(r);
}

Test(static_file, spec_notation_without_trailing_dots)
{
	/* without $ORIGIN the origin is the root: SPEC 7's notation works */
	esa_resolver *r = static_from("example.com MX 10 mx01.subd.emailhosted.not\n"
				      "mx01.subd.emailhosted.not A 192.0.2.1\n");
	struct esa_answer a;

	cr_assert_eq(lookup(r, "example.com", ESA_T_MX, &a), 0);
	cr_expect_str_eq(a.rr[0].name, "mx01.subd.emailhosted.not");
	cr_expect_eq(a.rr[0].ttl, 3600, "no TTL anywhere: 3600");
	esa_answer_free(&a);
	esa_resolver_free(r);
}

Test(static_file, default_ttl_is_the_last_explicit_one)
{
	esa_resolver *r = static_from("a.example. 120 A 192.0.2.1\n"
				      "b.example. A 192.0.2.2\n");
	struct esa_answer a;

	cr_assert_eq(lookup(r, "b.example", ESA_T_A, &a), 0);
	cr_expect_eq(a.ttl, 120);
	esa_answer_free(&a);
	esa_resolver_free(r);
}

Test(static_file, cname_chain_is_followed)
{
	esa_resolver *r = static_from(
		"alias.example.   CNAME alias2.example.\n"
		"alias2.example.  CNAME mx0a.emailhosted.not.\n"
		"mx0a.emailhosted.not. A 192.0.2.1\n"
		"dangling.example. CNAME nowhere.example.\n"
		"loop1.example. CNAME loop2.example.\n"
		"loop2.example. CNAME loop1.example.\n");
	struct esa_answer a;
	char ip[64];

	cr_assert_eq(lookup(r, "alias.example", ESA_T_A, &a), 0, "%s", a.reason);
	cr_expect_eq(a.count, 1);
	cr_expect_eq(a.rr[0].type, ESA_T_A, "CNAMEs are not kept");
	cr_expect_str_eq(ip_of(&a, 0, ip), "192.0.2.1");
	esa_answer_free(&a);
	cr_assert_eq(lookup(r, "alias.example", ESA_T_MX, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_NODATA);
	esa_answer_free(&a);
	cr_assert_eq(lookup(r, "dangling.example", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_NXDOMAIN);
	cr_expect(strstr(a.reason, "nowhere.example") != NULL, "%s", a.reason);
	esa_answer_free(&a);
	cr_assert_eq(lookup(r, "loop1.example", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_MALFORMED);
	cr_expect(strstr(a.reason, "CNAME chain longer than 8") != NULL, "%s",
		  a.reason);
	esa_answer_free(&a);
	esa_resolver_free(r);
}

Test(static_file, cname_chain_of_eight_is_followed_nine_is_not)
{
	char text[2048] = "";
	esa_resolver *r;
	struct esa_answer a;
	int i;

	for (i = 0; i < 9; i++)
		snprintf(text + strlen(text), sizeof text - strlen(text),
			 "c%d.example. CNAME c%d.example.\n", i, i + 1);
	strcat(text, "c9.example. A 192.0.2.9\n");
	r = static_from(text);
	cr_expect_eq(lookup(r, "c1.example", ESA_T_A, &a), 0, "8 CNAMEs: %s",
		     a.reason);
	esa_answer_free(&a);
	cr_expect_eq(lookup(r, "c0.example", ESA_T_A, &a), -1, "9 CNAMEs");
	cr_expect_eq(a.status, ESA_DNS_MALFORMED);
	esa_answer_free(&a);
	esa_resolver_free(r);
}

Test(static_file, mx_sorted_by_preference_ties_in_file_order)
{
	esa_resolver *r = static_from("d.example. MX 20 b.example.\n"
				      "d.example. MX 10 z.example.\n"
				      "d.example. MX 20 a.example.\n");
	struct esa_answer a;

	cr_assert_eq(lookup(r, "d.example", ESA_T_MX, &a), 0);
	cr_assert_eq(a.count, 3);
	cr_expect_str_eq(a.rr[0].name, "z.example");
	cr_expect_str_eq(a.rr[1].name, "b.example");
	cr_expect_str_eq(a.rr[2].name, "a.example");
	esa_answer_free(&a);
	esa_resolver_free(r);
}

Test(static_file, null_mx_names_no_host)
{
	esa_resolver *r = static_from("nomail.example. MX 0 .\n");
	struct esa_answer a;

	cr_assert_eq(lookup(r, "nomail.example", ESA_T_MX, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_NODATA);
	esa_answer_free(&a);
	esa_resolver_free(r);
}

Test(static_file, more_than_the_cap_is_dropped)
{
	size_t cap = 100 * 40, len = 0;
	char *text = malloc(cap);
	esa_resolver *r;
	struct esa_answer a;
	int i;

	for (i = 0; i < 100; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"many.example. A 198.51.100.%d\n", i);
	r = static_from(text);
	cr_assert_eq(lookup(r, "many.example", ESA_T_A, &a), 0);
	cr_expect_eq(a.count, ESA_DNS_MAX_RR);
	esa_answer_free(&a);
	esa_resolver_free(r);
	free(text);
}

Test(static_file, empty_text_answers_nxdomain)
{
	esa_resolver *r = static_from("");
	struct esa_answer a;

	cr_expect_eq(lookup(r, "example.com", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_NXDOMAIN);
	esa_resolver_free(r);
}

Test(static_file, reads_a_file_and_names_it_in_errors)
{
	char path[] = "/tmp/esa-zone-XXXXXX", err[ESA_ERR_MAX], want[128];
	struct esa_answer a;
	esa_resolver *r;
	int fd = mkstemp(path);
	FILE *f;

	cr_assert(fd >= 0);
	f = fdopen(fd, "w");
	fputs(spec7_zone, f);
	fclose(f);
	r = esa_resolver_static_file(path, err, sizeof err);
	cr_assert(r != NULL, "%s", err);
	cr_expect_eq(lookup(r, "example.com", ESA_T_MX, &a), 0);
	esa_answer_free(&a);
	esa_resolver_free(r);

	f = fopen(path, "w");
	fputs("ok.example. A 192.0.2.1\nbad.example. A 192.0.2.300\n", f);
	fclose(f);
	cr_expect_null(esa_resolver_static_file(path, err, sizeof err));
	snprintf(want, sizeof want, "%s:2: bad IPv4 address '192.0.2.300'", path);
	cr_expect_str_eq(err, want);
	unlink(path);
	cr_expect_null(esa_resolver_static_file(path, err, sizeof err));
	cr_expect(strstr(err, "cannot open") != NULL, "%s", err);
}

/* ==== the static resolver: parse errors, one row each ==================== */

struct parse_case {
	const char *text;
	const char *error;	/* exact, label "t" */
};

static const struct parse_case parse_cases[] = {
	{ "a.example. TXT hello\n",
	  "t:1: unknown type 'TXT' (A, AAAA, MX, PTR, CNAME and TLSA are supported)" },
	{ "\n; comment\na.example. A 999.1.1.1\n",
	  "t:3: bad IPv4 address '999.1.1.1'" },
	{ "a.example. AAAA 192.0.2.1\n", "t:1: bad IPv6 address '192.0.2.1'" },
	{ "a.example. MX 10\n", "t:1: missing rdata for MX" },
	{ "a.example. A\n", "t:1: missing rdata for A" },
	{ "a.example. PTR\n", "t:1: missing rdata for PTR" },
	{ "a.example. A 192.0.2.1 extra\n",
	  "t:1: unexpected 'extra' after the A rdata" },
	{ "a.example. 99999999999 A 192.0.2.1\n", "t:1: bad TTL '99999999999'" },
	{ "a.example. 2147483648 A 192.0.2.1\n", "t:1: bad TTL '2147483648'" },
	{ "a.example. 1x A 192.0.2.1\n", "t:1: bad TTL '1x'" },
	{ "a.example. 300 600 A 192.0.2.1\n", "t:1: two TTLs" },
	{ "a.example. IN IN A 192.0.2.1\n", "t:1: two classes" },
	{ "a.example. CH A 192.0.2.1\n", "t:1: unsupported class 'CH' (only IN)" },
	{ "a.example.\n", "t:1: missing type" },
	{ "  A 192.0.2.1\n",
	  "t:1: line starts with a blank but there is no previous owner" },
	{ "$INCLUDE other.zone\n", "t:1: $INCLUDE is not supported" },
	{ "$GENERATE 1-2 x A 1.2.3.4\n", "t:1: unknown directive '$GENERATE'" },
	{ "$ORIGIN\n", "t:1: $ORIGIN takes one name" },
	{ "$TTL 1 2\n", "t:1: $TTL takes one TTL" },
	{ "$TTL forever\n", "t:1: bad TTL 'forever'" },
	{ "a.example. MX 70000 b.example.\n", "t:1: bad MX preference '70000'" },
	{ "a.example. MX -1 b.example.\n", "t:1: bad MX preference '-1'" },
	{ "a.example. MX 10 bad!name.\n",
	  "t:1: MX exchange 'bad!name.': invalid character in name" },
	{ "192.0.2.1 A 192.0.2.1\n",
	  "t:1: owner '192.0.2.1' is an address: allowed for PTR records only" },
	{ "192.0.2.1 PTR a.example.\n  A 192.0.2.1\n",
	  "t:2: an address as owner is allowed for PTR records only" },
	{ "a.example. CNAME b.example.\nx.example. A 192.0.2.1\n"
	  "a.example. A 192.0.2.1\n",
	  "t:3: a.example has a CNAME and other records" },
	{ "a.example. ( A 192.0.2.1 )\n",
	  "t:1: parentheses (multi-line records) are not supported" },
	{ "a.example. A \"192.0.2.1\"\n", "t:1: quoted strings are not supported" },
	{ "a\001b.example. A 192.0.2.1\n",
	  "t:1: owner 'a?b.example.': invalid character in name" },
	{ "a..example. A 192.0.2.1\n", "t:1: owner 'a..example.': empty label" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example. "
	  "A 192.0.2.1\n",
	  "t:1: owner 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...': label longer "
	  "than 63" },
	{ "a b c d e f g h i j k l m n o p q\n", "t:1: too many fields" },
	{ "ok.example. A 192.0.2.1 ; fine\n$TTL abc\n", "t:2: bad TTL 'abc'" },
};

Test(static_errors, each_problem_names_file_line_and_problem)
{
	char err[ESA_ERR_MAX];
	size_t i;

	for (i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
		const struct parse_case *c = &parse_cases[i];
		esa_resolver *r;

		err[0] = '\0';
		r = esa_resolver_static_text(c->text, strlen(c->text), "t", err,
					     sizeof err);
		cr_expect_null(r, "row %zu parsed: %s", i, c->text);
		esa_resolver_free(r);
		cr_expect_str_eq(err, c->error, "row %zu", i);
	}
}

Test(static_errors, names_too_long)
{
	char text[1024], err[ESA_ERR_MAX], label[61];
	esa_resolver *r;

	memset(label, 'a', 60);
	label[60] = '\0';
	/* five 60-octet labels: 304 octets */
	snprintf(text, sizeof text, "%s.%s.%s.%s.%s. A 192.0.2.1\n",
		 label, label, label, label, label);
	r = esa_resolver_static_text(text, strlen(text), "t", err, sizeof err);
	cr_expect_null(r);
	cr_expect(strstr(err, "t:1: owner '") == err && strstr(err, "name too long"),
		  "%s", err);
	/* fine alone, too long with the origin */
	snprintf(text, sizeof text, "$ORIGIN %s.%s.%s.%s.example.\n%s A 192.0.2.1\n",
		 label, label, label, label, label);
	r = esa_resolver_static_text(text, strlen(text), "t", err, sizeof err);
	cr_expect_null(r);
	cr_expect(strstr(err, "t:2: owner '") == err &&
		  strstr(err, "name too long with origin"), "%s", err);
}

Test(static_errors, nul_byte_and_error_is_one_line)
{
	static const char text[] = "a.example. A 192.0.2.1\nb.exa\0mple. A 192.0.2.2\n";
	char err[ESA_ERR_MAX];

	cr_expect_null(esa_resolver_static_text(text, sizeof text - 1, "t",
						err, sizeof err));
	cr_expect_str_eq(err, "t:2: NUL byte in line");
	cr_expect_null(esa_resolver_static_text("a.example. A 1.2.3.4\n\x1b[31m A 1\n",
						32, "t", err, sizeof err));
	cr_expect(strchr(err, '\n') == NULL && strchr(err, '\x1b') == NULL,
		  "%s", err);
}

/* xorshift - a small deterministic PRNG for the garbage test */
static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

Test(static_errors, garbage_never_crashes)
{
	static const char alphabet[] = "aZ09.-_@$;() \t\n\r\"\\:*IN A MX PTR CNAME "
				       "AAAA $ORIGIN $TTL 192.0.2.1 ::1 \x01\xff";
	char text[512], err[64];
	uint32_t seed = 12345;
	size_t i, j, len;

	for (i = 0; i < 3000; i++) {
		esa_resolver *r;
		struct esa_answer a;

		len = xorshift(&seed) % sizeof text;
		for (j = 0; j < len; j++)
			text[j] = i % 2 ? (char)xorshift(&seed) :
				  alphabet[xorshift(&seed) % (sizeof alphabet - 1)];
		r = esa_resolver_static_text(text, len, "g", err, sizeof err);
		if (r != NULL) {
			lookup(r, "a", ESA_T_A, &a);
			esa_answer_free(&a);
		}
		esa_resolver_free(r);
	}
	cr_expect(true);
}
