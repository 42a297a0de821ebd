/*
 * test_destinations.c - the destinations and routes file (SPEC 8.4):
 * callback/config_file.c.  SPEC 8.4's example verbatim, most-specific-wins
 * as a table, the layout it tolerates, every error naming file, line and
 * problem, all-or-nothing loading, hostile and unreadable files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "configfix.h"

TestSuite(file, .fini = tmpdir_remove);

Test(file, spec_example_verbatim)
{
	esa_config *cfg = esa_config_new();
	const struct esa_domain_routes *e;

	cr_assert_eq(load(cfg, spec_example), 0, "%s", cfg->err);
	cr_expect_str_eq(esa_config_error(cfg), "");
	cr_expect_eq(esa_config_tls_for(cfg, "example.com"), ESA_TLS_REQUIRED_VERIFY);
	cr_expect_eq(esa_config_tls_for(cfg, "mail.example.org"),
		     ESA_TLS_REQUIRED_VERIFY_HOSTED);
	cr_expect_eq(esa_config_tls_for(cfg, "a.b.example.org"),
		     ESA_TLS_REQUIRED_VERIFY_HOSTED);
	cr_expect_eq(esa_config_tls_for(cfg, "example.org"), ESA_TLS_PREFERRED,
		     "'.example.org' is every subdomain, not example.org itself");
	cr_expect_eq(esa_config_tls_for(cfg, "example.net"), ESA_TLS_PREFERRED);
	cr_expect_eq(esa_config_tls_for(cfg, "sub.example.com"), ESA_TLS_PREFERRED);
	e = esa_config_routes_for(cfg, "example.com");
	cr_assert_not_null(e);
	cr_assert_eq(e->n, 3);
	cr_expect_str_eq(e->routes[0].host, "mx1.example.net");
	cr_expect_eq(e->routes[0].port, 25);
	cr_expect_eq(e->routes[0].pri, 0);
	cr_expect_str_eq(e->routes[1].host, "192.0.2.7", "pri 0 by default, given after mx1");
	cr_expect(e->routes[1].is_ip);
	cr_expect_eq(e->routes[1].port, 0);
	cr_expect_str_eq(e->routes[2].host, "mx2.example.net");
	cr_expect_eq(e->routes[2].pri, 10);
	esa_config_free(cfg);
}

/* Most specific wins: exact > longest ".suffix" > default > esa_config_set_tls */
Test(file, most_specific_wins_table)
{
	static const char text[] =
		"[destinations]\n"
		"default            tls=required\n"
		"example.org        tls=no\n"
		".example.org       tls=preferred\n"
		".sub.example.org   tls=preferred-verify\n"
		"exact.sub.example.org tls=required-verify-hosted\n"
		".org               tls=required-verify\n"
		"B\xc3\xbc" "cher.example tls=4\n";
	static const struct {
		const char *domain;
		enum esa_tls want;
	} rows[] = {
		{ "example.org", ESA_TLS_NO },			/* exact */
		{ "EXAMPLE.ORG.", ESA_TLS_NO },			/* exact, normalised */
		{ "a.example.org", ESA_TLS_PREFERRED },		/* .example.org */
		{ "sub.example.org", ESA_TLS_PREFERRED },	/* not below .sub.example.org */
		{ "x.sub.example.org", ESA_TLS_PREFERRED_VERIFY },	/* longer suffix */
		{ "y.x.sub.example.org", ESA_TLS_PREFERRED_VERIFY },
		{ "exact.sub.example.org", ESA_TLS_REQUIRED_VERIFY_HOSTED },	/* exact */
		{ "a.exact.sub.example.org", ESA_TLS_PREFERRED_VERIFY },
		{ "other.org", ESA_TLS_REQUIRED_VERIFY },	/* .org */
		{ "badexample.org", ESA_TLS_REQUIRED_VERIFY },	/* label boundary */
		{ "org", ESA_TLS_REQUIRED },			/* not a domain: default */
		{ "example.com", ESA_TLS_REQUIRED },		/* default */
		{ "xn--bcher-kva.example", ESA_TLS_PREFERRED_VERIFY },	/* IDN */
		{ "b\xc3\xbc" "cher.example", ESA_TLS_PREFERRED_VERIFY },
		{ "", ESA_TLS_REQUIRED },
		{ "a..b", ESA_TLS_REQUIRED },
		{ NULL, ESA_TLS_REQUIRED },
	};
	esa_config *cfg = esa_config_new();
	size_t i;

	cr_assert_eq(load(cfg, text), 0, "%s", cfg->err);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		cr_expect_eq(esa_config_tls_for(cfg, rows[i].domain), rows[i].want,
			     "%s: got %s, want %s", rows[i].domain ? rows[i].domain : "(null)",
			     esa_tls_name(esa_config_tls_for(cfg, rows[i].domain)),
			     esa_tls_name(rows[i].want));
	esa_config_free(cfg);
}

