/*
 * fuzz_match.c - the matcher of SPEC 3 (match.c) and the reference side of
 * idn.c
 *
 * Input: REFERENCE '\n' PRESENTED.  The presented identifier is everything
 * after the first newline, NULs and all (length-counted, as a certificate
 * gives it); the reference is the text before it.
 *
 * Invariants checked, beyond "no crash":
 *  - esa_match gives BAD_REFERENCE exactly when esa_reference_problem
 *    names a problem, else BAD_PRESENTED exactly when
 *    esa_presented_problem does, else YES or NO;
 *  - YES only as SPEC 3.4/3.5 allow: an independent oracle (ASCII case
 *    folding, one trailing dot, "*." standing for one whole left label);
 *  - a valid reference is itself a usable presented identifier, matches
 *    itself and its upper-case form, and "*." over its parent matches it;
 *  - esa_domain_normalize either fails with a one-line reason, or yields a
 *    lower-case valid reference without a trailing dot that normalises to
 *    itself again.
 */
#include "fuzz.h"
#include "internal.h"

/* fold - ASCII lower case */
static unsigned char fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* same - equal under ASCII case folding */
static bool same(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return false;
	for (size_t i = 0; i < an; i++)
		if (fold((unsigned char)a[i]) != fold((unsigned char)b[i]))
			return false;
	return true;
}

/* oracle_allows_yes - may p ~= r hold at all (both already found usable)? */
static bool oracle_allows_yes(const char *p, size_t pl, const char *r, size_t rl)
{
	const char *dot;

	if (pl > 0 && p[pl - 1] == '.')
		pl--;
	if (rl > 0 && r[rl - 1] == '.')
		rl--;
	if (pl >= 2 && p[0] == '*' && p[1] == '.') {
		dot = memchr(r, '.', rl);
		return dot != NULL && dot != r &&
		       same(p + 1, pl - 1, dot, rl - (size_t)(dot - r));
	}
	return same(p, pl, r, rl);
}

/* check_pair - the invariants of one (p, r) pair */
static void check_pair(const char *p, size_t pl, const char *r, size_t rl)
{
	enum esa_match m = esa_match(p, pl, r, rl);
	const char *rp = esa_reference_problem(r, rl);
	const char *pp = esa_presented_problem(p, pl);

	if (rp != NULL) {
		FUZZ_CHECK(m == ESA_MATCH_BAD_REFERENCE, "got %d", (int)m);
		return;
	}
	if (pp != NULL) {
		FUZZ_CHECK(m == ESA_MATCH_BAD_PRESENTED, "got %d", (int)m);
		return;
	}
	FUZZ_CHECK(m == ESA_MATCH_YES || m == ESA_MATCH_NO, "got %d", (int)m);
	FUZZ_CHECK((m == ESA_MATCH_YES) == oracle_allows_yes(p, pl, r, rl),
		   "matcher says %d", (int)m);
	/* a usable p never holds a NUL or a non-ASCII octet, nor is an IP */
	FUZZ_CHECK(memchr(p, '\0', pl) == NULL, "NUL in a usable p");
	for (size_t i = 0; i < pl; i++)
		FUZZ_CHECK((unsigned char)p[i] < 0x80, "non-ASCII usable p");
	FUZZ_CHECK(!esa_looks_like_ip(p, pl), "IP-like usable p");
}

/* check_reference - a valid r used as p, upper case, and under "*." */
static void check_reference(const char *r, size_t rl)
{
	char buf[ESA_NAME_MAX + 2];
	const char *dot;
	size_t tl;

	if (esa_reference_problem(r, rl) != NULL || rl > ESA_NAME_MAX - 1)
		return;
	FUZZ_CHECK(esa_presented_problem(r, rl) == NULL,
		   "valid reference '%.*s' unusable as presented: %s", (int)rl,
		   r, esa_presented_problem(r, rl));
	FUZZ_CHECK(esa_match(r, rl, r, rl) == ESA_MATCH_YES, "r !~= r");
	for (size_t i = 0; i < rl; i++)
		buf[i] = (r[i] >= 'a' && r[i] <= 'z') ? (char)(r[i] - 32) : r[i];
	FUZZ_CHECK(esa_match(buf, rl, r, rl) == ESA_MATCH_YES, "R !~= r");
	/* "*.parent" matches r when the parent has two labels or more */
	tl = rl > 0 && r[rl - 1] == '.' ? rl - 1 : rl;
	dot = memchr(r, '.', tl);
	if (dot != NULL && memchr(dot + 1, '.', tl - (size_t)(dot + 1 - r))) {
		size_t n = rl - (size_t)(dot - r);

		buf[0] = '*';
		memcpy(buf + 1, dot, n);
		FUZZ_CHECK(esa_match(buf, n + 1, r, rl) == ESA_MATCH_YES,
			   "'%.*s' !~= '%.*s'", (int)(n + 1), buf, (int)rl, r);
	}
}

/* check_normalize - idn.c on the reference text */
static void check_normalize(const char *r)
{
	char out[ESA_NAME_MAX], again[ESA_NAME_MAX], why[ESA_ERR_MAX];
	size_t n;

	if (esa_domain_normalize(r, out, sizeof out, why, sizeof why) != 0) {
		FUZZ_CHECK(out[0] == '\0', "output left on failure");
		FUZZ_CHECK(why[0] != '\0' && fuzz_one_line(why, sizeof why),
			   "bad reason");
		return;
	}
	n = strlen(out);
	FUZZ_CHECK(esa_reference_problem(out, n) == NULL, "'%s' invalid", out);
	FUZZ_CHECK(n > 0 && out[n - 1] != '.', "'%s' has a trailing dot", out);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(!(out[i] >= 'A' && out[i] <= 'Z'), "'%s' upper", out);
	FUZZ_CHECK(esa_domain_normalize(out, again, sizeof again, why,
					sizeof why) == 0, "'%s': %s", out, why);
	FUZZ_CHECK(strcmp(out, again) == 0, "'%s' -> '%s'", out, again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t rl = nl ? (size_t)(nl - data) : size;
	const char *p = nl ? (const char *)nl + 1 : "";
	size_t pl = nl ? size - rl - 1 : 0;
	char *r = fuzz_cstr(data, rl);	/* exact-size copies: overreads show */
	char *pc = fuzz_cstr((const uint8_t *)p, pl);

	check_pair(pc, pl, r, rl);
	check_pair(r, rl, pc, pl);	/* the other way round too */
	check_reference(r, rl);
	check_reference(pc, pl);
	if (memchr(r, '\0', rl) == NULL) {
		char norm[ESA_NAME_MAX], why[ESA_ERR_MAX];

		check_normalize(r);
		if (esa_domain_normalize(r, norm, sizeof norm, why,
					 sizeof why) == 0)
			check_pair(pc, pl, norm, strlen(norm));
	}
	(void)esa_looks_like_ip(pc, pl);
	free(r);
	free(pc);
	return 0;
}
