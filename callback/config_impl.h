/*
 * config_impl.h - what the three files of the configuration share: config.c
 * (settings), config_routes.c (SMTP routes) and config_file.c (the
 * destinations file).  Nothing outside those files includes it (the fuzz
 * targets and the tests use internal.h).
 *
 * The text helpers take length-counted, hostile input; none writes past
 * the buffer it is given, and a reason they word is always one line.
 */
#ifndef ESA_CONFIG_IMPL_H
#define ESA_CONFIG_IMPL_H

#include "internal.h"

#define QUOTE_MAX 80		/* octets of input quoted in errors */
#define PATH_QUOTE_MAX 200	/* octets of a file name in errors */

/* ---- config.c: text helpers ---------------------------------------------- */

/* ASCII white space, independent of the locale. */
bool esa_cfg_is_space(int c);
/* Narrow [*s, *s + *n) to drop white space at both ends. */
void esa_cfg_trim(const char **s, size_t *n);
/* s[0..n) as printable one-line text in dst: at most max octets, control
 * octets and backslashes as \xHH, "..." when cut. */
void esa_cfg_quote_upto(char *dst, size_t dstsz, const char *s, size_t n,
			size_t max);
/* The same with max QUOTE_MAX: a piece of input as a reason quotes it. */
void esa_cfg_quote(char *dst, size_t dstsz, const char *s, size_t n);
/* Format a reason into err (NULL: nothing), control octets made '?'. */
void esa_cfg_seterr(char *err, size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Decimal digits only (no sign, no space) into *out: 0, -1 not a number,
 * -2 above max. */
int esa_cfg_parse_num(const char *s, size_t n, unsigned long max,
		      unsigned long *out);
/* esa_domain_normalize on length-counted text (a NUL octet is refused). */
int esa_cfg_normalize_n(const char *s, size_t n, char *out, size_t outsz,
			char *why, size_t whysz);
/* Cut "HOST", "HOST:PORT", "[V6]", "[V6]:PORT" or a bare IPv6 literal;
 * NULL, or the problem ("missing port", ...).  *host points into s, *port
 * is 0 when none is given. */
const char *esa_cfg_split_hostport(const char *s, size_t n, const char **host,
				   size_t *hostlen, bool *bracketed, int *port);
/* esa_parse_ip on length-counted text. */
int esa_cfg_parse_ip_n(const char *s, size_t n, int *family,
		       unsigned char addr[16]);

/* ---- config_routes.c ----------------------------------------------------- */

/* esa_routes_parse on length-counted text. */
int esa_routes_parse_n(const char *text, size_t len, struct esa_route **out,
		       size_t *nout, char *why, size_t whysz);
/* The index of domain's entry in a routes array, or -1. */
long esa_routes_find(const struct esa_domain_routes *r, size_t n,
		     const char *domain);
/* Free an array of n domain route lists. */
void esa_routes_free(struct esa_domain_routes *r, size_t n);

#endif
