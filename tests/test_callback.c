/*
 * test_callback.c - real TLS handshakes through the public API (callback.c)
 *
 * Each test starts tests/tls_server.c on loopback with certificates from
 * tests/pki.c, connects with an SSL_CTX under esa_ctx_install (or one SSL
 * under esa_ssl_install), and checks what SPEC 5 says the program sees (the
 * handshake result and SSL_get_verify_result) and what the decision record
 * says (verdict, source, reference, tries, DNS queries).  DNS always comes
 * from static master files in the test's temporary directory: never from
 * the system resolver.
 *
 * SPEC 7's reference example appears twice: moved to loopback (the PTR of
 * 127.0.0.1 is mx0a.emailhosted.not, whose A record is 127.0.0.1; the MX
 * hosts resolve to 127.0.0.1 too), and verbatim (192.0.2.1, given with
 * esa_ssl_set_peer).
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "esaverify.h"
#include "internal.h"
#include "pki.h"
#include "tls_server.h"

/* SPEC 7's records, moved to the loopback server; plus ::1 for IPv6 */
static const char local_zone[] =
	"; SPEC 7 on loopback: the TLS server under test is 127.0.0.1\n"
	"$TTL 300\n"
	"example.com.               300 IN MX 10 mx01.subd.emailhosted.not.\n"
	"example.com.               300 IN MX 20 mx02.subd.emailhosted.not.\n"
	"mx01.subd.emailhosted.not. 300 IN A 127.0.0.1\n"
	"mx02.subd.emailhosted.not. 300 IN A 127.0.0.1\n"
	"1.0.0.127.in-addr.arpa.    300 IN PTR mx0a.emailhosted.not.\n"
	"mx0a.emailhosted.not.      300 IN A 127.0.0.1\n"
	"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"
	".ip6.arpa. 300 IN PTR mx0a.emailhosted.not.\n"
	"mx0a.emailhosted.not.      300 IN AAAA ::1\n";

/* SPEC 7's records verbatim */
static const char spec7_zone[] =
	"example.com.               300 IN MX 10 mx01.subd.emailhosted.not.\n"
	"example.com.               300 IN MX 20 mx02.subd.emailhosted.not.\n"
	"mx01.subd.emailhosted.not. 300 IN A 192.0.2.1\n"
	"mx02.subd.emailhosted.not. 300 IN A 192.0.2.2\n"
	"1.2.0.192.in-addr.arpa.    300 IN PTR mx0a.emailhosted.not.\n"
	"2.2.0.192.in-addr.arpa.    300 IN PTR mx0b.emailhosted.not.\n"
	"mx0a.emailhosted.not.      300 IN A 192.0.2.1\n"
	"mx0b.emailhosted.not.      300 IN A 192.0.2.2\n";

/* a PTR name whose A record does not lead back to the peer */
static const char unconfirmed_zone[] =
	"example.com.               300 IN MX 10 mx01.subd.emailhosted.not.\n"
	"mx01.subd.emailhosted.not. 300 IN A 127.0.0.1\n"
	"1.0.0.127.in-addr.arpa.    300 IN PTR mx0a.emailhosted.not.\n"
	"mx0a.emailhosted.not.      300 IN A 192.0.2.1\n";

#define MAX_LEAVES 8
#define MAX_CAS 4

static struct test_dir dir;
static struct test_ca root;
static struct test_ca cas[MAX_CAS];	/* rogue roots, intermediates */
static size_t ncas;
static struct test_leaf leaves[MAX_LEAVES];
static size_t nleaves;
static esa_config *cfg;
static SSL_CTX *ctx;
static struct test_server *srv;
static struct test_handshake hs;
static char cafile[128], local_dns[128], spec7_dns[128], unconfirmed_dns[128];

static int prev_calls;		/* calls of the program's own callback */
static int prev_answer = -1;	/* -1: return ok as given; else this */

/* write_file - a file in the test directory, its path into path */
static void write_file(const char *name, const char *text, char *path,
		       size_t pathsz)
{
	test_dir_file(&dir, name, path, pathsz);
	cr_assert_eq(test_write_text(path, text), 0, "cannot write %s", path);
}

/* suite_init - root CA, DNS files, a configuration for setting 5 */
static void suite_init(void)
{
	cr_assert_eq(test_dir_new(&dir), 0, "cannot make a temporary directory");
	cr_assert_eq(test_ca_root(&root, "ESA Test Root CA", TEST_KEY_EC), 0);
	test_dir_file(&dir, "ca.pem", cafile, sizeof(cafile));
	cr_assert_eq(test_write_cert(cafile, root.cert), 0);
	write_file("local.zone", local_zone, local_dns, sizeof(local_dns));
	write_file("spec7.zone", spec7_zone, spec7_dns, sizeof(spec7_dns));
	write_file("unconfirmed.zone", unconfirmed_zone, unconfirmed_dns,
		   sizeof(unconfirmed_dns));
	cfg = esa_config_new();
	cr_assert_not_null(cfg);
	cr_assert_eq(esa_config_set_trust(cfg, cafile, NULL, NULL), 0, "%s",
		     esa_config_error(cfg));
	cr_assert_eq(esa_config_set_dns_file(cfg, local_dns), 0, "%s",
		     esa_config_error(cfg));
	cr_assert_eq(esa_config_set_tls(cfg, "required-verify"), 0, "%s",
		     esa_config_error(cfg));
	cr_assert_eq(esa_config_set_dns_budget_ms(cfg, 2000), 0);
}

