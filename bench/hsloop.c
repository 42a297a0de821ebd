/*
 * hsloop.c - a plain OpenSSL 3 client that makes full TLS handshakes in a
 * loop: the program run with and without LD_PRELOAD=esashim.so in `make
 * bench` sections 2 and 5.  It knows nothing of esaverify and links only
 * libssl and libcrypto, as the programs the shim is meant for do.
 *
 * Each handshake: a new TCP connection to 127.0.0.1:PORT, SSL_new,
 * SSL_set1_host and SNI for HOST, SSL_VERIFY_PEER against CAFILE,
 * SSL_connect, SSL_get_verify_result, close_notify, SSL_free, close.
 *
 * Output, one line on stdout after the loop:
 *   HSLOOP n=N failures=F first_us=T0 total_us=T us_mean=M us_median=MED
 *          cpu_us_mean=C maxrss_kb=K rss_kb@S=R heap_kb@S=H ...
 * first_us is the first handshake (program and shim start-up costs land
 * there); total, mean and median cover handshakes 2..N, and so does
 * cpu_us_mean, the process's CPU time per handshake (the client's own work,
 * the server being another process).  For every S given
 * with --sample, after handshake S: rss_kb@S the resident set (current RSS
 * from /proc/self/statm) and heap_kb@S the bytes malloc has handed out and
 * not had back (mallinfo2 uordblks + hblkhd: a leak shows there, malloc's
 * fragmentation does not); maxrss_kb is the peak (getrusage).
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define MAX_SAMPLES 8

/* now_ns - monotonic nanoseconds */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* cpu_ns - CPU time of the process so far (the shim's work included) */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* rss_kb - resident set now */
static long rss_kb(void)
{
	long size, res;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &res) != 2)
		res = -1;
	fclose(f);
	return res < 0 ? -1 : res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* heap_kb - bytes allocated and not freed, in KiB */
static long heap_kb(void)
{
	struct mallinfo2 mi = mallinfo2();

	return (long)((mi.uordblks + mi.hblkhd) / 1024);
}

/* cmp_u64 - qsort order */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* tcp - a connected socket to 127.0.0.1:port, or -1 */
static int tcp(int port)
{
	struct sockaddr_in s = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	s.sin_port = htons((unsigned short)port);
	s.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&s, sizeof s) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* handshake - one connection; true when it verified */
static bool handshake(SSL_CTX *ctx, int port, const char *host)
{
	int fd = tcp(port);
	SSL *ssl;
	bool ok = false;

	if (fd < 0)
		return false;
	ssl = SSL_new(ctx);
	if (ssl != NULL && SSL_set_fd(ssl, fd) == 1 &&
	    SSL_set1_host(ssl, host) == 1 &&
	    SSL_set_tlsext_host_name(ssl, host) == 1) {
		ok = SSL_connect(ssl) == 1 &&
		     SSL_get_verify_result(ssl) == X509_V_OK;
		if (SSL_is_init_finished(ssl))
			SSL_shutdown(ssl);
	}
	SSL_free(ssl);
	close(fd);
	ERR_clear_error();
	return ok;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "port", 1, NULL, 'p' }, { "host", 1, NULL, 'H' },
		{ "cafile", 1, NULL, 'c' }, { "count", 1, NULL, 'n' },
		{ "sample", 1, NULL, 's' }, { NULL, 0, NULL, 0 },
	};
	const char *host = "localhost", *cafile = NULL;
	long samples[MAX_SAMPLES], rss[MAX_SAMPLES], heap[MAX_SAMPLES];
	int port = 0, n = 100, nsamples = 0, failures = 0, ch, i, k;
	uint64_t *ns, t0, total = 0, cpu0 = 0;
	struct rusage ru;
	SSL_CTX *ctx;
	char *tok, *save = NULL;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch == 'p')
			port = atoi(optarg);
		else if (ch == 'H')
			host = optarg;
		else if (ch == 'c')
			cafile = optarg;
		else if (ch == 'n')
			n = atoi(optarg);
		else if (ch == 's')
			for (tok = strtok_r(optarg, ",", &save);
			     tok && nsamples < MAX_SAMPLES;
			     tok = strtok_r(NULL, ",", &save))
				samples[nsamples++] = atol(tok);
		else
			return 2;
	}
	if (port <= 0 || cafile == NULL || n < 2) {
		fprintf(stderr, "usage: %s --port P --cafile F [--host H] "
			"[--count N>=2] [--sample S,S,...]\n", argv[0]);
		return 2;
	}
	ctx = SSL_CTX_new(TLS_client_method());
	ns = calloc((size_t)n, sizeof *ns);
	if (ctx == NULL || ns == NULL ||
	    SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1) {
		fprintf(stderr, "%s: cannot set up the client\n", argv[0]);
		return 1;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	for (i = 0; i < n; i++) {
		if (i == 1)
			cpu0 = cpu_ns();
		t0 = now_ns();
		failures += !handshake(ctx, port, host);
		ns[i] = now_ns() - t0;
		for (k = 0; k < nsamples; k++)
			if (samples[k] == i + 1) {
				rss[k] = rss_kb();
				heap[k] = heap_kb();
			}
	}
	cpu0 = cpu_ns() - cpu0;
	for (i = 1; i < n; i++)
		total += ns[i];
	getrusage(RUSAGE_SELF, &ru);
	printf("HSLOOP n=%d failures=%d first_us=%.1f total_us=%.1f "
	       "us_mean=%.2f", n, failures, ns[0] / 1e3, total / 1e3,
	       total / 1e3 / (n - 1));
	qsort(ns + 1, (size_t)n - 1, sizeof *ns, cmp_u64);
	printf(" us_median=%.2f cpu_us_mean=%.2f maxrss_kb=%ld",
	       ns[1 + (n - 1) / 2] / 1e3, cpu0 / 1e3 / (n - 1), ru.ru_maxrss);
	for (k = 0; k < nsamples; k++)
		if (samples[k] <= n)
			printf(" rss_kb@%ld=%ld heap_kb@%ld=%ld", samples[k],
			       rss[k], samples[k], heap[k]);
	printf("\n");
	free(ns);
	SSL_CTX_free(ctx);
	return failures ? 1 : 0;
}
