/*
 * test_config.c - settings, routes and the destinations file (SPEC 5, 8.2,
 * 8.3, 8.4): callback/config.c
 *
 * Tables where the spec is a table: the six TLS settings both ways, the
 * route syntax, most-specific-wins, the nameserver forms, the file errors.
 * No test needs the network: resolvers are only created, never queried.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

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
static int load(esa_config *cfg, const char *text)
{
	return esa_config_load_text(cfg, text, strlen(text), "t.conf");
}

/* tmpdir - a fresh private directory for one test */
static char *tmpdir(void)
{
	static char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/test_config.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	return dir;
}

/* write_file - dir/name with the given contents; returns the path */
static char *write_file(const char *dir, const char *name, const char *text,
			size_t len)
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

/* ---- SPEC 5: the six settings, names and numbers ----------------------- */

static const struct {
	enum esa_tls tls;
	const char *name, *number, *upper;
	bool verifies;
} tls_rows[] = {
	{ ESA_TLS_NO, "no", "1", "NO", false },
	{ ESA_TLS_PREFERRED, "preferred", "2", "Preferred", false },
	{ ESA_TLS_REQUIRED, "required", "3", "REQUIRED", false },
	{ ESA_TLS_PREFERRED_VERIFY, "preferred-verify", "4", "Preferred-Verify", true },
	{ ESA_TLS_REQUIRED_VERIFY, "required-verify", "5", "REQUIRED-VERIFY", true },
	{ ESA_TLS_REQUIRED_VERIFY_HOSTED, "required-verify-hosted", "6",
	  "Required-Verify-HOSTED", true },
};

Test(tls, names_and_numbers_both_ways)
{
	enum esa_tls t;
	size_t i;

	for (i = 0; i < sizeof(tls_rows) / sizeof(tls_rows[0]); i++) {
		cr_expect_str_eq(esa_tls_name(tls_rows[i].tls), tls_rows[i].name);
		cr_expect_eq((size_t)tls_rows[i].tls, i + 1, "setting numbers are 1..6");
		t = 0;
		cr_expect_eq(esa_tls_parse(tls_rows[i].name, &t), 0, "%s", tls_rows[i].name);
		cr_expect_eq(t, tls_rows[i].tls, "%s", tls_rows[i].name);
		t = 0;
		cr_expect_eq(esa_tls_parse(tls_rows[i].number, &t), 0, "%s", tls_rows[i].number);
		cr_expect_eq(t, tls_rows[i].tls, "%s", tls_rows[i].number);
		t = 0;
		cr_expect_eq(esa_tls_parse(tls_rows[i].upper, &t), 0, "%s", tls_rows[i].upper);
		cr_expect_eq(t, tls_rows[i].tls, "%s", tls_rows[i].upper);
		cr_expect_eq(esa_tls_verifies(tls_rows[i].tls), tls_rows[i].verifies,
			     "%s", tls_rows[i].name);
	}
}

Test(tls, bad_names_rejected)
{
	static const char *const bad[] = {
		"", "0", "7", "10", "01", "-1", "+5", "5 ", " 5", "1.0",
		"required_verify", "requried-verify", "required-verify ",
		" required", "verify", "hosted", "yes", "none", "required verify",
		"required-verify-hosted-x", "required-verif", "preferredverify",
		"requ\xc4\xb1red",	/* dotless i: no locale folding */
	};
	enum esa_tls t = ESA_TLS_PREFERRED;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(esa_tls_parse(bad[i], &t), -1, "'%s'", bad[i]);
		cr_expect_eq(t, ESA_TLS_PREFERRED, "'%s' left *out alone", bad[i]);
	}
	cr_expect_eq(esa_tls_parse(NULL, &t), -1);
}

Test(tls, out_of_range_values)
{
	cr_expect_str_eq(esa_tls_name((enum esa_tls)0), "invalid");
	cr_expect_str_eq(esa_tls_name((enum esa_tls)7), "invalid");
	cr_expect_not(esa_tls_verifies((enum esa_tls)0));
	cr_expect_not(esa_tls_verifies((enum esa_tls)7));
}

/* SPEC 5's table, row by row: which settings verify, by which algorithm,
 * which need TLS, which refuse a failed verification */
