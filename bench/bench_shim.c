/*
 * bench_shim.c - `make bench` sections 2 and 5: the shim in a program.
 *
 * Runs bench/hsloop.c (a plain OpenSSL client, SSL_set1_host +
 * SSL_VERIFY_PEER, not linked with esaverify) as a child process against
 * an in-process TLS server presenting SPEC 7's certificate on 127.0.0.1,
 * in these variants:
 *   stock     no preload
 *   enforce   LD_PRELOAD=esashim.so ESA_ENFORCE=esa (the full A/B line)
 *   observe   LD_PRELOAD=esashim.so ESA_ENFORCE=observe (the same)
 *   summary   enforce with ESA_LOG_LEVEL=summary (one short line, only
 *             the setting's algorithm: the default under esa)
 *   failures  enforce with ESA_LOG_LEVEL=failures (no line for these
 *             accepted connections: the verification alone)
 * and any added with --variant NAME=VAR=VALUE,...: the shim with the
 * settings below and these on top (LD_PRELOAD=another build's shim for a
 * before/after comparison, ESA_PORTS=1,nolog for the cost of the preload
 * alone, ...; "nolog": the variant is not expected to log handshakes).
 * The shim runs with ESA_TLS=required-verify, ESA_RECIPIENT_DOMAIN=
 * example.com (Verify passes through the forward-confirmed PTR name of
 * 127.0.0.1; the shim also computes Hosted for its log, so PTR, A and MX
 * are asked once per process and then come from the cache),
 * ESA_NAMESERVER a private unbound on loopback, ESA_LOG a file in the
 * run's temporary directory, ESA_LOG_LEVEL=ab (the variants above change
 * it), and ESA_CAFILE the system bundle plus the
 * test roots (the client loads the same bundle), so that whatever store
 * the shim builds costs what the system store costs.
 *
 * Section 2: rounds of one hsloop run per variant (starting variant
 * rotating); a round's ratio is stock's mean time per handshake over the
 * variant's, handshakes 2..N of each process (the first, which carries
 * start-up costs, is reported apart).  Median over rounds.  The same with
 * hsloop's CPU time (the client's work alone: the server is this
 * process), which a busy machine disturbs less.  A variant much slower
 * than stock runs fewer handshakes per process (at least 20) so that every
 * run takes about as long.
 * Section 2b (--smtp, ECDSA only): the same rounds, with hsloop --smtp
 * against an SMTP server with STARTTLS (smtp_server.c): each connection a
 * whole delivery (banner, EHLO, STARTTLS, handshake, EHLO, MAIL, RCPT,
 * DATA of 10 KB, QUIT), the server's port given as ESA_PORTS, so the
 * shim watches its plain text as it watches port 25; every message must
 * arrive.  With --smtp-callgrind too, instructions per delivery as below.
 * Section 5 (--memory N, ECDSA server only; not for summary and failures): one long run per variant,
 * RSS and malloc's bytes in use after handshakes 1, 1000 and N, and the
 * peak RSS; a variant that would take more than about 20 s runs 2000
 * handshakes instead (said in the result line).
 * --callgrind N1,N2: also, per variant (ECDSA only), hsloop under
 * valgrind --tool=callgrind with N1 and with N2 handshakes; the difference
 * of the two instruction totals over N2-N1 is the client's instructions
 * per handshake, shim included and start-up excluded.
 * --only NAME,...: just these variants beside stock (experiments, perf).
 * Every log must hold one line per handshake, each "decision":"accept".
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "tls_server.h"

#define MAXVAR 12
#define MAXENV 8
#define MEMORY_BUDGET_US 20e6

struct run {
	int n, failures;
	double first_us, us_mean, us_median, cpu_us;
	long maxrss, rss1, rss1k, rssn;
	long heap1k, heapn;
};

struct opts {
	int rounds, count, memory, cg1, cg2;
	bool ec, rsa, smtp, smtp_cg;
	const char *hsloop, *shim;
};

/* A variant: no shim (stock), or the shim with the common settings below,
 * then its own environment on top (--variant: another build's shim in
 * LD_PRELOAD, ESA_ENFORCE=observe, ...). */