/* suite_fini - client first (the server reads until it closes), then the
 * server, the context, the configuration, the PKI, the files */
static void suite_fini(void)
{
	size_t i;

	test_tls_close(hs.ssl);
	hs.ssl = NULL;
	test_server_stop(srv, NULL);
	srv = NULL;
	SSL_CTX_free(ctx);
	esa_config_free(cfg);
	for (i = 0; i < nleaves; i++)
		test_leaf_free(&leaves[i]);
	for (i = 0; i < ncas; i++)
		test_ca_free(&cas[i]);
	test_ca_free(&root);
	test_dir_remove(&dir);
}

TestSuite(callback, .init = suite_init, .fini = suite_fini, .timeout = 30);

/* ---- building blocks -------------------------------------------------- */

#define NAME(s) { (s), 0, TEST_STR_UTF8, false }

/* new_ca - another CA: a rogue root (issuer NULL) or an intermediate */
static struct test_ca *new_ca(const char *cn, struct test_ca *issuer)
{
	struct test_ca *ca;

	cr_assert_lt(ncas, MAX_CAS);
	ca = &cas[ncas];
	if (issuer == NULL)
		cr_assert_eq(test_ca_root(ca, cn, TEST_KEY_EC), 0);
	else
		cr_assert_eq(test_ca_intermediate(ca, issuer, cn, TEST_KEY_EC), 0);
	ncas++;
	return ca;
}

/* new_leaf - a leaf from spec, signed by ca */
static struct test_leaf *new_leaf(struct test_ca *ca,
				  const struct test_leaf_spec *spec)
{
	cr_assert_lt(nleaves, MAX_LEAVES);
	cr_assert_eq(test_leaf_issue(&leaves[nleaves], ca, spec), 0,
		     "cannot issue the test certificate");
	return &leaves[nleaves++];
}

/* reference_spec - SPEC 7: CN=*.emailhosted.not, SAN DNS:*.emailhosted.not,
 * DNS:emailhosted.not; validity and key usage as given by the caller */
static struct test_leaf_spec reference_spec(void)
{
	static const struct test_name cn[] = { NAME("*.emailhosted.not") };
	static const struct test_name dns[] = {
		NAME("*.emailhosted.not"), NAME("emailhosted.not"),
	};

	return (struct test_leaf_spec){ .cn = cn, .ncn = 1, .dns = dns,
					.ndns = 2 };
}

/* reference_leaf - SPEC 7's server certificate issued by ca */
static struct test_leaf *reference_leaf(struct test_ca *ca)
{
	struct test_leaf_spec spec = reference_spec();

	return new_leaf(ca, &spec);
}

/* serve_chain - start the server with leaf and the chain it sends */
static void serve_chain(const struct test_leaf *leaf, X509 *const *chain,
			size_t nchain, bool ipv6)
{
	struct test_server_opts o = {
		.cert = leaf->cert, .key = leaf->key, .chain = chain,
		.nchain = nchain, .ipv6 = ipv6,
	};

	cr_assert_null(srv, "one server per test");
	srv = test_server_start(&o);
	cr_assert_not_null(srv, "cannot start the TLS server");
}

/* serve - start the server with leaf only */
static void serve(const struct test_leaf *leaf)
{
	serve_chain(leaf, NULL, 0, false);
}

/* counting_cb - the program's own verify callback */
static int counting_cb(int ok, X509_STORE_CTX *x)
{
	(void)x;
	prev_calls++;
	return prev_answer < 0 ? ok : prev_answer;
}

/* client - a client SSL_CTX; prev: the program's own callback set before
 * esa_ctx_install; install: false leaves the context alone */
static void client(SSL_verify_cb prev, bool install)
{
	cr_assert_null(ctx);
	ctx = SSL_CTX_new(TLS_client_method());
	cr_assert_not_null(ctx);
	if (prev != NULL)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, prev);
	if (install)
		cr_assert_eq(esa_ctx_install(ctx, cfg), 0, "esa_ctx_install: %s",
			     esa_config_error(cfg));
}

/* What a test sets on one connection before the handshake. */
struct conn {
	const char *recipient;	/* NULL: not set */
	const char *peer;	/* NULL: getpeername() */
	enum esa_tls tls;	/* 0: the configuration's */
	bool install;		/* esa_ssl_install on this SSL */
	const char *host;	/* SSL_set1_host (the program's own check) */
	const char *sni;	/* SSL_set_tlsext_host_name */
	const char *addr;	/* NULL: 127.0.0.1 */
};