Test(file, without_default_the_config_setting_applies)
{
	esa_config *cfg = esa_config_new();

	cr_assert_eq(esa_config_set_tls(cfg, "preferred-verify"), 0);
	cr_assert_eq(load(cfg, "[destinations]\n.example.org tls=no\n"), 0, "%s", cfg->err);
	cr_expect_eq(esa_config_tls_for(cfg, "a.example.org"), ESA_TLS_NO);
	cr_expect_eq(esa_config_tls_for(cfg, "example.org"), ESA_TLS_PREFERRED_VERIFY);
	cr_expect_eq(esa_config_tls_for(cfg, "example.com"), ESA_TLS_PREFERRED_VERIFY);
	esa_config_free(cfg);
}

Test(file, lenient_layout)
{
	static const char text[] =
		"\xef\xbb\xbf# a byte order mark, CRLF, tabs, odd case\r\n"
		"\r\n"
		"  [ Destinations ]  # trailing comment\r\n"
		"\tDEFAULT\tTLS = Required-Verify\r\n"
		"   # indented comment\n"
		"example.com tls=1\n"
		"[ROUTES]\n"
		"example.com\t[2001:db8::25]:25 ,mx.example.net/pri=1#comment\n"
		"example.net 192.0.2.1";	/* no final newline */
	esa_config *cfg = esa_config_new();
	const struct esa_domain_routes *e;

	cr_assert_eq(load(cfg, text), 0, "%s", cfg->err);
	cr_expect_eq(esa_config_tls_for(cfg, "x.example"), ESA_TLS_REQUIRED_VERIFY);
	cr_expect_eq(esa_config_tls_for(cfg, "example.com"), ESA_TLS_NO);
	e = esa_config_routes_for(cfg, "example.com");
	cr_assert_not_null(e);
	cr_assert_eq(e->n, 2);
	cr_expect_str_eq(e->routes[0].host, "2001:db8::25");
	cr_expect_str_eq(e->routes[1].host, "mx.example.net");
	e = esa_config_routes_for(cfg, "example.net");
	cr_assert_not_null(e);
	cr_expect_eq(e->n, 1);
	esa_config_free(cfg);
}

Test(file, empty_and_comment_only)
{
	esa_config *cfg = esa_config_new();

	cr_expect_eq(esa_config_load_text(cfg, "", 0, "t.conf"), 0);
	cr_expect_eq(esa_config_load_text(cfg, NULL, 0, "t.conf"), 0);
	cr_expect_eq(load(cfg, "# nothing\n\n\n#\n[destinations]\n[routes]\n"), 0);
	cr_expect_eq(cfg->ndests, 0);
	cr_expect_eq(cfg->nroutes, 0);
	esa_config_free(cfg);
}

