/*
 * configfix.h - what the configuration test files share: SPEC 8.4's
 * example, loading a text, and private files to load.
 */
#ifndef ESA_TESTS_CONFIGFIX_H
#define ESA_TESTS_CONFIGFIX_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "internal.h"

/* The example of SPEC 8.4, verbatim. */
static const char spec_example[] =
	"# comments and blank lines allowed\n"
	"[destinations]\n"
	"default          tls=preferred\n"
	"example.com      tls=required-verify\n"
	".example.org     tls=required-verify-hosted      # every subdomain of example.org\n"
	"[routes]\n"
	"example.com      mx1.example.net:25/pri=0, mx2.example.net/pri=10, 192.0.2.7\n";

/* load - load_text on a NUL-terminated string, label "t.conf" */
static inline int load(esa_config *cfg, const char *text)
{
	return esa_config_load_text(cfg, text, strlen(text), "t.conf");
}

/* tmpdir - a fresh private directory for one test */
static inline char *tmpdir(void)
{
	static char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/test_config.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	return dir;
}

/* write_file - dir/name with the given contents; returns the path */
static inline char *write_file(const char *dir, const char *name,
			       const char *text, size_t len)
{
	char *path = NULL;
	FILE *f;

	cr_assert(asprintf(&path, "%s/%s", dir, name) > 0);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(text, 1, len, f), len);
	fclose(f);
	return path;
}

#endif