struct variant {
	const char *name;
	bool shim;
	bool nolog;		/* no log lines expected (ESA_PORTS, ...) */
	bool nomem;		/* left out of section 5 */
	const char *env[MAXENV];	/* "NAME=VALUE" */
};

static struct variant all_variants[MAXVAR] = {
	{ "stock", false, false, false, { NULL } },
	{ "enforce", true, false, false, { "ESA_ENFORCE=esa" } },
	{ "observe", true, false, false, { "ESA_ENFORCE=observe" } },
	{ "summary", true, false, true, { "ESA_LOG_LEVEL=summary" } },
	{ "failures", true, true, true, { "ESA_LOG_LEVEL=failures" } },
};
static int nvar = 5;
static struct bench_pki pki;
static struct test_unbound ub;
static struct opts o;
static int smtp_port;	/* set: hsloop --smtp against this port (2b) */

/* child_env - the environment of one variant (in the child) */
static void child_env(const struct variant *v, const char *log)
{
	char ns[64], ports[16];

	unsetenv("LD_PRELOAD");
	if (!v->shim)
		return;
	snprintf(ns, sizeof ns, "127.0.0.1:%d", ub.port);
	setenv("LD_PRELOAD", o.shim, 1);
	setenv("ESA_ENFORCE", "esa", 1);
	setenv("ESA_TLS", "required-verify", 1);
	setenv("ESA_RECIPIENT_DOMAIN", "example.com", 1);
	setenv("ESA_NAMESERVER", ns, 1);
	setenv("ESA_LOG", log, 1);
	setenv("ESA_LOG_LEVEL", "ab", 1);
	setenv("ESA_CAFILE", pki.bundle, 1);
	if (smtp_port > 0) {	/* its plain text watched, as port 25's is */
		snprintf(ports, sizeof ports, "%d", smtp_port);
		setenv("ESA_PORTS", ports, 1);
	}
	for (int i = 0; i < MAXENV && v->env[i] != NULL; i++)
		putenv((char *)v->env[i]);	/* the child execs next */
}

/* add_variant - "--variant NAME=VAR=VALUE[,VAR=VALUE...]": the shim with
 * the common settings and these on top; the pseudo-entry "nolog" says the
 * variant logs no handshakes (e.g. ESA_PORTS=1).  0 or -1. */
static int add_variant(char *spec)
{
	struct variant *v = &all_variants[nvar];
	char *eq = strchr(spec, '='), *save = NULL, *tok;
	int n = 0;

	if (nvar >= MAXVAR || eq == NULL || eq == spec)
		return -1;
	*eq = '\0';
	*v = (struct variant){ .name = spec, .shim = true };
	for (tok = strtok_r(eq + 1, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "nolog") == 0)
			v->nolog = true;
		else if (strchr(tok, '=') == NULL || n >= MAXENV)
			return -1;
		else
			v->env[n++] = tok;
	}
	nvar++;
	return 0;
}

/* field - the number after " name=" in line, or -1 */
static double field(const char *line, const char *name)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof key, " %s=", name);
	p = strstr(line, key);
	return p ? strtod(p + strlen(key), NULL) : -1;
}

/* count_accepts - log lines, and how many say accept; the file is removed */
static int count_accepts(const char *log, int *lines)
{
	char buf[65536];
	int acc = 0;
	FILE *f = fopen(log, "r");

	*lines = 0;
	if (f == NULL)
		return 0;
	while (fgets(buf, sizeof buf, f) != NULL) {
		*lines += strchr(buf, '\n') != NULL;
		acc += strstr(buf, "\"decision\":\"accept\"") != NULL;
	}
	fclose(f);
	unlink(log);
	return acc;
}

