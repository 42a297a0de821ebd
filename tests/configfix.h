/*
 * configfix.h - what the configuration test files share: SPEC 8.4's
 * example, loading a text, and private files to load.
 */
#ifndef ESA_TESTS_CONFIGFIX_H
#define ESA_TESTS_CONFIGFIX_H

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* A private directory for one test (each runs in its own process), made by
 * its first tmpdir() and removed with all in it by tmpdir_remove, the .fini
 * of the suites that use it; write_file's paths live until then. */
static char fix_dir[64];
static char fix_path[4][192];
static unsigned fix_npath;

/* tmpdir - the test's private directory, made on first use */
static inline char *tmpdir(void)
{
	if (fix_dir[0] == '\0') {
		snprintf(fix_dir, sizeof(fix_dir), "/tmp/test_config.XXXXXX");
		cr_assert_not_null(mkdtemp(fix_dir));
	}
	return fix_dir;
}

/* tmpdir_remove - remove the directory and every file in it */
static inline void tmpdir_remove(void)
{
	DIR *d;
	struct dirent *e;

	if (fix_dir[0] == '\0' || (d = opendir(fix_dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	rmdir(fix_dir);
	fix_dir[0] = '\0';
}

/* write_file - dir/name with the given contents; returns the path */
static inline const char *write_file(const char *dir, const char *name,
				     const char *text, size_t len)
{
	char *path;
	FILE *f;

	cr_assert_lt(fix_npath, sizeof(fix_path) / sizeof(fix_path[0]));
	path = fix_path[fix_npath++];
	snprintf(path, sizeof(fix_path[0]), "%s/%s", dir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(text, 1, len, f), len);
	fclose(f);
	return path;
}

#endif