Test(tls, spec5_table_predicates)
{
	static const struct {
		enum esa_tls tls;
		bool verifies, requires_tls, refuses;
		unsigned modes;
	} rows[] = {
		{ ESA_TLS_NO, false, false, false, 0 },
		{ ESA_TLS_PREFERRED, false, false, false, 0 },
		{ ESA_TLS_REQUIRED, false, true, false, 0 },
		{ ESA_TLS_PREFERRED_VERIFY, true, false, false, 1u << ESA_MODE_VERIFY },
		{ ESA_TLS_REQUIRED_VERIFY, true, true, true, 1u << ESA_MODE_VERIFY },
		{ ESA_TLS_REQUIRED_VERIFY_HOSTED, true, true, true,
		  1u << ESA_MODE_HOSTED },
		{ (enum esa_tls)0, false, false, false, 0 },
		{ (enum esa_tls)7, false, false, false, 0 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum esa_tls t = rows[i].tls;

		cr_expect_eq(esa_tls_valid(t), i < 6, "row %zu", i);
		cr_expect_eq(esa_tls_verifies(t), rows[i].verifies, "row %zu", i);
		cr_expect_eq(esa_tls_requires_tls(t), rows[i].requires_tls,
			     "row %zu", i);
		cr_expect_eq(esa_tls_refuses_failure(t), rows[i].refuses,
			     "row %zu", i);
		cr_expect_eq(esa_tls_modes(t), rows[i].modes, "row %zu", i);
		if (rows[i].modes != 0)
			cr_expect_eq(1u << esa_tls_mode(t), rows[i].modes,
				     "row %zu", i);
	}
}

Test(names, mode_and_source)
{
	cr_expect_str_eq(esa_mode_name(ESA_MODE_VERIFY), "verify");
	cr_expect_str_eq(esa_mode_name(ESA_MODE_HOSTED), "hosted");
	cr_expect_str_eq(esa_mode_name((enum esa_mode)5), "invalid");
	cr_expect_str_eq(esa_source_name(ESA_SOURCE_NONE), "none");
	cr_expect_str_eq(esa_source_name(ESA_SOURCE_RECIPIENT), "recipient-domain");
	cr_expect_str_eq(esa_source_name(ESA_SOURCE_PTR), "ptr");
	cr_expect_str_eq(esa_source_name(ESA_SOURCE_MX), "mx");
	cr_expect_str_eq(esa_source_name(ESA_SOURCE_ROUTE), "route");
	cr_expect_str_eq(esa_source_name((enum esa_source)9), "invalid");
}

/* ---- the config object and its setters ---------------------------------- */

Test(config, defaults)
{
	esa_config *cfg = esa_config_new();

	cr_assert_not_null(cfg);
	cr_expect_eq(cfg->tls, ESA_TLS_REQUIRED_VERIFY);
	cr_expect_eq(cfg->dns_budget_ms, 5000);
	cr_expect_eq(cfg->refs, 1);
	cr_expect_str_eq(esa_config_error(cfg), "");
	cr_expect_str_eq(cfg->nameserver, "");
	cr_expect_str_eq(cfg->dns_file, "");
	cr_expect_str_eq(cfg->cafile, "");
	cr_expect_eq(esa_config_tls_for(cfg, "example.com"), ESA_TLS_REQUIRED_VERIFY);
	cr_expect_null(esa_config_routes_for(cfg, "example.com"));
	esa_config_free(cfg);
	esa_config_free(NULL);
	cr_expect_str_eq(esa_config_error(NULL), "no configuration");
}

Test(config, set_tls)
{
	esa_config *cfg = esa_config_new();

	cr_expect_eq(esa_config_set_tls(cfg, "preferred-verify"), 0);
	cr_expect_eq(cfg->tls, ESA_TLS_PREFERRED_VERIFY);
	cr_expect_eq(esa_config_set_tls(cfg, "6"), 0);
	cr_expect_eq(esa_config_tls_for(cfg, "example.com"), ESA_TLS_REQUIRED_VERIFY_HOSTED);
	cr_expect_eq(esa_config_set_tls(cfg, "requried-verify"), -1);
	cr_expect_eq(cfg->tls, ESA_TLS_REQUIRED_VERIFY_HOSTED, "unchanged on error");
	cr_expect_str_eq(esa_config_error(cfg),
			 "unknown TLS setting 'requried-verify' (expected no, preferred, "
			 "required, preferred-verify, required-verify, "
			 "required-verify-hosted or 1-6)");
	/* the error is sticky: a later success does not clear it */
	cr_expect_eq(esa_config_set_tls(cfg, "no"), 0);
	cr_expect_str_neq(esa_config_error(cfg), "");
	cr_expect_eq(esa_config_set_tls(cfg, NULL), -1);
	cr_expect_eq(esa_config_set_tls(cfg, "x\ny"), -1);
	cr_expect_null(strchr(esa_config_error(cfg), '\n'), "one line");
	esa_config_free(cfg);
}

Test(config, references)
{
	esa_config *cfg = esa_config_new();

	__atomic_add_fetch(&cfg->refs, 1, __ATOMIC_RELAXED);	/* an SSL_CTX */
	__atomic_add_fetch(&cfg->refs, 1, __ATOMIC_RELAXED);	/* another */
	cr_assert_eq(load(cfg, spec_example), 0);
	esa_config_free(cfg);
	esa_config_free(cfg);
	cr_expect_eq(cfg->refs, 1, "still alive for the last holder");
	cr_expect_eq(esa_config_tls_for(cfg, "example.com"), ESA_TLS_REQUIRED_VERIFY);
	esa_config_free(cfg);	/* ASan/LSan checks the rest */
}

/* SPEC 6, 8.2, 8.3: "IP[:PORT]", IPv4 or IPv6; kept in a canonical form */
Test(config, nameserver_table)
{
	static const struct {
		const char *in;
		int ok;
		const char *stored;	/* or a piece of the error */
	} rows[] = {
		{ "127.0.0.1", 0, "127.0.0.1" },
		{ "127.0.0.1:53", 0, "127.0.0.1:53" },
		{ "192.0.2.53:5353", 0, "192.0.2.53:5353" },
		{ "127.0.0.1:65535", 0, "127.0.0.1:65535" },
		{ "127.0.0.1:0053", 0, "127.0.0.1:53" },
		{ "::1", 0, "::1" },
		{ "[::1]", 0, "::1" },
		{ "[::1]:5353", 0, "[::1]:5353" },
		{ "2001:DB8::53", 0, "2001:db8::53" },
		{ "[2001:db8:0::53]:53", 0, "[2001:db8::53]:53" },
		{ "2001:db8::1:53", 0, "2001:db8::1:53" },	/* bare v6: never a port */
		{ "[192.0.2.53]:53", 0, "192.0.2.53:53" },
		{ "::ffff:192.0.2.1", 0, "::ffff:192.0.2.1" },
		{ "127.0.0.1:0", -1, "port out of range" },
		{ "127.0.0.1:65536", -1, "port out of range" },
		{ "127.0.0.1:99999999999999999999", -1, "port out of range" },
		{ "127.0.0.1:", -1, "missing port" },
		{ "127.0.0.1:-1", -1, "port is not a number" },
		{ "127.0.0.1:5x", -1, "port is not a number" },
		{ "127.0.0.1: 53", -1, "port is not a number" },
		{ "[::1]:", -1, "missing port" },
		{ "[::1", -1, "missing ']'" },
		{ "[::1]53", -1, "text after ']'" },
		{ "[]:53", -1, "missing host" },
		{ ":53", -1, "missing host" },
		{ "ns1.example.net", -1, "not an IPv4 or IPv6 address" },
		{ "ns1.example.net:53", -1, "not an IPv4 or IPv6 address" },
		{ "[ns1.example.net]:53", -1, "not an IPv4 or IPv6 address" },
		{ "256.1.1.1", -1, "not an IPv4 or IPv6 address" },
		{ "127.1", -1, "not an IPv4 or IPv6 address" },
		{ " 127.0.0.1", -1, "not an IPv4 or IPv6 address" },
		{ "fe80::1%eth0", -1, "not an IPv4 or IPv6 address" },
		{ "1:2:3:4:5:6:7:8:9", -1, "not an IPv4 or IPv6 address" },
	};
	esa_config *cfg = esa_config_new();
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cr_expect_eq(esa_config_set_nameserver(cfg, "192.0.2.1"), 0);
		cr_expect_eq(esa_config_set_nameserver(cfg, rows[i].in), rows[i].ok,
			     "'%s'", rows[i].in);
		if (rows[i].ok == 0) {
			cr_expect_str_eq(cfg->nameserver, rows[i].stored, "'%s'", rows[i].in);
			/* the stored form is one the libresolv resolver takes */
			cr_expect_not_null(esa_config_resolver(cfg), "'%s': %s",
					   rows[i].in, cfg->err);
		} else {
			cr_expect_str_eq(cfg->nameserver, "192.0.2.1", "'%s' unchanged",
					 rows[i].in);
			cr_expect_not_null(strstr(cfg->err, rows[i].stored),
					   "'%s': %s", rows[i].in, cfg->err);
			cr_expect_not_null(strstr(cfg->err, "bad nameserver '"),
					   "'%s': %s", rows[i].in, cfg->err);
		}
	}
	cr_expect_eq(esa_config_set_nameserver(cfg, ""), 0);
	cr_expect_str_eq(cfg->nameserver, "", "\"\" means the system's list");
	cr_expect_eq(esa_config_set_nameserver(cfg, NULL), 0);
	esa_config_free(cfg);
}

