/*
 * bench_handshake.c - `make bench` section 1: full TLS handshakes in one
 * process, stock OpenSSL verification against the esaverify callback.
 *
 * An in-process server (tests/tls_server.c) presents SPEC 7's reference
 * certificate, ECDSA P-256 or RSA-2048, on 127.0.0.1; every handshake is a
 * new TCP connection, a new SSL, SSL_connect, close_notify, close.
 * Variants, each its own SSL_CTX:
 *   stock      SSL_set1_host("lo.emailhosted.not") + SSL_VERIFY_PEER
 *   esa-match  esa_ctx_install, recipient emailhosted.not: a DNS-ID matches
 *              the recipient domain (SPEC 4.1.1), no DNS at all
 *   esa-warm   esa_ctx_install, recipient example.com: Verify passes only
 *              through the forward-confirmed PTR name of 127.0.0.1 (SPEC
 *              4.1.3), PTR and A answered from a warm cache
 *   esa-cold   the same with esa_resolver_flush() before every handshake,
 *              so PTR and A go to a real unbound on loopback each time
 *   esa-cold-prefetch  a prototype, not the library's behaviour: esa-cold,
 *              but the program starts PTR and A for the peer in a thread as
 *              soon as the TCP connection is up, and its own verify callback
 *              (which esaverify still calls first) waits for that thread at
 *              depth 0, so the decision finds the answers in the cache.  It
 *              measures what overlapping DNS with the handshake would gain;
 *              being speculative, it would send PTR and A even when a DNS-ID
 *              matches the recipient (SPEC 4.1 says "lazily").
 * Variants are interleaved: each round runs a batch of every variant, the
 * starting variant rotating, and a round's ratio is stock's mean time per
 * handshake over the variant's (a throughput ratio: 1.0 = as fast as
 * stock).  The median ratio over the rounds is the figure.
 *
 * --callgrind N: instead, run N handshakes per variant between callgrind
 * client requests (ZERO_STATS ... DUMP_STATS_AT "hs/KEY/VARIANT"), for
 * instruction counts that do not depend on the machine's load.  Run it
 * under valgrind --tool=callgrind --separate-threads=yes.
 *
 * Every handshake must succeed with X509_V_OK and a passing Verify
 * verdict; any failure stops the run (exit 1).
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <valgrind/callgrind.h>

#include "bench.h"
#include "esaverify.h"
#include "internal.h"
#include "tls_server.h"

#define MAX_VARIANTS 5

struct variant {
	const char *name;
	SSL_CTX *ctx;
	esa_config *cfg;	/* NULL: stock */
	const char *recipient;
	bool flush;
	bool prefetch;
	unsigned long queries;	/* DNS queries sent, all rounds */
	unsigned long handshakes;
	double *round_us;	/* mean us per handshake, per round */
	double *round_cpu;	/* the same in process CPU time */
};

struct opts {
	int rounds, batch, callgrind;
	bool ec, rsa;
};

static struct bench_pki pki;
static struct test_unbound ub;

/* The prefetch prototype's one job in flight (handshakes are serial). */
static struct {
	pthread_t thread;
	bool running;
	esa_resolver *r;
	unsigned char peer[4];
} pf;

/* prefetch_main - PTR of the peer, then A of every name: into the cache */
static void *prefetch_main(void *arg)
{
	struct esa_answer ptr, a;
	char rev[ESA_NAME_MAX];
	uint64_t deadline = esa_now_ms() + 5000;

	(void)arg;
	if (esa_reverse_name(AF_INET, pf.peer, rev, sizeof rev) < 0)
		return NULL;
	if (esa_lookup(pf.r, rev, ESA_T_PTR, deadline, &ptr) == 0)
		for (size_t i = 0; i < ptr.count && i < 8; i++) {
			esa_lookup(pf.r, ptr.rr[i].name, ESA_T_A, deadline, &a);
			esa_answer_free(&a);
		}
	esa_answer_free(&ptr);
	return NULL;
}

/* prefetch_start - the peer of the connected socket, then the thread */
static void prefetch_start(SSL *ssl, struct variant *v)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;

	if (getpeername(SSL_get_fd(ssl), (struct sockaddr *)&sin, &len) != 0 ||
	    sin.sin_family != AF_INET)
		return;
	memcpy(pf.peer, &sin.sin_addr, 4);
	pf.r = esa_config_resolver(v->cfg);
	pf.running = pthread_create(&pf.thread, NULL, prefetch_main, NULL) == 0;
}

/* prefetch_join_cb - the program's own verify callback: at the leaf, wait
 * for the prefetch (esaverify calls it before deciding) */
static int prefetch_join_cb(int ok, X509_STORE_CTX *x)
{
	if (pf.running && X509_STORE_CTX_get_error_depth(x) == 0) {
		pthread_join(pf.thread, NULL);
		pf.running = false;
	}
	return ok;
}

/* setup - per-connection facts, called between SSL_new and SSL_connect */
static void setup(SSL *ssl, void *arg)
{
	struct variant *v = arg;

	if (v->cfg == NULL)
		SSL_set1_host(ssl, BENCH_STOCK_HOST);
	else
		esa_ssl_set_recipient(ssl, v->recipient);
	if (v->prefetch)
		prefetch_start(ssl, v);
}

