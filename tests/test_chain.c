/*
 * test_chain.c - stage I outside a handshake (callback/chain.c): what a
 * chain that verified is remembered for, and when it must be verified again
 *
 * esa_chain_check() remembers a chain that verified against a
 * configuration's store (the shim's observe mode verifies every handshake's
 * chain a second time, against ESA's store).  The memo may only ever save
 * work: every case below where the verdict could differ must verify anew
 * (res->chain.memo false) and give the verdict a fresh verification gives.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "internal.h"
#include "pki.h"

static struct test_dir dir;
static struct test_ca root, other;
static char cafile[128], otherfile[128];
static esa_config *cfg;
static struct esa_result *res;

static void suite_init(void)
{
	cr_assert_eq(test_dir_new(&dir), 0);
	cr_assert_eq(test_ca_root(&root, "Chain Test Root", TEST_KEY_EC), 0);
	cr_assert_eq(test_ca_root(&other, "Other Root", TEST_KEY_EC), 0);
	test_dir_file(&dir, "ca.pem", cafile, sizeof(cafile));
	test_dir_file(&dir, "other.pem", otherfile, sizeof(otherfile));
	cr_assert_eq(test_write_cert(cafile, root.cert), 0);
	cr_assert_eq(test_write_cert(otherfile, other.cert), 0);
	cfg = esa_config_new();
	cr_assert_not_null(cfg);
	cr_assert_eq(esa_config_set_trust(cfg, cafile, NULL, NULL), 0);
	res = esa_result_new();
	cr_assert_not_null(res);
}

static void suite_fini(void)
{
	esa_result_free(res);
	esa_config_free(cfg);
	test_ca_free(&root);
	test_ca_free(&other);
	test_dir_remove(&dir);
}

TestSuite(chain, .init = suite_init, .fini = suite_fini, .timeout = 30);

/* leaf - a server certificate for mx.example.com from ca, valid from an
 * hour ago for not_after seconds (0: the default validity) */
static X509 *leaf(struct test_ca *ca, long not_after)
{
	static const struct test_name dns[] = {
		{ "mx.example.com", 0, TEST_STR_UTF8, false },
	};
	struct test_leaf_spec spec = { .dns = dns, .ndns = 1 };
	struct test_leaf l;
	X509 *cert;

	if (not_after != 0) {
		spec.validity_set = true;
		spec.not_before = -3600;
		spec.not_after = not_after;
	}
	cr_assert_eq(test_leaf_issue(&l, ca, &spec), 0);
	cert = l.cert;
	X509_up_ref(cert);
	test_leaf_free(&l);
	return cert;
}

/* check - esa_chain_check of cert alone; its result code */
static int check(X509 *cert, long long at)
{
	return esa_chain_check(cfg, cert, NULL, at, -1, res);
}

/* copy - the same certificate as a new object, as a second handshake
 * would parse it off the wire */
static X509 *copy(X509 *cert)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	int len = i2d_X509(cert, &der);
	X509 *out;

	cr_assert_gt(len, 0);
	p = der;
	out = d2i_X509(NULL, &p, len);
	OPENSSL_free(der);
	cr_assert_not_null(out);
	return out;
}

Test(chain, second_check_of_a_good_chain_is_remembered)
{
	X509 *a = leaf(&root, 0), *b = copy(a);

	cr_assert_eq(check(a, 0), 0, "%s", res->chain.text);
	cr_expect_not(res->chain.memo, "the first check must verify");
	cr_assert_eq(check(b, 0), 0, "%s", res->chain.text);
	cr_expect(res->chain.memo, "the same chain again: remembered");
	cr_expect(res->chain.ok);
	cr_expect_eq(res->chain.error, X509_V_OK);
	cr_expect_str_eq(res->chain.text, "verified to a trusted CA");
	X509_free(a);
	X509_free(b);
}