Test(config, dns_budget_table)
{
	static const struct {
		unsigned ms;
		int ok;
	} rows[] = {
		{ 0, -1 }, { 1, 0 }, { 250, 0 }, { 5000, 0 }, { 60000, 0 },
		{ 60001, -1 }, { 4000000000u, -1 },
	};
	esa_config *cfg = esa_config_new();
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cfg->dns_budget_ms = 777;
		cr_expect_eq(esa_config_set_dns_budget_ms(cfg, rows[i].ms), rows[i].ok,
			     "%u", rows[i].ms);
		cr_expect_eq(cfg->dns_budget_ms, rows[i].ok == 0 ? rows[i].ms : 777,
			     "%u", rows[i].ms);
	}
	cr_expect_not_null(strstr(esa_config_error(cfg), "4000000000"));
	esa_config_free(cfg);
}

Test(config, dns_file_checked_now)
{
	esa_config *cfg = esa_config_new();
	char *dir = tmpdir();
	char *path = write_file(dir, "zone", "example.com. MX 10 mx.example.net.\n", 35);
	char *missing = NULL;

	cr_assert(asprintf(&missing, "%s/missing", dir) > 0);
	cr_expect_eq(esa_config_set_dns_file(cfg, path), 0);
	cr_expect_str_eq(cfg->dns_file, path);
	cr_expect_eq(esa_config_set_dns_file(cfg, missing), -1);
	cr_expect_str_eq(cfg->dns_file, path, "unchanged on error");
	cr_expect_not_null(strstr(cfg->err, missing), "%s", cfg->err);
	cr_expect_not_null(strstr(cfg->err, "No such file"), "%s", cfg->err);
	cr_expect_eq(esa_config_set_dns_file(cfg, dir), -1);
	cr_expect_not_null(strstr(cfg->err, "is a directory"), "%s", cfg->err);
	cr_expect_eq(esa_config_set_dns_file(cfg, ""), 0);
	cr_expect_str_eq(cfg->dns_file, "");
	unlink(path);
	rmdir(dir);
	free(path);
	free(missing);
	esa_config_free(cfg);
}

