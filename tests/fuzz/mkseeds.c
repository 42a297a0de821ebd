/*
 * mkseeds.c - write the initial seed corpora of the fuzz targets
 *
 * Usage: mkseeds DIR     (mk/hardening.mk: `make fuzz-seeds` writes
 *                         tests/fuzz/corpus/<target>/seed-*)
 *
 * Seeds are the starting points libFuzzer mutates: one per feature each
 * parser knows (SPEC 7's data, every record type, every string type, the
 * hostile cases of tests/test_hostile*.c).  Certificates come from the test
 * PKI (tests/pki.c), DNS messages are built by hand here.  What fuzzing
 * adds on top is merged in with `make fuzz-merge`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/x509.h>

#include "dnswire.h"
#include "pki.h"

static const char *outdir;
static int failures;

/* put_file - DIR/target/seed-name with len octets */
static void put_file(const char *target, const char *name, const void *data,
		     size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		perror(path);
		failures++;
		return;
	}
	snprintf(path, sizeof(path), "%s/%s/seed-%s", outdir, target, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		failures++;
	}
}

/* put_text - a NUL-terminated seed */
static void put_text(const char *target, const char *name, const char *text)
{
	put_file(target, name, text, strlen(text));
}

/* ---- text seeds ----------------------------------------------------------- */

