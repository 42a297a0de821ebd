/*
 * test_match.c - the matcher of SPEC 3 (match.c) and domain normalisation
 * (idn.c), table-driven.
 *
 * Each row of match_rows is {presented, length, reference, length, expected};
 * the lengths come from sizeof, so a row may hold NUL octets.  A failing row
 * is reported with its index, both identifiers (escaped) and both verdicts.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Long names built at compile time: labels of 61..64 octets, names of 253
 * and 254 octets (without the trailing dot). */
#define A10 "aaaaaaaaaa"
#define L61 A10 A10 A10 A10 A10 A10 "a"
#define L62 L61 "a"
#define L63 L62 "a"
#define L64 L63 "a"
#define N253 L63 "." L63 "." L63 "." L61
#define N254 L63 "." L63 "." L63 "." L62

struct match_row {
	const char *p;
	size_t plen;
	const char *r;
	size_t rlen;
	enum esa_match want;
};

#define ROW(p, r, want) { p, sizeof(p) - 1, r, sizeof(r) - 1, ESA_MATCH_##want }

static const struct match_row match_rows[] = {
	/* SPEC 3.4: exact, label by label */
	ROW("example.com", "example.com", YES),
	ROW("mail.example.com", "mail.example.com", YES),
	ROW("mail.example.com", "example.com", NO),
	ROW("example.com", "mail.example.com", NO),
	ROW("example.org", "example.com", NO),
	ROW("example.co", "example.com", NO),
	ROW("xample.com", "example.com", NO),
	ROW("3com.com", "3com.com", YES),
	ROW("m-x.example.com", "m-x.example.com", YES),
	ROW("mx--1.example.com", "mx--1.example.com", YES),
	/* SPEC 3.1: ASCII case-insensitive */
	ROW("EXAMPLE.COM", "example.com", YES),
	ROW("example.com", "Example.COM", YES),
	ROW("*.EXAMPLE.com", "MX1.example.COM", YES),
	/* SPEC 3.1: one trailing dot removed from each, not two */
	ROW("example.com.", "example.com", YES),
	ROW("example.com", "example.com.", YES),
	ROW("example.com.", "example.com.", YES),
	ROW("*.example.com.", "mx.example.com", YES),
	ROW("*.example.com", "mx.example.com.", YES),
	ROW("example.com..", "example.com", BAD_PRESENTED),
	ROW("example.com", "example.com..", BAD_REFERENCE),
	ROW(".example.com", "example.com", BAD_PRESENTED),
	ROW("example.com", ".example.com", BAD_REFERENCE),
	/* SPEC 3.5: "*." + >= 2 labels, '*' is one whole leftmost label */
	ROW("*.example.com", "mx.example.com", YES),
	ROW("*.example.com", "example.com", NO),
	ROW("*.example.com", "a.b.example.com", NO),
	ROW("*.example.com", "mx.example.org", NO),
	ROW("*.example.com", "mxexample.com", NO),
	ROW("*.example.com", "a-b.example.com", YES),
	ROW("*.co.uk", "example.co.uk", YES),
	ROW("*.example.com", "xn--bcher-kva.example.com", YES),
	/* SPEC 7: the reference example */
	ROW("*.emailhosted.not", "mx0a.emailhosted.not", YES),
	ROW("*.emailhosted.not", "mx01.subd.emailhosted.not", NO),
	ROW("emailhosted.not", "mx0a.emailhosted.not", NO),
	ROW("*.emailhosted.not", "example.com", NO),
	/* SPEC 3.5: never "*", "*.com", "*.*.x", "a.*.x" */
	ROW("*", "example.com", BAD_PRESENTED),
	ROW("*.", "example.com", BAD_PRESENTED),
	ROW("*.com", "example.com", BAD_PRESENTED),
	ROW("*.com.", "example.com", BAD_PRESENTED),
	ROW("*.*.example.com", "a.b.example.com", BAD_PRESENTED),
	ROW("a.*.example.com", "a.b.example.com", BAD_PRESENTED),
	ROW("example.*", "example.com", BAD_PRESENTED),
	ROW("*..example.com", "a.example.com", BAD_PRESENTED),
	ROW(".*.example.com", "a.example.com", BAD_PRESENTED),
	/* SPEC 3.5, RFC 9525 6.3: partial wildcards match nothing */
	ROW("f*.example.com", "foo.example.com", BAD_PRESENTED),
	ROW("*oo.example.com", "foo.example.com", BAD_PRESENTED),
	ROW("f*o.example.com", "foo.example.com", BAD_PRESENTED),
	ROW("**.example.com", "foo.example.com", BAD_PRESENTED),
	ROW("*example.com", "example.com", BAD_PRESENTED),
	ROW("xn--*.example.com", "xn--bcher-kva.example.com", BAD_PRESENTED),
	/* SPEC 3.2: '*' in a reference */
	ROW("*.example.com", "*.example.com", BAD_REFERENCE),
	ROW("mx.example.com", "*.example.com", BAD_REFERENCE),
	ROW("mx.example.com", "m*.example.com", BAD_REFERENCE),
	/* SPEC 3.7: IP-looking identifiers */
	ROW("192.0.2.1", "192.0.2.1", BAD_REFERENCE),
	ROW("192.0.2.1", "example.com", BAD_PRESENTED),
	ROW("192.0.2.1.", "example.com", BAD_PRESENTED),
	ROW("*.0.2.1", "example.com", BAD_PRESENTED),
	ROW("*.0.2.1", "192.0.2.1", BAD_REFERENCE),
	ROW("127.1", "example.com", BAD_PRESENTED),
	ROW("0x7f.0.0.1", "example.com", BAD_PRESENTED),
	ROW("2130706433", "example.com", BAD_PRESENTED),
	ROW("1.2.3.4.5", "example.com", BAD_PRESENTED),
	ROW("example.123", "example.123", BAD_REFERENCE),
	ROW("2001:db8::1", "example.com", BAD_PRESENTED),
	ROW("::1", "example.com", BAD_PRESENTED),
	ROW("example.com:25", "example.com", BAD_PRESENTED),
	ROW("example.com", "2001:db8::1", BAD_REFERENCE),
	ROW("example.com", "10.0.0.1", BAD_REFERENCE),
	ROW("123.example.com", "123.example.com", YES),
	ROW("192-0-2-1.example.net", "192-0-2-1.example.net", YES),
	ROW("*.example.net", "192-0-2-1.example.net", YES),
	/* SPEC 3.3: NUL octets (lengths explicit) */
	ROW("example.com\0.evil.com", "example.com", BAD_PRESENTED),
	ROW("example.com\0", "example.com", BAD_PRESENTED),
	ROW("\0example.com", "example.com", BAD_PRESENTED),
	ROW("*.example.com\0", "mx.example.com", BAD_PRESENTED),
	ROW("\0", "example.com", BAD_PRESENTED),
	ROW("example.com", "example.com\0", BAD_REFERENCE),
	/* RFC 1035 2.3.4: labels of 63 and 64 octets */
	ROW(L63 ".com", L63 ".com", YES),
	ROW(L64 ".com", "example.com", BAD_PRESENTED),
	ROW("example.com", L64 ".com", BAD_REFERENCE),
	ROW("*.example.com", L63 ".example.com", YES),
	ROW("*.example.com", L64 ".example.com", BAD_REFERENCE),
	ROW("*." L64 ".com", "a." L64 ".com", BAD_REFERENCE),
	ROW("*." L64 ".com", "example.com", BAD_PRESENTED),
	/* RFC 1035 2.3.4: names of 253 and 254 octets */
	ROW(N253, N253, YES),
	ROW(N253 ".", N253, YES),
	ROW(N253, N253 ".", YES),
	ROW(N254, N254, BAD_REFERENCE),
	ROW(N254, "example.com", BAD_PRESENTED),
	ROW("example.com", N254, BAD_REFERENCE),
	/* SPEC 3.2: single-label and empty references */
	ROW("localhost", "localhost", BAD_REFERENCE),
	ROW("com", "com", BAD_REFERENCE),
	ROW("*.com", "com", BAD_REFERENCE),
	ROW("example.com", "", BAD_REFERENCE),
	ROW("example.com", ".", BAD_REFERENCE),
	ROW("example.com", "a..b.com", BAD_REFERENCE),
	/* a single-label p can never match a valid r (documented choice) */
	ROW("localhost", "example.com", BAD_PRESENTED),
	ROW("", "example.com", BAD_PRESENTED),
	ROW(".", "example.com", BAD_PRESENTED),
	/* SPEC 3.6: non-ASCII presented, Unicode reference */
	ROW("bücher.example", "xn--bcher-kva.example", BAD_PRESENTED),
	ROW("b\xfc" "cher.example", "xn--bcher-kva.example", BAD_PRESENTED),
	ROW("*.bücher.example", "mx.xn--bcher-kva.example", BAD_PRESENTED),
	ROW("xn--bcher-kva.example", "bücher.example", BAD_REFERENCE),
	/* SPEC 3.6: IDNs compared as A-labels */
	ROW("xn--bcher-kva.example", "xn--bcher-kva.example", YES),
	ROW("XN--BCHER-KVA.example", "xn--bcher-kva.example", YES),
	ROW("*.xn--bcher-kva.example", "mx.xn--bcher-kva.example", YES),
	ROW("xn--bcher-kva.example", "bcher.example", NO),
	ROW("xn--bcher-kva.example", "xn--bcher-kvb.example", NO),
	/* SPEC 3.2, 3.3: LDH only; no '_', no hyphen at a label's ends */
	ROW("_dmarc.example.com", "_dmarc.example.com", BAD_REFERENCE),
	ROW("_dmarc.example.com", "x.example.com", BAD_PRESENTED),
	ROW("mx_1.example.com", "mx1.example.com", BAD_PRESENTED),
	ROW("*.example.com", "mx_1.example.com", BAD_REFERENCE),
	ROW("-mx.example.com", "mx.example.com", BAD_PRESENTED),
	ROW("mx-.example.com", "mx.example.com", BAD_PRESENTED),
	ROW("mx.example.com", "-mx.example.com", BAD_REFERENCE),
	ROW("mx.example.com", "mx-.example.com", BAD_REFERENCE),
	ROW("*.example.com", "-mx.example.com", BAD_REFERENCE),
	ROW("mx example.com", "example.com", BAD_PRESENTED),
	ROW("mx.example.com/", "mx.example.com", BAD_PRESENTED),
	ROW("mx.example.com", "mx.ex@mple.com", BAD_REFERENCE),
};

