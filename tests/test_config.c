/*
 * test_config.c - the settings (SPEC 5, 8.2, 8.3): callback/config.c and
 * callback/tls.c.  The six TLS settings both ways and SPEC 5's table as
 * predicates, the mode and source names, defaults, the nameserver forms
 * and the DNS budget as tables, files checked when set, the resolver made
 * once.  Routes are in test_routes.c, the file in test_destinations.c.
 * No test needs the network: resolvers are only created, never queried.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "configfix.h"

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

TestSuite(config, .fini = tmpdir_remove);

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
	const char *path = write_file(dir, "zone", "example.com. MX 10 mx.example.net.\n", 35);
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
	free(missing);
	esa_config_free(cfg);
}

Test(config, trust_store_checked_now)
{
	esa_config *cfg = esa_config_new();
	char *dir = tmpdir();
	const char *ca = write_file(dir, "ca.pem", "x", 1);
	const char *crl = write_file(dir, "crl.pem", "y", 1);

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
	esa_config_free(cfg);
}

Test(config, resolver_made_once)
{
	esa_config *cfg = esa_config_new();
	char *dir = tmpdir();
	const char zone[] = "example.com. 300 IN MX 10 mx.example.net.\n"
			    "mx.example.net. 300 IN A 192.0.2.1\n";
	const char *path = write_file(dir, "zone", zone, sizeof(zone) - 1);
	esa_resolver *r;

	cr_assert_eq(esa_config_set_dns_file(cfg, path), 0);
	r = esa_config_resolver(cfg);
	cr_assert_not_null(r, "%s", cfg->err);
	cr_expect_eq(esa_config_resolver(cfg), r, "cached");
	esa_config_free(cfg);
}

Test(config, resolver_error_reported)
{
	esa_config *cfg = esa_config_new();
	char *dir = tmpdir();
	const char zone[] = "this is not a record\n";
	const char *path = write_file(dir, "zone", zone, sizeof(zone) - 1);

	cr_assert_eq(esa_config_set_dns_file(cfg, path), 0);
	cr_expect_null(esa_config_resolver(cfg));
	cr_expect_not_null(strstr(cfg->err, "DNS: "), "%s", cfg->err);
	cr_expect_not_null(strstr(cfg->err, path), "%s", cfg->err);
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
	const char *path = write_file(dir, "zone", zone, sizeof(zone) - 1);
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
	esa_config_free(cfg);
}