/* Every error names the file and the line: "FILE:LINE: problem". */
Test(file, errors_table)
{
	static const struct {
		const char *text;
		unsigned line;
		const char *problem;
	} rows[] = {
		{ "[destination]\n", 1, "unknown section '[destination]'" },
		{ "\n[routes]\n[smtproutes]\n", 3, "unknown section '[smtproutes]'" },
		{ "[destinations\n", 1, "bad section header '[destinations'" },
		{ "[routes] x\n", 1, "bad section header" },
		{ "example.com tls=no\n", 1, "entry outside a section" },
		{ "# c\n\nexample.com tls=no\n[destinations]\n", 3, "entry outside a section" },
		{ "[destinations]\nexample.com tls=requried-verify\n", 2,
		  "unknown TLS setting 'requried-verify' (expected no, preferred, required, "
		  "preferred-verify, required-verify, required-verify-hosted or 1-6)" },
		{ "[destinations]\nexample.com tls=7\n", 2, "unknown TLS setting '7'" },
		{ "[destinations]\nexample.com tls=\n", 2, "unknown TLS setting ''" },
		{ "[destinations]\nexample.com verify=yes\n", 2, "unknown option 'verify'" },
		{ "[destinations]\nexample.com tls=no port=25\n", 2, "unknown option 'port'" },
		{ "[destinations]\nexample.com required\n", 2, "bad option 'required'" },
		{ "[destinations]\nexample.com\n", 2, "missing tls=SETTING" },
		{ "[destinations]\nexample.com tls=no tls=5\n", 2, "option tls given twice" },
		{ "[destinations]\na..b tls=no\n", 2, "bad destination 'a..b': invalid domain" },
		{ "[destinations]\ncom tls=no\n", 2, "bad destination 'com'" },
		{ "[destinations]\n. tls=no\n", 2, "bad destination '.'" },
		{ "[destinations]\n*.example.org tls=no\n", 2,
		  "write '.example.org' for every subdomain" },
		{ "[destinations]\nexample.com tls=no\nexample.net tls=no\nEXAMPLE.com. tls=5\n",
		  4, "duplicate entry 'example.com' (first on line 2)" },
		{ "[destinations]\ndefault tls=no\nDefault tls=5\n", 3, "duplicate entry 'default'" },
		{ "[destinations]\n.example.org tls=no\n.Example.Org tls=5\n", 3,
		  "duplicate entry '.example.org'" },
		{ "[routes]\nexample.com mx1.example.net:99999\n", 2,
		  "bad route 'mx1.example.net:99999': port out of range" },
		{ "[routes]\nexample.com\n", 2, "no routes given for example.com" },
		{ "[routes]\nexample.com a.example.net,\n", 2, "route 2 of 2 is empty" },
		{ "[routes]\ndefault a.example.net\n", 2, "routes need an exact domain" },
		{ "[routes]\n.example.org a.example.net\n", 2, "routes need an exact domain" },
		{ "[routes]\nexa_mple.com a.example.net\n", 2, "bad route domain 'exa_mple.com'" },
		{ "[routes]\nexample.com a.example.net\n[destinations]\ndefault tls=no\n"
		  "[routes]\nexample.com b.example.net\n", 6, "duplicate entry 'example.com'" },
		/* the first problem in file order wins */
		{ "[destinations]\na.example tls=no\na.example tls=no\nb.example tls=x\n", 3,
		  "duplicate entry 'a.example'" },
		{ "[destinations]\na.example tls=x\na.example tls=no\na.example tls=no\n", 2,
		  "unknown TLS setting 'x'" },
		{ "[destinations]\na.example tls=no\n\r\n\r\nzz tls=no", 5,
		  "bad destination 'zz'" },
	};
	esa_config *cfg;
	char prefix[32];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cfg = esa_config_new();
		cr_expect_eq(load(cfg, rows[i].text), -1, "row %zu", i);
		snprintf(prefix, sizeof(prefix), "t.conf:%u: ", rows[i].line);
		cr_expect_eq(strncmp(cfg->err, prefix, strlen(prefix)), 0,
			     "row %zu: '%s' should start with '%s'", i, cfg->err, prefix);
		cr_expect_not_null(strstr(cfg->err, rows[i].problem),
				   "row %zu: '%s' should contain '%s'", i, cfg->err,
				   rows[i].problem);
		cr_expect_null(strchr(cfg->err, '\n'), "row %zu: one line", i);
		cr_expect_eq(cfg->ndests, 0, "row %zu: nothing applied", i);
		cr_expect_eq(cfg->nroutes, 0, "row %zu: nothing applied", i);
		esa_config_free(cfg);
	}
}

Test(file, nul_octet_is_an_error)
{
	static const char text[] = "[destinations]\nexample.com tls=no\0 tls=5\n";
	esa_config *cfg = esa_config_new();

	cr_expect_eq(esa_config_load_text(cfg, text, sizeof(text) - 1, "t.conf"), -1);
	cr_expect_str_eq(cfg->err, "t.conf:2: NUL octet in line");
	esa_config_free(cfg);
}

