/*
 * test_dns.c - the DNS layer (SPEC 6) that asks a server: reverse names,
 * the libresolv resolver against a private unbound on loopback (records,
 * TTL, cache, NXDOMAIN, REFUSED, CNAMEs, TCP after truncation, IPv6
 * nameserver, threads), and against a scripted UDP server for hostile
 * answers and timeouts.  Every query goes to 127.0.0.1 or ::1 at a port the
 * test opened; none goes to the system's resolver.  The static resolver is
 * in test_dnsfile.c.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dnslookup.h"
#include "dnswire.h"
#include "internal.h"
#include "unbound.h"

/* ==== reverse names ===================================================== */

Test(reverse, ipv4)
{
	unsigned char ip[4] = { 192, 0, 2, 1 };
	char out[ESA_NAME_MAX];

	cr_assert_eq(esa_reverse_name(AF_INET, ip, out, sizeof out), 0);
	cr_expect_str_eq(out, "1.2.0.192.in-addr.arpa");
}

Test(reverse, ipv6_nibbles)
{
	unsigned char ip[16];
	char out[ESA_NAME_MAX];
	int fam;

	cr_assert_eq(esa_parse_ip("2001:db8::1", &fam, ip), 0);
	cr_assert_eq(esa_reverse_name(fam, ip, out, sizeof out), 0);
	cr_expect_str_eq(out, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
			 "0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
	cr_expect_eq(strlen(out), 72);
}

Test(reverse, small_buffer_or_bad_family_fails)
{
	unsigned char ip[16] = { 0 };
	char out[72];

	cr_expect_eq(esa_reverse_name(AF_INET6, ip, out, sizeof out), -1,
		     "73 octets needed");
	cr_expect_eq(esa_reverse_name(AF_INET, ip, out, 10), -1);
	cr_expect_eq(esa_reverse_name(AF_UNIX, ip, out, sizeof out), -1);
}

/* ==== libresolv against a private unbound ================================ */

static struct test_unbound ub;
static esa_resolver *lr;

/* ub_data - SPEC 7 plus CNAMEs, AAAA, an IPv6 PTR and a name with 100 A
 * records (too big for UDP: unbound truncates, we ask again over TCP) */
static const char *ub_data(void)
{
	static char text[12000];
	size_t len;
	int i;

	len = (size_t)snprintf(text, sizeof text, "%s",
		TEST_UNBOUND_SPEC7
		"local-data: \"alias.example.com. 300 IN CNAME mx0a.emailhosted.not.\"\n"
		"local-data: \"alias2.example.com. 100 IN CNAME alias.example.com.\"\n"
		"local-data: \"dangle.example.com. 300 IN CNAME nosuch.example.com.\"\n"
		"local-data: \"v6.example.com. 300 IN AAAA 2001:db8::25\"\n"
		"local-data-ptr: \"2001:db8::25 300 v6.example.com.\"\n");
	for (i = 0; i < 100 && len < sizeof text; i++)
		len += (size_t)snprintf(text + len, sizeof text - len,
			"local-data: \"big.example.com. 300 IN A 198.51.100.%d\"\n", i);
	return text;
}

/* ub_setup - start unbound (a failure to start fails the test) */
static void ub_setup(void)
{
	char ns[64], err[ESA_ERR_MAX];

	cr_assert_eq(test_unbound_start(ub_data(), &ub), 0,
		     "unbound could not start: %s", ub.err);
	snprintf(ns, sizeof ns, "127.0.0.1:%d", ub.port);
	lr = esa_resolver_libresolv(ns, err, sizeof err);
	cr_assert_not_null(lr, "%s", err);
}

/* ub_teardown - stop unbound by PID */
static void ub_teardown(void)
{
	esa_resolver_free(lr);
	lr = NULL;
	test_unbound_stop(&ub);
}

TestSuite(unbound, .init = ub_setup, .fini = ub_teardown);

Test(unbound, mx_records_ttl_and_no_ad)
{
	struct esa_answer a;

	cr_assert_eq(lookup(lr, "example.com", ESA_T_MX, &a), 0, "%s", a.reason);
	expect_spec7_mx(&a);
	cr_expect_eq(a.rr[0].ttl, 300);
	cr_expect_eq(a.rcode, 0);
	cr_expect(!a.ad, "an iterator-only unbound validates nothing");
	cr_expect(!a.cached);
	cr_expect_eq(esa_resolver_queries(lr), 1);
	esa_answer_free(&a);
}

Test(unbound, second_lookup_comes_from_the_cache)
{
	struct esa_answer a;
	unsigned long sent;

	cr_assert_eq(lookup(lr, "mx01.subd.emailhosted.not", ESA_T_A, &a), 0);
	esa_answer_free(&a);
	sent = esa_resolver_queries(lr);
	cr_assert_eq(lookup(lr, "MX01.subd.emailhosted.not.", ESA_T_A, &a), 0);
	cr_expect(a.cached, "same name, other spelling: cached");
	cr_expect_eq(esa_resolver_queries(lr), sent);
	cr_assert_eq(a.count, 1);
	cr_expect(a.ttl <= 300 && a.ttl >= 290, "ttl %u", a.ttl);
	esa_answer_free(&a);
	cr_assert_eq(lookup(lr, "mx01.subd.emailhosted.not", ESA_T_AAAA, &a), -1);
	cr_expect(!a.cached, "the type is part of the key");
	esa_answer_free(&a);
	esa_resolver_flush(lr);
	sent = esa_resolver_queries(lr);
	cr_assert_eq(lookup(lr, "mx01.subd.emailhosted.not", ESA_T_A, &a), 0);
	cr_expect(!a.cached, "flushed");
	cr_expect_eq(esa_resolver_queries(lr), sent + 1);
	esa_answer_free(&a);
}

Test(unbound, ptr_of_the_reference_example)
{
	unsigned char ip[16];
	char rev[ESA_NAME_MAX];
	struct esa_answer a;
	int fam;

	esa_parse_ip("192.0.2.1", &fam, ip);
	esa_reverse_name(fam, ip, rev, sizeof rev);
	cr_assert_eq(lookup(lr, rev, ESA_T_PTR, &a), 0, "%s", a.reason);
	cr_assert_eq(a.count, 1);
	cr_expect_str_eq(a.rr[0].name, "mx0a.emailhosted.not");
	esa_answer_free(&a);
	esa_parse_ip("2001:db8::25", &fam, ip);
	esa_reverse_name(fam, ip, rev, sizeof rev);
	cr_assert_eq(lookup(lr, rev, ESA_T_PTR, &a), 0, "%s", a.reason);
	cr_expect_str_eq(a.rr[0].name, "v6.example.com");
	esa_answer_free(&a);
}

Test(unbound, aaaa_record)
{
	struct esa_answer a;
	char ip[64];

	cr_assert_eq(lookup(lr, "v6.example.com", ESA_T_AAAA, &a), 0);
	cr_expect_str_eq(ip_of(&a, 0, ip), "2001:db8::25");
	esa_answer_free(&a);
}

Test(unbound, nxdomain_and_nodata_are_cached_briefly)
{
	struct esa_answer a;
	unsigned long sent;

	cr_assert_eq(lookup(lr, "nosuch.example.com", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_NXDOMAIN);
	cr_expect_eq(a.rcode, 3);
	cr_expect_str_eq(a.reason, "A nosuch.example.com: NXDOMAIN");
	sent = esa_resolver_queries(lr);
	cr_assert_eq(lookup(lr, "nosuch.example.com", ESA_T_A, &a), -1);
	cr_expect(a.cached);
	cr_expect_eq(a.status, ESA_DNS_NXDOMAIN);
	cr_expect_eq(esa_resolver_queries(lr), sent);
	cr_assert_eq(lookup(lr, "example.com", ESA_T_AAAA, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_NODATA);
	cr_expect_eq(a.rcode, 0);
}

Test(unbound, outside_the_local_zones_is_refused_and_not_cached)
{
	struct esa_answer a;
	unsigned long sent;

	cr_assert_eq(lookup(lr, "outside.example.org", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_REFUSED, "%s", a.reason);
	cr_expect_eq(a.rcode, 5);
	cr_expect_str_eq(a.reason, "A outside.example.org: REFUSED");
	sent = esa_resolver_queries(lr);
	cr_assert_eq(lookup(lr, "outside.example.org", ESA_T_A, &a), -1);
	cr_expect(!a.cached, "failures are not cached");
	cr_expect_eq(esa_resolver_queries(lr), sent + 1);
}

Test(unbound, cname_chain_is_followed)
{
	struct esa_answer a;
	char ip[64];

	/* unbound's local-data answers the CNAME alone: we ask the target */
	cr_assert_eq(lookup(lr, "alias2.example.com", ESA_T_A, &a), 0, "%s",
		     a.reason);
	cr_assert_eq(a.count, 1);
	cr_expect_eq(a.rr[0].type, ESA_T_A);
	cr_expect_str_eq(ip_of(&a, 0, ip), "192.0.2.1");
	esa_answer_free(&a);
	cr_assert_eq(lookup(lr, "dangle.example.com", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_NXDOMAIN);
	cr_expect(strstr(a.reason, "nosuch.example.com") != NULL, "%s", a.reason);
}

Test(unbound, truncated_answer_is_asked_again_over_tcp)
{
	struct esa_answer a;

	cr_assert_eq(lookup(lr, "big.example.com", ESA_T_A, &a), 0, "%s", a.reason);
	cr_expect_eq(a.count, ESA_DNS_MAX_RR, "100 records, capped");
	cr_expect_eq(esa_resolver_queries(lr), 2, "UDP, then TCP");
	esa_answer_free(&a);
}

Test(unbound, ipv6_nameserver_override)
{
	char ns[64], err[ESA_ERR_MAX];
	struct esa_answer a;
	esa_resolver *r6;

	snprintf(ns, sizeof ns, "[::1]:%d", ub.port);
	r6 = esa_resolver_libresolv(ns, err, sizeof err);
	cr_assert_not_null(r6, "%s", err);
	cr_assert_eq(lookup(r6, "mx0b.emailhosted.not", ESA_T_A, &a), 0, "%s",
		     a.reason);
	cr_expect_eq(a.count, 1);
	cr_expect_eq(esa_resolver_queries(r6), 1);
	esa_answer_free(&a);
	cr_assert_eq(lookup(r6, "outside.example.org", ESA_T_MX, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_REFUSED, "%s", a.reason);
	esa_resolver_free(r6);
}

Test(unbound, spent_budget_sends_nothing)
{
	struct esa_answer a;

	cr_assert_eq(esa_lookup(lr, "example.com", ESA_T_MX, esa_now_ms() - 1,
				&a), -1);
	cr_expect_eq(a.status, ESA_DNS_TIMEOUT);
	cr_expect_eq(esa_resolver_queries(lr), 0);
}

/* worker - many lookups through the shared resolver */
static void *worker(void *arg)
{
	static const char *const names[] = {
		"mx01.subd.emailhosted.not", "mx02.subd.emailhosted.not",
		"mx0a.emailhosted.not", "mx0b.emailhosted.not",
	};
	long bad = 0, i;

	(void)arg;
	for (i = 0; i < 40; i++) {
		struct esa_answer a;

		if (lookup(lr, names[i % 4], ESA_T_A, &a) != 0 || a.count != 1)
			bad++;
		esa_answer_free(&a);
		if (i % 10 == 9)
			esa_resolver_flush(lr);
	}
	return (void *)bad;
}

Test(unbound, threads_share_one_resolver)
{
	pthread_t th[8];
	void *bad;
	int i;

	for (i = 0; i < 8; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, worker, NULL), 0);
	for (i = 0; i < 8; i++) {
		pthread_join(th[i], &bad);
		cr_expect_null(bad, "thread %d: %ld failed lookups", i, (long)bad);
	}
}

Test(unbound_helper, bad_configuration_fails_with_the_log)
{
	struct test_unbound u;

	cr_assert_eq(test_unbound_start("no-such-option: yes\n", &u), -1);
	cr_expect(strstr(u.err, "unbound") != NULL && u.err[0] != '\0', "%s",
		  u.err);
	cr_expect_eq(u.pid, 0);
	test_unbound_stop(&u);
}

/* ==== nameservers, silence, refusal ====================================== */

Test(nameserver, bad_overrides_are_refused)
{
	static const char *const bad[] = {
		"1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:", "1.2.3.4:x", "[::1",
		"[::1]x", "[::1]:", "999.1.1.1", "localhost", "[1.2.3.4]:53",
		"::1:53:zz", "1.2.3.4 ",
	};
	char err[ESA_ERR_MAX];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		esa_resolver *r = esa_resolver_libresolv(bad[i], err, sizeof err);

		cr_expect_null(r, "'%s' accepted", bad[i]);
		esa_resolver_free(r);
		cr_expect(strstr(err, "bad nameserver") == err, "%s", err);
	}
}

Test(nameserver, good_overrides_are_accepted)
{
	static const char *const good[] = {
		"127.0.0.1", "127.0.0.1:5353", "[::1]:53", "[::1]", "::1",
		"2001:db8::53",
	};
	char err[ESA_ERR_MAX];
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		esa_resolver *r = esa_resolver_libresolv(good[i], err, sizeof err);

		cr_expect_not_null(r, "'%s': %s", good[i], err);
		esa_resolver_free(r);
	}
	/* the system resolver can be made (it is never asked here) */
	esa_resolver_free(esa_resolver_libresolv(NULL, err, sizeof err));
}

Test(nameserver, silent_server_times_out_within_the_budget)
{
	char ns[64], err[ESA_ERR_MAX];
	unsigned budget = 2000;
	struct esa_answer a;
	esa_resolver *r;
	uint64_t start;
	int port, fd = dw_udp_socket(&port);	/* bound, never read */

	cr_assert(fd >= 0);

	snprintf(ns, sizeof ns, "127.0.0.1:%d", port);
	r = esa_resolver_libresolv(ns, err, sizeof err);
	cr_assert_not_null(r, "%s", err);
	start = esa_now_ms();
	cr_assert_eq(esa_lookup(r, "example.com", ESA_T_MX, start + budget, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_TIMEOUT, "%s", a.reason);
	cr_expect_eq(a.rcode, -1);
	cr_expect(esa_now_ms() - start < budget + 1000, "took %llu ms",
		  (unsigned long long)(esa_now_ms() - start));
	cr_expect(strstr(a.reason, "MX example.com: timeout") == a.reason, "%s",
		  a.reason);
	cr_assert_eq(esa_lookup(r, "example.com", ESA_T_MX, esa_now_ms() + 1500,
				&a), -1);
	cr_expect(!a.cached, "timeouts are not cached");
	esa_resolver_free(r);
	close(fd);
}

Test(nameserver, nobody_listening_is_no_answer)
{
	char ns[64], err[ESA_ERR_MAX];
	struct esa_answer a;
	esa_resolver *r;
	int port, fd = dw_udp_socket(&port);

	cr_assert(fd >= 0);
	close(fd);		/* now the port answers with ICMP unreachable */
	snprintf(ns, sizeof ns, "127.0.0.1:%d", port);
	r = esa_resolver_libresolv(ns, err, sizeof err);
	cr_assert_not_null(r, "%s", err);
	cr_assert_eq(lookup(r, "example.com", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_TIMEOUT, "%s", a.reason);
	cr_expect(strstr(a.reason, "connection refused") != NULL, "%s", a.reason);
	esa_resolver_free(r);
}

/* ==== a scripted server for hostile answers ============================= */

/* A UDP server thread on 127.0.0.1 (dnswire.c) answering from build_reply(). */

/* rr_a - an A record */
static void rr_a(struct dw_pkt *p, const char *owner, uint32_t ttl,
		 unsigned char last)
{
	size_t at = dw_rr_begin(p, owner, ESA_T_A, ttl);

	dw_put8(p, 192); dw_put8(p, 0); dw_put8(p, 2); dw_put8(p, last);
	dw_rr_end(p, at);
}

/* rr_named - a PTR or CNAME record whose rdata is one name */
static void rr_named(struct dw_pkt *p, const char *owner, unsigned type,
		     uint32_t ttl, const char *target)
{
	size_t at = dw_rr_begin(p, owner, type, ttl);

	dw_put_name(p, target);
	dw_rr_end(p, at);
}

/* soa - an SOA in the authority section with this MINIMUM */
static void soa(struct dw_pkt *p, uint32_t ttl, uint32_t minimum)
{
	size_t at;

	dw_put_name(p, "test");
	dw_put16(p, 6); dw_put16(p, 1); dw_put32(p, ttl);
	at = p->n;
	dw_put16(p, 0);
	dw_put_name(p, "ns.test"); dw_put_name(p, "admin.test");
	dw_put32(p, 1); dw_put32(p, 3600); dw_put32(p, 600); dw_put32(p, 86400);
	dw_put32(p, minimum);
	dw_rr_end(p, at);
	p->ns++;
}

/* script_names - scenarios about names: odd octets, loops, chains; 1 if
 * label was one of them */
static int script_names(struct dw_pkt *p, const char *label)
{
	size_t at;
	int i;

	if (!strcmp(label, "hostile")) {
		rr_named(p, NULL, ESA_T_PTR, 300, "ba\001d.example");
		rr_named(p, NULL, ESA_T_PTR, 300, "sp ace.example");
		rr_named(p, NULL, ESA_T_PTR, 300, "GOOD.Example");
		at = dw_rr_begin(p, NULL, ESA_T_PTR, 300);	/* a label holding a dot */
		dw_put8(p, 3); dw_put8(p, 'a'); dw_put8(p, '.'); dw_put8(p, 'b'); dw_put8(p, 0);
		dw_rr_end(p, at);
	} else if (!strcmp(label, "allbad")) {
		rr_named(p, NULL, ESA_T_PTR, 300, "ba\001d.example");
		at = dw_rr_begin(p, NULL, ESA_T_A, 300);	/* rdlength 5 */
		dw_put32(p, 0); dw_put8(p, 0);
		dw_rr_end(p, at);
	} else if (!strcmp(label, "ptrloop")) {
		at = dw_rr_begin(p, NULL, ESA_T_PTR, 300);	/* points at itself */
		dw_put16(p, 0xc000 | (unsigned)(p->n));
		dw_rr_end(p, at);
	} else if (!strcmp(label, "ownerloop")) {
		dw_put16(p, 0xc000 | (unsigned)p->n);	/* owner points at itself */
		dw_put16(p, ESA_T_A); dw_put16(p, 1); dw_put32(p, 300); dw_put16(p, 4);
		dw_put32(p, 0xc0000201);
		p->an++;
	} else if (!strcmp(label, "other")) {
		rr_a(p, "other-owner.test", 300, 1);
		at = dw_rr_begin(p, NULL, ESA_T_AAAA, 300);	/* wrong type */
		for (i = 0; i < 16; i++)
			dw_put8(p, 0);
		dw_rr_end(p, at);
	} else if (!strcmp(label, "chain")) {
		rr_named(p, NULL, ESA_T_CNAME, 50, "c1.test");
		rr_named(p, "C1.test", ESA_T_CNAME, 40, "c2.test");
		rr_a(p, "c2.TEST", 300, 9);
		rr_a(p, "unrelated.test", 300, 10);
	} else if (!strcmp(label, "long")) {
		rr_named(p, NULL, ESA_T_CNAME, 300, "l1.test");
		for (i = 1; i <= 9; i++) {
			char o[16], t[16];

			snprintf(o, sizeof o, "l%d.test", i);
			snprintf(t, sizeof t, "l%d.test", i + 1);
			rr_named(p, o, ESA_T_CNAME, 300, t);
		}
		rr_a(p, "l10.test", 300, 1);
	} else if (!strcmp(label, "cloop")) {
		rr_named(p, NULL, ESA_T_CNAME, 300, "x.test");
		rr_named(p, "x.test", ESA_T_CNAME, 300, "cloop.test");
	} else {
		return 0;
	}
	return 1;
}

/* script - the answer section for the scenario named by the first label;
 * -1 for "forged" (the caller answers another question) */
static int script(struct dw_pkt *p, const char *label, unsigned *flags)
{
	size_t at;
	int i;

	if (script_names(p, label)) {
		return 0;
	} else if (!strcmp(label, "ad")) {
		*flags |= 0x0020;
		rr_a(p, NULL, 300, 77);
	} else if (!strcmp(label, "servfail")) {
		*flags |= 2;
	} else if (!strcmp(label, "notimp")) {
		*flags |= 4;
	} else if (!strcmp(label, "trunc")) {
		*flags |= 0x0200;
	} else if (!strcmp(label, "many")) {
		for (i = 0; i < 100; i++)
			rr_a(p, NULL, 300, (unsigned char)i);
	} else if (!strcmp(label, "mx")) {
		at = dw_rr_begin(p, NULL, ESA_T_MX, 300);	/* MAIL + pointer */
		dw_put16(p, 10); dw_put8(p, 4); p->n += 4;
		memcpy(p->b + p->n - 4, "MAIL", 4);
		dw_put16(p, 0xc00c);
		dw_rr_end(p, at);
		at = dw_rr_begin(p, NULL, ESA_T_MX, 300);	/* a stray octet */
		dw_put16(p, 20); dw_put_name(p, "x.test"); dw_put8(p, 0);
		dw_rr_end(p, at);
		at = dw_rr_begin(p, NULL, ESA_T_MX, 300);	/* null MX */
		dw_put16(p, 0); dw_put8(p, 0);
		dw_rr_end(p, at);
	} else if (!strcmp(label, "bigttl")) {
		rr_a(p, NULL, 0x80000000u, 1);
	} else if (!strcmp(label, "nx")) {
		*flags |= 3;
	} else if (!strcmp(label, "nxsoa0")) {
		*flags |= 3;
		soa(p, 300, 0);
	} else if (!strcmp(label, "nodatasoa")) {
		soa(p, 300, 30);
	} else if (!strcmp(label, "forged")) {
		return -1;	/* the caller answers another question */
	}
	return 0;
}

/* build_reply - the header and question of q, then the scenario */
static size_t build_reply(const unsigned char *q, size_t qlen, struct dw_pkt *p)
{
	char label[64];
	unsigned flags = 0x8180;	/* QR RD RA */
	size_t qend = 12, l;

	while (qend < qlen && q[qend] != 0)
		qend += (size_t)q[qend] + 1;
	qend += 5;
	if (qlen < 17 || qend > qlen)
		return 0;
	l = q[12] < sizeof label ? q[12] : sizeof label - 1;
	memcpy(label, q + 13, l);
	label[l] = '\0';
	memset(p, 0, sizeof *p);
	memcpy(p->b, q, qend);
	p->n = qend;
	if (script(p, label, &flags) < 0) {	/* forged: another question */
		p->n = 12;
		dw_put_name(p, "someone-else.test");
		dw_put16(p, ESA_T_A); dw_put16(p, 1);
		rr_a(p, NULL, 300, 66);
	}
	p->b[2] = (unsigned char)(flags >> 8);
	p->b[3] = (unsigned char)flags;
	p->b[4] = 0; p->b[5] = 1;
	p->b[6] = 0; p->b[7] = (unsigned char)p->an;
	p->b[8] = 0; p->b[9] = (unsigned char)p->ns;
	p->b[10] = 0; p->b[11] = 0;
	return p->n;
}

static struct dw_server fk;
static esa_resolver *fr;

/* fake_setup - the scripted server and a resolver pointed at it */
static void fake_setup(void)
{
	char ns[64], err[ESA_ERR_MAX];

	cr_assert_eq(dw_server_start(&fk, build_reply, ns, sizeof ns), 0);
	fr = esa_resolver_libresolv(ns, err, sizeof err);
	cr_assert_not_null(fr, "%s", err);
}

/* fake_teardown - stop the thread, close the socket */
static void fake_teardown(void)
{
	esa_resolver_free(fr);
	fr = NULL;
	dw_server_stop(&fk);
}

TestSuite(hostile, .init = fake_setup, .fini = fake_teardown);

Test(hostile, ad_bit_is_asked_for_and_recorded)
{
	struct esa_answer a;
	size_t qlen;

	cr_assert_eq(lookup(fr, "ad.test", ESA_T_A, &a), 0, "%s", a.reason);
	cr_expect(a.ad, "AD set by the server is kept (RES_TRUSTAD)");
	qlen = __atomic_load_n(&fk.last_len, __ATOMIC_ACQUIRE);
	cr_assert(qlen > 12);
	cr_expect(fk.last_query[3] & 0x20, "the query asks for AD");
	cr_expect(fk.last_query[2] & 0x01, "the query asks for recursion");
	cr_expect_eq(fk.last_query[11], 1, "an EDNS0 OPT record is sent");
	esa_answer_free(&a);
	cr_assert_eq(lookup(fr, "many.test", ESA_T_A, &a), 0);
	cr_expect(!a.ad, "no AD from the server, none recorded");
	esa_answer_free(&a);
}

Test(hostile, names_with_odd_octets_are_dropped)
{
	struct esa_answer a;

	cr_assert_eq(lookup(fr, "hostile.test", ESA_T_PTR, &a), 0, "%s", a.reason);
	cr_assert_eq(a.count, 1, "only the printable LDH name survives");
	cr_expect_str_eq(a.rr[0].name, "good.example");
	esa_answer_free(&a);
	cr_assert_eq(lookup(fr, "allbad.test", ESA_T_PTR, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_MALFORMED, "%s", a.reason);
	cr_expect(strstr(a.reason, "malformed") != NULL, "%s", a.reason);
}

Test(hostile, compression_loops_are_malformed)
{
	struct esa_answer a;

	cr_assert_eq(lookup(fr, "ptrloop.test", ESA_T_PTR, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_MALFORMED, "%s", a.reason);
	cr_assert_eq(lookup(fr, "ownerloop.test", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_MALFORMED, "%s", a.reason);
}

Test(hostile, records_of_other_names_or_types_are_ignored)
{
	struct esa_answer a;

	cr_assert_eq(lookup(fr, "other.test", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_NODATA, "%s", a.reason);
	cr_expect_eq(a.count, 0);
}

Test(hostile, cname_chain_in_one_answer)
{
	struct esa_answer a;
	char ip[64];

	cr_assert_eq(lookup(fr, "chain.test", ESA_T_A, &a), 0, "%s", a.reason);
	cr_assert_eq(a.count, 1, "unrelated.test is not on the chain");
	cr_expect_str_eq(ip_of(&a, 0, ip), "192.0.2.9");
	cr_expect_eq(a.ttl, 300);
	esa_answer_free(&a);
	cr_assert_eq(lookup(fr, "long.test", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_MALFORMED);
	cr_expect(strstr(a.reason, "CNAME chain longer than 8"), "%s", a.reason);
	cr_assert_eq(lookup(fr, "cloop.test", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_MALFORMED);
	cr_expect(strstr(a.reason, "CNAME loop"), "%s", a.reason);
}

Test(hostile, rcodes_are_reported)
{
	struct esa_answer a;

	cr_assert_eq(lookup(fr, "servfail.test", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_SERVFAIL);
	cr_expect_eq(a.rcode, 2);
	cr_expect_str_eq(a.reason, "A servfail.test: SERVFAIL");
	cr_assert_eq(lookup(fr, "notimp.test", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_ERROR);
	cr_expect_eq(a.rcode, 4);
	cr_expect_str_eq(a.reason, "A notimp.test: server answered NOTIMP");
}

Test(hostile, truncated_without_tcp_fails_closed)
{
	struct esa_answer a;

	cr_assert_eq(lookup(fr, "trunc.test", ESA_T_A, &a), -1);
	cr_expect_neq(a.status, ESA_DNS_OK);
	cr_expect(strstr(a.reason, "truncated") != NULL, "%s", a.reason);
}

Test(hostile, at_most_64_records)
{
	struct esa_answer a;

	cr_assert_eq(lookup(fr, "many.test", ESA_T_A, &a), 0);
	cr_expect_eq(a.count, ESA_DNS_MAX_RR);
	esa_answer_free(&a);
}

Test(hostile, mx_decompressed_checked_and_null_mx_dropped)
{
	struct esa_answer a;

	cr_assert_eq(lookup(fr, "mx.test", ESA_T_MX, &a), 0, "%s", a.reason);
	cr_assert_eq(a.count, 1);
	cr_expect_eq(a.rr[0].pref, 10);
	cr_expect_str_eq(a.rr[0].name, "mail.mx.test");
	esa_answer_free(&a);
}

Test(hostile, ttl_with_top_bit_is_zero_and_not_cached)
{
	struct esa_answer a;
	unsigned long sent;

	cr_assert_eq(lookup(fr, "bigttl.test", ESA_T_A, &a), 0);
	cr_expect_eq(a.ttl, 0);
	esa_answer_free(&a);
	sent = esa_resolver_queries(fr);
	cr_assert_eq(lookup(fr, "bigttl.test", ESA_T_A, &a), 0);
	cr_expect(!a.cached);
	cr_expect_eq(esa_resolver_queries(fr), sent + 1);
	esa_answer_free(&a);
}

Test(hostile, negative_ttl_follows_the_soa)
{
	struct esa_answer a;
	unsigned long sent;

	cr_assert_eq(lookup(fr, "nx.test", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_NXDOMAIN);
	cr_assert_eq(lookup(fr, "nx.test", ESA_T_A, &a), -1);
	cr_expect(a.cached, "no SOA: cached for the default 60 s");
	cr_assert_eq(lookup(fr, "nxsoa0.test", ESA_T_A, &a), -1);
	sent = esa_resolver_queries(fr);
	cr_assert_eq(lookup(fr, "nxsoa0.test", ESA_T_A, &a), -1);
	cr_expect(!a.cached, "SOA MINIMUM 0: not cached");
	cr_expect_eq(esa_resolver_queries(fr), sent + 1);
	cr_assert_eq(lookup(fr, "nodatasoa.test", ESA_T_A, &a), -1);
	cr_expect_eq(a.status, ESA_DNS_NODATA);
	cr_assert_eq(lookup(fr, "nodatasoa.test", ESA_T_A, &a), -1);
	cr_expect(a.cached);
}

Test(hostile, answer_to_another_question_is_not_accepted)
{
	struct esa_answer a;

	/* glibc drops it as spurious and keeps waiting: a timeout */
	cr_assert_eq(esa_lookup(fr, "forged.test", ESA_T_A, esa_now_ms() + 1500,
				&a), -1);
	cr_expect_eq(a.status, ESA_DNS_TIMEOUT, "%s", a.reason);
	cr_expect_eq(a.count, 0);
}