Test(config, trust_store_checked_now)
{
	esa_config *cfg = esa_config_new();
	char *dir = tmpdir();
	char *ca = write_file(dir, "ca.pem", "x", 1);
	char *crl = write_file(dir, "crl.pem", "y", 1);

	cr_expect_eq(esa_config_set_trust(cfg, ca, dir, crl), 0);
	cr_expect_str_eq(cfg->cafile, ca);
	cr_expect_str_eq(cfg->capath, dir);
	cr_expect_str_eq(cfg->crlfile, crl);
	/* each kind checked: a file where a directory belongs and back */
	cr_expect_eq(esa_config_set_trust(cfg, dir, NULL, NULL), -1);
	cr_expect_not_null(strstr(cfg->err, "CA file"), "%s", cfg->err);
	cr_expect_not_null(strstr(cfg->err, "is a directory"), "%s", cfg->err);
	cr_expect_eq(esa_config_set_trust(cfg, NULL, ca, NULL), -1);
	cr_expect_not_null(strstr(cfg->err, "not a directory"), "%s", cfg->err);
	cr_expect_eq(esa_config_set_trust(cfg, NULL, NULL, "/nonexistent/crl.pem"), -1);
	cr_expect_not_null(strstr(cfg->err, "CRL file '/nonexistent/crl.pem'"), "%s",
			   cfg->err);
	/* a failed call changes nothing */
	cr_expect_str_eq(cfg->cafile, ca);
	cr_expect_str_eq(cfg->crlfile, crl);
	cr_expect_eq(esa_config_set_trust(cfg, ca, NULL, NULL), 0);
	cr_expect_str_eq(cfg->capath, "", "NULL leaves it unset");
	unlink(ca);
	unlink(crl);
	rmdir(dir);
	free(ca);
	free(crl);
	esa_config_free(cfg);
}

Test(config, resolver_made_once)
{
	esa_config *cfg = esa_config_new();
	char *dir = tmpdir();
	const char zone[] = "example.com. 300 IN MX 10 mx.example.net.\n"
			    "mx.example.net. 300 IN A 192.0.2.1\n";
	char *path = write_file(dir, "zone", zone, sizeof(zone) - 1);
	esa_resolver *r;

	cr_assert_eq(esa_config_set_dns_file(cfg, path), 0);
	r = esa_config_resolver(cfg);
	cr_assert_not_null(r, "%s", cfg->err);
	cr_expect_eq(esa_config_resolver(cfg), r, "cached");
	unlink(path);
	rmdir(dir);
	free(path);
	esa_config_free(cfg);
}

Test(config, resolver_error_reported)
{
	esa_config *cfg = esa_config_new();
	char *dir = tmpdir();
	const char zone[] = "this is not a record\n";
	char *path = write_file(dir, "zone", zone, sizeof(zone) - 1);

	cr_assert_eq(esa_config_set_dns_file(cfg, path), 0);
	cr_expect_null(esa_config_resolver(cfg));
	cr_expect_not_null(strstr(cfg->err, "DNS: "), "%s", cfg->err);
	cr_expect_not_null(strstr(cfg->err, path), "%s", cfg->err);
	unlink(path);
	rmdir(dir);
	free(path);
	esa_config_free(cfg);
}

