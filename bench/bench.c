/*
 * bench.c - helpers shared by the benchmark programs (see bench.h)
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define NAME(s) { (s), 0, TEST_STR_UTF8, false }

/* bench_now_ns - monotonic nanoseconds */
uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* bench_cpu_ns - process CPU time (all threads) */
uint64_t bench_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* cmp_double - qsort order of doubles */
static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* bench_quantile - linear interpolation between the closest ranks */
double bench_quantile(const double *v, size_t n, double q)
{
	double *s, pos, r;
	size_t lo;

	if (n == 0 || (s = malloc(n * sizeof *s)) == NULL)
		return NAN;
	memcpy(s, v, n * sizeof *s);
	qsort(s, n, sizeof *s, cmp_double);
	pos = q * (double)(n - 1);
	lo = (size_t)pos;
	r = lo + 1 < n ? s[lo] + (pos - (double)lo) * (s[lo + 1] - s[lo]) : s[lo];
	free(s);
	return r;
}

/* bench_median - the middle value */
double bench_median(const double *v, size_t n)
{
	return bench_quantile(v, n, 0.5);
}

/* bench_rss_kb - resident pages now, in KiB */
long bench_rss_kb(void)
{
	long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &resident) != 2)
		resident = -1;
	fclose(f);
	return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* bench_maxrss_kb - the peak so far */
long bench_maxrss_kb(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

/* bench_result - one machine-readable line for run.sh */
void bench_result(const char *fmt, ...)
{
	va_list ap;

	fputs("RESULT ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* bench_note - progress and problems, on stderr */
void bench_note(const char *fmt, ...)
{
	extern char *program_invocation_short_name;
	va_list ap;

	fprintf(stderr, "%s: ", program_invocation_short_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* bench_reference_spec - SPEC 7: CN=*.emailhosted.not, SAN
 * DNS:*.emailhosted.not, DNS:emailhosted.not */
struct test_leaf_spec bench_reference_spec(enum test_keytype kt)
{
	static const struct test_name cn[] = { NAME("*.emailhosted.not") };
	static const struct test_name dns[] = {
		NAME("*.emailhosted.not"), NAME("emailhosted.not"),
	};

	return (struct test_leaf_spec){ .cn = cn, .ncn = 1, .dns = dns,
					.ndns = 2, .keytype = kt };
}

/* append_file - copy the file at from to the end of f; 0 or -1 */
static int append_file(FILE *f, const char *from)
{
	char buf[8192];
	size_t n;
	FILE *in = fopen(from, "r");

	if (in == NULL)
		return -1;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		fwrite(buf, 1, n, f);
	fclose(in);
	return 0;
}

/* write_bundle - the system bundle followed by the two test roots, so a
 * store loaded from it costs what the system store costs and still trusts
 * the benchmark's servers */
static int write_bundle(struct bench_pki *p)
{
	FILE *f = fopen(p->bundle, "w");
	int rc = 0;

	if (f == NULL)
		return -1;
	if (append_file(f, SYSTEM_BUNDLE) != 0)
		bench_note("no %s: the bundle holds the test roots only",
			   SYSTEM_BUNDLE);
	rc |= append_file(f, p->cafile);
	return (fclose(f) == 0 && rc == 0) ? 0 : -1;
}

/* bench_pki_init - two roots, two reference leaves, PEM files */
int bench_pki_init(struct bench_pki *p)
{
	struct test_leaf_spec ec = bench_reference_spec(TEST_KEY_EC);
	struct test_leaf_spec rsa = bench_reference_spec(TEST_KEY_RSA);
	X509 *roots[2];

	memset(p, 0, sizeof *p);
	if (test_dir_new(&p->dir) != 0)
		return bench_note("cannot make a temporary directory"), -1;
	if (test_ca_root(&p->ca_ec, "ESA Bench Root EC", TEST_KEY_EC) != 0 ||
	    test_ca_root(&p->ca_rsa, "ESA Bench Root RSA", TEST_KEY_RSA) != 0 ||
	    test_leaf_issue(&p->ref_ec, &p->ca_ec, &ec) != 0 ||
	    test_leaf_issue(&p->ref_rsa, &p->ca_rsa, &rsa) != 0)
		return bench_note("cannot make the test PKI"), -1;
	roots[0] = p->ca_ec.cert;
	roots[1] = p->ca_rsa.cert;
	test_dir_file(&p->dir, "ca.pem", p->cafile, sizeof p->cafile);
	test_dir_file(&p->dir, "bundle.pem", p->bundle, sizeof p->bundle);
	test_dir_file(&p->dir, "ec.pem", p->cert_ec, sizeof p->cert_ec);
	test_dir_file(&p->dir, "ec.key", p->key_ec, sizeof p->key_ec);
	test_dir_file(&p->dir, "rsa.pem", p->cert_rsa, sizeof p->cert_rsa);
	test_dir_file(&p->dir, "rsa.key", p->key_rsa, sizeof p->key_rsa);
	if (test_write_certs(p->cafile, roots, 2) != 0 || write_bundle(p) != 0 ||
	    test_write_cert(p->cert_ec, p->ref_ec.cert) != 0 ||
	    test_write_key(p->key_ec, p->ref_ec.key) != 0 ||
	    test_write_cert(p->cert_rsa, p->ref_rsa.cert) != 0 ||
	    test_write_key(p->key_rsa, p->ref_rsa.key) != 0)
		return bench_note("cannot write the PKI files"), -1;
	return 0;
}

/* bench_pki_free - everything bench_pki_init made, files included */
void bench_pki_free(struct bench_pki *p)
{
	test_leaf_free(&p->ref_ec);
	test_leaf_free(&p->ref_rsa);
	test_ca_free(&p->ca_ec);
	test_ca_free(&p->ca_rsa);
	if (p->dir.path[0] != '\0')
		test_dir_remove(&p->dir);
	memset(p, 0, sizeof *p);
}