static void text_seeds(void)
{
	/* matcher: REFERENCE \n PRESENTED */
	static const struct { const char *name, *text; size_t len; } m[] = {
		{ "exact", "example.com\nexample.com", 0 },
		{ "wild", "mx0a.emailhosted.not\n*.emailhosted.not", 0 },
		{ "wild-two-labels", "mx01.subd.emailhosted.not\n*.emailhosted.not", 0 },
		{ "partial", "foo.example.com\nf*.example.com", 0 },
		{ "nul", "www.bank.com\nwww.bank.com\0.evil.test", 36 },
		{ "ip", "example.com\n192.0.2.1", 0 },
		{ "ip6", "example.com\n2001:db8::1", 0 },
		{ "hex-ip", "example.com\n0x7f.1", 0 },
		{ "trailing-dot", "Example.COM.\nexample.com.", 0 },
		{ "unicode", "b\xc3\xbc" "cher.example\nxn--bcher-kva.example", 0 },
		{ "bad-alabel", "xn--zz.example\nxn--zz.example", 0 },
		{ "hyphen", "-a.example.com\na-.example.com", 0 },
		{ "star-star", "a.b.example.com\n*.*.example.com", 0 },
		{ "star-com", "example.com\n*.com", 0 },
		{ "underscore", "_dmarc.example.com\n_dmarc.example.com", 0 },
		{ "latin1", "example.com\nexampl\xe9.com", 0 },
		{ "long-label", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com\nx.com", 0 },
	};
	/* nameservers */
	static const char *const nameservers[] = {
		"127.0.0.1", "192.0.2.53:5353", "[::1]:53", "[::1]", "::1",
		"2001:DB8::53", "[192.0.2.53]:53", "127.0.0.1:0", "[::1]53",
		"[::1", "ns1.example.net:53", "::ffff:192.0.2.1",
	};
	/* routes */
	static const char *const routes[] = {
		"mx1.example.net:25/pri=0, mx2.example.net/pri=10, 192.0.2.7",
		"[2001:db8::25]:2525/pri=5",
		"[192.0.2.7]",
		"2001:db8::1",
		"relay.example.net:0",
		"relay.example.net/pri=65536",
		"relay.example.net/weight=3",
		"a, , b",
		"B\xc3\xbc" "cher.example:587/PRI=1",
		"relay .example.net",
		"999.1.1.1",
		"[relay.example.net]:25",
	};
	static const char *const configs[] = {
		"# SPEC 8.4\n[destinations]\ndefault          tls=preferred\n"
		"example.com      tls=required-verify\n"
		".example.org     tls=required-verify-hosted      # subdomains\n"
		"[routes]\nexample.com      mx1.example.net:25/pri=0, "
		"mx2.example.net/pri=10, 192.0.2.7\n",
		"\xef\xbb\xbf[Destinations]\r\nexample.net tls = 5\r\n.org tls=6\r\n",
		"[destinations]\nexample.com tls=4\nexample.com tls=5\n",
		"[destinations]\n*.example.com tls=5\n",
		"[routes]\n.example.com relay.example.net\n",
		"[routes]\nexample.com\n",
		"example.com tls=5\n",
		"[dest]\n",
		"[destinations]\nexample.com tls=7 tls=5\n",
		"[destinations]\nb\xc3\xbc" "cher.example tls=required\n",
		"[routes]\nexample.com a,b,c,d,e,f,g,h\nexample.net [::1]:25\n",
	};
	static const char *const zones[] = {
		"; SPEC 7\n$TTL 300\n"
		"example.com.                MX 10 mx01.subd.emailhosted.not.\n"
		"example.com.                MX 20 mx02.subd.emailhosted.not.\n"
		"mx01.subd.emailhosted.not.  A  192.0.2.1\n"
		"mx02.subd.emailhosted.not.  A  192.0.2.2\n"
		"192.0.2.1                   PTR mx0a.emailhosted.not.\n"
		"2.2.0.192.in-addr.arpa.     PTR mx0b.emailhosted.not.\n"
		"mx0a.emailhosted.not.       A  192.0.2.1\n"
		"mx0b.emailhosted.not.       A  192.0.2.2\n",
		"$ORIGIN example.net.\n$TTL 1h30m\n@ IN MX 0 mail\nmail 60 IN A 192.0.2.9\n"
		"     IN AAAA 2001:db8::9\nwww CNAME mail\n",
		"2001:db8::1 PTR mx6.example.\nmx6.example. AAAA 2001:db8::1\n",
		"a.test. CNAME b.test.\nb.test. CNAME c.test.\nc.test. CNAME a.test.\n",
		"a.test. CNAME b.test.\na.test. A 192.0.2.1\n",
		"example.com. MX 0 .\n",
		"x.test. IN TXT \"quoted\"\n",
		"x.test. ( A 192.0.2.1 )\n",
		"x.test. 2w3d A 192.0.2.1\nx.test. 4294967296 A 192.0.2.2\n",
		"$INCLUDE other.zone\n",
		"x.test. CH A 192.0.2.1\n",
		"192.0.2.1 A 192.0.2.1\n",
	};
	/* json: op bytes (fuzz_json.c) */
	static const unsigned char json1[] = {
		0, 11, 3, 'k', 'e', 'y', 5, 'v', 'a', 'l', 'u', 'e',
		4, 4, 'l', 'i', 's', 't', 2, 5, 4, 'a', 0, 'b', 0xff,
		7, 0x80, 0, 0, 0, 0, 0, 0, 0, 9, 1, 10, 3,
		13, 1, 'n', 0, 0, 0, 0, 0, 0, 0, 42,
		12, 1, 'o', 0, 14, 1, 'b', 1, 15, 1, 'z', 1 };
	static const unsigned char json2[] = {
		2, 5, 6, 0xc2, 0x85, 0xe2, 0x80, 0xa8, 5, 4, 0xed, 0xa0,
		0x80, 0x7f, 5, 5, 0xf4, 0x90, 0x80, 0x80, '"', 6, 0, 3 };
	static const unsigned char json3[] = { 0, 1, 0, 1 };
	static const unsigned char json4[] = { 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
		2, 2, 2, 2, 2, 2, 2, 3 };
	size_t i;
	char name[32];

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		put_file("fuzz_match", m[i].name, m[i].text,
			 m[i].len ? m[i].len : strlen(m[i].text));
	for (i = 0; i < sizeof(nameservers) / sizeof(nameservers[0]); i++) {
		snprintf(name, sizeof(name), "%02zu", i);
		put_text("fuzz_nameserver", name, nameservers[i]);
	}
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		snprintf(name, sizeof(name), "%02zu", i);
		put_text("fuzz_routes", name, routes[i]);
	}
	for (i = 0; i < sizeof(configs) / sizeof(configs[0]); i++) {
		snprintf(name, sizeof(name), "%02zu", i);
		put_text("fuzz_config", name, configs[i]);
	}
	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		snprintf(name, sizeof(name), "%02zu", i);
		put_text("fuzz_dnsfile", name, zones[i]);
	}
	put_file("fuzz_json", "members", json1, sizeof(json1));
	put_file("fuzz_json", "hostile-strings", json2, sizeof(json2));
	put_file("fuzz_json", "two-top-level", json3, sizeof(json3));
	put_file("fuzz_json", "deep", json4, sizeof(json4));
}