Test(config, resolver_libresolv_with_nameserver)
{
	esa_config *cfg = esa_config_new();
	esa_resolver *r;

	cr_assert_eq(esa_config_set_nameserver(cfg, "[::1]:5353"), 0);
	r = esa_config_resolver(cfg);	/* made, never asked */
	cr_expect_not_null(r, "%s", cfg->err);
	cr_expect_eq(esa_config_resolver(cfg), r);
	/* a new DNS setting drops the old resolver */
	cr_assert_eq(esa_config_set_nameserver(cfg, "127.0.0.1:5353"), 0);
	cr_expect_null(cfg->resolver);
	cr_expect_not_null(esa_config_resolver(cfg), "%s", cfg->err);
	esa_config_free(cfg);
}

/* resolver_thread - ask for the shared resolver */
static void *resolver_thread(void *arg)
{
	return esa_config_resolver(arg);
}

Test(config, resolver_made_once_across_threads)
{
	esa_config *cfg = esa_config_new();
	char *dir = tmpdir();
	const char zone[] = "example.com. 300 IN A 192.0.2.1\n";
	char *path = write_file(dir, "zone", zone, sizeof(zone) - 1);
	pthread_t th[8];
	void *got[8];
	size_t i;

	cr_assert_eq(esa_config_set_dns_file(cfg, path), 0);
	for (i = 0; i < 8; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, resolver_thread, cfg), 0);
	for (i = 0; i < 8; i++)
		pthread_join(th[i], &got[i]);
	cr_assert_not_null(got[0], "%s", cfg->err);
	for (i = 1; i < 8; i++)
		cr_expect_eq(got[i], got[0], "thread %zu", i);
	unlink(path);
	rmdir(dir);
	free(path);
	esa_config_free(cfg);
}

/* ---- routes: SPEC 8.2 --route, 8.3 ESA_ROUTES, 8.4 [routes] ------------ */

struct want_route {
	const char *host;
	bool is_ip;
	int family;
	int port, pri;
};

