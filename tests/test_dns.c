/*
 * test_dns.c - the DNS layer (SPEC 6): the static master-file resolver on
 * SPEC 7's reference data and its parse errors, reverse names, the
 * libresolv resolver against a private unbound on loopback (records, TTL,
 * cache, NXDOMAIN, REFUSED, CNAMEs, TCP after truncation, IPv6 nameserver,
 * threads), and against a scripted UDP server for hostile answers and
 * timeouts.  Every query goes to 127.0.0.1 or ::1 at a port the test
 * opened; none goes to the system's resolver.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dnswire.h"
#include "internal.h"
#include "unbound.h"

#define BUDGET_MS 3000

/* lookup - esa_lookup with a fresh budget */
static int lookup(esa_resolver *r, const char *name, uint16_t type,
		  struct esa_answer *a)
{
	return esa_lookup(r, name, type, esa_now_ms() + BUDGET_MS, a);
}

/* ip_of - the text form of record i's address */
static const char *ip_of(const struct esa_answer *a, size_t i, char buf[64])
{
	esa_format_ip(a->rr[i].type == ESA_T_AAAA ? AF_INET6 : AF_INET,
		      a->rr[i].addr, buf, 64);
	return buf;
}

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
	cr_assert_eq(a.count, 2);
	cr_expect_eq(a.rr[0].pref, 10);
	cr_expect_str_eq(a.rr[0].name, "mx01.subd.emailhosted.not");
	cr_expect_eq(a.rr[1].pref, 20);
	cr_expect_str_eq(a.rr[1].name, "mx02.subd.emailhosted.not");
	cr_expect_eq(a.ttl, 300);
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

/* ==== reverse names ===================================================== */

Test(reverse, ipv4)
{
	unsigned char ip[4] = { 192, 0, 2, 1 };
	char out[ESA_NAME_MAX];

	cr_assert_eq(esa_reverse_name(AF_INET, ip, out, sizeof out), 0);
	cr_expect_str_eq(out, "1.2.0.192.in-addr.arpa");
}

