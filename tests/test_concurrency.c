/*
 * test_concurrency.c - 8 threads x 1,000 handshakes through the callback
 * with one shared esa_config, so one shared resolver and DNS cache
 * (issue 6)
 *
 * One SSL_CTX under esa_ctx_install, as a multi-threaded mail client would
 * have; eight in-process TLS servers (tests/tls_server.c, one per client
 * thread, each serving its 1,000 connections); DNS from a private unbound
 * (tests/unbound.c) through the libresolv resolver, with TTLs of 1 s on the
 * records of the PTR path so the shared cache expires, misses and refills
 * while the threads run.  Every handshake is checked: its result, the
 * verification result the program sees, and the decision record (pass,
 * source, reference).  Handshake i of a thread is case i % 5 below.
 *
 * ESA_CONCURRENCY_HANDSHAKES sets the handshakes per thread (default
 * 1000).  Built with -DCONCURRENCY_MAIN it is a plain program without
 * Criterion, for ThreadSanitizer (`make test-tsan`).
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#ifndef CONCURRENCY_MAIN
#include <criterion/criterion.h>
#endif

#include "esaverify.h"
#include "internal.h"
#include "pki.h"
#include "tls_server.h"
#include "unbound.h"

#define THREADS 8
#define CASES 5

/* SPEC 7's records; the PTR path with 1 s TTLs */
static const char unbound_data[] =
	"local-zone: \"example.com.\" static\n"
	"local-data: \"example.com. 300 IN MX 10 mx01.subd.emailhosted.not.\"\n"
	"local-data: \"example.com. 300 IN MX 20 mx02.subd.emailhosted.not.\"\n"
	"local-zone: \"emailhosted.not.\" static\n"
	"local-data: \"mx01.subd.emailhosted.not. 300 IN A 192.0.2.1\"\n"
	"local-data: \"mx02.subd.emailhosted.not. 300 IN A 192.0.2.2\"\n"
	"local-data: \"mx0a.emailhosted.not. 1 IN A 192.0.2.1\"\n"
	"local-zone: \"2.0.192.in-addr.arpa.\" static\n"
	"local-data-ptr: \"192.0.2.1 1 mx0a.emailhosted.not.\"\n"
	"local-data-ptr: \"192.0.2.9 1 mx0a.emailhosted.not.\"\n";

/* What one handshake is, and what must come of it. */
struct hcase {
	const char *name;
	const char *recipient;
	const char *peer;
	enum esa_tls tls;
	bool handshake_ok;	/* SSL_connect succeeds */
	long verify;		/* SSL_get_verify_result */
	enum esa_mode mode;	/* the verdict checked */
	bool pass;
	enum esa_source source;
	const char *reference;	/* of a passing verdict */
};

static const struct hcase cases[CASES] = {
	{ "SPEC 7 Verify via PTR", "example.com", "192.0.2.1",
	  ESA_TLS_REQUIRED_VERIFY, true, X509_V_OK, ESA_MODE_VERIFY, true,
	  ESA_SOURCE_PTR, "mx0a.emailhosted.not" },
	{ "SPEC 7 Hosted via MX", "example.com", "192.0.2.1",
	  ESA_TLS_REQUIRED_VERIFY_HOSTED, false, X509_V_ERR_HOSTNAME_MISMATCH,
	  ESA_MODE_HOSTED, false, ESA_SOURCE_NONE, NULL },
	{ "PTR not confirmed", "example.com", "192.0.2.9",
	  ESA_TLS_REQUIRED_VERIFY, false, X509_V_ERR_HOSTNAME_MISMATCH,
	  ESA_MODE_VERIFY, false, ESA_SOURCE_NONE, NULL },
	{ "DNS-ID matches the domain", "mx0b.emailhosted.not", "192.0.2.2",
	  ESA_TLS_REQUIRED_VERIFY, true, X509_V_OK, ESA_MODE_VERIFY, true,
	  ESA_SOURCE_RECIPIENT, "mx0b.emailhosted.not" },
	{ "setting 4 logs the failure", "example.com", "192.0.2.9",
	  ESA_TLS_PREFERRED_VERIFY, true, X509_V_ERR_HOSTNAME_MISMATCH,
	  ESA_MODE_VERIFY, false, ESA_SOURCE_NONE, NULL },
};