static const struct {
	const char *text;
	int ok;
	size_t n;
	struct want_route r[4];
	const char *err;	/* a piece of the reason when ok is -1 */
} route_rows[] = {
	/* FQDN hosts, normalised */
	{ "mx1.example.net", 0, 1, { { "mx1.example.net", false, 0, 0, 0 } }, NULL },
	{ "MX1.Example.NET.", 0, 1, { { "mx1.example.net", false, 0, 0, 0 } }, NULL },
	{ "mx1.example.net:25", 0, 1, { { "mx1.example.net", false, 0, 25, 0 } }, NULL },
	{ "mx1.example.net:587/pri=3", 0, 1,
	  { { "mx1.example.net", false, 0, 587, 3 } }, NULL },
	{ "mx1.example.net/pri=65535", 0, 1,
	  { { "mx1.example.net", false, 0, 0, 65535 } }, NULL },
	{ "mx1.example.net/PRI=7", 0, 1, { { "mx1.example.net", false, 0, 0, 7 } }, NULL },
	{ "b\xc3\xbc" "cher.example", 0, 1,
	  { { "xn--bcher-kva.example", false, 0, 0, 0 } }, NULL },
	/* IPv4 literals */
	{ "192.0.2.7", 0, 1, { { "192.0.2.7", true, AF_INET, 0, 0 } }, NULL },
	{ "192.0.2.7:2525", 0, 1, { { "192.0.2.7", true, AF_INET, 2525, 0 } }, NULL },
	{ "[192.0.2.7]:25", 0, 1, { { "192.0.2.7", true, AF_INET, 25, 0 } }, NULL },
	{ "192.0.2.7/pri=1", 0, 1, { { "192.0.2.7", true, AF_INET, 0, 1 } }, NULL },
	/* IPv6 literals: bracketed when a port follows, bare without */
	{ "[2001:db8::1]:25", 0, 1, { { "2001:db8::1", true, AF_INET6, 25, 0 } }, NULL },
	{ "[2001:DB8:0:0::1]", 0, 1, { { "2001:db8::1", true, AF_INET6, 0, 0 } }, NULL },
	{ "2001:db8::1", 0, 1, { { "2001:db8::1", true, AF_INET6, 0, 0 } }, NULL },
	{ "2001:db8::1/pri=4", 0, 1, { { "2001:db8::1", true, AF_INET6, 0, 4 } }, NULL },
	{ "[2001:db8::1]:2525/pri=9", 0, 1,
	  { { "2001:db8::1", true, AF_INET6, 2525, 9 } }, NULL },
	/* lists, white space around items, sorted by priority */
	{ "a.example.net,b.example.net", 0, 2,
	  { { "a.example.net", false, 0, 0, 0 }, { "b.example.net", false, 0, 0, 0 } },
	  NULL },
	{ "  a.example.net ,\tb.example.net:26/pri=2 , [::1]:25/pri=1  ", 0, 3,
	  { { "a.example.net", false, 0, 0, 0 }, { "::1", true, AF_INET6, 25, 1 },
	    { "b.example.net", false, 0, 26, 2 } }, NULL },
	{ "mx1.example.net:25/pri=0, mx2.example.net/pri=10, 192.0.2.7", 0, 3,
	  { { "mx1.example.net", false, 0, 25, 0 }, { "192.0.2.7", true, AF_INET, 0, 0 },
	    { "mx2.example.net", false, 0, 0, 10 } }, NULL },
	/* ports */
	{ "mx1.example.net:1", 0, 1, { { "mx1.example.net", false, 0, 1, 0 } }, NULL },
	{ "mx1.example.net:65535", 0, 1, { { "mx1.example.net", false, 0, 65535, 0 } }, NULL },
	{ "mx1.example.net:0", -1, 0, { { 0 } },
	  "bad route 'mx1.example.net:0': port out of range" },
	{ "mx1.example.net:99999", -1, 0, { { 0 } },
	  "bad route 'mx1.example.net:99999': port out of range" },
	{ "mx1.example.net:", -1, 0, { { 0 } }, "missing port" },
	{ "mx1.example.net:smtp", -1, 0, { { 0 } }, "port is not a number" },
	{ "mx1.example.net:+25", -1, 0, { { 0 } }, "port is not a number" },
	{ "[2001:db8::1]:99999", -1, 0, { { 0 } }, "port out of range" },
	{ "[2001:db8::1]25", -1, 0, { { 0 } }, "text after ']'" },
	{ "[2001:db8::1", -1, 0, { { 0 } }, "missing ']'" },
	/* priorities */
	{ "mx1.example.net/pri=65536", -1, 0, { { 0 } }, "priority out of range" },
	{ "mx1.example.net/pri=-1", -1, 0, { { 0 } }, "priority is not a number" },
	{ "mx1.example.net/pri=", -1, 0, { { 0 } }, "priority is not a number" },
	{ "mx1.example.net/weight=5", -1, 0, { { 0 } }, "unknown option" },
	{ "mx1.example.net/pri=1/pri=2", -1, 0, { { 0 } }, "priority is not a number" },
	{ "mx1.example.net/", -1, 0, { { 0 } }, "unknown option" },
	/* hosts */
	{ "", -1, 0, { { 0 } }, "route 1 of 1 is empty" },
	{ "   ", -1, 0, { { 0 } }, "route 1 of 1 is empty" },
	{ "a.example.net,,b.example.net", -1, 0, { { 0 } }, "route 2 of 3 is empty" },
	{ "a.example.net,", -1, 0, { { 0 } }, "route 2 of 2 is empty" },
	{ ":25", -1, 0, { { 0 } }, "missing host" },
	{ "/pri=1", -1, 0, { { 0 } }, "missing host" },
	{ "mx1", -1, 0, { { 0 } }, "bad route 'mx1': invalid domain" },
	{ "a..example.net", -1, 0, { { 0 } }, "bad route 'a..example.net': invalid domain" },
	{ "*.example.net", -1, 0, { { 0 } }, "invalid domain" },
	{ "mx1.example.net mx2.example.net", -1, 0, { { 0 } }, "white space" },
	{ "mx1.example.net :25", -1, 0, { { 0 } }, "white space" },
	{ "192.0.2.300", -1, 0, { { 0 } }, "not a valid IPv4 address" },
	{ "192.0.2", -1, 0, { { 0 } }, "not a valid IPv4 address" },
	{ "[mx1.example.net]:25", -1, 0, { { 0 } }, "only IP addresses go in brackets" },
	{ "2001:db8::1:25:99999", -1, 0, { { 0 } }, "not a valid IPv6 address" },
	{ "mx1.example.net:25:26", -1, 0, { { 0 } }, "not a valid IPv6 address" },
	{ "a.example.net, b..example.net:25", -1, 0, { { 0 } },
	  "bad route 'b..example.net:25'" },
};

Test(routes, syntax_table)
{
	struct esa_route *r;
	char why[ESA_ERR_MAX];
	size_t i, j, n;
	int rc;

	for (i = 0; i < sizeof(route_rows) / sizeof(route_rows[0]); i++) {
		r = NULL;
		n = 99;
		why[0] = '\0';
		rc = esa_routes_parse(route_rows[i].text, &r, &n, why, sizeof(why));
		cr_expect_eq(rc, route_rows[i].ok, "'%s': %s", route_rows[i].text, why);
		if (rc != 0 || route_rows[i].ok != 0) {
			if (route_rows[i].err != NULL)
				cr_expect_not_null(strstr(why, route_rows[i].err),
						   "'%s': got '%s', want '%s'",
						   route_rows[i].text, why, route_rows[i].err);
			free(r);
			continue;
		}
		cr_expect_eq(n, route_rows[i].n, "'%s'", route_rows[i].text);
		for (j = 0; j < n && j < 4; j++) {
			const struct want_route *w = &route_rows[i].r[j];

			cr_expect_str_eq(r[j].host, w->host, "'%s' #%zu", route_rows[i].text, j);
			cr_expect_eq(r[j].is_ip, w->is_ip, "'%s' #%zu", route_rows[i].text, j);
			if (w->is_ip)
				cr_expect_eq(r[j].family, w->family, "'%s' #%zu",
					     route_rows[i].text, j);
			cr_expect_eq(r[j].port, w->port, "'%s' #%zu", route_rows[i].text, j);
			cr_expect_eq(r[j].pri, w->pri, "'%s' #%zu", route_rows[i].text, j);
		}
		free(r);
	}
}