/* setup_conn - the test_tls_connect hook: per-connection facts */
static void setup_conn(SSL *ssl, void *arg)
{
	const struct conn *c = arg;

	if (c->install)
		cr_assert_eq(esa_ssl_install(ssl, cfg), 0, "esa_ssl_install: %s",
			     esa_config_error(cfg));
	if (c->recipient)
		cr_assert_eq(esa_ssl_set_recipient(ssl, c->recipient), 0);
	if (c->peer)
		cr_assert_eq(esa_ssl_set_peer(ssl, c->peer), 0);
	if (c->tls)
		cr_assert_eq(esa_ssl_set_tls(ssl, c->tls), 0);
	if (c->host)
		cr_assert_eq(SSL_set1_host(ssl, c->host), 1);
	if (c->sni)
		cr_assert_eq(SSL_set_tlsext_host_name(ssl, c->sni), 1);
}

/* handshake - one connection to the server; the previous one is closed
 * first.  Returns the decision record (NULL if none). */
static const struct esa_result *handshake(const struct conn *c)
{
	test_tls_close(hs.ssl);
	memset(&hs, 0, sizeof(hs));
	hs.rc = test_tls_connect_addr(ctx, c->addr ? c->addr : "127.0.0.1",
				      test_server_port(srv), &hs.ssl,
				      setup_conn, (void *)c);
	cr_assert_neq(hs.rc, -2, "cannot connect to the test server");
	hs.verify = SSL_get_verify_result(hs.ssl);
	ERR_clear_error();
	return esa_ssl_result(hs.ssl);
}

/* serve_and_connect - how most tests begin: the server with leaf, a client
 * context under esa_ctx_install, one handshake with c; the record */
static const struct esa_result *serve_and_connect(const struct test_leaf *leaf,
						  const struct conn *c)
{
	serve(leaf);
	client(NULL, true);
	return handshake(c);
}

/* vname - the error text of a verify result */
static const char *vname(long v)
{
	return X509_verify_cert_error_string(v);
}

/* expect_delivered - handshake succeeded; verify result as given */
static void expect_delivered(long verify)
{
	cr_assert_eq(hs.rc, 1, "handshake failed (verify result %ld: %s)",
		     hs.verify, vname(hs.verify));
	cr_assert_eq(hs.verify, verify, "verify result %ld (%s), expected %ld (%s)",
		     hs.verify, vname(hs.verify), verify, vname(verify));
}

/* expect_refused - handshake failed with a verification error; verify
 * result as given, or any error when verify is -1 */
static void expect_refused(long verify)
{
	cr_assert_leq(hs.rc, 0, "handshake succeeded; it must fail");
	cr_assert_neq(hs.verify, X509_V_OK, "handshake failed but verify result is OK");
	if (verify >= 0)
		cr_assert_eq(hs.verify, verify,
			     "verify result %ld (%s), expected %ld (%s)",
			     hs.verify, vname(hs.verify), verify, vname(verify));
}

/* expect_verdict - mode computed with this outcome and source */
static void expect_verdict(const struct esa_result *res, enum esa_mode mode,
			   bool pass, enum esa_source source)
{
	const struct esa_verdict *v;

	cr_assert_not_null(res, "no decision record");
	v = &res->verdict[mode];
	cr_assert(v->computed, "%s not computed", esa_mode_name(mode));
	cr_assert_eq(esa_result_pass(res, mode), pass, "%s: %s (expected %s): %s",
		     esa_mode_name(mode), pass ? "FAIL" : "PASS",
		     pass ? "PASS" : "FAIL", esa_result_reason(res, mode));
	cr_assert_eq(esa_result_source(res, mode), source,
		     "%s: source %s, expected %s", esa_mode_name(mode),
		     esa_source_name(esa_result_source(res, mode)),
		     esa_source_name(source));
	cr_assert_neq(esa_result_reason(res, mode)[0], '\0', "empty reason");
}

/* expect_chain - the record's stage I outcome */
static void expect_chain(const struct esa_result *res, bool ok, int error)
{
	cr_assert_not_null(res, "no decision record");
	cr_assert(res->chain.checked, "chain not checked");
	cr_assert_eq(esa_result_chain_ok(res), ok, "chain %s: %s",
		     res->chain.ok ? "ok" : "failed", res->chain.text);
	cr_assert_eq(res->chain.error, error, "chain error %d (%s), expected %d",
		     res->chain.error, res->chain.text, error);
}

/* expect_chain_refused - refused in stage I (SPEC 2): the verify result and
 * the record's chain error are both error */
static void expect_chain_refused(const struct esa_result *res, int error)
{
	expect_refused(error);
	expect_chain(res, false, error);
}

/* expect_delivered_via_ptr - delivered, and Verify passed through a
 * forward-confirmed PTR name (SPEC 4.1.3) */
static void expect_delivered_via_ptr(const struct esa_result *res)
{
	expect_delivered(X509_V_OK);
	expect_verdict(res, ESA_MODE_VERIFY, true, ESA_SOURCE_PTR);
}

/* find_try - the try of a mode with this source and reference, or NULL */
static const struct esa_try *find_try(const struct esa_result *res,
				      enum esa_mode mode, enum esa_source src,
				      const char *reference)
{
	const struct esa_verdict *v = &res->verdict[mode];

	for (size_t i = 0; i < v->ntries; i++)
		if (v->tries[i].source == src &&
		    strcmp(v->tries[i].reference, reference) == 0)
			return &v->tries[i];
	return NULL;
}