Test(file, all_or_nothing)
{
	esa_config *cfg = esa_config_new();

	cr_assert_eq(load(cfg, spec_example), 0, "%s", cfg->err);
	cr_expect_eq(load(cfg, "[destinations]\nexample.com tls=no\ndefault tls=no\n"
			  "[routes]\nexample.com 192.0.2.99\nexample.net bad..host\n"), -1);
	cr_expect_eq(esa_config_tls_for(cfg, "example.com"), ESA_TLS_REQUIRED_VERIFY);
	cr_expect_eq(esa_config_tls_for(cfg, "example.net"), ESA_TLS_PREFERRED);
	cr_expect_eq(esa_config_routes_for(cfg, "example.com")->n, 3);
	esa_config_free(cfg);
}

Test(file, second_file_replaces_same_keys)
{
	esa_config *cfg = esa_config_new();
	const struct esa_domain_routes *e;

	cr_assert_eq(load(cfg, spec_example), 0, "%s", cfg->err);
	cr_assert_eq(load(cfg, "[destinations]\nexample.com tls=no\nexample.net tls=4\n"
			  "[routes]\nexample.com 192.0.2.99\n"), 0, "%s", cfg->err);
	cr_expect_eq(esa_config_tls_for(cfg, "example.com"), ESA_TLS_NO);
	cr_expect_eq(esa_config_tls_for(cfg, "example.net"), ESA_TLS_PREFERRED_VERIFY);
	cr_expect_eq(esa_config_tls_for(cfg, "x.example.org"), ESA_TLS_REQUIRED_VERIFY_HOSTED);
	cr_expect_eq(esa_config_tls_for(cfg, "example.info"), ESA_TLS_PREFERRED);
	e = esa_config_routes_for(cfg, "example.com");
	cr_assert_not_null(e);
	cr_expect_eq(e->n, 1, "a file's routes entry replaces the domain's routes");
	cr_expect_str_eq(e->routes[0].host, "192.0.2.99");
	esa_config_free(cfg);
}

Test(file, hostile_long_lines)
{
	size_t big = 200000, i;
	char *text = malloc(big + 64);
	esa_config *cfg = esa_config_new();

	/* a long domain */
	strcpy(text, "[destinations]\n");
	memset(text + 15, 'a', big);
	strcpy(text + 15 + big, " tls=no\n");
	cr_expect_eq(load(cfg, text), -1);
	cr_expect_lt(strlen(cfg->err), ESA_ERR_MAX);
	cr_expect_eq(strncmp(cfg->err, "t.conf:2: bad destination 'aaaa", 31), 0, "%s",
		     cfg->err);
	/* a long option value */
	strcpy(text, "[destinations]\nexample.com tls=");
	memset(text + 31, 'r', big);
	text[31 + big] = '\0';
	cr_expect_eq(load(cfg, text), -1);
	cr_expect_not_null(strstr(cfg->err, "t.conf:2: unknown TLS setting 'rrr"), "%s",
			   cfg->err);
	/* a long route list, made of many short bad items */
	strcpy(text, "[routes]\nexample.com ");
	for (i = 21; i < big; i++)
		text[i] = (i % 2) ? ',' : 'x';
	text[big] = '\0';
	cr_expect_eq(load(cfg, text), -1);
	cr_expect_not_null(strstr(cfg->err, "too many routes"), "%s", cfg->err);
	/* control characters stay out of the error line */
	cr_expect_eq(load(cfg, "[destinations]\nexa\x1bmple.com\t\vtls=no\n"), -1);
	for (i = 0; cfg->err[i]; i++)
		cr_expect_geq((unsigned char)cfg->err[i], 0x20, "%s", cfg->err);
	free(text);
	esa_config_free(cfg);
}