Test(reverse, ipv6_nibbles)
{
	unsigned char ip[16];
	char out[ESA_NAME_MAX];
	int fam;

	cr_assert_eq(esa_parse_ip("2001:db8::1", &fam, ip), 0);
	cr_assert_eq(esa_reverse_name(fam, ip, out, sizeof out), 0);
	cr_expect_str_eq(out, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
			 "0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
	cr_expect_eq(strlen(out), 72);
}

Test(reverse, small_buffer_or_bad_family_fails)
{
	unsigned char ip[16] = { 0 };
	char out[72];

	cr_expect_eq(esa_reverse_name(AF_INET6, ip, out, sizeof out), -1,
		     "73 octets needed");
	cr_expect_eq(esa_reverse_name(AF_INET, ip, out, 10), -1);
	cr_expect_eq(esa_reverse_name(AF_UNIX, ip, out, sizeof out), -1);
}

/* ==== libresolv against a private unbound ================================ */

static struct test_unbound ub;
static esa_resolver *lr;

/* ub_data - SPEC 7 plus CNAMEs, AAAA, an IPv6 PTR and a name with 100 A
 * records (too big for UDP: unbound truncates, we ask again over TCP) */
static const char *ub_data(void)
{
	static char text[12000];
	size_t len;
	int i;

	len = (size_t)snprintf(text, sizeof text, "%s",
		TEST_UNBOUND_SPEC7
		"local-data: \"alias.example.com. 300 IN CNAME mx0a.emailhosted.not.\"\n"
		"local-data: \"alias2.example.com. 100 IN CNAME alias.example.com.\"\n"
		"local-data: \"dangle.example.com. 300 IN CNAME nosuch.example.com.\"\n"
		"local-data: \"v6.example.com. 300 IN AAAA 2001:db8::25\"\n"
		"local-data-ptr: \"2001:db8::25 300 v6.example.com.\"\n");
	for (i = 0; i < 100 && len < sizeof text; i++)
		len += (size_t)snprintf(text + len, sizeof text - len,
			"local-data: \"big.example.com. 300 IN A 198.51.100.%d\"\n", i);
	return text;
}

/* ub_setup - start unbound (a failure to start fails the test) */
static void ub_setup(void)
{
	char ns[64], err[ESA_ERR_MAX];

	cr_assert_eq(test_unbound_start(ub_data(), &ub), 0,
		     "unbound could not start: %s", ub.err);
	snprintf(ns, sizeof ns, "127.0.0.1:%d", ub.port);
	lr = esa_resolver_libresolv(ns, err, sizeof err);
	cr_assert_not_null(lr, "%s", err);
}

/* ub_teardown - stop unbound by PID */
static void ub_teardown(void)
{
	esa_resolver_free(lr);
	lr = NULL;
	test_unbound_stop(&ub);
}

TestSuite(unbound, .init = ub_setup, .fini = ub_teardown);

Test(unbound, mx_records_ttl_and_no_ad)
{
	struct esa_answer a;

	cr_assert_eq(lookup(lr, "example.com", ESA_T_MX, &a), 0, "%s", a.reason);
	cr_assert_eq(a.count, 2);
	cr_expect_eq(a.rr[0].pref, 10);
	cr_expect_str_eq(a.rr[0].name, "mx01.subd.emailhosted.not");
	cr_expect_eq(a.rr[1].pref, 20);
	cr_expect_str_eq(a.rr[1].name, "mx02.subd.emailhosted.not");
	cr_expect_eq(a.ttl, 300);
	cr_expect_eq(a.rr[0].ttl, 300);
	cr_expect_eq(a.rcode, 0);
	cr_expect(!a.ad, "an iterator-only unbound validates nothing");
	cr_expect(!a.cached);
	cr_expect_eq(esa_resolver_queries(lr), 1);
	esa_answer_free(&a);
}

Test(unbound, second_lookup_comes_from_the_cache)
{
	struct esa_answer a;
	unsigned long sent;

	cr_assert_eq(lookup(lr, "mx01.subd.emailhosted.not", ESA_T_A, &a), 0);
	esa_answer_free(&a);
	sent = esa_resolver_queries(lr);
	cr_assert_eq(lookup(lr, "MX01.subd.emailhosted.not.", ESA_T_A, &a), 0);
	cr_expect(a.cached, "same name, other spelling: cached");
	cr_expect_eq(esa_resolver_queries(lr), sent);
	cr_assert_eq(a.count, 1);
	cr_expect(a.ttl <= 300 && a.ttl >= 290, "ttl %u", a.ttl);
	esa_answer_free(&a);
	cr_assert_eq(lookup(lr, "mx01.subd.emailhosted.not", ESA_T_AAAA, &a), -1);
	cr_expect(!a.cached, "the type is part of the key");
	esa_answer_free(&a);
	esa_resolver_flush(lr);
	sent = esa_resolver_queries(lr);
	cr_assert_eq(lookup(lr, "mx01.subd.emailhosted.not", ESA_T_A, &a), 0);
	cr_expect(!a.cached, "flushed");
	cr_expect_eq(esa_resolver_queries(lr), sent + 1);
	esa_answer_free(&a);
}

Test(unbound, ptr_of_the_reference_example)
{
	unsigned char ip[16];
	char rev[ESA_NAME_MAX];
	struct esa_answer a;
	int fam;

	esa_parse_ip("192.0.2.1", &fam, ip);
	esa_reverse_name(fam, ip, rev, sizeof rev);
	cr_assert_eq(lookup(lr, rev, ESA_T_PTR, &a), 0, "%s", a.reason);
	cr_assert_eq(a.count, 1);
	cr_expect_str_eq(a.rr[0].name, "mx0a.emailhosted.not");
	esa_answer_free(&a);
	esa_parse_ip("2001:db8::25", &fam, ip);
	esa_reverse_name(fam, ip, rev, sizeof rev);
	cr_assert_eq(lookup(lr, rev, ESA_T_PTR, &a), 0, "%s", a.reason);
	cr_expect_str_eq(a.rr[0].name, "v6.example.com");
	esa_answer_free(&a);
}

Test(unbound, aaaa_record)
{
	struct esa_answer a;
	char ip[64];

	cr_assert_eq(lookup(lr, "v6.example.com", ESA_T_AAAA, &a), 0);
	cr_expect_str_eq(ip_of(&a, 0, ip), "2001:db8::25");
	esa_answer_free(&a);
}

Test(unbound, nxdomain_and_nodata_are_cached_briefly)
{
	struct esa_answer a;
	unsigned long sent;

	cr_assert_eq(lookup(lr, "nosuch.example.com", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_NXDOMAIN);
	cr_expect_eq(a.rcode, 3);
	cr_expect_str_eq(a.reason, "A nosuch.example.com: NXDOMAIN");
	sent = esa_resolver_queries(lr);
	cr_assert_eq(lookup(lr, "nosuch.example.com", ESA_T_A, &a), -1);
	cr_expect(a.cached);
	cr_expect_eq(a.status, ESA_DNS_NXDOMAIN);
	cr_expect_eq(esa_resolver_queries(lr), sent);
	cr_assert_eq(lookup(lr, "example.com", ESA_T_AAAA, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_NODATA);
	cr_expect_eq(a.rcode, 0);
}

Test(unbound, outside_the_local_zones_is_refused_and_not_cached)
{
	struct esa_answer a;
	unsigned long sent;

	cr_assert_eq(lookup(lr, "outside.example.org", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_REFUSED, "%s", a.reason);
	cr_expect_eq(a.rcode, 5);
	cr_expect_str_eq(a.reason, "A outside.example.org: REFUSED");
	sent = esa_resolver_queries(lr);
	cr_assert_eq(lookup(lr, "outside.example.org", ESA_T_A, &a), -1);
	cr_expect(!a.cached, "failures are not cached");
	cr_expect_eq(esa_resolver_queries(lr), sent + 1);
}

Test(unbound, cname_chain_is_followed)
{
	struct esa_answer a;
	char ip[64];

	/* unbound's local-data answers the CNAME alone: we ask the target */
	cr_assert_eq(lookup(lr, "alias2.example.com", ESA_T_A, &a), 0, "%s",
		     a.reason);
	cr_assert_eq(a.count, 1);
	cr_expect_eq(a.rr[0].type, ESA_T_A);
	cr_expect_str_eq(ip_of(&a, 0, ip), "192.0.2.1");
	esa_answer_free(&a);
	cr_assert_eq(lookup(lr, "dangle.example.com", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_NXDOMAIN);
	cr_expect(strstr(a.reason, "nosuch.example.com") != NULL, "%s", a.reason);
}

Test(unbound, truncated_answer_is_asked_again_over_tcp)
{
	struct esa_answer a;

	cr_assert_eq(lookup(lr, "big.example.com", ESA_T_A, &a), 0, "%s", a.reason);
	cr_expect_eq(a.count, ESA_DNS_MAX_RR, "100 records, capped");
	cr_expect_eq(esa_resolver_queries(lr), 2, "UDP, then TCP");
	esa_answer_free(&a);
}

Test(unbound, ipv6_nameserver_override)
{
	char ns[64], err[ESA_ERR_MAX];
	struct esa_answer a;
	esa_resolver *r6;

	snprintf(ns, sizeof ns, "[::1]:%d", ub.port);
	r6 = esa_resolver_libresolv(ns, err, sizeof err);
	cr_assert_not_null(r6, "%s", err);
	cr_assert_eq(lookup(r6, "mx0b.emailhosted.not", ESA_T_A, &a), 0, "%s",
		     a.reason);
	cr_expect_eq(a.count, 1);
	cr_expect_eq(esa_resolver_queries(r6), 1);
	esa_answer_free(&a);
	cr_assert_eq(lookup(r6, "outside.example.org", ESA_T_MX, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_REFUSED, "%s", a.reason);
	esa_resolver_free(r6);
}

Test(unbound, spent_budget_sends_nothing)
{
	struct esa_answer a;

	cr_assert_eq(esa_lookup(lr, "example.com", ESA_T_MX, esa_now_ms() - 1,
				&a), -1);
	cr_expect_eq(a.status, ESA_DNS_TIMEOUT);
	cr_expect_eq(esa_resolver_queries(lr), 0);
}

/* worker - many lookups through the shared resolver */
static void *worker(void *arg)
{
	static const char *const names[] = {
		"mx01.subd.emailhosted.not", "mx02.subd.emailhosted.not",
		"mx0a.emailhosted.not", "mx0b.emailhosted.not",
	};
	long bad = 0, i;

	(void)arg;
	for (i = 0; i < 40; i++) {
		struct esa_answer a;

		if (lookup(lr, names[i % 4], ESA_T_A, &a) != 0 || a.count != 1)
			bad++;
		esa_answer_free(&a);
		if (i % 10 == 9)
			esa_resolver_flush(lr);
	}
	return (void *)bad;
}

Test(unbound, threads_share_one_resolver)
{
	pthread_t th[8];
	void *bad;
	int i;

	for (i = 0; i < 8; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, worker, NULL), 0);
	for (i = 0; i < 8; i++) {
		pthread_join(th[i], &bad);
		cr_expect_null(bad, "thread %d: %ld failed lookups", i, (long)bad);
	}
}

Test(unbound_helper, bad_configuration_fails_with_the_log)
{
	struct test_unbound u;

	cr_assert_eq(test_unbound_start("no-such-option: yes\n", &u), -1);
	cr_expect(strstr(u.err, "unbound") != NULL && u.err[0] != '\0', "%s",
		  u.err);
	cr_expect_eq(u.pid, 0);
	test_unbound_stop(&u);
}

/* ==== nameservers, silence, refusal ====================================== */

Test(nameserver, bad_overrides_are_refused)
{
	static const char *const bad[] = {
		"1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:", "1.2.3.4:x", "[::1",
		"[::1]x", "[::1]:", "999.1.1.1", "localhost", "[1.2.3.4]:53",
		"::1:53:zz", "1.2.3.4 ",
	};
	char err[ESA_ERR_MAX];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		esa_resolver *r = esa_resolver_libresolv(bad[i], err, sizeof err);

		cr_expect_null(r, "'%s' accepted", bad[i]);
		esa_resolver_free(r);
		cr_expect(strstr(err, "bad nameserver") == err, "%s", err);
	}
}

Test(nameserver, good_overrides_are_accepted)
{
	static const char *const good[] = {
		"127.0.0.1", "127.0.0.1:5353", "[::1]:53", "[::1]", "::1",
		"2001:db8::53",
	};
	char err[ESA_ERR_MAX];
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		esa_resolver *r = esa_resolver_libresolv(good[i], err, sizeof err);

		cr_expect_not_null(r, "'%s': %s", good[i], err);
		esa_resolver_free(r);
	}
	/* the system resolver can be made (it is never asked here) */
	esa_resolver_free(esa_resolver_libresolv(NULL, err, sizeof err));
}

/* udp_socket - a UDP socket bound to 127.0.0.1 at a free port */
static int udp_socket(int *port)
{
	struct sockaddr_in s;
	socklen_t sl = sizeof s;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0);
	memset(&s, 0, sizeof s);
	s.sin_family = AF_INET;
	s.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&s, sizeof s), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&s, &sl), 0);
	*port = ntohs(s.sin_port);
	return fd;
}