/* count_dns - how many recorded DNS queries had this type */
static size_t count_dns(const struct esa_result *res, uint16_t type)
{
	size_t n = 0;

	for (size_t i = 0; i < res->ndns; i++)
		n += res->dns[i].type == type;
	return n;
}

/* expect_reference_verify - SPEC 7's Verify walk-through: DNS-IDs and CN
 * against example.com fail, CN *.emailhosted.not matches the FCrDNS name
 * mx0a.emailhosted.not; no MX query */
static void expect_reference_verify(const struct esa_result *res,
				    const char *ptr_query)
{
	const struct esa_verdict *v = &res->verdict[ESA_MODE_VERIFY];
	const struct esa_try *t;

	expect_verdict(res, ESA_MODE_VERIFY, true, ESA_SOURCE_PTR);
	cr_expect_str_eq(res->recipient, "example.com");
	cr_expect_str_eq(v->reference, "mx0a.emailhosted.not");
	cr_assert_geq(v->matched, 0);
	cr_assert_lt((size_t)v->matched, res->ids.n);
	cr_expect_eq(res->ids.ids[v->matched].kind, ESA_ID_CN,
		     "the match must be the CN-ID (SPEC 4.1.3)");
	cr_expect_str_eq(res->ids.ids[v->matched].raw, "*.emailhosted.not");
	cr_expect_eq(res->ids.ndns, 2);
	cr_expect_eq(res->ids.ncn, 1);
	/* 4.1.1 and 4.1.2 were tried and failed */
	t = find_try(res, ESA_MODE_VERIFY, ESA_SOURCE_RECIPIENT, "example.com");
	cr_assert_not_null(t, "recipient domain not tried");
	cr_expect_eq(t->outcome, ESA_TRY_NOMATCH);
	t = find_try(res, ESA_MODE_VERIFY, ESA_SOURCE_PTR, "mx0a.emailhosted.not");
	cr_assert_not_null(t, "PTR name not tried");
	cr_expect_eq(t->outcome, ESA_TRY_MATCH);
	cr_expect_eq(t->against, ESA_ID_CN);
	/* 4.1: MX names are never reference identifiers here */
	cr_expect_eq(count_dns(res, ESA_T_MX), 0, "Verify must not query MX");
	cr_expect_eq(count_dns(res, ESA_T_PTR), 1);
	cr_assert_gt(res->ndns, 0);
	cr_expect_str_eq(res->dns[0].name, ptr_query);
	cr_expect(strstr(esa_result_reason(res, ESA_MODE_VERIFY),
			 "mx0a.emailhosted.not") != NULL, "reason '%s'",
		  esa_result_reason(res, ESA_MODE_VERIFY));
}

/* expect_reference_hosted - SPEC 7's Hosted walk-through: DNS-IDs against
 * example.com and both MX names fail; the CN is never consulted; no PTR */
static void expect_reference_hosted(const struct esa_result *res)
{
	const struct esa_verdict *v = &res->verdict[ESA_MODE_HOSTED];
	const struct esa_try *t;
	static const char *const refs[] = {
		"mx01.subd.emailhosted.not", "mx02.subd.emailhosted.not",
	};

	expect_verdict(res, ESA_MODE_HOSTED, false, ESA_SOURCE_NONE);
	t = find_try(res, ESA_MODE_HOSTED, ESA_SOURCE_RECIPIENT, "example.com");
	cr_assert_not_null(t, "recipient domain not tried");
	cr_expect_eq(t->outcome, ESA_TRY_NOMATCH);
	for (size_t i = 0; i < 2; i++) {
		t = find_try(res, ESA_MODE_HOSTED, ESA_SOURCE_MX, refs[i]);
		cr_assert_not_null(t, "MX name %s not tried", refs[i]);
		cr_expect_eq(t->outcome, ESA_TRY_NOMATCH,
			     "*.emailhosted.not covers one label only");
	}
	for (size_t i = 0; i < v->ntries; i++)
		cr_expect_eq(v->tries[i].against, ESA_ID_DNS,
			     "try %zu compared CN-IDs though DNS-IDs exist", i);
	cr_expect_eq(count_dns(res, ESA_T_PTR), 0,
		     "Verify Hosted Domains must not query PTR (SPEC 4.2.3)");
	cr_expect_eq(count_dns(res, ESA_T_MX), 1);
}

/* ---- SPEC 7: the reference example ---------------------------------------- */

Test(callback, reference_example_verify_passes_via_ptr)
{
	struct conn c = { .recipient = "example.com" };
	const struct esa_result *res;
	struct test_server_stats st;

	res = serve_and_connect(reference_leaf(&root), &c);
	expect_delivered(X509_V_OK);
	expect_chain(res, true, X509_V_OK);
	expect_reference_verify(res, "1.0.0.127.in-addr.arpa");
	cr_expect_str_eq(res->peer, "127.0.0.1");
	cr_expect_eq(res->tls, ESA_TLS_REQUIRED_VERIFY);
	cr_expect(esa_result_accept(res, ESA_TLS_REQUIRED_VERIFY));
	/* the server saw one good handshake */
	test_tls_close(hs.ssl);
	hs.ssl = NULL;
	test_server_stop(srv, &st);
	srv = NULL;
	cr_expect_eq(st.ok, 1);
	cr_expect_eq(st.failed, 0);
}