/* handshake - one full handshake; its wall and CPU time in ns[0], ns[1];
 * 0 or -1 */
static int handshake(struct variant *v, int port, uint64_t ns[2])
{
	esa_resolver *r = v->cfg ? esa_config_resolver(v->cfg) : NULL;
	unsigned long q0 = esa_resolver_queries(r);
	const esa_result *res;
	uint64_t t0, c0;
	SSL *ssl = NULL;
	int rc, ok;

	if (v->flush)
		esa_resolver_flush(r);
	t0 = bench_now_ns();
	c0 = bench_cpu_ns();
	rc = test_tls_connect(v->ctx, port, &ssl, setup, v);
	ok = rc == 1 && SSL_get_verify_result(ssl) == X509_V_OK;
	if (ok && v->cfg != NULL) {
		res = esa_ssl_result(ssl);
		ok = res != NULL && esa_result_pass(res, ESA_MODE_VERIFY);
	}
	if (pf.running) {	/* the handshake failed before the leaf */
		pthread_join(pf.thread, NULL);
		pf.running = false;
	}
	test_tls_close(ssl);
	ns[0] = bench_now_ns() - t0;
	ns[1] = bench_cpu_ns() - c0;
	v->queries += esa_resolver_queries(r) - q0;
	v->handshakes++;
	if (!ok)
		bench_note("%s: handshake failed (rc %d)", v->name, rc);
	return ok ? 0 : -1;
}

/* esa_cfg - a configuration for setting 5 with the test roots and unbound */
static esa_config *esa_cfg(void)
{
	esa_config *cfg = esa_config_new();
	char ns[64];

	snprintf(ns, sizeof ns, "127.0.0.1:%d", ub.port);
	if (cfg == NULL || esa_config_set_tls(cfg, "required-verify") < 0 ||
	    esa_config_set_trust(cfg, pki.cafile, NULL, NULL) < 0 ||
	    esa_config_set_nameserver(cfg, ns) < 0) {
		bench_note("config: %s", cfg ? esa_config_error(cfg) : "ENOMEM");
		esa_config_free(cfg);
		return NULL;
	}
	return cfg;
}

/* make_variants - the SSL_CTX of every variant, and its configuration */
static int make_variants(struct variant *v, int rounds)
{
	static const char *const names[MAX_VARIANTS] = {
		"stock", "esa-match", "esa-warm", "esa-cold",
		"esa-cold-prefetch",
	};
	int i;

	memset(v, 0, MAX_VARIANTS * sizeof *v);
	for (i = 0; i < MAX_VARIANTS; i++) {
		v[i].name = names[i];
		v[i].round_us = calloc((size_t)rounds + 1, sizeof(double));
		v[i].round_cpu = calloc((size_t)rounds + 1, sizeof(double));
		v[i].ctx = SSL_CTX_new(TLS_client_method());
		if (v[i].round_us == NULL || v[i].round_cpu == NULL ||
		    v[i].ctx == NULL)
			return -1;
		if (i == 0) {
			if (SSL_CTX_load_verify_locations(v[i].ctx, pki.cafile,
							  NULL) != 1)
				return -1;
			SSL_CTX_set_verify(v[i].ctx, SSL_VERIFY_PEER, NULL);
			continue;
		}
		v[i].prefetch = i == 4;
		if (v[i].prefetch)	/* before esaverify: it chains to it */
			SSL_CTX_set_verify(v[i].ctx, SSL_VERIFY_PEER,
					   prefetch_join_cb);
		if ((v[i].cfg = esa_cfg()) == NULL ||
		    esa_ctx_install(v[i].ctx, v[i].cfg) < 0)
			return -1;
		v[i].recipient = i == 1 ? "emailhosted.not" : "example.com";
		v[i].flush = i >= 3;
	}
	return 0;
}

/* free_variants - contexts, configurations, arrays */
static void free_variants(struct variant *v)
{
	for (int i = 0; i < MAX_VARIANTS; i++) {
		SSL_CTX_free(v[i].ctx);
		esa_config_free(v[i].cfg);
		free(v[i].round_us);
		free(v[i].round_cpu);
	}
}

/* batch - k handshakes of one variant; mean wall and CPU us per
 * handshake into mean[0], mean[1] */
static int batch(struct variant *v, int port, int k, double mean[2])
{
	uint64_t ns[2], sum[2] = { 0, 0 };

	for (int i = 0; i < k; i++) {
		if (handshake(v, port, ns) < 0)
			return -1;
		sum[0] += ns[0];
		sum[1] += ns[1];
	}
	mean[0] = (double)sum[0] / k / 1000.0;
	mean[1] = (double)sum[1] / k / 1000.0;
	return 0;
}

