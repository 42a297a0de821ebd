/*
 * match.h - the pure identifier matcher (SPEC 3) and the one name primitive
 *
 * Strings only: no OpenSSL, no DNS, no allocation, no I/O, no locale (every
 * case comparison folds ASCII A-Z and nothing else, whatever the host
 * program's locale says).  Every function here is safe from any thread.
 *
 * The name primitive - case-insensitive equality and the canonical form of
 * a DNS name - is defined here once and used by the configuration, the
 * callback, the DNS layer and the shim: a name is the same name wherever it
 * is compared.
 */
#ifndef ESA_MATCH_H
#define ESA_MATCH_H

#include <stdbool.h>
#include <stddef.h>

/* ---- SPEC 3: p ~= r ------------------------------------------------------ */

enum esa_match {
	ESA_MATCH_NO = 0,	/* both well formed, not the same name */
	ESA_MATCH_YES = 1,
	ESA_MATCH_BAD_PRESENTED = 2,	/* p can never match (SPEC 3.3, 3.5-3.7) */
	ESA_MATCH_BAD_REFERENCE = 3,	/* r is not a valid hostname (SPEC 3.2) */
};

/* esa_match - does presented identifier p match reference identifier r?
 * Length-counted: p may hold NUL octets (which make it unusable). r is an
 * A-label name (already converted by esa_domain_normalize). No allocation. */
enum esa_match esa_match(const char *p, size_t plen, const char *r, size_t rlen);
/* The same without the checks, for p and r already known usable
 * (esa_presented_problem and esa_reference_problem NULL): YES or NO.
 * The identity walk checks r once and each p once, not once per pair. */
enum esa_match esa_match_valid(const char *p, size_t plen, const char *r,
			       size_t rlen);
/* Why p can never match anything, or NULL if it is a usable identifier. */
const char *esa_presented_problem(const char *p, size_t plen);
/* Why r is not a usable reference identifier, or NULL. */
const char *esa_reference_problem(const char *r, size_t rlen);
/* Does text look like an IPv4 or IPv6 address (SPEC 3.7)? */
bool esa_looks_like_ip(const char *p, size_t plen);

/* ---- the name primitive -------------------------------------------------- */

/* esa_ascii_lower - c in ASCII lower case (A-Z only; no locale) */
static inline char esa_ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* esa_ascii_eq - a[0..alen) and b[0..blen) are the same octets, ASCII
 * case-insensitively (keywords, and names compared exactly as written) */
bool esa_ascii_eq(const char *a, size_t alen, const char *b, size_t blen);
/* esa_ascii_eq_word - the same against a NUL-terminated word */
bool esa_ascii_eq_word(const char *s, size_t n, const char *word);
/* esa_ascii_streq - the same for two NUL-terminated strings (what
 * strcasecmp would say in the C locale) */
bool esa_ascii_streq(const char *a, const char *b);
/* esa_name_eq - two NUL-terminated DNS names are the same name: ASCII
 * case-insensitively, after one trailing dot is removed from each (SPEC
 * 3.1).  No syntax check: "" equals ".". */
bool esa_name_eq(const char *a, const char *b);
/* esa_name_canon - the canonical text form of a DNS name: ASCII lower case,
 * one trailing dot removed.  in[0..len) into out (NUL-terminated); false,
 * with out "", when the name is empty or out is too small.  Checks nothing
 * else (esa_reference_problem and esa_dns_canon check the syntax). */
bool esa_name_canon(const char *in, size_t len, char *out, size_t outsz);

#endif