Test(callback, reference_example_verbatim_with_set_peer)
{
	struct conn c = { .recipient = "example.com", .peer = "192.0.2.1" };
	const struct esa_result *res;

	cr_assert_eq(esa_config_set_dns_file(cfg, spec7_dns), 0);
	res = serve_and_connect(reference_leaf(&root), &c);
	expect_delivered(X509_V_OK);
	expect_reference_verify(res, "1.2.0.192.in-addr.arpa");
	cr_expect_str_eq(res->peer, "192.0.2.1");
}

Test(callback, reference_example_hosted_refused)
{
	struct conn c = { .recipient = "example.com",
			  .tls = ESA_TLS_REQUIRED_VERIFY_HOSTED };
	const struct esa_result *res;

	res = serve_and_connect(reference_leaf(&root), &c);
	expect_refused(-1);
	expect_chain(res, true, X509_V_OK);	/* stage I was fine */
	expect_reference_hosted(res);
	cr_expect_not(esa_result_accept(res, ESA_TLS_REQUIRED_VERIFY_HOSTED));
}

Test(callback, reference_example_verbatim_hosted_refused_by_config_setting)
{
	struct conn c = { .recipient = "example.com", .peer = "192.0.2.1" };
	const struct esa_result *res;

	cr_assert_eq(esa_config_set_dns_file(cfg, spec7_dns), 0);
	cr_assert_eq(esa_config_set_tls(cfg, "required-verify-hosted"), 0);
	res = serve_and_connect(reference_leaf(&root), &c);
	expect_refused(-1);
	cr_expect_eq(res->tls, ESA_TLS_REQUIRED_VERIFY_HOSTED);
	expect_reference_hosted(res);
}

Test(callback, reference_example_over_ipv6_confirmed_by_aaaa)
{
	struct conn c = { .recipient = "example.com", .addr = "::1" };
	const struct esa_result *res;
	const struct esa_try *t;

	serve_chain(reference_leaf(&root), NULL, 0, true);
	client(NULL, true);
	res = handshake(&c);
	expect_delivered_via_ptr(res);
	cr_expect_str_eq(res->peer, "::1");
	t = find_try(res, ESA_MODE_VERIFY, ESA_SOURCE_PTR, "mx0a.emailhosted.not");
	cr_assert_not_null(t);
	cr_expect_eq(t->outcome, ESA_TRY_MATCH);
	cr_expect_eq(count_dns(res, ESA_T_AAAA), 1, "an IPv6 peer is confirmed by AAAA");
	cr_expect_eq(count_dns(res, ESA_T_A), 0);
}

/* ---- SPEC 4: identity --------------------------------------------------- */

Test(callback, dns_id_equal_to_recipient_passes_both_modes_without_dns)
{
	static const struct test_name cn[] = { NAME("mail.example.com") };
	static const struct test_name dns[] = {
		NAME("mail.example.com"), NAME("example.com"),
	};
	struct test_leaf_spec spec = { .cn = cn, .ncn = 1, .dns = dns, .ndns = 2 };
	struct conn c = { .recipient = "example.com" };
	const struct esa_result *res;
	enum esa_mode mode;

	serve(new_leaf(&root, &spec));
	client(NULL, true);
	for (int i = 0; i < 2; i++) {
		c.tls = i == 0 ? ESA_TLS_REQUIRED_VERIFY
			       : ESA_TLS_REQUIRED_VERIFY_HOSTED;
		mode = i == 0 ? ESA_MODE_VERIFY : ESA_MODE_HOSTED;
		res = handshake(&c);
		expect_delivered(X509_V_OK);
		expect_verdict(res, mode, true, ESA_SOURCE_RECIPIENT);
		cr_expect_str_eq(res->verdict[mode].reference, "example.com");
		cr_assert_eq(res->verdict[mode].matched, 1);
		cr_expect_eq(res->ids.ids[1].kind, ESA_ID_DNS);
		/* 4.1: DNS is lazy; nothing is asked when step 1 passes */
		cr_expect_eq(res->ndns, 0, "%s sent %zu DNS queries",
			     esa_mode_name(mode), res->ndns);
	}
}

Test(callback, mx_name_certificate_passes_hosted_fails_verify)
{
	/* CN only (no DNS-ID): Hosted compares the CN with the MX names
	 * (4.2.3) and passes; Verify never uses MX names (4.1) and fails */
	static const struct test_name cn[] = { NAME("mx01.subd.emailhosted.not") };
	struct test_leaf_spec spec = { .cn = cn, .ncn = 1 };
	struct conn c = { .recipient = "example.com",
			  .tls = ESA_TLS_REQUIRED_VERIFY_HOSTED };
	const struct esa_result *res;

	res = serve_and_connect(new_leaf(&root, &spec), &c);
	expect_delivered(X509_V_OK);
	expect_verdict(res, ESA_MODE_HOSTED, true, ESA_SOURCE_MX);
	cr_expect_str_eq(res->verdict[ESA_MODE_HOSTED].reference,
			 "mx01.subd.emailhosted.not");
	c.tls = ESA_TLS_REQUIRED_VERIFY;
	res = handshake(&c);
	expect_refused(-1);
	expect_verdict(res, ESA_MODE_VERIFY, false, ESA_SOURCE_NONE);
	cr_expect_eq(count_dns(res, ESA_T_MX), 0);
}

