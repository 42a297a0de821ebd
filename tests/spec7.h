/*
 * spec7.h - SPEC 7's reference DNS for the unit tests, read from the one
 * copy the demo, tests/cli.sh and the lab's unbound read too
 * (examples/spec7.zone), with lines of a test's own after it.
 */
#ifndef ESA_TESTS_SPEC7_H
#define ESA_TESTS_SPEC7_H

#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "internal.h"

/* spec7_resolver - a static resolver on examples/spec7.zone followed by
 * extra (may be NULL); the tests run from the repository root */
static inline esa_resolver *spec7_resolver(const char *extra)
{
	static char text[16384];
	char err[ESA_ERR_MAX];
	size_t n = 0, more = extra != NULL ? strlen(extra) : 0;
	FILE *f = fopen("examples/spec7.zone", "r");
	esa_resolver *r;

	if (f == NULL)
		f = fopen("../examples/spec7.zone", "r");
	cr_assert_not_null(f, "examples/spec7.zone: cannot open (run the tests "
			   "from the repository root)");
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	cr_assert_lt(n + more, sizeof(text), "spec7.zone and extra too long");
	memcpy(text + n, extra != NULL ? extra : "", more);
	r = esa_resolver_static_text(text, n + more, "spec7.zone", err,
				     sizeof(err));
	cr_assert_not_null(r, "%s", err);
	return r;
}

#endif