Test(routes, ip_octets_filled)
{
	static const unsigned char v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	struct esa_route *r = NULL;
	char why[ESA_ERR_MAX];
	size_t n = 0;

	cr_assert_eq(esa_routes_parse("192.0.2.7, [2001:db8::1]:25", &r, &n, why,
				      sizeof(why)), 0, "%s", why);
	cr_assert_eq(n, 2);
	cr_expect_eq(memcmp(r[0].ip, "\xc0\x00\x02\x07", 4), 0);
	cr_expect_eq(memcmp(r[1].ip, v6, 16), 0);
	free(r);
}

/* SPEC 4.3: priority order, ties in configured order */
Test(routes, sort_is_stable)
{
	static const char *const want[] = {
		"b.example.net", "e.example.net", "d.example.net", "f.example.net",
		"a.example.net", "c.example.net", "g.example.net",
	};
	struct esa_route *r = NULL;
	char why[ESA_ERR_MAX];
	size_t n = 0, i;

	cr_assert_eq(esa_routes_parse("a.example.net/pri=5, b.example.net, "
				      "c.example.net/pri=5, d.example.net/pri=1, "
				      "e.example.net/pri=0, f.example.net/pri=1, "
				      "g.example.net/pri=5", &r, &n, why, sizeof(why)), 0,
		     "%s", why);
	cr_assert_eq(n, 7);
	for (i = 0; i < n; i++)
		cr_expect_str_eq(r[i].host, want[i], "position %zu", i);
	free(r);
}

Test(routes, many_and_too_many)
{
	char *text = malloc(1001 * 24 + 1), why[ESA_ERR_MAX];
	struct esa_route *r = NULL;
	size_t n = 0, i, o = 0;

	for (i = 0; i < 1000; i++)
		o += (size_t)sprintf(text + o, "%sh%zu.example/pri=%zu", i ? "," : "", i,
				     (1000 - i) % 7);
	cr_assert_eq(esa_routes_parse(text, &r, &n, why, sizeof(why)), 0, "%s", why);
	cr_expect_eq(n, 1000);
	for (i = 1; i < n; i++)
		cr_expect_leq(r[i - 1].pri, r[i].pri);
	free(r);
	r = NULL;
	sprintf(text + o, ",h.example");
	cr_expect_eq(esa_routes_parse(text, &r, &n, why, sizeof(why)), -1);
	cr_expect_not_null(strstr(why, "too many routes"), "%s", why);
	cr_expect_null(r);
	free(text);
}

Test(routes, null_arguments)
{
	struct esa_route *r = NULL;
	char why[ESA_ERR_MAX];
	size_t n = 0;

	cr_expect_eq(esa_routes_parse(NULL, &r, &n, why, sizeof(why)), -1);
	cr_expect_eq(esa_routes_parse("a.example", &r, &n, NULL, 0), 0);
	free(r);
	cr_expect_eq(esa_routes_parse("a", &r, &n, NULL, 0), -1, "no reason buffer");
}