Test(callback, ptr_name_not_forward_confirmed_refused)
{
	/* PTR(127.0.0.1) = mx0a.emailhosted.not, but its A is 192.0.2.1 */
	struct conn c = { .recipient = "example.com" };
	const struct esa_result *res;
	const struct esa_try *t;

	cr_assert_eq(esa_config_set_dns_file(cfg, unconfirmed_dns), 0);
	res = serve_and_connect(reference_leaf(&root), &c);
	expect_refused(-1);
	expect_chain(res, true, X509_V_OK);
	expect_verdict(res, ESA_MODE_VERIFY, false, ESA_SOURCE_NONE);
	t = find_try(res, ESA_MODE_VERIFY, ESA_SOURCE_PTR, "mx0a.emailhosted.not");
	cr_assert_not_null(t, "PTR name not tried");
	cr_expect_eq(t->outcome, ESA_TRY_NOT_CONFIRMED);
}

Test(callback, peer_without_ptr_fails_closed)
{
	struct conn c = { .recipient = "example.com", .peer = "192.0.2.3" };
	const struct esa_result *res;
	const struct esa_verdict *v;

	cr_assert_eq(esa_config_set_dns_file(cfg, spec7_dns), 0);
	res = serve_and_connect(reference_leaf(&root), &c);
	expect_refused(-1);
	expect_verdict(res, ESA_MODE_VERIFY, false, ESA_SOURCE_NONE);
	v = &res->verdict[ESA_MODE_VERIFY];
	cr_assert_gt(v->ntries, 0);
	cr_expect_eq(v->tries[v->ntries - 1].outcome, ESA_TRY_LOOKUP_FAILED);
	cr_assert_eq(count_dns(res, ESA_T_PTR), 1);
	cr_expect_eq(res->dns[0].status, ESA_DNS_NXDOMAIN);
}

/* ---- SPEC 5: the settings ----------------------------------------------- */

Test(callback, preferred_verify_delivers_and_reports_identity_failure)
{
	static const struct test_name cn[] = { NAME("mail.other.example") };
	static const struct test_name dns[] = { NAME("mail.other.example") };
	struct test_leaf_spec spec = { .cn = cn, .ncn = 1, .dns = dns, .ndns = 1 };
	struct conn c = { .recipient = "example.com",
			  .tls = ESA_TLS_PREFERRED_VERIFY };
	const struct esa_result *res;

	res = serve_and_connect(new_leaf(&root, &spec), &c);
	/* "deliver encrypted, log the failure": the handshake succeeds and
	 * SSL_get_verify_result reports that verification failed */
	cr_assert_eq(hs.rc, 1, "setting 4 must not refuse");
	cr_expect_neq(hs.verify, X509_V_OK);
	expect_chain(res, true, X509_V_OK);
	expect_verdict(res, ESA_MODE_VERIFY, false, ESA_SOURCE_NONE);
	cr_expect(esa_result_accept(res, ESA_TLS_PREFERRED_VERIFY));
	cr_expect_not(esa_result_accept(res, ESA_TLS_REQUIRED_VERIFY));
}

Test(callback, preferred_verify_passes_reference_example)
{
	struct conn c = { .recipient = "example.com",
			  .tls = ESA_TLS_PREFERRED_VERIFY };
	const struct esa_result *res;

	res = serve_and_connect(reference_leaf(&root), &c);
	expect_delivered_via_ptr(res);
}

Test(callback, preferred_and_required_accept_untrusted_and_mismatched)
{
	static const struct test_name cn[] = { NAME("nothing.invalid") };
	struct test_leaf_spec spec = { .cn = cn, .ncn = 1 };
	struct test_ca *rogue = new_ca("Rogue Root", NULL);
	struct conn c = { .recipient = "example.com", .tls = ESA_TLS_PREFERRED };
	const struct esa_result *res;

	serve(new_leaf(rogue, &spec));
	client(NULL, true);
	/* setting 2, per connection */
	res = handshake(&c);
	expect_delivered(X509_V_OK);
	cr_assert_not_null(res);
	cr_expect_not(esa_result_chain_ok(res), "the chain is untrusted");
	cr_expect(esa_result_accept(res, ESA_TLS_PREFERRED));
	cr_expect_not(esa_result_accept(res, ESA_TLS_REQUIRED_VERIFY));
	/* setting 3, from the configuration, given as its number */
	cr_assert_eq(esa_config_set_tls(cfg, "3"), 0, "%s", esa_config_error(cfg));
	c.tls = 0;
	res = handshake(&c);
	expect_delivered(X509_V_OK);
	cr_assert_not_null(res);
	cr_expect_eq(res->tls, ESA_TLS_REQUIRED);
	cr_expect_not(esa_result_chain_ok(res));
	cr_expect(esa_result_accept(res, ESA_TLS_REQUIRED));
}