Test(chain, another_certificate_is_verified_anew)
{
	X509 *a = leaf(&root, 0), *b = leaf(&root, 0);

	cr_assert_eq(check(a, 0), 0);
	cr_assert_eq(check(b, 0), 0);
	cr_expect_not(res->chain.memo, "a different leaf was remembered");
	X509_free(a);
	X509_free(b);
}

Test(chain, a_failed_chain_is_never_remembered)
{
	X509 *a = leaf(&other, 0);	/* not under the trusted root */

	for (int i = 0; i < 2; i++) {
		cr_expect_eq(check(a, 0), -1, "an untrusted chain passed");
		cr_expect_not(res->chain.memo, "a failure was remembered");
		cr_expect_neq(res->chain.error, X509_V_OK);
	}
	X509_free(a);
}

Test(chain, a_chosen_time_is_always_verified)
{
	X509 *a = leaf(&root, 0);

	cr_assert_eq(check(a, 0), 0);
	cr_expect_eq(check(a, (long long)time(NULL)), 0);
	cr_expect_not(res->chain.memo, "--at used the memo");
	/* ten years on the leaf has expired: a memo would have said yes */
	cr_expect_eq(check(a, (long long)time(NULL) + 3650LL * 86400), -1);
	cr_expect_eq(res->chain.error, X509_V_ERR_CERT_HAS_EXPIRED);
	X509_free(a);
}

Test(chain, new_trust_settings_forget_what_the_old_store_verified)
{
	X509 *a = leaf(&root, 0);

	cr_assert_eq(check(a, 0), 0);
	cr_assert_eq(esa_config_set_trust(cfg, otherfile, NULL, NULL), 0);
	cr_expect_eq(check(a, 0), -1, "verified against a store without its root");
	cr_expect_not(res->chain.memo);
	cr_assert_eq(esa_config_set_trust(cfg, cafile, NULL, NULL), 0);
	X509_free(a);
}

Test(chain, a_leaf_that_expires_is_not_remembered_past_its_notafter)
{
	X509 *a = leaf(&root, 2);	/* valid for two more seconds */

	cr_assert_eq(check(a, 0), 0, "%s", res->chain.text);
	sleep(3);
	cr_expect_eq(check(a, 0), -1, "an expired leaf passed");
	cr_expect_not(res->chain.memo);
	cr_expect_eq(res->chain.error, X509_V_ERR_CERT_HAS_EXPIRED);
	X509_free(a);
}

/* ---- the profile of stage I (SPEC 2, issue 11) ---------------------------
 * By default a stock client's flags: a root made as 'openssl req -x509'
 * makes it (no keyUsage) is a trust anchor like any other.  X509_STRICT and
 * partial chains are opt-in, and changing them forgets what was verified. */

static struct test_dir pdir;
static struct test_ca plain, pinter;
static char plainfile[128], interfile[128];
static esa_config *pcfg;
static struct esa_result *pres;

static void profile_init(void)
{
	cr_assert_eq(test_dir_new(&pdir), 0);
	cr_assert_eq(test_ca_root_plain(&plain, "Plain Root", TEST_KEY_EC), 0);
	cr_assert_eq(test_ca_intermediate(&pinter, &plain, "Plain Inter",
					  TEST_KEY_EC), 0);
	test_dir_file(&pdir, "plain.pem", plainfile, sizeof(plainfile));
	test_dir_file(&pdir, "inter.pem", interfile, sizeof(interfile));
	cr_assert_eq(test_write_cert(plainfile, plain.cert), 0);
	cr_assert_eq(test_write_cert(interfile, pinter.cert), 0);
	pcfg = esa_config_new();
	cr_assert_not_null(pcfg);
	cr_assert_eq(esa_config_set_trust(pcfg, plainfile, NULL, NULL), 0);
	pres = esa_result_new();
	cr_assert_not_null(pres);
}

static void profile_fini(void)
{
	esa_result_free(pres);
	esa_config_free(pcfg);
	test_ca_free(&plain);
	test_ca_free(&pinter);
	test_dir_remove(&pdir);
}