/* report - the ratios of one key type */
static void report(const char *key, struct variant *v, int rounds)
{
	double ratio[rounds], cpu[rounds];
	size_t n = (size_t)rounds;

	for (int i = 0; i < MAX_VARIANTS; i++) {
		for (int r = 0; r < rounds; r++) {
			ratio[r] = v[0].round_us[r] / v[i].round_us[r];
			cpu[r] = v[0].round_cpu[r] / v[i].round_cpu[r];
		}
		bench_result("section=handshake key=%s variant=%s rounds=%d "
			     "handshakes=%lu us_median=%.1f ratio_median=%.4f "
			     "ratio_q25=%.4f ratio_q75=%.4f cpu_us_median=%.1f "
			     "cpu_ratio_median=%.4f cpu_ratio_q25=%.4f "
			     "cpu_ratio_q75=%.4f queries_per_hs=%.2f",
			     key, v[i].name, rounds, v[i].handshakes,
			     bench_median(v[i].round_us, n),
			     bench_median(ratio, n), bench_quantile(ratio, n, 0.25),
			     bench_quantile(ratio, n, 0.75),
			     bench_median(v[i].round_cpu, n),
			     bench_median(cpu, n), bench_quantile(cpu, n, 0.25),
			     bench_quantile(cpu, n, 0.75),
			     (double)v[i].queries / (double)v[i].handshakes);
	}
}

/* run_timed - interleaved rounds for one server */
static int run_timed(const char *key, int port, const struct opts *o)
{
	struct variant v[MAX_VARIANTS];
	double dummy[2], mean[2];
	int rc = -1;

	if (make_variants(v, o->rounds) < 0) {
		bench_note("cannot set up the variants");
		goto out;
	}
	for (int i = 0; i < MAX_VARIANTS; i++)	/* warm up, not counted */
		if (batch(&v[i], port, 4, dummy) < 0)
			goto out;
	for (int i = 0; i < MAX_VARIANTS; i++)
		v[i].queries = v[i].handshakes = 0;
	for (int r = 0; r < o->rounds; r++)
		for (int j = 0; j < MAX_VARIANTS; j++) {
			struct variant *w = &v[(r + j) % MAX_VARIANTS];

			if (batch(w, port, o->batch, mean) < 0)
				goto out;
			w->round_us[r] = mean[0];
			w->round_cpu[r] = mean[1];
		}
	report(key, v, o->rounds);
	rc = 0;
out:
	free_variants(v);
	return rc;
}

/* run_callgrind - instruction counts: n handshakes per variant per dump */
static int run_callgrind(const char *key, int port, int n)
{
	struct variant v[MAX_VARIANTS];
	char label[64];
	double dummy[2];
	int rc = -1;

	if (make_variants(v, 1) < 0)
		goto out;
	for (int i = 0; i < MAX_VARIANTS; i++) {
		if (batch(&v[i], port, 3, dummy) < 0)	/* warm up */
			goto out;
		CALLGRIND_ZERO_STATS;
		if (batch(&v[i], port, n, dummy) < 0)
			goto out;
		snprintf(label, sizeof label, "hs/%s/%s/%d", key, v[i].name, n);
		CALLGRIND_DUMP_STATS_AT(label);
	}
	rc = 0;
out:
	free_variants(v);
	return rc;
}

/* run_key - one server, then the timed or the callgrind run */
static int run_key(const char *key, struct test_leaf *leaf,
		   const struct opts *o)
{
	struct test_server_opts so = { .cert = leaf->cert, .key = leaf->key };
	struct test_server *srv = test_server_start(&so);
	int rc;

	if (srv == NULL) {
		bench_note("cannot start the TLS server");
		return -1;
	}
	rc = o->callgrind ? run_callgrind(key, test_server_port(srv),
					  o->callgrind)
			  : run_timed(key, test_server_port(srv), o);
	test_server_stop(srv, NULL);
	return rc;
}

/* parse - command line */
static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "rounds", 1, NULL, 'r' }, { "batch", 1, NULL, 'b' },
		{ "callgrind", 1, NULL, 'c' }, { "keys", 1, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	*o = (struct opts){ .rounds = 101, .batch = 4, .ec = true, .rsa = true };
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch == 'r')
			o->rounds = atoi(optarg);
		else if (ch == 'b')
			o->batch = atoi(optarg);
		else if (ch == 'c')
			o->callgrind = atoi(optarg);
		else if (ch == 'k') {
			o->ec = strstr(optarg, "ec") != NULL;
			o->rsa = strstr(optarg, "rsa") != NULL;
		} else
			return -1;
	}
	return o->rounds > 0 && o->batch > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct opts o;
	int rc = 1;

	if (parse(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: %s [--rounds R] [--batch K] "
			"[--keys ec,rsa] [--callgrind N]\n", argv[0]);
		return 2;
	}
	if (bench_pki_init(&pki) < 0)
		goto out;
	if (test_unbound_start(BENCH_UNBOUND_ZONE, &ub) < 0) {
		bench_note("unbound: %s", ub.err);
		goto out;
	}
	if ((!o.ec || run_key("ec", &pki.ref_ec, &o) == 0) &&
	    (!o.rsa || run_key("rsa", &pki.ref_rsa, &o) == 0))
		rc = 0;
out:
	test_unbound_stop(&ub);
	bench_pki_free(&pki);
	return rc;
}