Test(callback, missing_recipient_domain_fails_closed)
{
	struct conn c = { 0 };	/* no recipient, no host, no SNI */
	const struct esa_result *res;

	res = serve_and_connect(reference_leaf(&root), &c);
	expect_refused(-1);
	expect_verdict(res, ESA_MODE_VERIFY, false, ESA_SOURCE_NONE);
	cr_expect(strstr(esa_result_reason(res, ESA_MODE_VERIFY), "recipient")
		  != NULL, "reason '%s' should name the missing recipient domain",
		  esa_result_reason(res, ESA_MODE_VERIFY));
	cr_expect_eq(res->ndns, 0, "no recipient: nothing to look up");
}

Test(callback, recipient_from_sni_when_not_set)
{
	struct conn c = { .sni = "example.com" };
	const struct esa_result *res;

	res = serve_and_connect(reference_leaf(&root), &c);
	expect_delivered_via_ptr(res);
	cr_expect_str_eq(res->recipient, "example.com");
}

Test(callback, openssl_host_check_replaced_by_esa)
{
	/* the program asks OpenSSL to check example.com, which the certificate
	 * does not name: ESA's rules decide instead (PTR step), and the host
	 * becomes the recipient domain */
	struct conn c = { .host = "example.com" };
	const struct esa_result *res;

	res = serve_and_connect(reference_leaf(&root), &c);
	expect_delivered_via_ptr(res);
	cr_expect_str_eq(res->recipient, "example.com");
}

/* ---- SPEC 2: stage I ---------------------------------------------------- */

/* expired_spec - the reference names, expired an hour ago */
static struct test_leaf_spec expired_spec(void)
{
	struct test_leaf_spec spec = reference_spec();

	spec.validity_set = true;
	spec.not_before = -2 * 86400;
	spec.not_after = -3600;
	return spec;
}

Test(callback, expired_leaf_refused_under_required_verify)
{
	struct test_leaf_spec spec = expired_spec();
	struct conn c = { .recipient = "example.com" };
	const struct esa_result *res;

	res = serve_and_connect(new_leaf(&root, &spec), &c);
	expect_chain_refused(res, X509_V_ERR_CERT_HAS_EXPIRED);
	cr_expect_eq(res->chain.depth, 0);
	cr_expect_not(esa_result_accept(res, ESA_TLS_REQUIRED_VERIFY));
}

Test(callback, expired_leaf_refused_under_required_verify_hosted)
{
	struct test_leaf_spec spec = expired_spec();
	struct conn c = { .recipient = "example.com",
			  .tls = ESA_TLS_REQUIRED_VERIFY_HOSTED };
	const struct esa_result *res;

	res = serve_and_connect(new_leaf(&root, &spec), &c);
	expect_chain_refused(res, X509_V_ERR_CERT_HAS_EXPIRED);
}

Test(callback, expired_leaf_under_preferred_verify_delivered_and_reported)
{
	struct test_leaf_spec spec = expired_spec();
	struct conn c = { .recipient = "example.com",
			  .tls = ESA_TLS_PREFERRED_VERIFY };
	const struct esa_result *res;

	res = serve_and_connect(new_leaf(&root, &spec), &c);
	expect_delivered(X509_V_ERR_CERT_HAS_EXPIRED);
	expect_chain(res, false, X509_V_ERR_CERT_HAS_EXPIRED);
	cr_expect(esa_result_accept(res, ESA_TLS_PREFERRED_VERIFY));
}

Test(callback, not_yet_valid_leaf_refused)
{
	struct test_leaf_spec spec = reference_spec();
	struct conn c = { .recipient = "example.com" };
	const struct esa_result *res;

	spec.validity_set = true;
	spec.not_before = 86400;
	spec.not_after = 2 * 86400;
	res = serve_and_connect(new_leaf(&root, &spec), &c);
	expect_chain_refused(res, X509_V_ERR_CERT_NOT_YET_VALID);
}

