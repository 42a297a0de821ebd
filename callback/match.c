/*
 * match.c - the pure identifier matcher of SPEC section 3 (`p ~= r`)
 *
 * Contract: strings in, a verdict out.  No OpenSSL, no DNS, no allocation,
 * no I/O, no locale; safe from any thread.  Every string is length-counted:
 * a presented identifier p may hold NUL octets (which make it unusable) and
 * need not be terminated.  A NULL pointer reads as the empty name.
 *
 *   esa_match(p, plen, r, rlen)     YES, NO, BAD_PRESENTED or BAD_REFERENCE
 *   esa_match_valid(p, plen, r, rlen)  YES or NO, for a p and an r that
 *                                   the two functions below found usable
 *   esa_presented_problem(p, plen)  why p can never match, NULL if usable
 *   esa_reference_problem(r, rlen)  why r is not a valid hostname, or NULL
 *   esa_looks_like_ip(p, plen)      does p look like an IPv4/IPv6 address
 *
 * and the name primitive the other modules compare and canonicalise names
 * with (match.h): esa_ascii_eq, esa_ascii_eq_word, esa_name_eq,
 * esa_name_canon.
 *
 * The reason strings are static and short; callers print them after a name.
 * The reference is checked before the presented identifier, so a bad
 * reference gives BAD_REFERENCE whatever p is: it is a fault of the
 * configuration or of DNS, not of the certificate.
 *
 * Rules (SPEC 3, RFC 6125 6.4.3, RFC 9525 6.3):
 *  - ASCII, case-insensitive; one trailing dot removed from each (SPEC 3.1).
 *  - r: LDH labels of 1..63 octets, no label beginning or ending with '-',
 *    total <= 253 octets, >= 2 labels, no '*', not an IP address (SPEC 3.2).
 *  - p: no NUL, ASCII only, no empty label, LDH only, <= 253 octets, not an
 *    IP address (SPEC 3.3, 3.6, 3.7).
 *  - wildcard: only "*." as the whole leftmost label followed by >= 2
 *    labels; '*' matches exactly one whole non-empty label (SPEC 3.5).
 *
 * Interpretation choices (SPEC says "write the choice down"):
 *  - '_' is not allowed in either identifier: hostnames are LDH only
 *    (RFC 952, RFC 1123 2.1), and a CA may not issue a dNSName with '_'
 *    (CA/B Forum BR 7.1.4.2).  Such a p is BAD_PRESENTED.
 *  - A label beginning or ending with '-' makes r invalid (RFC 952, RFC
 *    5891 4.2.3.1) and makes p unusable: it could only ever be compared
 *    with such a label of r, which is never valid.
 *  - A p of a single label (no wildcard), e.g. "localhost", is
 *    BAD_PRESENTED: r needs two labels, so p can never match.
 *  - "Looks like IPv4" means the last label is a number, as the WHATWG URL
 *    parser and inet_aton(3) read it: all decimal digits, or "0x" followed
 *    by hex digits.  This covers dotted decimal, "127.1", "0x7f.0.0.1" and
 *    "2130706433"; no real top-level domain is numeric (RFC 3696 2).
 *    Any ':' reads as IPv6.  Both apply to p and to r.
 *  - A wildcard may stand for an A-label ("*.example.com" matches
 *    "xn--bcher-kva.example.com"): RFC 9525 6.3 makes no exception.  There
 *    is no public-suffix check: "*.co.uk" is well formed and may match.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "match.h"

#define NAME_MAX_OCTETS 253	/* RFC 1035 2.3.4, text form without the root dot */
#define LABEL_MAX_OCTETS 63	/* RFC 1035 2.3.4 */

/* lower - ASCII lower case of an octet, independent of the locale */
static unsigned char lower(unsigned char c)
{
	return (unsigned char)esa_ascii_lower((char)c);
}

/* is_digit, is_xdigit, is_ldh - ASCII classes, independent of the locale */
static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_xdigit(unsigned char c)
{
	return is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'f');
}

static bool is_ldh(unsigned char c)
{
	return is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'z') || c == '-';
}

/* trim_dot - the length of s without one trailing dot (SPEC 3.1) */
static size_t trim_dot(const char *s, size_t len)
{
	return (len > 0 && s[len - 1] == '.') ? len - 1 : len;
}

/* label_len - octets of s before the first dot, or all of them */
static size_t label_len(const char *s, size_t len)
{
	const char *dot = len ? memchr(s, '.', len) : NULL;

	return dot ? (size_t)(dot - s) : len;
}