Test(routes, reason_is_one_bounded_line)
{
	char text[4096], why[ESA_ERR_MAX];
	struct esa_route *r = NULL;
	size_t n;

	memset(text, 'a', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	text[100] = '\t';
	text[200] = '\x1b';
	cr_expect_eq(esa_routes_parse(text, &r, &n, why, sizeof(why)), -1);
	cr_expect_lt(strlen(why), 300, "%s", why);
	cr_expect_null(strchr(why, '\t'));
	cr_expect_null(strchr(why, '\x1b'));
	cr_expect_not_null(strstr(why, "..."), "%s", why);
}

Test(routes, add_routes_appends_and_normalises)
{
	esa_config *cfg = esa_config_new();
	const struct esa_domain_routes *e;

	cr_assert_eq(esa_config_add_routes(cfg, "Example.COM.", "b.example.net/pri=5"), 0,
		     "%s", cfg->err);
	cr_assert_eq(esa_config_add_routes(cfg, "example.com",
					   "a.example.net/pri=5, c.example.net"), 0,
		     "%s", cfg->err);
	e = esa_config_routes_for(cfg, "EXAMPLE.com.");
	cr_assert_not_null(e);
	cr_expect_str_eq(e->domain, "example.com");
	cr_assert_eq(e->n, 3);
	cr_expect_str_eq(e->routes[0].host, "c.example.net");
	cr_expect_str_eq(e->routes[1].host, "b.example.net", "earlier addition first");
	cr_expect_str_eq(e->routes[2].host, "a.example.net");
	cr_expect_null(esa_config_routes_for(cfg, "sub.example.com"), "exact domain only");
	cr_expect_null(esa_config_routes_for(cfg, "example.org"));
	cr_expect_null(esa_config_routes_for(cfg, NULL));
	cr_expect_null(esa_config_routes_for(cfg, "not a domain"));
	esa_config_free(cfg);
}

Test(routes, add_routes_errors)
{
	esa_config *cfg = esa_config_new();

	cr_expect_eq(esa_config_add_routes(cfg, "example.com", "mx1.example.net:99999"), -1);
	cr_expect_str_eq(cfg->err, "routes for example.com: bad route "
			 "'mx1.example.net:99999': port out of range (1-65535)");
	cr_expect_eq(esa_config_add_routes(cfg, "a..b", "mx1.example.net"), -1);
	cr_expect_not_null(strstr(cfg->err, "invalid domain 'a..b'"), "%s", cfg->err);
	cr_expect_eq(esa_config_add_routes(cfg, NULL, "mx1.example.net"), -1);
	cr_expect_eq(esa_config_add_routes(cfg, "example.com", NULL), -1);
	cr_expect_null(esa_config_routes_for(cfg, "example.com"), "nothing added");
	esa_config_free(cfg);
}

Test(routes, unicode_domain)
{
	esa_config *cfg = esa_config_new();

	cr_assert_eq(esa_config_add_routes(cfg, "b\xc3\xbc" "cher.example", "192.0.2.1"), 0,
		     "%s", cfg->err);
	cr_expect_not_null(esa_config_routes_for(cfg, "xn--bcher-kva.example"));
	cr_expect_not_null(esa_config_routes_for(cfg, "B\xc3\x9c" "CHER.example"));
	esa_config_free(cfg);
}

/* ---- the destinations and routes file: SPEC 8.4 -------------------------- */

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
	char *good = write_file(dir, "esa.conf", spec_example, sizeof(spec_example) - 1);
	char *bad = write_file(dir, "bad.conf", "[destinations]\n\nexample.com tls=maybe\n",
			       38);
	char want[300];

	cr_assert_eq(esa_config_load_file(cfg, good), 0, "%s", cfg->err);
	cr_expect_eq(esa_config_tls_for(cfg, "a.example.org"), ESA_TLS_REQUIRED_VERIFY_HOSTED);
	cr_expect_eq(esa_config_load_file(cfg, bad), -1);
	snprintf(want, sizeof(want), "%s:3: unknown TLS setting 'maybe'", bad);
	cr_expect_eq(strncmp(cfg->err, want, strlen(want)), 0, "%s", cfg->err);
	cr_expect_eq(esa_config_tls_for(cfg, "example.com"), ESA_TLS_REQUIRED_VERIFY);
	unlink(good);
	unlink(bad);
	free(good);
	free(bad);
	/* not there, a directory, nothing given */
	snprintf(want, sizeof(want), "%s/missing.conf", dir);
	cr_expect_eq(esa_config_load_file(cfg, want), -1);
	cr_expect_not_null(strstr(cfg->err, "missing.conf: cannot open: No such file"),
			   "%s", cfg->err);
	cr_expect_eq(esa_config_load_file(cfg, dir), -1);
	cr_expect_not_null(strstr(cfg->err, "cannot read: Is a directory"), "%s", cfg->err);
	cr_expect_eq(esa_config_load_file(cfg, NULL), -1);
	cr_expect_eq(esa_config_load_file(cfg, ""), -1);
	rmdir(dir);
	esa_config_free(cfg);
}

Test(file, unreadable_file)
{
	esa_config *cfg = esa_config_new();
	char *dir = tmpdir();
	char *path = write_file(dir, "secret.conf", "[destinations]\n", 15);

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
	unlink(path);
	rmdir(dir);
	free(path);
	esa_config_free(cfg);
}

Test(file, too_large)
{
	esa_config *cfg = esa_config_new();
	char *dir = tmpdir();
	size_t big = 1024 * 1024 + 1;
	char *text = malloc(big);
	char *path, *exact;

	memset(text, '#', big);
	path = write_file(dir, "big.conf", text, big);
	exact = write_file(dir, "exact.conf", text, big - 1);
	cr_expect_eq(esa_config_load_file(cfg, path), -1);
	cr_expect_not_null(strstr(cfg->err, "file too large"), "%s", cfg->err);
	cr_expect_eq(esa_config_load_file(cfg, exact), 0, "%s", cfg->err);
	unlink(path);
	unlink(exact);
	rmdir(dir);
	free(path);
	free(exact);
	free(text);
	esa_config_free(cfg);
}
