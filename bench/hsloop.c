/*
 * hsloop.c - a plain OpenSSL 3 client that makes full TLS handshakes in a
 * loop: the program run with and without LD_PRELOAD=esashim.so in `make
 * bench` sections 2 and 5.  It knows nothing of esaverify and links only
 * libssl and libcrypto, as the programs the shim is meant for do.
 *
 * Each handshake: a new TCP connection to 127.0.0.1:PORT, SSL_new,
 * SSL_set1_host and SNI for HOST, SSL_VERIFY_PEER against CAFILE,
 * SSL_connect, SSL_get_verify_result, close_notify, SSL_free, close.
 * With --smtp, each is a whole delivery, as a mail client makes it: the
 * banner, EHLO, STARTTLS, the handshake as above, EHLO, MAIL FROM, RCPT TO,
 * DATA with a message of 10 KB, QUIT, close_notify; any reply other than
 * the expected one fails it.
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

/* The SMTP side of --smtp: a reply is read up to its last line ("NNN "),
 * over the socket before STARTTLS and over TLS after. */
struct smtp {
	int fd;
	SSL *ssl;
	char buf[4096];
	size_t have;
};

static char message[10 * 1024 + 64];	/* the 10 KB message, dot-ended */

/* make_message - headers, then lines of text up to 10 KB, then "." */
static void make_message(void)
{
	size_t n = (size_t)snprintf(message, sizeof message,
		"From: <bench@client.test>\r\nTo: <user@example.com>\r\n"
		"Subject: bench\r\n\r\n");

	while (n + 80 < 10 * 1024) {
		memset(message + n, 'x', 76);
		memcpy(message + n + 76, "\r\n", 2);
		n += 78;
	}
	memcpy(message + n, ".\r\n", 4);
	message[n + 4] = '\0';
}

/* smtp_send - all of s; true when sent */
static bool smtp_send(struct smtp *m, const char *s)
{
	size_t len = strlen(s);

	while (len > 0) {
		int n = m->ssl ? SSL_write(m->ssl, s, (int)len)
			       : (int)send(m->fd, s, len, MSG_NOSIGNAL);

		if (n <= 0)
			return false;
		s += n;
		len -= (size_t)n;
	}
	return true;
}

/* smtp_reply - read one reply (every line of it); true when its code is
 * code */
static bool smtp_reply(struct smtp *m, const char *code)
{
	char *nl;

	for (;;) {
		while ((nl = memchr(m->buf, '\n', m->have)) == NULL) {
			int n;

			if (m->have == sizeof m->buf)
				return false;
			n = m->ssl ? SSL_read(m->ssl, m->buf + m->have,
					      (int)(sizeof m->buf - m->have))
				   : (int)recv(m->fd, m->buf + m->have,
					       sizeof m->buf - m->have, 0);
			if (n <= 0)
				return false;
			m->have += (size_t)n;
		}
		bool last = nl - m->buf >= 4 && m->buf[3] == ' ';
		bool ok = nl - m->buf >= 3 && memcmp(m->buf, code, 3) == 0;

		m->have -= (size_t)(nl + 1 - m->buf);
		memmove(m->buf, nl + 1, m->have);
		if (!ok)
			return false;
		if (last)
			return true;
	}
}

/* smtp_say - a command and its expected reply */
static bool smtp_say(struct smtp *m, const char *cmd, const char *code)
{
	return smtp_send(m, cmd) && smtp_reply(m, code);
}

/* smtp_before - the plain-text part: banner, EHLO, STARTTLS */
static bool smtp_before(struct smtp *m)
{
	return smtp_reply(m, "220") &&
	       smtp_say(m, "EHLO client.test\r\n", "250") &&
	       smtp_say(m, "STARTTLS\r\n", "220") && m->have == 0;
}

/* smtp_after - the delivery over TLS */
static bool smtp_after(struct smtp *m)
{
	return smtp_say(m, "EHLO client.test\r\n", "250") &&
	       smtp_say(m, "MAIL FROM:<bench@client.test>\r\n", "250") &&
	       smtp_say(m, "RCPT TO:<user@example.com>\r\n", "250") &&
	       smtp_say(m, "DATA\r\n", "354") &&
	       smtp_say(m, message, "250") &&
	       smtp_say(m, "QUIT\r\n", "221");
}

/* handshake - one connection (a delivery with smtp); true when it
 * verified (and the message was taken) */
static bool handshake(SSL_CTX *ctx, int port, const char *host, bool smtp)
{
	struct smtp m = { .fd = tcp(port) };
	SSL *ssl;
	bool ok = false;

	if (m.fd < 0)
		return false;
	if (smtp && !smtp_before(&m)) {
		close(m.fd);
		return false;
	}
	ssl = SSL_new(ctx);
	if (ssl != NULL && SSL_set_fd(ssl, m.fd) == 1 &&
	    SSL_set1_host(ssl, host) == 1 &&
	    SSL_set_tlsext_host_name(ssl, host) == 1) {
		ok = SSL_connect(ssl) == 1 &&
		     SSL_get_verify_result(ssl) == X509_V_OK;
		m.ssl = ssl;
		if (ok && smtp)
			ok = smtp_after(&m);
		if (SSL_is_init_finished(ssl))
			SSL_shutdown(ssl);
	}
	SSL_free(ssl);
	close(m.fd);
	ERR_clear_error();
	return ok;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "port", 1, NULL, 'p' }, { "host", 1, NULL, 'H' },
		{ "cafile", 1, NULL, 'c' }, { "count", 1, NULL, 'n' },
		{ "sample", 1, NULL, 's' }, { "smtp", 0, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	const char *host = "localhost", *cafile = NULL;
	long samples[MAX_SAMPLES], rss[MAX_SAMPLES], heap[MAX_SAMPLES];
	int port = 0, n = 100, nsamples = 0, failures = 0, ch, i, k;
	bool smtp = false;
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
		else if (ch == 'S')
			smtp = true;
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
			"[--count N>=2] [--sample S,S,...] [--smtp]\n", argv[0]);
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
	make_message();
	for (i = 0; i < n; i++) {
		if (i == 1)
			cpu0 = cpu_ns();
		t0 = now_ns();
		failures += !handshake(ctx, port, host, smtp);
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