static const char *cg_out;	/* set: run hsloop under callgrind into it */
static int hsloop_runs, hsloop_handshakes;	/* made by run_hsloop */

/* run_hsloop - one child process of one variant; 0 or -1 */
static int run_hsloop(int var, int port, int n, const char *samples,
		      struct run *r)
{
	const struct variant *v = &all_variants[var];
	char log[160], nbuf[16], pbuf[16], line[1024] = "", sbuf[64];
	int pfd[2], status, lines = 0, acc;
	ssize_t got;
	size_t len = 0;
	pid_t pid;

	snprintf(log, sizeof log, "%s/shim-%d.log", pki.dir.path, var);
	snprintf(nbuf, sizeof nbuf, "%d", n);
	snprintf(pbuf, sizeof pbuf, "%d", port);
	snprintf(sbuf, sizeof sbuf, "%s", samples);
	if (pipe(pfd) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		dup2(pfd[1], 1);
		child_env(v, log);
		if (cg_out != NULL) {
			char outarg[200];

			snprintf(outarg, sizeof outarg,
				 "--callgrind-out-file=%s", cg_out);
			execl("/usr/bin/valgrind", "valgrind", "-q",
			      "--tool=callgrind", outarg, o.hsloop, "--port",
			      pbuf, "--host", BENCH_STOCK_HOST, "--cafile",
			      pki.bundle, "--count", nbuf, "--sample", sbuf,
			      smtp_port > 0 ? "--smtp" : (char *)NULL,
			      (char *)NULL);
			_exit(127);
		}
		execl(o.hsloop, "hsloop", "--port", pbuf, "--host",
		      BENCH_STOCK_HOST, "--cafile", pki.bundle, "--count", nbuf,
		      "--sample", sbuf, smtp_port > 0 ? "--smtp" : (char *)NULL,
		      (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	while (pid > 0 && len + 1 < sizeof line &&
	       (got = read(pfd[0], line + len, sizeof line - 1 - len)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			break;
		len += (size_t)got;
	}
	line[len] = '\0';
	close(pfd[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	memset(r, 0, sizeof *r);
	r->n = (int)field(line, "n");
	r->failures = (int)field(line, "failures");
	r->first_us = field(line, "first_us");
	r->us_mean = field(line, "us_mean");
	r->us_median = field(line, "us_median");
	r->cpu_us = field(line, "cpu_us_mean");
	r->maxrss = (long)field(line, "maxrss_kb");
	r->rss1 = (long)field(line, "rss_kb@1");
	r->rss1k = (long)field(line, "rss_kb@1000");
	snprintf(sbuf, sizeof sbuf, "rss_kb@%d", n);
	r->rssn = (long)field(line, sbuf);
	r->heap1k = (long)field(line, "heap_kb@1000");
	snprintf(sbuf, sizeof sbuf, "heap_kb@%d", n);
	r->heapn = (long)field(line, sbuf);
	acc = count_accepts(log, &lines);
	hsloop_runs++;
	hsloop_handshakes += r->n > 0 ? r->n : 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || r->n != n ||
	    r->failures != 0 || (v->shim && !v->nolog && (lines != n || acc != n))) {
		bench_note("%s: hsloop failed (status %d, %d failures, %d log "
			   "lines, %d accepts): %s", v->name, status,
			   r->failures, lines, acc, line);
		return -1;
	}
	return 0;
}

/* throughput - section 2 for one server; us_hs gets each variant's
 * median time per handshake */
static int throughput(const char *key, int port, double *us_hs)
{
	double us[MAXVAR][o.rounds], first[MAXVAR][o.rounds], ratio[o.rounds];
	double cpu[MAXVAR][o.rounds], cratio[o.rounds], added[o.rounds];
	size_t nr = (size_t)o.rounds;
	int count[MAXVAR];
	struct run r;

	for (int v = 0; v < nvar; v++) {	/* warm up, and size the runs */
		if (run_hsloop(v, port, 20, "1", &r) < 0)
			return -1;
		us_hs[v] = r.us_mean;
	}
	for (int v = 0; v < nvar; v++) {
		count[v] = (int)(o.count * us_hs[0] / us_hs[v]);
		count[v] = count[v] > o.count ? o.count :
			   count[v] < 20 ? 20 : count[v];
	}
	for (int i = 0; i < o.rounds; i++)
		for (int j = 0; j < nvar; j++) {
			int v = (i + j) % nvar;

			if (run_hsloop(v, port, count[v], "1", &r) < 0)
				return -1;
			us[v][i] = r.us_mean;
			cpu[v][i] = r.cpu_us;
			first[v][i] = r.first_us;
		}
	for (int v = 0; v < nvar; v++) {
		for (int i = 0; i < o.rounds; i++) {
			ratio[i] = us[0][i] / us[v][i];
			cratio[i] = cpu[0][i] / cpu[v][i];
			added[i] = cpu[v][i] - cpu[0][i];
		}
		us_hs[v] = bench_median(us[v], nr);
		bench_result("section=shim key=%s variant=%s rounds=%d "
			     "handshakes_per_run=%d us_median=%.1f "
			     "first_us_median=%.1f ratio_median=%.4f "
			     "ratio_q25=%.4f ratio_q75=%.4f cpu_us_median=%.1f "
			     "cpu_ratio_median=%.4f cpu_ratio_q25=%.4f "
			     "cpu_ratio_q75=%.4f cpu_added_us_median=%.1f "
			     "cpu_added_us_q25=%.1f cpu_added_us_q75=%.1f", key,
			     all_variants[v].name,
			     o.rounds, count[v], us_hs[v],
			     bench_median(first[v], nr), bench_median(ratio, nr),
			     bench_quantile(ratio, nr, 0.25),
			     bench_quantile(ratio, nr, 0.75),
			     bench_median(cpu[v], nr), bench_median(cratio, nr),
			     bench_quantile(cratio, nr, 0.25),
			     bench_quantile(cratio, nr, 0.75),
			     bench_median(added, nr), bench_quantile(added, nr, 0.25),
			     bench_quantile(added, nr, 0.75));
	}
	return 0;
}

/* memory - section 5: one long run per variant */
static int memory(const char *key, int port, const double *us_hs)
{
	char samples[64];
	struct run r[MAXVAR];

	for (int v = 0; v < nvar; v++) {
		int n = o.memory;

		if (all_variants[v].nomem)
			continue;
		if (us_hs[v] > 0 && us_hs[v] * n > MEMORY_BUDGET_US)
			n = 2000;	/* too slow for the full run */
		snprintf(samples, sizeof samples, "1,1000,%d", n);
		if (run_hsloop(v, port, n, samples, &r[v]) < 0)
			return -1;
		bench_result("section=memory key=%s variant=%s handshakes=%d "
			     "shortened=%d maxrss_kb=%ld rss_kb_1=%ld "
			     "rss_kb_1000=%ld rss_kb_last=%ld growth_kb=%ld "
			     "heap_kb_1000=%ld heap_kb_last=%ld heap_growth_kb=%ld "
			     "added_peak_kb=%ld us_mean=%.1f", key,
			     all_variants[v].name, n, n < o.memory, r[v].maxrss,
			     r[v].rss1, r[v].rss1k, r[v].rssn,
			     r[v].rssn - r[v].rss1k, r[v].heap1k, r[v].heapn,
			     r[v].heapn - r[v].heap1k, r[v].maxrss - r[0].maxrss,
			     r[v].us_mean);
	}
	return 0;
}

/* cg_total - the instruction total of a callgrind output file, or -1 */
static double cg_total(const char *path)
{
	char line[256];
	double total = -1;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "summary:", 8) == 0 ||
		    strncmp(line, "totals:", 7) == 0)
			total = strtod(strchr(line, ':') + 1, NULL);
	fclose(f);
	unlink(path);
	return total;
}

/* keep_cg - with BENCH_CG_KEEP=DIR, keep a callgrind output as
 * DIR/KEY-VARIANT-N.cg for callgrind_annotate (before cg_total removes it) */
static void keep_cg(const char *path, const char *key, int var, int n)
{
	const char *dir = getenv("BENCH_CG_KEEP");
	char to[512];

	if (dir == NULL || *dir == '\0')
		return;
	snprintf(to, sizeof to, "%s/%s-%s-%d.cg", dir, key,
		 all_variants[var].name, n);
	if (link(path, to) != 0)
		bench_note("BENCH_CG_KEEP: cannot keep %s: %s", to,
			   strerror(errno));
}

/* instructions - per handshake, each variant, from two callgrind runs */
static int instructions(const char *key, int port)
{
	char path[160];
	double per[MAXVAR], t1, t2;
	struct run r;

	snprintf(path, sizeof path, "%s/callgrind.out", pki.dir.path);
	cg_out = path;
	for (int v = 0; v < nvar; v++) {
		if (run_hsloop(v, port, o.cg1, "1", &r) < 0)
			goto fail;
		keep_cg(path, key, v, o.cg1);
		t1 = cg_total(path);
		if (run_hsloop(v, port, o.cg2, "1", &r) < 0)
			goto fail;
		keep_cg(path, key, v, o.cg2);
		t2 = cg_total(path);
		if (t1 < 0 || t2 < 0) {
			bench_note("no callgrind output for %s",
				   all_variants[v].name);
			goto fail;
		}
		per[v] = (t2 - t1) / (o.cg2 - o.cg1);
		bench_result("section=shim-instr key=%s variant=%s "
			     "handshakes=%d instr_per_hs=%.0f ratio=%.4f", key,
			     all_variants[v].name, o.cg2 - o.cg1, per[v],
			     per[0] / per[v]);
	}
	cg_out = NULL;
	return 0;
fail:
	cg_out = NULL;
	return -1;
}

/* deliveries - section 2b: the rounds of section 2 with a delivery per
 * connection against the SMTP server (ECDSA), then, with --callgrind,
 * instructions per delivery; every message must have arrived */
static int deliveries(struct test_leaf *leaf)
{
	struct smtp_server *srv = smtp_server_start(leaf);
	double us_hs[MAXVAR] = { 0 };
	int rc, messages = 0, tls_failed = 0, expected;

	if (srv == NULL) {
		bench_note("cannot start the SMTP server");
		return -1;
	}
	smtp_port = smtp_server_port(srv);
	hsloop_runs = hsloop_handshakes = 0;
	rc = throughput("smtp-ec", smtp_port, us_hs);
	if (rc == 0 && o.cg2 > o.cg1 && o.smtp_cg)
		rc = instructions("smtp-ec", smtp_port);
	expected = hsloop_handshakes;
	smtp_port = 0;
	smtp_server_stop(srv, &messages, &tls_failed);
	if (rc == 0 && (messages != expected || tls_failed != 0)) {
		bench_note("smtp: %d messages arrived of %d, %d failed "
			   "handshakes", messages, expected, tls_failed);
		rc = -1;
	}
	return rc;
}

/* run_key - one server, then both sections */
static int run_key(const char *key, struct test_leaf *leaf)
{
	struct test_server_opts so = { .cert = leaf->cert, .key = leaf->key };
	struct test_server *srv = test_server_start(&so);
	int rc;

	if (srv == NULL) {
		bench_note("cannot start the TLS server");
		return -1;
	}
	double us_hs[MAXVAR] = { 0 };

	rc = o.rounds > 0 ? throughput(key, test_server_port(srv), us_hs) : 0;
	if (rc == 0 && o.rounds > 0 && o.smtp && strcmp(key, "ec") == 0)
		rc = deliveries(leaf);
	if (rc == 0 && o.memory > 0 && strcmp(key, "ec") == 0)
		rc = memory(key, test_server_port(srv), us_hs);
	if (rc == 0 && o.cg2 > o.cg1 && strcmp(key, "ec") == 0)
		rc = instructions(key, test_server_port(srv));
	test_server_stop(srv, NULL);
	return rc;
}

/* keep_only - "--only NAME,NAME...": only these variants (stock stays
 * first: the ratios are against it); -1 if one is unknown */
static int keep_only(const char *names)
{
	char list[512];
	int kept = 1;

	snprintf(list, sizeof list, ",%s,", names);
	for (int v = 1; v < nvar; v++) {
		char key[80];

		snprintf(key, sizeof key, ",%s,", all_variants[v].name);
		if (strstr(list, key) != NULL)
			all_variants[kept++] = all_variants[v];
	}
	if (kept == 1 && strstr(list, ",stock,") == NULL)
		return -1;
	nvar = kept;
	return 0;
}

/* parse - command line */
static int parse(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "rounds", 1, NULL, 'r' }, { "count", 1, NULL, 'n' },
		{ "memory", 1, NULL, 'm' }, { "keys", 1, NULL, 'k' },
		{ "hsloop", 1, NULL, 'l' }, { "shim", 1, NULL, 's' },
		{ "variant", 1, NULL, 'V' },
		{ "callgrind", 1, NULL, 'c' },
		{ "smtp", 0, NULL, 'S' }, { "smtp-callgrind", 0, NULL, 'G' },
		{ "only", 1, NULL, 'O' },
		{ NULL, 0, NULL, 0 },
	};
	const char *only = NULL;
	int ch;

	o = (struct opts){ .rounds = 9, .count = 150, .memory = 10000,
			   .ec = true, .rsa = true };
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch == 'r')
			o.rounds = atoi(optarg);
		else if (ch == 'n')
			o.count = atoi(optarg);
		else if (ch == 'm')
			o.memory = atoi(optarg);
		else if (ch == 'k') {
			o.ec = strstr(optarg, "ec") != NULL;
			o.rsa = strstr(optarg, "rsa") != NULL;
		} else if (ch == 'l')
			o.hsloop = optarg;
		else if (ch == 's')
			o.shim = optarg;
		else if (ch == 'S')
			o.smtp = true;
		else if (ch == 'G')
			o.smtp_cg = true;
		else if (ch == 'O')
			only = optarg;
		else if (ch == 'V') {
			if (add_variant(optarg) < 0)
				return -1;
		}
		else if (ch != 'c' ||
			 sscanf(optarg, "%d,%d", &o.cg1, &o.cg2) != 2)
			return -1;
	}
	if (only != NULL && keep_only(only) < 0)
		return -1;
	return o.hsloop && o.shim && o.count >= 2 &&
	       (o.memory == 0 || o.memory >= 1000) ? 0 : -1;
}

int main(int argc, char **argv)
{
	int rc = 1;

	if (parse(argc, argv) < 0) {
		fprintf(stderr, "usage: %s --hsloop PATH --shim ABSPATH "
			"[--variant NAME=VAR=VALUE,...] [--rounds R] [--count N] "
			"[--memory N>=1000|0] [--keys ec,rsa] "
			"[--callgrind N1,N2] [--smtp [--smtp-callgrind]]\n", argv[0]);
		return 2;
	}
	if (o.shim[0] != '/' || access(o.shim, R_OK) != 0) {
		bench_note("--shim needs an absolute path to a readable "
			   "esashim.so");
		return 2;
	}
	if (bench_pki_init(&pki) < 0)
		goto out;
	if (test_unbound_start(BENCH_UNBOUND_ZONE, &ub) < 0) {
		bench_note("unbound: %s", ub.err);
		goto out;
	}
	if ((!o.ec || run_key("ec", &pki.ref_ec) == 0) &&
	    (!o.rsa || run_key("rsa", &pki.ref_rsa) == 0))
		rc = 0;
out:
	test_unbound_stop(&ub);
	bench_pki_free(&pki);
	return rc;
}