/* all_ascii - no octet of s has the high bit set */
static bool all_ascii(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

/* esa_ascii_eq - equal length and equal octets, ASCII case-insensitively */
bool esa_ascii_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i;

	if (alen != blen)
		return false;
	for (i = 0; i < alen; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
	return true;
}

/* esa_ascii_eq_word - s[0..n) is word, ASCII case-insensitively */
bool esa_ascii_eq_word(const char *s, size_t n, const char *word)
{
	return esa_ascii_eq(s, n, word, strlen(word));
}

/* esa_ascii_streq - two NUL-terminated strings, ASCII case-insensitively */
bool esa_ascii_streq(const char *a, const char *b)
{
	return esa_ascii_eq(a, strlen(a), b, strlen(b));
}

/* esa_name_eq - the same DNS name, one trailing dot ignored (SPEC 3.1) */
bool esa_name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	return esa_ascii_eq(a, trim_dot(a, la), b, trim_dot(b, lb));
}

/* esa_name_canon - lower case, one trailing dot removed; false if empty
 * or too long for out */
bool esa_name_canon(const char *in, size_t len, char *out, size_t outsz)
{
	size_t n = trim_dot(in, len), i;

	if (outsz > 0)
		out[0] = '\0';
	if (n == 0 || n >= outsz)
		return false;
	for (i = 0; i < n; i++)
		out[i] = esa_ascii_lower(in[i]);
	out[n] = '\0';
	return true;
}

/* is_number - a label inet_aton would read as a number: decimal or 0x-hex */
static bool is_number(const char *l, size_t n)
{
	size_t i, start = 0;
	bool hex = n >= 2 && l[0] == '0' && lower((unsigned char)l[1]) == 'x';

	if (n == 0)
		return false;
	if (hex)
		start = 2;	/* "0x" alone is 0 to WHATWG: still a number */
	for (i = start; i < n; i++)
		if (hex ? !is_xdigit((unsigned char)l[i])
			: !is_digit((unsigned char)l[i]))
			return false;
	return true;
}

/* esa_looks_like_ip - does text look like an IPv4 or IPv6 address (SPEC 3.7) */
bool esa_looks_like_ip(const char *p, size_t plen)
{
	size_t last;

	if (p == NULL || plen == 0)
		return false;
	/* SPEC 3.7: any ':' is an IPv6 address (or a port), never a hostname */
	if (memchr(p, ':', plen) != NULL)
		return true;
	/* SPEC 3.7: IPv4 when the last label is a number (WHATWG URL "ends in
	 * a number", inet_aton): "192.0.2.1", "127.1", "0x7f.1", "2130706433" */
	plen = trim_dot(p, plen);
	last = plen;
	while (last > 0 && p[last - 1] != '.')
		last--;
	return is_number(p + last, plen - last);
}

/* label_problem - why one label (dots excluded) is not an LDH label */
static const char *label_problem(const char *l, size_t n)
{
	size_t i;

	/* RFC 1034 3.5: a label holds at least one octet ("a..b", ".a") */
	if (n == 0)
		return "empty label";
	/* RFC 1035 2.3.4: at most 63 octets */
	if (n > LABEL_MAX_OCTETS)
		return "label longer than 63 octets";
	/* SPEC 3.2, 3.3, RFC 1123 2.1: letters, digits, hyphen; no '_' */
	for (i = 0; i < n; i++)
		if (!is_ldh((unsigned char)l[i]))
			return "character outside LDH";
	/* RFC 952, RFC 5891 4.2.3.1: no hyphen at either end of a label */
	if (l[0] == '-' || l[n - 1] == '-')
		return "label begins or ends with a hyphen";
	return NULL;
}

/* labels_problem - check every label of s (no trailing dot), count them */
static const char *labels_problem(const char *s, size_t len, size_t *count)
{
	const char *why;
	size_t pos = 0, n;

	*count = 0;
	for (;;) {
		n = label_len(s + pos, len - pos);
		why = label_problem(s + pos, n);
		if (why != NULL)
			return why;
		(*count)++;
		pos += n;
		if (pos == len)
			return NULL;
		pos++;		/* the dot; a dot at the end leaves an empty label */
	}
}

/* name_problem - the checks p and r share, before their labels are read;
 * s NULL counts as "".  When s passes, *len loses the trailing dot. */
static const char *name_problem(const char *s, size_t *len)
{
	size_t n = *len;

	if (s == NULL) {
		s = "";
		n = 0;
	}
	/* SPEC 3.3: a NUL octet ("www.bank.com\0.evil.com") */
	if (memchr(s, '\0', n) != NULL)
		return "contains a NUL octet";
	/* SPEC 3.6: only A-labels are compared; U-labels, Latin-1, ... never */
	if (!all_ascii(s, n))
		return "not ASCII";
	n = trim_dot(s, n);
	/* SPEC 3.2, 3.3: "" and "." name nothing */
	if (n == 0)
		return "empty name";
	/* SPEC 3.2, 3.3, RFC 1035 2.3.4: at most 253 octets without the dot */
	if (n > NAME_MAX_OCTETS)
		return "longer than 253 octets";
	/* SPEC 3.7: IP identities are out of scope */
	if (esa_looks_like_ip(s, n))
		return "is an IP address";
	*len = n;
	return NULL;
}

