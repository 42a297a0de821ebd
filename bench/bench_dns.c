/*
 * bench_dns.c - `make bench` section 4: DNS queries per verification.
 *
 * Real handshakes through the esaverify callback against an in-process
 * server presenting SPEC 7's certificate, the peer given as 192.0.2.1
 * (esa_ssl_set_peer) so that SPEC 7's records apply verbatim, DNS from a
 * private unbound on loopback with log-queries on.  Each scenario runs
 * cold (esa_resolver_flush first) then warm (the same again), and the
 * queries are counted three ways that must agree:
 *   sent     esa_resolver_queries() delta (what libresolv sent)
 *   log      the decision record's DNS log (res->dns), entries not cached
 *   server   lines unbound logged for the query
 * and compared with the minimum the algorithm needs (SPEC 4):
 *   verify-ref       setting 5, recipient example.com: PTR, A
 *   hosted-ref       setting 6, recipient example.com: MX (fails: SPEC 7)
 *   verify-dnsid     setting 5, recipient emailhosted.not: none
 *   hosted-dnsid     setting 6, recipient emailhosted.not: none
 *   both-ref         both algorithms (what the shim logs): PTR, A, MX
 * Warm runs must send nothing.  Exit 1 if any count differs.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "esaverify.h"
#include "internal.h"
#include "tls_server.h"

struct scenario {
	const char *name;
	enum esa_tls tls;
	const char *recipient;
	bool both;
	bool accept;
	const char *expect;	/* query types, comma-separated, "" for none */
};

static struct bench_pki pki;
static struct test_unbound ub;
static const struct scenario *cur;

/* setup - the scenario's facts on the SSL */
static void setup(SSL *ssl, void *arg)
{
	(void)arg;
	esa_ssl_set_recipient(ssl, cur->recipient);
	esa_ssl_set_tls(ssl, cur->tls);
	esa_ssl_set_peer(ssl, "192.0.2.1");
	if (cur->both)
		esa_ssl_set_all_modes(ssl);
}

/* server_queries - queries unbound has logged so far */
static int server_queries(void)
{
	char path[128], line[1024];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/unbound.log", ub.dir);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		n += strstr(line, "info: 127.0.0.1 ") != NULL &&
		     strstr(line, " IN") != NULL;
	fclose(f);
	return n;
}

/* types_sent - the types of the record's uncached queries, in order */
static int types_sent(const esa_result *res, char *out, size_t outsz)
{
	size_t off = 0;
	int n = 0;

	out[0] = '\0';
	for (size_t i = 0; res != NULL && i < res->ndns; i++) {
		if (res->dns[i].cached)
			continue;
		off += (size_t)snprintf(out + off, outsz - off, "%s%s",
					n ? "," : "",
					esa_rrtype_name(res->dns[i].type));
		n++;
	}
	return n;
}

/* wait_server - unbound writes its log asynchronously: wait for want */
static int wait_server(int before, int want)
{
	int now = server_queries();

	for (int i = 0; i < 100 && now - before < want; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		now = server_queries();
	}
	return now - before;
}

/* one - a cold or warm run of the current scenario; 0 if as expected */
static int one(SSL_CTX *ctx, esa_config *cfg, int port, bool cold)
{
	esa_resolver *r = esa_config_resolver(cfg);
	unsigned long q0;
	char types[128];
	const char *want = cold ? cur->expect : "";
	struct test_handshake hs;
	int s0, logged, server, ok;

	if (cold)
		esa_resolver_flush(r);
	q0 = esa_resolver_queries(r);
	s0 = server_queries();
	test_tls_handshake(ctx, port, setup, NULL, &hs);
	logged = types_sent(esa_ssl_result(hs.ssl), types, sizeof types);
	server = wait_server(s0, (int)(esa_resolver_queries(r) - q0));
	ok = strcmp(types, want) == 0 &&
	     esa_resolver_queries(r) - q0 == (unsigned long)logged &&
	     server == logged && (hs.rc == 1) == cur->accept;
	bench_result("section=dns scenario=%s phase=%s sent=%lu log=%d "
		     "server=%d types=%s expected=%s handshake=%s ok=%d",
		     cur->name, cold ? "cold" : "warm",
		     esa_resolver_queries(r) - q0, logged, server,
		     types[0] ? types : "-", want[0] ? want : "-",
		     hs.rc == 1 ? "accept" : "reject", ok);
	test_tls_close(hs.ssl);
	return ok ? 0 : -1;
}

int main(void)
{
	static const struct scenario sc[] = {
		{ "verify-ref", ESA_TLS_REQUIRED_VERIFY, "example.com", false,
		  true, "PTR,A" },
		{ "hosted-ref", ESA_TLS_REQUIRED_VERIFY_HOSTED, "example.com",
		  false, false, "MX" },
		{ "verify-dnsid", ESA_TLS_REQUIRED_VERIFY, "emailhosted.not",
		  false, true, "" },
		{ "hosted-dnsid", ESA_TLS_REQUIRED_VERIFY_HOSTED,
		  "emailhosted.not", false, true, "" },
		{ "both-ref", ESA_TLS_REQUIRED_VERIFY, "example.com", true,
		  true, "PTR,A,MX" },
	};
	struct test_server_opts so;
	struct test_server *srv = NULL;
	esa_config *cfg = NULL;
	SSL_CTX *ctx = NULL;
	char ns[64];
	int rc = 1, bad = 0;

	if (bench_pki_init(&pki) < 0)
		goto out;
	if (test_unbound_start(BENCH_UNBOUND_ZONE "log-queries: yes\n",
			       &ub) < 0) {
		bench_note("unbound: %s", ub.err);
		goto out;
	}
	so = (struct test_server_opts){ .cert = pki.ref_ec.cert,
					.key = pki.ref_ec.key };
	snprintf(ns, sizeof ns, "127.0.0.1:%d", ub.port);
	cfg = esa_config_new();
	ctx = SSL_CTX_new(TLS_client_method());
	if ((srv = test_server_start(&so)) == NULL || cfg == NULL ||
	    ctx == NULL || esa_config_set_nameserver(cfg, ns) < 0 ||
	    esa_config_set_trust(cfg, pki.cafile, NULL, NULL) < 0 ||
	    esa_ctx_install(ctx, cfg) < 0) {
		bench_note("cannot set up the server or the client");
		goto out;
	}
	for (size_t i = 0; i < sizeof sc / sizeof sc[0]; i++) {
		cur = &sc[i];
		bad |= one(ctx, cfg, test_server_port(srv), true);
		bad |= one(ctx, cfg, test_server_port(srv), false);
	}
	rc = bad ? 1 : 0;
out:
	SSL_CTX_free(ctx);
	esa_config_free(cfg);
	test_server_stop(srv, NULL);
	test_unbound_stop(&ub);
	bench_pki_free(&pki);
	return rc;
}
