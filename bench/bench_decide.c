/*
 * bench_decide.c - `make bench` section 3: the identity decision alone.
 *
 * One decision is esa_result_new + esa_identity_check_modes (presented
 * identifiers extracted from the leaf, then the algorithms) +
 * esa_result_free, with a static resolver already loaded (SPEC 6: every
 * lookup answered from memory, nothing sent).  It is set against
 * X509_check_host on the same certificate, which is all the identity work
 * stock OpenSSL does in a handshake.
 *   ref   SPEC 7's certificate, recipient example.com, peer 192.0.2.1:
 *         Verify passes through PTR mx0a.emailhosted.not + A (SPEC 7),
 *         Hosted fails after MX; X509_check_host for example.com (no match,
 *         both DNS-IDs tried) and for mx0a.emailhosted.not (a match)
 *   match SPEC 7's certificate, recipient emailhosted.not (a DNS-ID
 *         matches: no DNS)
 *   big   1000 DNS-IDs h0000..h0999.bulk.example, recipient big.test with
 *         50 MX names, peer 192.0.2.1; nothing matches, so Hosted compares
 *         all 50 x 1000 pairs; X509_check_host for big.test
 *
 * Default: CPU time, the median over 31 batches of ns per call, labelled
 * with $BENCH_BUILD ("current" when unset; run.sh says "base" for this
 * program built against the tree at $BENCH_BASE, bench/build-base.sh).
 * --callgrind: instead, for every operation, 2 calls to warm up, then
 * CALLGRIND_ZERO_STATS, N calls, CALLGRIND_DUMP_STATS_AT("op/NAME/N"):
 * instruction counts (run under valgrind --tool=callgrind).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>
#include <valgrind/callgrind.h>

#include "bench.h"
#include "internal.h"

#define BIG_IDS 1000
#define BIG_MX 50
#define BATCHES 31

struct op {
	const char *name;
	X509 *leaf;
	const struct esa_target *t;	/* NULL: X509_check_host */
	unsigned modes;
	const char *host;		/* for X509_check_host */
	int calls;			/* per batch / per dump */
	bool by_hand;			/* t given: Verify by hand, below */
};

static esa_resolver *resolver;
static const char *build = "current";	/* BENCH_BUILD: which library */

/* by_hand - SPEC 4.1 as a program could write it with stock OpenSSL and
 * the same resolver, keeping no record: X509_check_host on the recipient
 * domain, else the peer's PTR names, each checked against the subject too
 * (X509_CHECK_FLAG_ALWAYS_CHECK_SUBJECT) and confirmed by its A records.
 * The baseline for "what does the decision cost beyond the work itself".
 * 0 on a pass, 1 otherwise. */
static int by_hand(X509 *leaf, const struct esa_target *t)
{
	char rev[ESA_NAME_MAX];
	struct esa_answer ptr, a;
	int pass = 0;

	if (X509_check_host(leaf, t->recipient, 0, 0, NULL) == 1)
		return 0;
	if (esa_reverse_name(t->peer_family, t->peer, rev, sizeof rev) < 0 ||
	    esa_lookup(resolver, rev, ESA_T_PTR, esa_now_ms() + 5000, &ptr) < 0)
		return 1;
	for (size_t i = 0; i < ptr.count && !pass; i++) {
		if (X509_check_host(leaf, ptr.rr[i].name, 0,
				    X509_CHECK_FLAG_ALWAYS_CHECK_SUBJECT,
				    NULL) != 1 ||
		    esa_lookup(resolver, ptr.rr[i].name, ESA_T_A,
			       esa_now_ms() + 5000, &a) < 0)
			continue;
		for (size_t j = 0; j < a.count && !pass; j++)
			pass = memcmp(a.rr[j].addr, t->peer, 4) == 0;
		esa_answer_free(&a);
	}
	esa_answer_free(&ptr);
	return !pass;
}