/* Deterministic garbage made of the file's own vocabulary: never a crash. */
Test(file, random_input_never_crashes)
{
	static const char *const words[] = {
		"[destinations]", "[routes]", "[", "]", "default", ".example.org",
		"example.com", "tls=", "required-verify", "5", " ", "\t", "\n", "\r",
		"#", ",", ":", "/pri=", "[2001:db8::1]", "192.0.2.7", "65536", "\0",
		"=", "\xc3\xbc", "..", "*.", "mx1.example.net", "99999", "",
	};
	unsigned long long x = 0x2545F4914F6CDD1DULL;
	char buf[2048];
	size_t round, n, w;

	for (round = 0; round < 3000; round++) {
		esa_config *cfg = esa_config_new();

		for (n = 0; n < sizeof(buf) - 32;) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			if ((x >> 56) == 0)
				break;
			w = (size_t)(x % (sizeof(words) / sizeof(words[0])));
			if (w == 21) {
				buf[n++] = '\0';
				continue;
			}
			memcpy(buf + n, words[w], strlen(words[w]));
			n += strlen(words[w]);
		}
		if (esa_config_load_text(cfg, buf, n, "fuzz") != 0)
			cr_expect_eq(strncmp(cfg->err, "fuzz:", 5), 0, "%s", cfg->err);
		(void)esa_config_tls_for(cfg, "a.example.org");
		(void)esa_config_routes_for(cfg, "example.com");
		esa_config_free(cfg);
	}
}

Test(file, load_file_names_the_path)
{
	esa_config *cfg = esa_config_new();
	char *dir = tmpdir();
	const char *good = write_file(dir, "esa.conf", spec_example, sizeof(spec_example) - 1);
	const char *bad = write_file(dir, "bad.conf", "[destinations]\n\nexample.com tls=maybe\n",
				     38);
	char want[300];

	cr_assert_eq(esa_config_load_file(cfg, good), 0, "%s", cfg->err);
	cr_expect_eq(esa_config_tls_for(cfg, "a.example.org"), ESA_TLS_REQUIRED_VERIFY_HOSTED);
	cr_expect_eq(esa_config_load_file(cfg, bad), -1);
	snprintf(want, sizeof(want), "%s:3: unknown TLS setting 'maybe'", bad);
	cr_expect_eq(strncmp(cfg->err, want, strlen(want)), 0, "%s", cfg->err);
	cr_expect_eq(esa_config_tls_for(cfg, "example.com"), ESA_TLS_REQUIRED_VERIFY);
	/* not there, a directory, nothing given */
	snprintf(want, sizeof(want), "%s/missing.conf", dir);
	cr_expect_eq(esa_config_load_file(cfg, want), -1);
	cr_expect_not_null(strstr(cfg->err, "missing.conf: cannot open: No such file"),
			   "%s", cfg->err);
	cr_expect_eq(esa_config_load_file(cfg, dir), -1);
	cr_expect_not_null(strstr(cfg->err, "cannot read: Is a directory"), "%s", cfg->err);
	cr_expect_eq(esa_config_load_file(cfg, NULL), -1);
	cr_expect_eq(esa_config_load_file(cfg, ""), -1);
	esa_config_free(cfg);
}

Test(file, unreadable_file)
{
	esa_config *cfg = esa_config_new();
	char *dir = tmpdir();
	const char *path = write_file(dir, "secret.conf", "[destinations]\n", 15);

	cr_assert_eq(chmod(path, 0), 0);
	if (geteuid() == 0) {
		/* root reads anything: prove the open error path another way */
		cr_expect_eq(esa_config_load_file(cfg, "/proc/self/mem"), -1);
		cr_expect_not_null(strstr(cfg->err, "/proc/self/mem: cannot read: "),
				   "%s", cfg->err);
	} else {
		cr_expect_eq(esa_config_load_file(cfg, path), -1);
		cr_expect_not_null(strstr(cfg->err, "cannot open: Permission denied"),
				   "%s", cfg->err);
	}
	esa_config_free(cfg);
}

Test(file, too_large)
{
	esa_config *cfg = esa_config_new();
	char *dir = tmpdir();
	size_t big = 1024 * 1024 + 1;
	char *text = malloc(big);
	const char *path, *exact;

	memset(text, '#', big);
	path = write_file(dir, "big.conf", text, big);
	exact = write_file(dir, "exact.conf", text, big - 1);
	cr_expect_eq(esa_config_load_file(cfg, path), -1);
	cr_expect_not_null(strstr(cfg->err, "file too large"), "%s", cfg->err);
	cr_expect_eq(esa_config_load_file(cfg, exact), 0, "%s", cfg->err);
	free(text);
	esa_config_free(cfg);
}