/* ---- DNS messages (fuzz_dns: a control byte, then the message) ------------ */

/* begin - header (id 0x1234, QR RD RA, rcode) and one question */
static void begin(struct dw_pkt *p, unsigned ctl, const char *qname,
		  unsigned qtype, unsigned rcode, unsigned flags)
{
	memset(p, 0, sizeof(*p));
	dw_put8(p, ctl);		/* fuzz_dns control byte */
	dw_put16(p, 0x1234);
	dw_put16(p, 0x8180 | flags | rcode);
	dw_put16(p, 1);
	dw_put16(p, 0); dw_put16(p, 0); dw_put16(p, 0);
	dw_put_name(p, qname);
	dw_put16(p, qtype);
	dw_put16(p, 1);
}

/* finish - write the counts and the seed */
static void finish(struct dw_pkt *p, const char *name)
{
	p->b[1 + 6] = (unsigned char)(p->an >> 8);
	p->b[1 + 7] = (unsigned char)p->an;
	p->b[1 + 8] = (unsigned char)(p->ns >> 8);
	p->b[1 + 9] = (unsigned char)p->ns;
	put_file("fuzz_dns", name, p->b, p->n);
}

static void dns_seeds(void)
{
	struct dw_pkt p;
	size_t at;
	int i;

	/* ctl: bits 0-1 type (0 A, 1 AAAA, 2 MX, 3 PTR), bit 2 qname from msg */
	begin(&p, 4, "mx0a.emailhosted.not", 1, 0, 0);
	at = dw_rr_begin(&p, NULL, 1, 300); dw_put32(&p, 0xc0000201); dw_rr_end(&p, at);
	finish(&p, "a");

	begin(&p, 4 | 1, "mx6.example", 28, 0, 0x20);	/* AD */
	at = dw_rr_begin(&p, NULL, 28, 300);
	dw_put32(&p, 0x20010db8); dw_put32(&p, 0); dw_put32(&p, 0); dw_put32(&p, 1);
	dw_rr_end(&p, at);
	finish(&p, "aaaa-ad");

	begin(&p, 2, "example.com", 15, 0, 0);
	at = dw_rr_begin(&p, NULL, 15, 300); dw_put16(&p, 20);
	dw_put_name(&p, "mx02.subd.emailhosted.not"); dw_rr_end(&p, at);
	at = dw_rr_begin(&p, NULL, 15, 300); dw_put16(&p, 10);
	dw_put8(&p, 4); memcpy(p.b + p.n, "mx01", 4); p.n += 4; dw_put16(&p, 0xc000 | 48);
	dw_rr_end(&p, at);
	at = dw_rr_begin(&p, NULL, 15, 300); dw_put16(&p, 0); dw_put8(&p, 0); dw_rr_end(&p, at);
	finish(&p, "mx-compressed-null");

	begin(&p, 4 | 3, "1.2.0.192.in-addr.arpa", 12, 0, 0);
	at = dw_rr_begin(&p, NULL, 12, 300); dw_put_name(&p, "mx0a.emailhosted.not"); dw_rr_end(&p, at);
	at = dw_rr_begin(&p, NULL, 12, 300); dw_put_name(&p, "ba\001d.example"); dw_rr_end(&p, at);
	at = dw_rr_begin(&p, NULL, 12, 300); dw_put8(&p, 3); dw_put8(&p, 'a'); dw_put8(&p, '.');
	dw_put8(&p, 'b'); dw_put8(&p, 0); dw_rr_end(&p, at);
	finish(&p, "ptr-hostile-names");

	begin(&p, 4, "www.example.net", 1, 0, 0);
	at = dw_rr_begin(&p, NULL, 5, 50); dw_put_name(&p, "c1.example.net"); dw_rr_end(&p, at);
	at = dw_rr_begin(&p, "c1.example.net", 5, 40); dw_put_name(&p, "c2.example.net"); dw_rr_end(&p, at);
	at = dw_rr_begin(&p, "C2.example.net", 1, 300); dw_put32(&p, 0xc0000209); dw_rr_end(&p, at);
	at = dw_rr_begin(&p, "other.example.net", 1, 300); dw_put32(&p, 0xc000020a); dw_rr_end(&p, at);
	finish(&p, "cname-chain");

	begin(&p, 4, "loop.example.net", 1, 0, 0);
	at = dw_rr_begin(&p, NULL, 5, 50); dw_put_name(&p, "x.example.net"); dw_rr_end(&p, at);
	at = dw_rr_begin(&p, "x.example.net", 5, 50); dw_put_name(&p, "loop.example.net"); dw_rr_end(&p, at);
	finish(&p, "cname-loop");

	begin(&p, 4, "chase.example.net", 1, 0, 0);
	at = dw_rr_begin(&p, NULL, 5, 50); dw_put_name(&p, "elsewhere.example.org"); dw_rr_end(&p, at);
	finish(&p, "cname-to-chase");

	begin(&p, 4 | 3, "ptrloop.test", 12, 0, 0);
	at = dw_rr_begin(&p, NULL, 12, 300); dw_put16(&p, 0xc000 | (unsigned)(p.n - 1)); dw_rr_end(&p, at);
	finish(&p, "compression-loop");

	begin(&p, 4, "nx.example", 1, 3, 0);
	dw_put_name(&p, "example"); dw_put16(&p, 6); dw_put16(&p, 1); dw_put32(&p, 300);
	at = p.n; dw_put16(&p, 0); dw_put_name(&p, "ns.example"); dw_put_name(&p, "admin.example");
	dw_put32(&p, 1); dw_put32(&p, 3600); dw_put32(&p, 600); dw_put32(&p, 86400); dw_put32(&p, 30);
	dw_rr_end(&p, at); p.ns = 1;
	finish(&p, "nxdomain-soa");

	begin(&p, 4, "sf.example", 1, 2, 0);
	finish(&p, "servfail");

	begin(&p, 4, "tc.example", 1, 0, 0x200);
	finish(&p, "truncated-flag");

	begin(&p, 0, "example.com", 1, 0, 0);
	at = dw_rr_begin(&p, NULL, 1, 300); dw_put32(&p, 0xc0000201); dw_rr_end(&p, at);
	p.n -= 3;	/* cut inside the record */
	finish(&p, "cut-short");

	begin(&p, 0, "someone-else.test", 1, 0, 0);
	at = dw_rr_begin(&p, NULL, 1, 300); dw_put32(&p, 0xc0000242); dw_rr_end(&p, at);
	finish(&p, "another-question");

	begin(&p, 4 | 3, "many.test", 12, 0, 0);
	for (i = 0; i < 80; i++) {
		at = dw_rr_begin(&p, NULL, 12, 300);
		dw_put8(&p, 1); dw_put8(&p, 'a' + i % 26); dw_put16(&p, 0xc00c);
		dw_rr_end(&p, at);
	}
	finish(&p, "many-ptr");

	begin(&p, 4, "ttl.test", 1, 0, 0);
	at = dw_rr_begin(&p, NULL, 1, 0x80000000ul); dw_put32(&p, 0xc0000201); dw_rr_end(&p, at);
	at = dw_rr_begin(&p, NULL, 1, 7); dw_put32(&p, 0xc0000202); dw_rr_end(&p, 0 + at);
	at = dw_rr_begin(&p, NULL, 1, 9); dw_put32(&p, 1); dw_put8(&p, 0); dw_rr_end(&p, at);
	finish(&p, "ttl-top-bit-bad-rdlen");
}

