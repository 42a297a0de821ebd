/*
 * idn.c - turn a user-given domain into a reference identifier (SPEC 3.6)
 *
 * Contract of esa_domain_normalize(in, out, outsz, why, whysz):
 *   in    a NUL-terminated domain, ASCII or UTF-8 Unicode, trailing dot optional;
 *   out   receives the A-label, lower-case form without a trailing dot, a
 *         valid reference identifier by esa_reference_problem (SPEC 3.2);
 *   why   receives, on failure, one line naming the input and the problem:
 *         "invalid domain 'a..b': empty label".  May be NULL.
 * Returns 0, or -1 with out set to "".  Thread-safe; the caller owns both
 * buffers; libidn2's allocations are freed before returning.
 *
 * Choices:
 *  - A name that is all ASCII is not passed through libidn2: it is lowered
 *    and checked by the matcher's own rules, so an ASCII domain gets the
 *    same reason here as it would in a match.  Each "xn--" A-label in it
 *    must decode as Punycode (idn2_to_unicode_8z8z); it is not required to
 *    be a valid IDNA2008 label, since names registered under IDNA2003
 *    (e.g. emoji domains) still exist and still receive mail.
 *  - A name with non-ASCII octets is converted by idn2_to_ascii_8z with
 *    IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT (IDNA2008 with the UTS 46
 *    mapping, as current browsers and mail software do: "straße.de" is
 *    "xn--strae-oqa.de", not "strasse.de").  There is no fallback to
 *    transitional processing: it would quietly check a name other than
 *    the one given, so a name libidn2 refuses is reported with its reason.
 *  - The input is shown in the reason with control octets and invalid
 *    UTF-8 escaped as \xHH, and cut after 80 octets, so the reason stays
 *    one printable line whatever the input was (it may come from SNI).
 */
#include <idn2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define SHOW_MAX 80		/* octets of the input quoted in a reason */

/* utf8_seq - length of the valid UTF-8 sequence at s (at most n octets), 0 if invalid */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* no overlong 3/4-octet forms, no surrogates, nothing past U+10FFFF */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return len;
}

/* show_input - in as one printable line: controls and bad UTF-8 as \xHH */
static void show_input(const char *in, char *buf, size_t bufsz)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t n = strlen(in), i = 0, o = 0, k;

	while (i < n && i < SHOW_MAX) {
		k = utf8_seq(s + i, n - i);
		if (k == 0 || s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\') {
			if (o + 5 > bufsz)
				break;
			snprintf(buf + o, bufsz - o, "\\x%02x", s[i]);
			o += 4;
			i++;
			continue;
		}
		if (o + k + 1 > bufsz)
			break;
		memcpy(buf + o, s + i, k);
		o += k;
		i += k;
	}
	buf[o] = '\0';
	if (i < n && o + 4 <= bufsz)
		memcpy(buf + o, "...", 4);
}

/* fail - "invalid domain 'IN': REASON" into why (if given); always -1 */
static int fail(const char *in, const char *reason, char *why, size_t whysz)
{
	char shown[SHOW_MAX * 4 + 8];

	if (why == NULL || whysz == 0)
		return -1;
	show_input(in, shown, sizeof(shown));
	snprintf(why, whysz, "invalid domain '%s': %s", shown, reason);
	return -1;
}

/* alabel_problem - why some "xn--" label of name does not decode, or NULL */
static const char *alabel_problem(const char *name, size_t len)
{
	char label[64];
	const char *dot;
	char *u = NULL;
	size_t pos = 0, n;
	int rc;

	while (pos < len) {
		dot = memchr(name + pos, '.', len - pos);
		n = dot ? (size_t)(dot - (name + pos)) : len - pos;
		/* RFC 5890 2.3.2.1: an A-label is "xn--" and Punycode */
		if (n >= 4 && n < sizeof(label) &&
		    esa_ascii_eq(name + pos, 4, "xn--", 4)) {
			memcpy(label, name + pos, n);
			label[n] = '\0';
			rc = idn2_to_unicode_8z8z(label, &u, 0);
			free(u);
			u = NULL;
			if (rc != IDN2_OK)
				return idn2_strerror(rc);
		}
		pos += n + 1;
	}
	return NULL;
}

/* is_ascii - no octet of s has the high bit set */
static bool is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/* esa_domain_normalize - a user-given domain as a valid A-label reference */
int esa_domain_normalize(const char *in, char *out, size_t outsz,
			 char *why, size_t whysz)
{
	const char *src, *problem;
	char *ace = NULL;
	size_t len;
	int rc, ret = -1;

	if (why != NULL && whysz > 0)
		why[0] = '\0';
	if (out != NULL && outsz > 0)
		out[0] = '\0';
	if (in == NULL) {
		if (why != NULL && whysz > 0)
			esa_strlcpy(why, "invalid domain: none given", whysz);
		goto out;
	}
	if (out == NULL || outsz == 0) {
		fail(in, "no room for the result", why, whysz);
		goto out;
	}
	src = in;
	if (!is_ascii(in)) {
		/* SPEC 3.6: Unicode is converted to A-labels (IDNA2008, UTS 46) */
		rc = idn2_to_ascii_8z(in, &ace,
				      IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
		if (rc != IDN2_OK) {
			fail(in, idn2_strerror(rc), why, whysz);
			goto out;
		}
		src = ace;
	}
	len = strlen(src);
	/* SPEC 3.2: the result must be a valid reference identifier */
	problem = esa_reference_problem(src, len);
	if (problem != NULL) {
		fail(in, problem, why, whysz);
		goto out;
	}
	/* SPEC 3.1: one trailing dot dropped, ASCII lower case */
	if (!esa_name_canon(src, len, out, outsz)) {
		fail(in, "longer than the output buffer", why, whysz);
		goto out;
	}
	len = strlen(out);
	problem = alabel_problem(out, len);
	if (problem != NULL) {
		out[0] = '\0';
		fail(in, problem, why, whysz);
		goto out;
	}
	ret = 0;
out:
	free(ace);
	return ret;
}