struct shared {
	SSL_CTX *ctx;
	esa_config *cfg;
	struct test_server *srv[THREADS];
	int per_thread;
	pthread_mutex_t lock;
	unsigned long done, bad;	/* under lock */
	char first_error[512];		/* under lock */
};

struct worker {
	struct shared *sh;
	int index;
	int port;
};

/* note_bad - count a wrong handshake; keep the first explanation */
static void note_bad(struct shared *sh, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&sh->lock);
	if (sh->bad++ == 0) {
		va_start(ap, fmt);
		vsnprintf(sh->first_error, sizeof(sh->first_error), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&sh->lock);
}

/* setup - per-connection facts of the case */
static void setup(SSL *ssl, void *arg)
{
	const struct hcase *c = arg;

	esa_ssl_set_recipient(ssl, c->recipient);
	esa_ssl_set_peer(ssl, c->peer);
	esa_ssl_set_tls(ssl, c->tls);
}

/* check - one handshake against its case; NULL if right, else why */
static const char *check(const struct hcase *c, int rc, SSL *ssl)
{
	const esa_result *res;
	static const char *const why[] = {
		"handshake result", "verify result", "no decision record",
		"verdict", "source", "reference",
	};

	if ((rc == 1) != c->handshake_ok)
		return why[0];
	if (SSL_get_verify_result(ssl) != c->verify)
		return why[1];
	res = esa_ssl_result(ssl);
	if (res == NULL)
		return why[2];
	if (esa_result_pass(res, c->mode) != c->pass)
		return why[3];
	if (esa_result_source(res, c->mode) != c->source)
		return why[4];
	if (c->reference != NULL &&
	    strcmp(res->verdict[c->mode].reference, c->reference) != 0)
		return why[5];
	return NULL;
}

/* worker_main - per_thread handshakes to this thread's server */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;

	for (int i = 0; i < sh->per_thread; i++) {
		const struct hcase *c = &cases[(i + w->index) % CASES];
		SSL *ssl = NULL;
		const char *bad;
		int rc = test_tls_connect(sh->ctx, w->port, &ssl, setup,
					  (void *)c);

		bad = ssl == NULL ? "no connection" : check(c, rc, ssl);
		if (bad != NULL)
			note_bad(sh, "thread %d handshake %d (%s): %s; rc %d, "
				 "verify %ld, reason: %s", w->index, i, c->name,
				 bad, rc, ssl ? SSL_get_verify_result(ssl) : -1L,
				 ssl && esa_ssl_result(ssl) ?
				 esa_result_reason(esa_ssl_result(ssl), c->mode) :
				 "-");
		test_tls_close(ssl);
		ERR_clear_error();
		pthread_mutex_lock(&sh->lock);
		sh->done++;
		pthread_mutex_unlock(&sh->lock);
	}
	ERR_clear_error();
	return NULL;
}

/* per_thread - ESA_CONCURRENCY_HANDSHAKES or 1000 */
static int per_thread(void)
{
	const char *e = getenv("ESA_CONCURRENCY_HANDSHAKES");
	int n = e ? atoi(e) : 1000;

	return n > 0 ? n : 1000;
}