/* do_op - one call of the operation; nonzero if it went wrong */
static int do_op(const struct op *op)
{
	struct esa_result *res;
	int rc;

	if (op->by_hand)
		return by_hand(op->leaf, op->t);
	if (op->t == NULL)
		return X509_check_host(op->leaf, op->host, 0, 0, NULL) < 0;
	res = esa_result_new();
	if (res == NULL)
		return 1;
	rc = esa_identity_check_modes(res, op->leaf, op->t, resolver, 5000,
				      op->modes);
	esa_result_free(res);
	return rc != 0;
}

/* expect - the verdicts each target must give, checked once */
static int expect(X509 *leaf, const struct esa_target *t, bool verify,
		  bool hosted, const char *what)
{
	struct esa_result *res = esa_result_new();
	int ok;

	esa_identity_check(res, leaf, t, resolver, 5000);
	ok = res->verdict[ESA_MODE_VERIFY].pass == verify &&
	     res->verdict[ESA_MODE_HOSTED].pass == hosted;
	if (!ok)
		bench_note("%s: unexpected verdicts (verify %d, hosted %d: %s)",
			   what, res->verdict[0].pass, res->verdict[1].pass,
			   res->verdict[0].reason);
	esa_result_free(res);
	return ok ? 0 : -1;
}

/* run_timed - CPU ns per call (the process is single-threaded here, so
 * its CPU time is this thread's: time spent waiting for a busy machine's
 * CPU does not count), median over batches; wall time alongside */
static void run_timed(const struct op *op)
{
	double ns[BATCHES], wall[BATCHES];
	uint64_t t0, c0;

	for (int w = 0; w < 3; w++)
		do_op(op);
	for (int b = 0; b < BATCHES; b++) {
		t0 = bench_now_ns();
		c0 = bench_cpu_ns();
		for (int i = 0; i < op->calls; i++)
			do_op(op);
		ns[b] = (double)(bench_cpu_ns() - c0) / op->calls;
		wall[b] = (double)(bench_now_ns() - t0) / op->calls;
	}
	bench_result("section=decide build=%s op=%s ns_median=%.0f "
		     "ns_q25=%.0f ns_q75=%.0f wall_ns_median=%.0f", build,
		     op->name, bench_median(ns, BATCHES),
		     bench_quantile(ns, BATCHES, 0.25),
		     bench_quantile(ns, BATCHES, 0.75),
		     bench_median(wall, BATCHES));
}

/* run_callgrind - one dump of op->calls calls */
static void run_callgrind(const struct op *op)
{
	char label[80];

	do_op(op);
	do_op(op);
	CALLGRIND_ZERO_STATS;
	for (int i = 0; i < op->calls; i++)
		do_op(op);
	snprintf(label, sizeof label, "op/%s/%d", op->name, op->calls);
	CALLGRIND_DUMP_STATS_AT(label);
}

/* big_leaf - 1000 DNS-IDs and one CN, none of them big.test's */
static int big_leaf(struct bench_pki *p, struct test_leaf *leaf)
{
	static char names[BIG_IDS][32];
	static struct test_name dns[BIG_IDS];
	static const struct test_name cn[] = {
		{ "h0000.bulk.example", 0, TEST_STR_UTF8, false },
	};
	struct test_leaf_spec spec = { .cn = cn, .ncn = 1, .dns = dns,
				       .ndns = BIG_IDS };

	for (int i = 0; i < BIG_IDS; i++) {
		snprintf(names[i], sizeof names[i], "h%04d.bulk.example", i);
		dns[i] = (struct test_name){ names[i], 0, TEST_STR_UTF8, false };
	}
	return test_leaf_issue(leaf, &p->ca_ec, &spec);
}