Test(callback, untrusted_issuer_refused)
{
	struct test_ca *rogue = new_ca("Rogue Root", NULL);
	struct conn c = { .recipient = "example.com" };
	const struct esa_result *res;

	res = serve_and_connect(reference_leaf(rogue), &c);
	expect_chain_refused(res, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
	cr_expect_not(esa_result_accept(res, ESA_TLS_REQUIRED_VERIFY));
}

Test(callback, untrusted_root_sent_by_server_refused)
{
	struct test_ca *rogue = new_ca("Rogue Root", NULL);
	struct conn c = { .recipient = "example.com",
			  .tls = ESA_TLS_REQUIRED_VERIFY_HOSTED };
	const struct esa_result *res;

	serve_chain(reference_leaf(rogue), &rogue->cert, 1, false);
	client(NULL, true);
	res = handshake(&c);
	expect_chain_refused(res, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN);
}

Test(callback, missing_intermediate_refused)
{
	struct test_ca *inter = new_ca("ESA Test Intermediate", &root);
	struct conn c = { .recipient = "example.com" };
	const struct esa_result *res;

	/* the intermediate is not sent */
	res = serve_and_connect(reference_leaf(inter), &c);
	expect_chain_refused(res, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
}

Test(callback, intermediate_sent_by_server_passes)
{
	struct test_ca *inter = new_ca("ESA Test Intermediate", &root);
	struct conn c = { .recipient = "example.com" };
	const struct esa_result *res;

	serve_chain(reference_leaf(inter), &inter->cert, 1, false);
	client(NULL, true);
	res = handshake(&c);
	expect_delivered(X509_V_OK);
	expect_chain(res, true, X509_V_OK);
	expect_verdict(res, ESA_MODE_VERIFY, true, ESA_SOURCE_PTR);
}

Test(callback, leaf_without_server_purpose_refused)
{
	struct test_leaf_spec spec = reference_spec();
	struct conn c = { .recipient = "example.com" };
	const struct esa_result *res;

	spec.eku = TEST_EKU_CLIENT;
	res = serve_and_connect(new_leaf(&root, &spec), &c);
	expect_chain_refused(res, X509_V_ERR_INVALID_PURPOSE);
}

/* with_crl - trust root with a CRL revoking serial, before client() */
static void with_crl(long serial)
{
	char crlfile[128];
	X509_CRL *crl = test_crl_new(&root, &serial, 1);

	cr_assert_not_null(crl);
	test_dir_file(&dir, "root.crl", crlfile, sizeof(crlfile));
	cr_assert_eq(test_write_crl(crlfile, crl), 0);
	X509_CRL_free(crl);
	cr_assert_eq(esa_config_set_trust(cfg, cafile, NULL, crlfile), 0, "%s",
		     esa_config_error(cfg));
}

Test(callback, crl_revoked_leaf_refused)
{
	struct test_leaf_spec spec = reference_spec();
	struct conn c = { .recipient = "example.com" };
	const struct esa_result *res;

	spec.serial = 4242;
	with_crl(4242);
	res = serve_and_connect(new_leaf(&root, &spec), &c);
	expect_chain_refused(res, X509_V_ERR_CERT_REVOKED);
}

Test(callback, crl_leaf_not_listed_passes)
{
	struct test_leaf_spec spec = reference_spec();
	struct conn c = { .recipient = "example.com" };
	const struct esa_result *res;

	spec.serial = 4243;
	with_crl(4242);
	res = serve_and_connect(new_leaf(&root, &spec), &c);
	expect_delivered(X509_V_OK);
	expect_chain(res, true, X509_V_OK);
	expect_verdict(res, ESA_MODE_VERIFY, true, ESA_SOURCE_PTR);
}

/* ---- the program's callback and one-SSL installation -------------------- */

Test(callback, programs_own_callback_still_called)
{
	struct conn c = { .recipient = "example.com" };
	const struct esa_result *res;

	serve(reference_leaf(&root));
	client(counting_cb, true);
	res = handshake(&c);
	expect_delivered_via_ptr(res);
	/* once per depth at least: the leaf and the root */
	cr_expect_geq(prev_calls, 2, "program's callback called %d times",
		      prev_calls);
}

Test(callback, programs_own_refusal_ignored_where_esa_accepts)
{
	struct conn c = { .recipient = "example.com" };
	const struct esa_result *res;

	prev_answer = 0;
	serve(reference_leaf(&root));
	client(counting_cb, true);
	res = handshake(&c);
	expect_delivered_via_ptr(res);
	cr_expect_geq(prev_calls, 1);
}

Test(callback, programs_own_acceptance_ignored_where_esa_refuses)
{
	struct test_ca *rogue = new_ca("Rogue Root", NULL);
	struct conn c = { .recipient = "example.com" };
	const struct esa_result *res;

	prev_answer = 1;
	serve(reference_leaf(rogue));
	client(counting_cb, true);
	res = handshake(&c);
	expect_chain_refused(res, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
	cr_expect_geq(prev_calls, 1);
}

Test(callback, ssl_install_covers_one_ssl_only)
{
	struct conn c = { .recipient = "example.com", .install = true };
	struct conn plain = { 0 };
	const struct esa_result *res;

	serve(reference_leaf(&root));
	client(NULL, false);
	res = handshake(&c);
	expect_delivered_via_ptr(res);
	expect_reference_verify(res, "1.0.0.127.in-addr.arpa");
	/* another SSL of the same context is left as the program made it */
	res = handshake(&plain);
	cr_expect_eq(hs.rc, 1);
	cr_expect_null(res, "an SSL without esa_ssl_install got a result");
	cr_expect_eq(SSL_get_verify_mode(hs.ssl), SSL_VERIFY_NONE);
}

Test(callback, ssl_install_refuses_under_hosted)
{
	struct conn c = { .recipient = "example.com", .install = true,
			  .tls = ESA_TLS_REQUIRED_VERIFY_HOSTED };
	const struct esa_result *res;

	serve(reference_leaf(&root));
	client(NULL, false);
	res = handshake(&c);
	expect_refused(-1);
	expect_reference_hosted(res);
}