/* run_all - the whole test; 0, or -1 with err saying why */
static int run_all(char *err, size_t errsz, unsigned long *done_out)
{
	static const struct test_name cn[] = { { "*.emailhosted.not", 0,
						 TEST_STR_UTF8, false } };
	static const struct test_name dns[] = {
		{ "*.emailhosted.not", 0, TEST_STR_UTF8, false },
		{ "emailhosted.not", 0, TEST_STR_UTF8, false } };
	struct test_leaf_spec spec = { .cn = cn, .ncn = 1, .dns = dns,
				       .ndns = 2 };
	struct test_server_stats st;
	struct worker w[THREADS];
	pthread_t th[THREADS];
	struct test_unbound ub;
	struct test_dir dir;
	struct test_ca ca;
	struct test_leaf leaf;
	struct shared sh;
	char cafile[128], ns[64];
	uint64_t t0;
	int rc = -1, started = 0;

	memset(&sh, 0, sizeof(sh));
	memset(&ub, 0, sizeof(ub));
	memset(&ca, 0, sizeof(ca));
	memset(&leaf, 0, sizeof(leaf));
	dir.path[0] = '\0';
	pthread_mutex_init(&sh.lock, NULL);
	sh.per_thread = per_thread();
	if (test_dir_new(&dir) != 0 || test_ca_root(&ca, "Concurrency CA",
						    TEST_KEY_EC) != 0 ||
	    test_leaf_issue(&leaf, &ca, &spec) != 0 ||
	    test_write_cert(test_dir_file(&dir, "ca.pem", cafile,
					  sizeof(cafile)), ca.cert) != 0) {
		snprintf(err, errsz, "test PKI setup failed");
		goto out;
	}
	if (test_unbound_start(unbound_data, &ub) != 0) {
		snprintf(err, errsz, "unbound: %.900s", ub.err);
		goto out;
	}
	snprintf(ns, sizeof(ns), "127.0.0.1:%d", ub.port);
	sh.cfg = esa_config_new();
	sh.ctx = SSL_CTX_new(TLS_client_method());
	if (sh.cfg == NULL || sh.ctx == NULL ||
	    esa_config_set_trust(sh.cfg, cafile, NULL, NULL) != 0 ||
	    esa_config_set_nameserver(sh.cfg, ns) != 0 ||
	    esa_config_set_dns_budget_ms(sh.cfg, 4000) != 0 ||
	    esa_ctx_install(sh.ctx, sh.cfg) != 0) {
		snprintf(err, errsz, "configuration: %s",
			 esa_config_error(sh.cfg));
		goto out;
	}
	for (int i = 0; i < THREADS; i++) {
		struct test_server_opts o = { .cert = leaf.cert, .key = leaf.key,
					      .connections = sh.per_thread };

		sh.srv[i] = test_server_start(&o);
		if (sh.srv[i] == NULL) {
			snprintf(err, errsz, "cannot start TLS server %d", i);
			goto out;
		}
		w[i] = (struct worker){ &sh, i, test_server_port(sh.srv[i]) };
	}
	t0 = esa_now_ms();
	for (started = 0; started < THREADS; started++)
		if (pthread_create(&th[started], NULL, worker_main,
				   &w[started]) != 0)
			break;
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	fprintf(stderr, "concurrency: %lu handshakes in %d threads, %llu ms, "
		"%lu wrong, %lu DNS queries sent\n", sh.done, started,
		(unsigned long long)(esa_now_ms() - t0), sh.bad,
		esa_resolver_queries(esa_config_resolver(sh.cfg)));
	*done_out = sh.done;
	if (started < THREADS)
		snprintf(err, errsz, "only %d threads started", started);
	else if (sh.bad > 0)
		snprintf(err, errsz, "%lu of %lu handshakes wrong; first: %s",
			 sh.bad, sh.done, sh.first_error);
	else
		rc = 0;
out:
	for (int i = 0; i < THREADS; i++) {
		if (sh.srv[i] == NULL)
			continue;
		test_server_stop(sh.srv[i], &st);
		if (rc == 0 && st.accepted != sh.per_thread) {
			snprintf(err, errsz, "server %d accepted %d", i,
				 st.accepted);
			rc = -1;
		}
	}
	SSL_CTX_free(sh.ctx);
	esa_config_free(sh.cfg);
	test_unbound_stop(&ub);
	test_leaf_free(&leaf);
	test_ca_free(&ca);
	if (dir.path[0] != '\0')
		test_dir_remove(&dir);
	pthread_mutex_destroy(&sh.lock);
	return rc;
}

#ifdef CONCURRENCY_MAIN
int main(void)
{
	char err[1024] = "";
	unsigned long done = 0;

	if (run_all(err, sizeof(err), &done) != 0) {
		fprintf(stderr, "concurrency: FAILED: %s\n", err);
		return 1;
	}
	fprintf(stderr, "concurrency: ok\n");
	return 0;
}
#else
Test(concurrency, eight_threads_share_one_config_and_cache)
{
	char err[1024] = "";
	unsigned long done = 0;

	cr_assert_eq(run_all(err, sizeof(err), &done), 0, "%s", err);
	cr_expect_eq(done, (unsigned long)THREADS * per_thread());
}
#endif