/* ---- certificates (fuzz_names: DER) --------------------------------------- */

#define N(s) { (s), 0, TEST_STR_UTF8, false }

static void put_cert(struct test_ca *ca, const char *name,
		     const struct test_leaf_spec *spec)
{
	struct test_leaf leaf;
	unsigned char *der = NULL;
	int len;

	if (test_leaf_issue(&leaf, ca, spec) != 0) {
		fprintf(stderr, "mkseeds: cannot issue %s\n", name);
		failures++;
		return;
	}
	len = i2d_X509(leaf.cert, &der);
	if (len > 0)
		put_file("fuzz_names", name, der, (size_t)len);
	OPENSSL_free(der);
	test_leaf_free(&leaf);
}

static void cert_seeds(void)
{
	static const struct test_name spec7_cn[] = { N("*.emailhosted.not") };
	static const struct test_name spec7_dns[] = {
		N("*.emailhosted.not"), N("emailhosted.not") };
	static const struct test_name hostile_dns[] = {
		{ "example.com\0.evil.test", 22, TEST_STR_UTF8, false },
		N("*.*.example.com"), N("f*.example.com"), N("*"), N("*.com"),
		N("a.*.example.com"), N("192.0.2.1"), N("2001:db8::1"),
		{ "b\xc3\xbc" "cher.example", 0, TEST_STR_UTF8, false },
		{ "exampl\xe9.com", 0, TEST_STR_UTF8, false },
		N(""), N("."), N("example.com."), N("EXAMPLE.COM"),
	};
	static const struct test_name types_cn[] = {
		{ "example.com", 0, TEST_STR_PRINTABLE, false },
		{ "example.com", 0, TEST_STR_IA5, false },
		{ "example.com", 0, TEST_STR_BMP, false },
		{ "example.com", 0, TEST_STR_T61, false },
		{ "example.com", 0, TEST_STR_UNIVERSAL, false },
		{ "ex\xc3\xa4mple.com", 0, TEST_STR_BMP, false },
		{ "\0e\0x\0\0", 6, TEST_STR_BMP, true },
	};
	static const struct test_name several_cn[] = {
		N("evil.test"), N("mx0a.emailhosted.not"), N("example.com") };
	static const char *const ips[] = { "192.0.2.1", "2001:db8::1" };
	static const char *const emails[] = { "postmaster@example.com" };
	struct test_name many[64];
	char names[64][32];
	struct test_leaf_spec s;
	struct test_ca ca;
	char longname[300];
	struct test_name longn[1];
	int i;

	if (test_ca_root(&ca, "fuzz seed CA", TEST_KEY_EC) != 0) {
		fprintf(stderr, "mkseeds: no CA\n");
		failures++;
		return;
	}
	memset(&s, 0, sizeof(s));
	s.cn = spec7_cn; s.ncn = 1; s.dns = spec7_dns; s.ndns = 2;
	put_cert(&ca, "spec7", &s);

	memset(&s, 0, sizeof(s));
	s.cn = spec7_cn; s.ncn = 1;
	s.dns = hostile_dns; s.ndns = sizeof(hostile_dns) / sizeof(hostile_dns[0]);
	s.ip = ips; s.nip = 2; s.email = emails; s.nemail = 1;
	put_cert(&ca, "hostile-dns-ids", &s);

	memset(&s, 0, sizeof(s));
	s.cn = types_cn; s.ncn = sizeof(types_cn) / sizeof(types_cn[0]);
	put_cert(&ca, "cn-string-types", &s);

	memset(&s, 0, sizeof(s));
	s.cn = several_cn; s.ncn = 3; s.org = "Example Org";
	put_cert(&ca, "several-cns", &s);

	memset(&s, 0, sizeof(s));
	put_cert(&ca, "empty-subject", &s);

	memset(longname, 'a', sizeof(longname));
	for (i = 63; i < 290; i += 64)
		longname[i] = '.';
	memcpy(longname + 290, ".example", 9);
	longn[0] = (struct test_name)N(longname);
	memset(&s, 0, sizeof(s));
	s.dns = longn; s.ndns = 1; s.cn = longn; s.ncn = 1;
	put_cert(&ca, "long-names", &s);

	for (i = 0; i < 64; i++) {
		snprintf(names[i], sizeof(names[i]), "host%d.example.com", i);
		many[i] = (struct test_name)N(names[i]);
	}
	memset(&s, 0, sizeof(s));
	s.dns = many; s.ndns = 64; s.cn = spec7_cn; s.ncn = 1;
	put_cert(&ca, "64-sans", &s);
	test_ca_free(&ca);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds DIR\n");
		return 2;
	}
	outdir = argv[1];
	text_seeds();
	dns_seeds();
	cert_seeds();
	return failures ? 1 : 0;
}