#define NROWS (sizeof(match_rows) / sizeof(match_rows[0]))

/* show - s[0..n) escaped for a message (NUL and non-ASCII as \xHH) */
static const char *show(char *buf, size_t bufsz, const char *s, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 5 < bufsz; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(buf + o, bufsz - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

static const char *match_name(enum esa_match m)
{
	switch (m) {
	case ESA_MATCH_NO: return "NO";
	case ESA_MATCH_YES: return "YES";
	case ESA_MATCH_BAD_PRESENTED: return "BAD_PRESENTED";
	case ESA_MATCH_BAD_REFERENCE: return "BAD_REFERENCE";
	}
	return "?";
}

Test(match, table)
{
	char pb[1200], rb[1200];
	size_t i;

	cr_assert_geq(NROWS, 70, "the table has %zu rows", NROWS);
	for (i = 0; i < NROWS; i++) {
		const struct match_row *t = &match_rows[i];
		enum esa_match got = esa_match(t->p, t->plen, t->r, t->rlen);

		cr_expect_eq(got, t->want, "row %zu: '%s' ~= '%s': got %s, want %s",
			     i, show(pb, sizeof(pb), t->p, t->plen),
			     show(rb, sizeof(rb), t->r, t->rlen),
			     match_name(got), match_name(t->want));
	}
}

/* The verdict agrees with the two problem functions, row by row. */
Test(match, table_agrees_with_problems)
{
	char pb[1200], rb[1200];
	size_t i;

	for (i = 0; i < NROWS; i++) {
		const struct match_row *t = &match_rows[i];
		const char *rp = esa_reference_problem(t->r, t->rlen);
		const char *pp = esa_presented_problem(t->p, t->plen);
		enum esa_match want = rp ? ESA_MATCH_BAD_REFERENCE :
				      pp ? ESA_MATCH_BAD_PRESENTED : t->want;

		cr_expect_eq(t->want, want,
			     "row %zu: '%s' / '%s': reference problem '%s', presented problem '%s'",
			     i, show(pb, sizeof(pb), t->p, t->plen),
			     show(rb, sizeof(rb), t->r, t->rlen),
			     rp ? rp : "-", pp ? pp : "-");
	}
}

/* An exact YES holds both ways round. */
Test(match, exact_is_symmetric)
{
	size_t i;

	for (i = 0; i < NROWS; i++) {
		const struct match_row *t = &match_rows[i];

		if (t->want != ESA_MATCH_YES || memchr(t->p, '*', t->plen))
			continue;
		cr_expect_eq(esa_match(t->r, t->rlen, t->p, t->plen), ESA_MATCH_YES,
			     "row %zu reversed", i);
	}
}

/* Length-counted: nothing past plen or rlen is read (ASan catches it). */
Test(match, reads_only_the_given_length)
{
	char *p = malloc(11), *r = malloc(14);

	cr_assert(p != NULL && r != NULL);
	memcpy(p, "example.com", 11);		/* no terminator */
	memcpy(r, "mx.example.com", 14);
	cr_expect_eq(esa_match(p, 11, r + 3, 11), ESA_MATCH_YES);
	cr_expect_eq(esa_match(p, 7, r + 3, 11), ESA_MATCH_BAD_PRESENTED,
		     "'example' alone is a single label");
	p[0] = '*';
	p[1] = '.';
	cr_expect_eq(esa_match(p, 11, "mx.ample.com", 12), ESA_MATCH_YES);
	cr_expect_eq(esa_match(NULL, 0, r, 14), ESA_MATCH_BAD_PRESENTED);
	cr_expect_eq(esa_match(p, 11, NULL, 0), ESA_MATCH_BAD_REFERENCE);
	free(p);
	free(r);
}

struct problem_row {
	const char *s;
	size_t len;
	const char *why;	/* NULL: usable */
};

#define PROW(s, why) { s, sizeof(s) - 1, why }

static const struct problem_row presented_rows[] = {
	PROW("mx.example.com", NULL),
	PROW("*.example.com", NULL),
	PROW("MX.Example.COM.", NULL),
	PROW("xn--bcher-kva.example", NULL),
	PROW("", "empty name"),
	PROW(".", "empty name"),
	PROW("a\0.example.com", "contains a NUL octet"),
	PROW("a..example.com", "empty label"),
	PROW("example.com..", "empty label"),
	PROW("*..example.com", "empty label"),
	PROW("f*.example.com", "partial wildcard"),
	PROW("*oo.example.com", "partial wildcard"),
	PROW("xn--*.example.com", "partial wildcard"),
	PROW("*", "wildcard over fewer than two labels"),
	PROW("*.com", "wildcard over fewer than two labels"),
	PROW("*.*.example.com", "more than one wildcard"),
	PROW("a.*.example.com", "wildcard not in the leftmost label"),
	PROW("192.0.2.1", "is an IP address"),
	PROW("2001:db8::1", "is an IP address"),
	PROW("bücher.example", "not ASCII"),
	PROW("mx_1.example.com", "character outside LDH"),
	PROW("mx 1.example.com", "character outside LDH"),
	PROW("-mx.example.com", "label begins or ends with a hyphen"),
	PROW("mx.example-.com", "label begins or ends with a hyphen"),
	PROW(L64 ".example.com", "label longer than 63 octets"),
	PROW(N254, "longer than 253 octets"),
	PROW(N253 ".", NULL),
	PROW("localhost", "single label"),
};

static const struct problem_row reference_rows[] = {
	PROW("example.com", NULL),
	PROW("Example.COM.", NULL),
	PROW(N253, NULL),
	PROW("", "empty name"),
	PROW(".", "empty name"),
	PROW("example.com\0", "contains a NUL octet"),
	PROW("a..example.com", "empty label"),
	PROW("bücher.example", "not ASCII"),
	PROW("*.example.com", "contains a wildcard"),
	PROW("192.0.2.1", "is an IP address"),
	PROW("::1", "is an IP address"),
	PROW("localhost", "fewer than two labels"),
	PROW("localhost.", "fewer than two labels"),
	PROW("_dmarc.example.com", "character outside LDH"),
	PROW("mx-.example.com", "label begins or ends with a hyphen"),
	PROW(L64 ".example.com", "label longer than 63 octets"),
	PROW(N254, "longer than 253 octets"),
};

/* check_problems - run a problem table through fn, naming a failing row */
static void check_problems(const char *what, const struct problem_row *rows,
			   size_t n, const char *(*fn)(const char *, size_t))
{
	char sb[1200];
	size_t i;

	for (i = 0; i < n; i++) {
		const char *got = fn(rows[i].s, rows[i].len);
		bool ok = (got == NULL && rows[i].why == NULL) ||
			  (got != NULL && rows[i].why != NULL &&
			   strcmp(got, rows[i].why) == 0);

		cr_expect(ok, "%s row %zu '%s': got '%s', want '%s'", what, i,
			  show(sb, sizeof(sb), rows[i].s, rows[i].len),
			  got ? got : "(usable)",
			  rows[i].why ? rows[i].why : "(usable)");
	}
}

Test(problem, presented_reasons)
{
	check_problems("presented", presented_rows,
		       sizeof(presented_rows) / sizeof(presented_rows[0]),
		       esa_presented_problem);
}

Test(problem, reference_reasons)
{
	check_problems("reference", reference_rows,
		       sizeof(reference_rows) / sizeof(reference_rows[0]),
		       esa_reference_problem);
}

Test(problem, null_is_empty)
{
	cr_expect_str_eq(esa_presented_problem(NULL, 0), "empty name");
	cr_expect_str_eq(esa_reference_problem(NULL, 0), "empty name");
}

struct ip_row {
	const char *s;
	bool ip;
};

Test(ip, looks_like_ip)
{
	static const struct ip_row rows[] = {
		{ "192.0.2.1", true }, { "192.0.2.1.", true },
		{ "127.1", true }, { "2130706433", true },
		{ "0x7f.0.0.1", true }, { "10.0.0.0x0a", true },
		{ "::1", true }, { "2001:db8::1", true }, { "::ffff:192.0.2.1", true },
		{ "example.com", false }, { "123.example.com", false },
		{ "192-0-2-1.example.net", false }, { "1.2.3.com", false },
		{ "example.0xg", false }, { "", false }, { ".", false },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		cr_expect_eq(esa_looks_like_ip(rows[i].s, strlen(rows[i].s)),
			     rows[i].ip, "row %zu '%s': want %s", i, rows[i].s,
			     rows[i].ip ? "IP" : "not IP");
	cr_expect_not(esa_looks_like_ip(NULL, 0));
}

/* ---- idn.c ---------------------------------------------------------------- */

struct norm_row {
	const char *in;
	const char *out;	/* NULL: must fail */
	const char *why;	/* the expected reason when it fails */
};

Test(normalize, table)
{
	static const struct norm_row rows[] = {
		{ "example.com", "example.com", NULL },
		{ "Example.COM.", "example.com", NULL },
		{ "bücher.example", "xn--bcher-kva.example", NULL },
		{ "BÜCHER.Example.", "xn--bcher-kva.example", NULL },
		{ "XN--BCHER-KVA.EXAMPLE", "xn--bcher-kva.example", NULL },
		{ "straße.de", "xn--strae-oqa.de", NULL },
		{ "xn--ls8h.la", "xn--ls8h.la", NULL },
		{ N253 ".", N253, NULL },
		{ "a..b", NULL, "invalid domain 'a..b': empty label" },
		{ "", NULL, "invalid domain '': empty name" },
		{ ".", NULL, "invalid domain '.': empty name" },
		{ "example.com..", NULL,
		  "invalid domain 'example.com..': empty label" },
		{ "localhost", NULL,
		  "invalid domain 'localhost': fewer than two labels" },
		{ "192.0.2.1", NULL, "invalid domain '192.0.2.1': is an IP address" },
		{ "*.example.com", NULL,
		  "invalid domain '*.example.com': contains a wildcard" },
		{ "mx_1.example.com", NULL,
		  "invalid domain 'mx_1.example.com': character outside LDH" },
		{ "ü_x.de", NULL, "invalid domain 'ü_x.de': character outside LDH" },
		{ "bü..de", NULL, "invalid domain 'bü..de': empty label" },
		{ "-mx.example.com", NULL,
		  "invalid domain '-mx.example.com': label begins or ends with a hyphen" },
		{ N254, NULL, NULL },
		{ "xn--zz-.com", NULL, NULL },
		{ "xn--ab-cd.example.com", NULL,
		  "invalid domain 'xn--ab-cd.example.com': string contains invalid punycode data" },
		{ "xn--99999999999.com", NULL, NULL },
	};
	char out[ESA_NAME_MAX], why[ESA_ERR_MAX];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct norm_row *t = &rows[i];

		rc = esa_domain_normalize(t->in, out, sizeof(out), why, sizeof(why));
		if (t->out != NULL) {
			cr_expect_eq(rc, 0, "row %zu '%s': failed: %s", i, t->in, why);
			cr_expect_str_eq(out, t->out, "row %zu '%s'", i, t->in);
			cr_expect_str_empty(why, "row %zu '%s'", i, t->in);
			continue;
		}
		cr_expect_eq(rc, -1, "row %zu '%s': accepted as '%s'", i, t->in, out);
		cr_expect_str_empty(out, "row %zu '%s'", i, t->in);
		if (t->why != NULL)
			cr_expect_str_eq(why, t->why, "row %zu", i);
		else {
			size_t shown = strlen(t->in) < 64 ? strlen(t->in) : 64;

			cr_expect(strncmp(why, "invalid domain '", 16) == 0 &&
				  strncmp(why + 16, t->in, shown) == 0,
				  "row %zu: reason '%s' does not name the input", i, why);
		}
	}
}

Test(normalize, reason_is_one_printable_line)
{
	char out[ESA_NAME_MAX], why[ESA_ERR_MAX];

	cr_expect_eq(esa_domain_normalize("ex\nample.com", out, sizeof(out),
					  why, sizeof(why)), -1);
	cr_expect_str_eq(why, "invalid domain 'ex\\x0aample.com': character outside LDH");
	cr_expect_eq(esa_domain_normalize("b\xfc.de", out, sizeof(out),
					  why, sizeof(why)), -1);
	cr_expect(strstr(why, "'b\\xfc.de'") != NULL, "got: %s", why);
	cr_expect_eq(esa_domain_normalize(N254 N254, out, sizeof(out),
					  why, sizeof(why)), -1);
	cr_expect(strstr(why, "...': longer than 253 octets") != NULL, "got: %s", why);
	cr_expect_lt(strlen(why), 200);
}

Test(normalize, buffers)
{
	char out[8], why[ESA_ERR_MAX];

	cr_expect_eq(esa_domain_normalize("example.com", out, sizeof(out),
					  why, sizeof(why)), -1);
	cr_expect_str_eq(out, "");
	cr_expect_str_eq(why, "invalid domain 'example.com': longer than the output buffer");
	cr_expect_eq(esa_domain_normalize("a.bc", out, sizeof(out), NULL, 0), 0);
	cr_expect_str_eq(out, "a.bc");
	cr_expect_eq(esa_domain_normalize("a..bc", out, sizeof(out), NULL, 0), -1);
	cr_expect_eq(esa_domain_normalize(NULL, out, sizeof(out), why, sizeof(why)), -1);
	cr_expect_str_eq(why, "invalid domain: none given");
	cr_expect_eq(esa_domain_normalize("a.bc", NULL, 0, why, sizeof(why)), -1);
	cr_expect_eq(esa_domain_normalize("example.com", out, sizeof(out),
					  why, 10), -1);
	cr_expect_eq(strlen(why), 9, "why is truncated, terminated");
}

/* Whatever normalize accepts, the matcher accepts as a reference. */
Test(normalize, output_is_a_valid_reference)
{
	static const char *const in[] = {
		"bücher.example", "Example.COM.", "straße.de", "ÉCOLE.fr",
		"пример.рф", "例え.テスト",
	};
	char out[ESA_NAME_MAX], why[ESA_ERR_MAX];
	size_t i;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		cr_assert_eq(esa_domain_normalize(in[i], out, sizeof(out), why,
						  sizeof(why)), 0, "%s: %s", in[i], why);
		cr_expect_null(esa_reference_problem(out, strlen(out)), "%s -> %s",
			       in[i], out);
		cr_expect_eq(esa_match(out, strlen(out), out, strlen(out)),
			     ESA_MATCH_YES, "%s -> %s", in[i], out);
	}
}

/* ---- the name primitive (match.h) --------------------------------------- */

/* SPEC 3.1: names are equal ASCII case-insensitively, one trailing dot
 * removed from each; nothing but A-Z folds (no locale) */
Test(name, equality_table)
{
	static const struct {
		const char *a, *b;
		bool eq;
	} rows[] = {
		{ "example.com", "example.com", true },
		{ "Example.COM", "example.com", true },
		{ "example.com.", "example.com", true },
		{ "example.com", "EXAMPLE.COM.", true },
		{ "example.com..", "example.com", false },
		{ "example.com", "example.co", false },
		{ "mx1.example.com", "mx2.example.com", false },
		{ "", ".", true },
		{ "\xc4\xb0.example", "i.example", false },	/* U+0130 is no 'I' */
		{ "\xdd.example", "\xfd.example", false },	/* Latin-5 I/i */
		{ "I.EXAMPLE", "i.example", true },
		{ "@.example", "`.example", false },	/* around 'A' and 'a' */
		{ "[.example", "{.example", false },	/* around 'Z' and 'z' */
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		cr_expect_eq(esa_name_eq(rows[i].a, rows[i].b), rows[i].eq,
			     "row %zu: '%s' vs '%s'", i, rows[i].a, rows[i].b);
	cr_expect(esa_ascii_eq("MAIL FROM:", 10, "mail from:", 10));
	cr_expect(!esa_ascii_eq("MAIL FROM:", 10, "mail from", 9));
	cr_expect(esa_ascii_eq_word("DeFaUlT", 7, "default"));
	cr_expect(!esa_ascii_eq_word("default.", 8, "default"),
		  "keywords keep their trailing dot");
	cr_expect(esa_ascii_streq("$ORIGIN", "$origin"));
}

/* the canonical form: lower case, one trailing dot removed, bounded */
Test(name, canonical_form)
{
	char out[16];

	cr_expect(esa_name_canon("MX1.Example.NET.", 16, out, sizeof(out)));
	cr_expect_str_eq(out, "mx1.example.net");
	cr_expect(esa_name_canon("A..", 3, out, sizeof(out)));
	cr_expect_str_eq(out, "a.", "one dot only");
	cr_expect(!esa_name_canon(".", 1, out, sizeof(out)), "empty");
	cr_expect_str_eq(out, "");
	cr_expect(!esa_name_canon("", 0, out, sizeof(out)));
	cr_expect(esa_name_canon("abcdefghijklmno", 15, out, sizeof(out)));
	cr_expect(!esa_name_canon("abcdefghijklmnop", 16, out, sizeof(out)),
		  "too long for out");
	cr_expect_str_eq(out, "");
	cr_expect(esa_name_canon("\xC4\xB0X", 3, out, sizeof(out)));
	cr_expect_str_eq(out, "\xC4\xB0x", "only ASCII letters fold");
}
