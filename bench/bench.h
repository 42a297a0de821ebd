/*
 * bench.h - helpers shared by the benchmark programs of `make bench`
 *
 * Timing (monotonic nanoseconds), robust statistics (median, quartiles of
 * a copy), memory readings (current RSS from /proc/self/statm, peak from
 * getrusage), the benchmark PKI (an ECDSA P-256 and an RSA-2048 chain,
 * each leaf SPEC 7's reference certificate) and the DNS data every
 * program serves from a private unbound on loopback.
 *
 * Nothing here prints to stdout except bench_result(), whose lines
 * ("RESULT key=value ...") are what bench/run.sh collects.
 */
#ifndef ESA_BENCH_H
#define ESA_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "pki.h"
#include "unbound.h"

/* SPEC 7's records, plus the loopback server as a forward-confirmed PTR
 * name (PTR 127.0.0.1 = lo.emailhosted.not, A lo.emailhosted.not =
 * 127.0.0.1), so that Verify passes through SPEC 4.1 step 3 for a server
 * on 127.0.0.1, the most DNS-hungry way it can pass. */
#define BENCH_UNBOUND_ZONE TEST_UNBOUND_SPEC7 \
	"local-data: \"lo.emailhosted.not. 300 IN A 127.0.0.1\"\n" \
	"local-zone: \"1.0.0.127.in-addr.arpa.\" static\n" \
	"local-data-ptr: \"127.0.0.1 300 lo.emailhosted.not.\"\n"

/* The same records as a master file for the static resolver. */
#define BENCH_STATIC_ZONE \
	"example.com.               300 IN MX 10 mx01.subd.emailhosted.not.\n" \
	"example.com.               300 IN MX 20 mx02.subd.emailhosted.not.\n" \
	"mx01.subd.emailhosted.not. 300 IN A 192.0.2.1\n" \
	"mx02.subd.emailhosted.not. 300 IN A 192.0.2.2\n" \
	"192.0.2.1                  300 IN PTR mx0a.emailhosted.not.\n" \
	"192.0.2.2                  300 IN PTR mx0b.emailhosted.not.\n" \
	"mx0a.emailhosted.not.      300 IN A 192.0.2.1\n" \
	"mx0b.emailhosted.not.      300 IN A 192.0.2.2\n" \
	"lo.emailhosted.not.        300 IN A 127.0.0.1\n" \
	"127.0.0.1                  300 IN PTR lo.emailhosted.not.\n"

/* The host name a stock client asks OpenSSL to check. */
#define BENCH_STOCK_HOST "lo.emailhosted.not"

struct bench_pki {
	struct test_dir dir;
	struct test_ca ca_ec, ca_rsa;
	struct test_leaf ref_ec, ref_rsa;	/* SPEC 7's certificate */
	char cafile[128];	/* both roots */
	char bundle[128];	/* the system bundle plus both roots */
	char cert_ec[128], key_ec[128], cert_rsa[128], key_rsa[128];
};

/* Make the CAs, the two leaves and their files; 0 or -1 (message on stderr). */
int bench_pki_init(struct bench_pki *p);
void bench_pki_free(struct bench_pki *p);
/* SPEC 7's leaf spec with the given key type. */
struct test_leaf_spec bench_reference_spec(enum test_keytype kt);

uint64_t bench_now_ns(void);
/* CPU time of the whole process (every thread), in nanoseconds: unlike
 * wall time it does not grow while the machine's other work holds the
 * CPU, so ratios of it stay readable on a busy machine. */
uint64_t bench_cpu_ns(void);
/* Quantile q (0..1) of n values (a sorted copy is made); NAN when n == 0. */
double bench_quantile(const double *v, size_t n, double q);
double bench_median(const double *v, size_t n);
/* Resident set size now, in KiB (/proc/self/statm). */
long bench_rss_kb(void);
/* Peak resident set size so far, in KiB (getrusage). */
long bench_maxrss_kb(void);

/* An SMTP server with STARTTLS on 127.0.0.1 (smtp_server.c): one
 * delivery per connection, connections served one at a time, presenting
 * leaf.  NULL on error. */
struct smtp_server;
struct smtp_server *smtp_server_start(const struct test_leaf *leaf);
int smtp_server_port(const struct smtp_server *s);
/* Stop and free it; the messages it accepted and the connections whose
 * handshake failed (either pointer may be NULL). */
void smtp_server_stop(struct smtp_server *s, int *messages, int *tls_failed);

/* One "RESULT section=... key=value ..." line on stdout, flushed. */
void bench_result(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/* A message on stderr, prefixed with the program's name. */
void bench_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