TestSuite(profile, .init = profile_init, .fini = profile_fini, .timeout = 30);

/* pcheck - cert with the intermediate as untrusted chain when with_inter */
static int pcheck(X509 *cert, bool with_inter)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	int rc;

	cr_assert_not_null(chain);
	if (with_inter)
		cr_assert(sk_X509_push(chain, pinter.cert) > 0);
	rc = esa_chain_check(pcfg, cert, chain, 0, -1, pres);
	sk_X509_free(chain);
	return rc;
}

/* has_flag - res's recorded flags name name */
static bool has_flag(const struct esa_result *r, const char *name)
{
	const char *names[16];
	size_t n = esa_chain_flag_names(r->chain.flags, names, 16);

	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

Test(profile, a_root_without_key_usage_is_accepted_by_default)
{
	X509 *a = leaf(&plain, 0);

	cr_expect_eq(pcheck(a, false), 0, "%s", pres->chain.text);
	cr_expect(pres->chain.ok);
	cr_expect_not(has_flag(pres, "x509_strict"));
	cr_expect_not(has_flag(pres, "partial_chain"));
	cr_expect_eq(pres->chain.auth_level, esa_chain_stock_auth_level(),
		     "security level %d, a stock client's is %d",
		     pres->chain.auth_level, esa_chain_stock_auth_level());
	X509_free(a);
}

Test(profile, strict_refuses_a_root_without_key_usage)
{
	X509 *a = leaf(&plain, 0);

	cr_assert_eq(pcheck(a, false), 0, "%s", pres->chain.text);
	cr_assert_eq(esa_config_set_chain_flags(pcfg, ESA_CHAIN_STRICT), 0);
	cr_expect_eq(pcheck(a, false), -1, "X509_STRICT accepted a CA "
		     "without keyUsage");
	cr_expect_not(pres->chain.memo, "the default profile's memo answered");
	cr_expect_eq(pres->chain.error, X509_V_ERR_CA_CERT_MISSING_KEY_USAGE,
		     "%s", pres->chain.text);
	cr_expect(has_flag(pres, "x509_strict"));
	cr_assert_eq(esa_config_set_chain_flags(pcfg, 0), 0);
	cr_expect_eq(pcheck(a, false), 0, "back to the default: %s",
		     pres->chain.text);
	X509_free(a);
}

Test(profile, partial_chain_makes_a_trusted_intermediate_an_anchor)
{
	X509 *a = leaf(&pinter, 0);

	cr_assert_eq(esa_config_set_trust(pcfg, interfile, NULL, NULL), 0);
	cr_expect_eq(pcheck(a, false), -1, "an intermediate was an anchor "
		     "without partial chains");
	cr_expect_eq(pres->chain.error,
		     X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, "%s",
		     pres->chain.text);
	cr_assert_eq(esa_config_set_chain_flags(pcfg, ESA_CHAIN_PARTIAL), 0);
	cr_expect_eq(pcheck(a, false), 0, "%s", pres->chain.text);
	cr_expect(has_flag(pres, "partial_chain"));
	cr_assert_eq(esa_config_set_chain_flags(pcfg, 0), 0);
	cr_assert_eq(esa_config_set_trust(pcfg, plainfile, NULL, NULL), 0);
	cr_expect_eq(pcheck(a, true), 0, "the full chain: %s",
		     pres->chain.text);
	X509_free(a);
}

Test(profile, unknown_flags_are_refused_and_change_nothing)
{
	X509 *a = leaf(&plain, 0);

	cr_expect_eq(esa_config_set_chain_flags(pcfg, 0x4u), -1);
	cr_expect_neq(strstr(esa_config_error(pcfg), "unknown chain flags"),
		      NULL, "%s", esa_config_error(pcfg));
	cr_expect_eq(esa_config_set_chain_flags(NULL, 0), -1);
	cr_expect_eq(pcheck(a, false), 0, "%s", pres->chain.text);
	cr_expect_not(has_flag(pres, "x509_strict"));
	X509_free(a);
}