Test(nameserver, silent_server_times_out_within_the_budget)
{
	char ns[64], err[ESA_ERR_MAX];
	unsigned budget = 2000;
	struct esa_answer a;
	esa_resolver *r;
	uint64_t start;
	int port, fd = udp_socket(&port);	/* bound, never read */

	snprintf(ns, sizeof ns, "127.0.0.1:%d", port);
	r = esa_resolver_libresolv(ns, err, sizeof err);
	cr_assert_not_null(r, "%s", err);
	start = esa_now_ms();
	cr_assert_eq(esa_lookup(r, "example.com", ESA_T_MX, start + budget, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_TIMEOUT, "%s", a.reason);
	cr_expect_eq(a.rcode, -1);
	cr_expect(esa_now_ms() - start < budget + 1000, "took %llu ms",
		  (unsigned long long)(esa_now_ms() - start));
	cr_expect(strstr(a.reason, "MX example.com: timeout") == a.reason, "%s",
		  a.reason);
	cr_assert_eq(esa_lookup(r, "example.com", ESA_T_MX, esa_now_ms() + 1500,
				&a), -1);
	cr_expect(!a.cached, "timeouts are not cached");
	esa_resolver_free(r);
	close(fd);
}

Test(nameserver, nobody_listening_is_no_answer)
{
	char ns[64], err[ESA_ERR_MAX];
	struct esa_answer a;
	esa_resolver *r;
	int port, fd = udp_socket(&port);

	close(fd);		/* now the port answers with ICMP unreachable */
	snprintf(ns, sizeof ns, "127.0.0.1:%d", port);
	r = esa_resolver_libresolv(ns, err, sizeof err);
	cr_assert_not_null(r, "%s", err);
	cr_assert_eq(lookup(r, "example.com", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_TIMEOUT, "%s", a.reason);
	cr_expect(strstr(a.reason, "connection refused") != NULL, "%s", a.reason);
	esa_resolver_free(r);
}

/* ==== a scripted server for hostile answers ============================= */

/* A UDP server thread on 127.0.0.1 (dnswire.c) answering from build_reply(). */

/* rr_a - an A record */
static void rr_a(struct dw_pkt *p, const char *owner, uint32_t ttl,
		 unsigned char last)
{
	size_t at = dw_rr_begin(p, owner, ESA_T_A, ttl);

	dw_put8(p, 192); dw_put8(p, 0); dw_put8(p, 2); dw_put8(p, last);
	dw_rr_end(p, at);
}

/* rr_named - a PTR or CNAME record whose rdata is one name */
static void rr_named(struct dw_pkt *p, const char *owner, unsigned type,
		     uint32_t ttl, const char *target)
{
	size_t at = dw_rr_begin(p, owner, type, ttl);

	dw_put_name(p, target);
	dw_rr_end(p, at);
}

/* soa - an SOA in the authority section with this MINIMUM */
static void soa(struct dw_pkt *p, uint32_t ttl, uint32_t minimum)
{
	size_t at;

	dw_put_name(p, "test");
	dw_put16(p, 6); dw_put16(p, 1); dw_put32(p, ttl);
	at = p->n;
	dw_put16(p, 0);
	dw_put_name(p, "ns.test"); dw_put_name(p, "admin.test");
	dw_put32(p, 1); dw_put32(p, 3600); dw_put32(p, 600); dw_put32(p, 86400);
	dw_put32(p, minimum);
	dw_rr_end(p, at);
	p->ns++;
}

/* script_names - scenarios about names: odd octets, loops, chains; 1 if
 * label was one of them */
static int script_names(struct dw_pkt *p, const char *label)
{
	size_t at;
	int i;

	if (!strcmp(label, "hostile")) {
		rr_named(p, NULL, ESA_T_PTR, 300, "ba\001d.example");
		rr_named(p, NULL, ESA_T_PTR, 300, "sp ace.example");
		rr_named(p, NULL, ESA_T_PTR, 300, "GOOD.Example");
		at = dw_rr_begin(p, NULL, ESA_T_PTR, 300);	/* a label holding a dot */
		dw_put8(p, 3); dw_put8(p, 'a'); dw_put8(p, '.'); dw_put8(p, 'b'); dw_put8(p, 0);
		dw_rr_end(p, at);
	} else if (!strcmp(label, "allbad")) {
		rr_named(p, NULL, ESA_T_PTR, 300, "ba\001d.example");
		at = dw_rr_begin(p, NULL, ESA_T_A, 300);	/* rdlength 5 */
		dw_put32(p, 0); dw_put8(p, 0);
		dw_rr_end(p, at);
	} else if (!strcmp(label, "ptrloop")) {
		at = dw_rr_begin(p, NULL, ESA_T_PTR, 300);	/* points at itself */
		dw_put16(p, 0xc000 | (unsigned)(p->n));
		dw_rr_end(p, at);
	} else if (!strcmp(label, "ownerloop")) {
		dw_put16(p, 0xc000 | (unsigned)p->n);	/* owner points at itself */
		dw_put16(p, ESA_T_A); dw_put16(p, 1); dw_put32(p, 300); dw_put16(p, 4);
		dw_put32(p, 0xc0000201);
		p->an++;
	} else if (!strcmp(label, "other")) {
		rr_a(p, "other-owner.test", 300, 1);
		at = dw_rr_begin(p, NULL, ESA_T_AAAA, 300);	/* wrong type */
		for (i = 0; i < 16; i++)
			dw_put8(p, 0);
		dw_rr_end(p, at);
	} else if (!strcmp(label, "chain")) {
		rr_named(p, NULL, ESA_T_CNAME, 50, "c1.test");
		rr_named(p, "C1.test", ESA_T_CNAME, 40, "c2.test");
		rr_a(p, "c2.TEST", 300, 9);
		rr_a(p, "unrelated.test", 300, 10);
	} else if (!strcmp(label, "long")) {
		rr_named(p, NULL, ESA_T_CNAME, 300, "l1.test");
		for (i = 1; i <= 9; i++) {
			char o[16], t[16];

			snprintf(o, sizeof o, "l%d.test", i);
			snprintf(t, sizeof t, "l%d.test", i + 1);
			rr_named(p, o, ESA_T_CNAME, 300, t);
		}
		rr_a(p, "l10.test", 300, 1);
	} else if (!strcmp(label, "cloop")) {
		rr_named(p, NULL, ESA_T_CNAME, 300, "x.test");
		rr_named(p, "x.test", ESA_T_CNAME, 300, "cloop.test");
	} else {
		return 0;
	}
	return 1;
}

/* script - the answer section for the scenario named by the first label;
 * -1 for "forged" (the caller answers another question) */
static int script(struct dw_pkt *p, const char *label, unsigned *flags)
{
	size_t at;
	int i;

	if (script_names(p, label)) {
		return 0;
	} else if (!strcmp(label, "ad")) {
		*flags |= 0x0020;
		rr_a(p, NULL, 300, 77);
	} else if (!strcmp(label, "servfail")) {
		*flags |= 2;
	} else if (!strcmp(label, "notimp")) {
		*flags |= 4;
	} else if (!strcmp(label, "trunc")) {
		*flags |= 0x0200;
	} else if (!strcmp(label, "many")) {
		for (i = 0; i < 100; i++)
			rr_a(p, NULL, 300, (unsigned char)i);
	} else if (!strcmp(label, "mx")) {
		at = dw_rr_begin(p, NULL, ESA_T_MX, 300);	/* MAIL + pointer */
		dw_put16(p, 10); dw_put8(p, 4); p->n += 4;
		memcpy(p->b + p->n - 4, "MAIL", 4);
		dw_put16(p, 0xc00c);
		dw_rr_end(p, at);
		at = dw_rr_begin(p, NULL, ESA_T_MX, 300);	/* a stray octet */
		dw_put16(p, 20); dw_put_name(p, "x.test"); dw_put8(p, 0);
		dw_rr_end(p, at);
		at = dw_rr_begin(p, NULL, ESA_T_MX, 300);	/* null MX */
		dw_put16(p, 0); dw_put8(p, 0);
		dw_rr_end(p, at);
	} else if (!strcmp(label, "bigttl")) {
		rr_a(p, NULL, 0x80000000u, 1);
	} else if (!strcmp(label, "nx")) {
		*flags |= 3;
	} else if (!strcmp(label, "nxsoa0")) {
		*flags |= 3;
		soa(p, 300, 0);
	} else if (!strcmp(label, "nodatasoa")) {
		soa(p, 300, 30);
	} else if (!strcmp(label, "forged")) {
		return -1;	/* the caller answers another question */
	}
	return 0;
}

/* build_reply - the header and question of q, then the scenario */
static size_t build_reply(const unsigned char *q, size_t qlen, struct dw_pkt *p)
{
	char label[64];
	unsigned flags = 0x8180;	/* QR RD RA */
	size_t qend = 12, l;

	while (qend < qlen && q[qend] != 0)
		qend += (size_t)q[qend] + 1;
	qend += 5;
	if (qlen < 17 || qend > qlen)
		return 0;
	l = q[12] < sizeof label ? q[12] : sizeof label - 1;
	memcpy(label, q + 13, l);
	label[l] = '\0';
	memset(p, 0, sizeof *p);
	memcpy(p->b, q, qend);
	p->n = qend;
	if (script(p, label, &flags) < 0) {	/* forged: another question */
		p->n = 12;
		dw_put_name(p, "someone-else.test");
		dw_put16(p, ESA_T_A); dw_put16(p, 1);
		rr_a(p, NULL, 300, 66);
	}
	p->b[2] = (unsigned char)(flags >> 8);
	p->b[3] = (unsigned char)flags;
	p->b[4] = 0; p->b[5] = 1;
	p->b[6] = 0; p->b[7] = (unsigned char)p->an;
	p->b[8] = 0; p->b[9] = (unsigned char)p->ns;
	p->b[10] = 0; p->b[11] = 0;
	return p->n;
}

static struct dw_server fk;
static esa_resolver *fr;

/* fake_setup - the scripted server and a resolver pointed at it */
static void fake_setup(void)
{
	char ns[64], err[ESA_ERR_MAX];

	memset(&fk, 0, sizeof fk);
	fk.fd = udp_socket(&fk.port);
	fk.reply = build_reply;
	cr_assert_eq(pthread_create(&fk.th, NULL, dw_server_main, &fk), 0);
	snprintf(ns, sizeof ns, "127.0.0.1:%d", fk.port);
	fr = esa_resolver_libresolv(ns, err, sizeof err);
	cr_assert_not_null(fr, "%s", err);
}

/* fake_teardown - stop the thread, close the socket */
static void fake_teardown(void)
{
	esa_resolver_free(fr);
	fr = NULL;
	__atomic_store_n(&fk.stop, 1, __ATOMIC_RELEASE);
	pthread_join(fk.th, NULL);
	close(fk.fd);
}

TestSuite(hostile, .init = fake_setup, .fini = fake_teardown);

Test(hostile, ad_bit_is_asked_for_and_recorded)
{
	struct esa_answer a;
	size_t qlen;

	cr_assert_eq(lookup(fr, "ad.test", ESA_T_A, &a), 0, "%s", a.reason);
	cr_expect(a.ad, "AD set by the server is kept (RES_TRUSTAD)");
	qlen = __atomic_load_n(&fk.last_len, __ATOMIC_ACQUIRE);
	cr_assert(qlen > 12);
	cr_expect(fk.last_query[3] & 0x20, "the query asks for AD");
	cr_expect(fk.last_query[2] & 0x01, "the query asks for recursion");
	cr_expect_eq(fk.last_query[11], 1, "an EDNS0 OPT record is sent");
	esa_answer_free(&a);
	cr_assert_eq(lookup(fr, "many.test", ESA_T_A, &a), 0);
	cr_expect(!a.ad, "no AD from the server, none recorded");
	esa_answer_free(&a);
}

Test(hostile, names_with_odd_octets_are_dropped)
{
	struct esa_answer a;

	cr_assert_eq(lookup(fr, "hostile.test", ESA_T_PTR, &a), 0, "%s", a.reason);
	cr_assert_eq(a.count, 1, "only the printable LDH name survives");
	cr_expect_str_eq(a.rr[0].name, "good.example");
	esa_answer_free(&a);
	cr_assert_eq(lookup(fr, "allbad.test", ESA_T_PTR, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_MALFORMED, "%s", a.reason);
	cr_expect(strstr(a.reason, "malformed") != NULL, "%s", a.reason);
}

Test(hostile, compression_loops_are_malformed)
{
	struct esa_answer a;

	cr_assert_eq(lookup(fr, "ptrloop.test", ESA_T_PTR, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_MALFORMED, "%s", a.reason);
	cr_assert_eq(lookup(fr, "ownerloop.test", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_MALFORMED, "%s", a.reason);
}

Test(hostile, records_of_other_names_or_types_are_ignored)
{
	struct esa_answer a;

	cr_assert_eq(lookup(fr, "other.test", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_NODATA, "%s", a.reason);
	cr_expect_eq(a.count, 0);
}

Test(hostile, cname_chain_in_one_answer)
{
	struct esa_answer a;
	char ip[64];

	cr_assert_eq(lookup(fr, "chain.test", ESA_T_A, &a), 0, "%s", a.reason);
	cr_assert_eq(a.count, 1, "unrelated.test is not on the chain");
	cr_expect_str_eq(ip_of(&a, 0, ip), "192.0.2.9");
	cr_expect_eq(a.ttl, 300);
	esa_answer_free(&a);
	cr_assert_eq(lookup(fr, "long.test", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_MALFORMED);
	cr_expect(strstr(a.reason, "CNAME chain longer than 8"), "%s", a.reason);
	cr_assert_eq(lookup(fr, "cloop.test", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_MALFORMED);
	cr_expect(strstr(a.reason, "CNAME loop"), "%s", a.reason);
}

Test(hostile, rcodes_are_reported)
{
	struct esa_answer a;

	cr_assert_eq(lookup(fr, "servfail.test", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_SERVFAIL);
	cr_expect_eq(a.rcode, 2);
	cr_expect_str_eq(a.reason, "A servfail.test: SERVFAIL");
	cr_assert_eq(lookup(fr, "notimp.test", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_ERROR);
	cr_expect_eq(a.rcode, 4);
	cr_expect_str_eq(a.reason, "A notimp.test: server answered NOTIMP");
}

Test(hostile, truncated_without_tcp_fails_closed)
{
	struct esa_answer a;

	cr_assert_eq(lookup(fr, "trunc.test", ESA_T_A, &a), -1);
	cr_expect_neq(a.status, ESA_DNS_OK);
	cr_expect(strstr(a.reason, "truncated") != NULL, "%s", a.reason);
}

Test(hostile, at_most_64_records)
{
	struct esa_answer a;

	cr_assert_eq(lookup(fr, "many.test", ESA_T_A, &a), 0);
	cr_expect_eq(a.count, ESA_DNS_MAX_RR);
	esa_answer_free(&a);
}

Test(hostile, mx_decompressed_checked_and_null_mx_dropped)
{
	struct esa_answer a;

	cr_assert_eq(lookup(fr, "mx.test", ESA_T_MX, &a), 0, "%s", a.reason);
	cr_assert_eq(a.count, 1);
	cr_expect_eq(a.rr[0].pref, 10);
	cr_expect_str_eq(a.rr[0].name, "mail.mx.test");
	esa_answer_free(&a);
}

Test(hostile, ttl_with_top_bit_is_zero_and_not_cached)
{
	struct esa_answer a;
	unsigned long sent;

	cr_assert_eq(lookup(fr, "bigttl.test", ESA_T_A, &a), 0);
	cr_expect_eq(a.ttl, 0);
	esa_answer_free(&a);
	sent = esa_resolver_queries(fr);
	cr_assert_eq(lookup(fr, "bigttl.test", ESA_T_A, &a), 0);
	cr_expect(!a.cached);
	cr_expect_eq(esa_resolver_queries(fr), sent + 1);
	esa_answer_free(&a);
}

Test(hostile, negative_ttl_follows_the_soa)
{
	struct esa_answer a;
	unsigned long sent;

	cr_assert_eq(lookup(fr, "nx.test", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_NXDOMAIN);
	cr_assert_eq(lookup(fr, "nx.test", ESA_T_A, &a), -1);
	cr_expect(a.cached, "no SOA: cached for the default 60 s");
	cr_assert_eq(lookup(fr, "nxsoa0.test", ESA_T_A, &a), -1);
	sent = esa_resolver_queries(fr);
	cr_assert_eq(lookup(fr, "nxsoa0.test", ESA_T_A, &a), -1);
	cr_expect(!a.cached, "SOA MINIMUM 0: not cached");
	cr_expect_eq(esa_resolver_queries(fr), sent + 1);
	cr_assert_eq(lookup(fr, "nodatasoa.test", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_NODATA);
	cr_assert_eq(lookup(fr, "nodatasoa.test", ESA_T_A, &a), -1);
	cr_expect(a.cached);
}

Test(hostile, answer_to_another_question_is_not_accepted)
{
	struct esa_answer a;

	/* glibc drops it as spurious and keeps waiting: a timeout */
	cr_assert_eq(esa_lookup(fr, "forged.test", ESA_T_A, esa_now_ms() + 1500,
				&a), -1);
	cr_expect_eq(a.status, ESA_DNS_TIMEOUT, "%s", a.reason);
	cr_expect_eq(a.count, 0);
}