/* esa_reference_problem - why r is not a usable reference identifier, or NULL */
const char *esa_reference_problem(const char *r, size_t rlen)
{
	const char *why;
	size_t labels;

	why = name_problem(r, &rlen);
	if (why != NULL)
		return why;
	/* SPEC 3.2: a reference identifier is a name, never a pattern */
	if (memchr(r, '*', rlen) != NULL)
		return "contains a wildcard";
	why = labels_problem(r, rlen, &labels);
	if (why != NULL)
		return why;
	/* SPEC 3.2: a fully qualified name has at least two labels */
	if (labels < 2)
		return "fewer than two labels";
	return NULL;
}

/* wildcard_problem - the wildcard rules of SPEC 3.5 for p (no trailing dot);
 * sets *wild when p is a well-formed "*." pattern */
static const char *wildcard_problem(const char *p, size_t plen, bool *wild)
{
	size_t first = label_len(p, plen);

	*wild = first == 1 && p[0] == '*';
	/* SPEC 3.5, RFC 9525 6.3: '*' must be the whole leftmost label, so
	 * "f*.example.com", "*oo.example.com", "xn--*.example.com" are out */
	if (!*wild && memchr(p, '*', first) != NULL)
		return "partial wildcard";
	if (first == plen)
		return NULL;
	/* SPEC 3.5, RFC 9525 6.3: only one wildcard ("*.*.example.com") */
	if (*wild && memchr(p + first, '*', plen - first) != NULL)
		return "more than one wildcard";
	/* SPEC 3.5, RFC 6125 6.4.3: only in the leftmost label ("a.*.x.com") */
	if (memchr(p + first, '*', plen - first) != NULL)
		return "wildcard not in the leftmost label";
	return NULL;
}

/* esa_presented_problem - why p can never match anything, or NULL if usable */
const char *esa_presented_problem(const char *p, size_t plen)
{
	const char *why;
	size_t labels = 0;
	bool wild;

	why = name_problem(p, &plen);
	if (why != NULL)
		return why;
	why = wildcard_problem(p, plen, &wild);
	if (why != NULL)
		return why;
	/* the labels after "*." ("*" alone has none), or all of them */
	if (!wild)
		why = labels_problem(p, plen, &labels);
	else if (plen > 1)
		why = labels_problem(p + 2, plen - 2, &labels);
	if (why != NULL)
		return why;
	/* SPEC 3.5, RFC 9525 6.3: "*.example.com", never "*" or "*.com" */
	if (wild && labels < 2)
		return "wildcard over fewer than two labels";
	/* SPEC 3.2: r has two labels or more, so a single-label p never matches */
	if (!wild && labels < 2)
		return "single label";
	return NULL;
}

/* esa_match - does presented identifier p match reference identifier r? */
enum esa_match esa_match(const char *p, size_t plen, const char *r, size_t rlen)
{
	/* SPEC 3.2: nothing matches an invalid reference identifier */
	if (esa_reference_problem(r, rlen) != NULL)
		return ESA_MATCH_BAD_REFERENCE;
	/* SPEC 3.3, 3.5-3.7: an unusable presented identifier matches nothing */
	if (esa_presented_problem(p, plen) != NULL)
		return ESA_MATCH_BAD_PRESENTED;
	return esa_match_valid(p, plen, r, rlen);
}

/* esa_match_valid - the comparison of esa_match for a p and an r already
 * found usable, so that one r can be compared with many p cheaply */
enum esa_match esa_match_valid(const char *p, size_t plen, const char *r,
			       size_t rlen)
{
	size_t rfirst;

	/* SPEC 3.1: one trailing dot removed from each */
	plen = trim_dot(p, plen);
	rlen = trim_dot(r, rlen);
	/* SPEC 3.5, RFC 6125 6.4.3: "*" stands for exactly one whole,
	 * non-empty leftmost label of r (non-empty: r is valid); compare
	 * ".rest" of p with the part of r after its first label */
	if (p[0] == '*') {
		rfirst = label_len(r, rlen);
		return esa_ascii_eq(p + 1, plen - 1, r + rfirst, rlen - rfirst)
			? ESA_MATCH_YES : ESA_MATCH_NO;
	}
	/* SPEC 3.4, 3.1: exact, label by label, ASCII case-insensitively */
	return esa_ascii_eq(p, plen, r, rlen) ? ESA_MATCH_YES : ESA_MATCH_NO;
}