/* zone - the static zone: BENCH_STATIC_ZONE plus big.test's 50 MX */
static char *zone(void)
{
	size_t cap = sizeof BENCH_STATIC_ZONE + BIG_MX * 64, n;
	char *z = malloc(cap);

	if (z == NULL)
		return NULL;
	n = (size_t)snprintf(z, cap, "%s", BENCH_STATIC_ZONE);
	for (int i = 0; i < BIG_MX; i++)
		n += (size_t)snprintf(z + n, cap - n,
				      "big.test. 300 IN MX %d mx%02d.big.test.\n",
				      i, i);
	return z;
}

/* target - recipient and IPv4 peer */
static struct esa_target target(const char *recipient, const char *peer)
{
	struct esa_target t;

	memset(&t, 0, sizeof t);
	esa_strlcpy(t.recipient, recipient, sizeof t.recipient);
	t.have_peer = esa_parse_ip(peer, &t.peer_family, t.peer) == 0;
	return t;
}

int main(int argc, char **argv)
{
	struct bench_pki pki;
	struct test_leaf big = { 0 };
	struct esa_target tref = target("example.com", "192.0.2.1");
	struct esa_target tmatch = target("emailhosted.not", "192.0.2.1");
	struct esa_target tbig = target("big.test", "192.0.2.1");
	char err[ESA_ERR_MAX], *z = NULL;
	int cg = 0, rc = 1;

	if (getenv("BENCH_BUILD") != NULL)
		build = getenv("BENCH_BUILD");
	if (argc > 1 && strcmp(argv[1], "--callgrind") == 0)
		cg = 1;
	else if (argc > 1) {
		fprintf(stderr, "usage: %s [--callgrind]\n", argv[0]);
		return 2;
	}
	if (bench_pki_init(&pki) < 0 || big_leaf(&pki, &big) < 0 ||
	    (z = zone()) == NULL)
		goto out;
	resolver = esa_resolver_static_text(z, strlen(z), "bench", err,
					    sizeof err);
	if (resolver == NULL) {
		bench_note("zone: %s", err);
		goto out;
	}
	if (expect(pki.ref_ec.cert, &tref, true, false, "ref") < 0 ||
	    expect(pki.ref_ec.cert, &tmatch, true, true, "match") < 0 ||
	    expect(big.cert, &tbig, false, false, "big") < 0)
		goto out;
	if (by_hand(pki.ref_ec.cert, &tref) != 0) {
		bench_note("ref: Verify by hand does not pass");
		goto out;
	}
	{
		X509 *ref = pki.ref_ec.cert;
		const struct op ops[] = {
			{ "x509/ref/example.com", ref, NULL, 0, "example.com",
			  1000, false },
			{ "x509/ref/mx0a.emailhosted.not", ref, NULL, 0,
			  "mx0a.emailhosted.not", 1000, false },
			{ "x509/ref/verify-by-hand", ref, &tref, 0, NULL, 1000,
			  true },
			{ "esa/ref/verify", ref, &tref, 1, NULL, 1000, false },
			{ "esa/ref/hosted", ref, &tref, 2, NULL, 1000, false },
			{ "esa/ref/both", ref, &tref, 3, NULL, 1000, false },
			{ "esa/match/verify", ref, &tmatch, 1, NULL, 1000, false },
			{ "esa/match/both", ref, &tmatch, 3, NULL, 1000, false },
			{ "x509/big/big.test", big.cert, NULL, 0, "big.test", 20,
			  false },
			{ "esa/big/verify", big.cert, &tbig, 1, NULL, 20, false },
			{ "esa/big/hosted", big.cert, &tbig, 2, NULL, 20, false },
			{ "esa/big/both", big.cert, &tbig, 3, NULL, 20, false },
		};

		for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
			struct op o = ops[i];

			if (cg) {
				o.calls = o.calls >= 1000 ? 100 : 5;
				run_callgrind(&o);
			} else {
				run_timed(&o);
			}
		}
	}
	rc = 0;
out:
	esa_resolver_free(resolver);
	free(z);
	test_leaf_free(&big);
	bench_pki_free(&pki);
	return rc;
}
