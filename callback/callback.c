/*
 * callback.c - the OpenSSL glue: ESA verification as a verify callback
 *
 * esa_ctx_install() / esa_ssl_install() set SSL_VERIFY_PEER and a verify
 * callback.  OpenSSL still validates the chain (SPEC 2); the callback
 * notes every chain error (and ignores OpenSSL's own host-name error: ESA's
 * identity rules replace it), keeps calling the program's previous
 * callback, and at the end of the chain runs the identity algorithm the TLS
 * setting needs (SPEC 4) and decides as SPEC 5's table says:
 *   reject   -> return 0 with a verification error set (handshake fails);
 *   accept   -> return 1, and SSL_get_verify_result() is X509_V_OK unless
 *               the setting verifies and verification failed (setting 4).
 * Under settings that refuse on failure (5, 6) a chain error refuses at
 * once, so a missed final call can never let a bad chain through.
 *
 * State: one struct esa_conn per SSL, hung on it with ex_data and freed
 * with it; the SSL_CTX holds a reference to the esa_config.  A missing
 * state in the callback fails verification, never crashes.
 *
 * The recipient domain (SPEC 8.3), when no setter gave one, in this order,
 * the first that knows wins (esa_result's recipient_source names it):
 *   "env"/"set"     ESA_RECIPIENT_DOMAIN (the shim) or esa_ssl_set_recipient;
 *   "config-route"  the domain whose configured routes name the host the
 *                   program asked for, a host the program resolved to the
 *                   peer, or the peer's address (an IP-literal route);
 *   "mx-lookup"     the domains whose MX records, as the program itself
 *                   looked them up (the shim's learned hook), named a host
 *                   that resolved to the peer; the MX host is the via;
 *   "host"/"sni"    the name the program asked OpenSSL to check, or sent.
 * Several MX-lookup domains for one peer are narrowed to the one the
 * program asked for (host or SNI equal to a domain, else to an MX host);
 * those left are each verified, and a mode passes, and the connection is
 * accepted, only if it does for every one of them.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "internal.h"

struct esa_ctx_state {
	esa_config *cfg;
	SSL_verify_cb prev;
};

static pthread_once_t idx_once = PTHREAD_ONCE_INIT;
static int ssl_idx = -1, ctx_idx = -1;

/* config_ref - take a reference on cfg */
static esa_config *config_ref(esa_config *cfg)
{
	__atomic_add_fetch(&cfg->refs, 1, __ATOMIC_SEQ_CST);
	return cfg;
}

/* conn_free - ex_data destructor of the per-SSL state */
static void conn_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
		      long argl, void *argp)
{
	struct esa_conn *c = ptr;

	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	if (c == NULL)
		return;
	esa_result_free(c->result);
	esa_config_free(c->cfg);
	free(c->cands);
	free(c);
}

/* ctx_free - ex_data destructor of the per-SSL_CTX state */
static void ctx_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
		     long argl, void *argp)
{
	struct esa_ctx_state *s = ptr;

	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	if (s == NULL)
		return;
	esa_config_free(s->cfg);
	free(s);
}

/* init_indexes - allocate the two ex_data indexes, once per process */
static void init_indexes(void)
{
	ssl_idx = SSL_get_ex_new_index(0, "esaverify conn", NULL, NULL,
				       conn_free);
	ctx_idx = SSL_CTX_get_ex_new_index(0, "esaverify ctx", NULL, NULL,
					   ctx_free);
}

/* indexes_ready - true when the ex_data indexes exist */
static bool indexes_ready(void)
{
	pthread_once(&idx_once, init_indexes);
	return ssl_idx >= 0 && ctx_idx >= 0;
}

/* conn_new - fresh state for ssl, holding a reference on cfg */
static struct esa_conn *conn_new(SSL *ssl, esa_config *cfg, SSL_verify_cb prev)
{
	struct esa_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->cfg = config_ref(cfg);
	c->prev = prev;
	if (SSL_set_ex_data(ssl, ssl_idx, c) != 1) {
		esa_config_free(c->cfg);
		free(c);
		return NULL;
	}
	return c;
}

/* esa_conn_get - the state of ssl; created from its SSL_CTX's installation
 * when create is set.  NULL when ssl is not under esaverify. */
struct esa_conn *esa_conn_get(SSL *ssl, bool create)
{
	struct esa_conn *c;
	struct esa_ctx_state *s;

	if (ssl == NULL || !indexes_ready())
		return NULL;
	c = SSL_get_ex_data(ssl, ssl_idx);
	if (c != NULL || !create)
		return c;
	s = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_idx);
	if (s == NULL)
		return NULL;
	return conn_new(ssl, s->cfg, s->prev);
}

/* esa_conn_attach - state for ssl under cfg, whatever its SSL_CTX says */
struct esa_conn *esa_conn_attach(SSL *ssl, esa_config *cfg,
				 SSL_verify_cb prev)
{
	struct esa_conn *c;

	if (ssl == NULL || cfg == NULL || !indexes_ready())
		return NULL;
	c = SSL_get_ex_data(ssl, ssl_idx);
	if (c != NULL)
		return c;
	return conn_new(ssl, cfg, prev);
}

/* is_name_error - OpenSSL's own host/email/IP check, replaced by ESA's */
static bool is_name_error(int err)
{
	return err == X509_V_ERR_HOSTNAME_MISMATCH ||
	       err == X509_V_ERR_EMAIL_MISMATCH ||
	       err == X509_V_ERR_IP_ADDRESS_MISMATCH;
}

/* route_domain - the domain whose configured routes include host, or NULL */
static const char *route_domain(const esa_config *cfg, const char *host)
{
	for (size_t i = 0; i < cfg->nroutes; i++)
		for (size_t k = 0; k < cfg->routes[i].n; k++)
			if (esa_ascii_streq(cfg->routes[i].routes[k].host, host))
				return cfg->routes[i].domain;
	return NULL;
}

/* peer_from_fd - the peer address of the SSL's socket, v4-mapped unmapped */
static void peer_from_fd(SSL *ssl, struct esa_conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = SSL_get_fd(ssl);

	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
		return;
	if (ss.ss_family == AF_INET) {
		memcpy(c->peer, &((struct sockaddr_in *)&ss)->sin_addr, 4);
		c->peer_family = AF_INET;
		c->have_peer = true;
	} else if (ss.ss_family == AF_INET6) {
		const struct in6_addr *a = &((struct sockaddr_in6 *)&ss)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a)) {
			memcpy(c->peer, &a->s6_addr[12], 4);
			c->peer_family = AF_INET;
		} else {
			memcpy(c->peer, a, 16);
			c->peer_family = AF_INET6;
		}
		c->have_peer = true;
	}
}

/* route_domain_ip - the domain with an IP-literal route to the peer, the
 * route as text in via; NULL if none */
static const char *route_domain_ip(const esa_config *cfg,
				   const struct esa_peer_facts *p, char *via,
				   size_t viasz)
{
	for (size_t i = 0; p->family != 0 && i < cfg->nroutes; i++)
		for (size_t k = 0; k < cfg->routes[i].n; k++) {
			const struct esa_route *r = &cfg->routes[i].routes[k];

			if (r->is_ip && r->family == p->family &&
			    memcmp(r->ip, p->addr, r->family == AF_INET ? 4 : 16) == 0) {
				esa_strlcpy(via, r->host, viasz);
				return cfg->routes[i].domain;
			}
		}
	return NULL;
}

/* choice_one - a single recipient domain, its source and via */
static bool choice_one(struct esa_choice *ch, const char *domain,
		       const char *source, const char *via)
{
	esa_strlcpy(ch->cands[0].domain, domain, sizeof(ch->cands[0].domain));
	esa_strlcpy(ch->cands[0].via, via ? via : "", sizeof(ch->cands[0].via));
	esa_strlcpy(ch->source, source, sizeof(ch->source));
	ch->n = 1;
	return true;
}

/* from_routes - the destinations file: a route named by the program, a
 * route host the program resolved to the peer, an IP route to the peer */
static bool from_routes(const esa_config *cfg, const struct esa_peer_facts *p,
			struct esa_choice *ch)
{
	const char *dom = p->name ? route_domain(cfg, p->name) : NULL;
	char ip[ESA_NAME_MAX];

	if (dom != NULL)
		return choice_one(ch, dom, "config-route", p->name);
	for (size_t i = 0; i < p->nlearned; i++)
		if ((dom = route_domain(cfg, p->learned[i].host)) != NULL)
			return choice_one(ch, dom, "config-route",
					  p->learned[i].host);
	if ((dom = route_domain_ip(cfg, p, ip, sizeof(ip))) != NULL)
		return choice_one(ch, dom, "config-route", ip);
	return false;
}

/* from_mx - the domains whose MX lookup by the program led to the peer,
 * narrowed to the one the program asked for when its name tells */
static bool from_mx(const struct esa_peer_facts *p, struct esa_choice *ch)
{
	struct esa_candidate all[ESA_MAX_CANDIDATES];
	const struct esa_learned *l = p->learned;
	size_t n = 0, keep = 0, by_domain, k;

	for (size_t i = 0; i < p->nlearned && n < ESA_MAX_CANDIDATES; i++) {
		if (l[i].domain[0] == '\0')
			continue;
		for (k = 0; k < n; k++)
			if (esa_name_eq(all[k].domain, l[i].domain) &&
			    esa_name_eq(all[k].via, l[i].host))
				break;
		if (k < n)
			continue;
		esa_strlcpy(all[n].domain, l[i].domain, sizeof(all[n].domain));
		esa_strlcpy(all[n].via, l[i].host, sizeof(all[n].via));
		n++;
	}
	if (n == 0)
		return false;
	for (k = 0; p->name != NULL && k < n; k++)	/* the domain asked for */
		if (esa_name_eq(all[k].domain, p->name))
			ch->cands[keep++] = all[k];
	by_domain = keep;
	for (k = 0; p->name != NULL && by_domain == 0 && k < n; k++)
		if (esa_name_eq(all[k].via, p->name))	/* else its MX host */
			ch->cands[keep++] = all[k];
	if (keep == 0) {	/* cannot tell: all of them */
		memcpy(ch->cands, all, n * sizeof(all[0]));
		keep = n;
	}
	ch->n = keep;
	esa_strlcpy(ch->source, "mx-lookup", sizeof(ch->source));
	return true;
}

/* esa_recipient_choose - the recipient domain(s) of a connection when no
 * setter gave one: the destinations file, the program's own MX lookups,
 * the name it asked for (the order of the file header, SPEC 8.3) */
bool esa_recipient_choose(const esa_config *cfg, const struct esa_peer_facts *p,
			  struct esa_choice *ch)
{
	memset(ch, 0, sizeof(*ch));
	if (from_routes(cfg, p, ch) || from_mx(p, ch))
		return true;
	if (p->name != NULL)
		return choice_one(ch, p->name, p->name_is_sni ? "sni" : "host",
				  NULL);
	return false;
}

#define LEARNED_MAX 32	/* names resolved to one peer, weighed at most */

/* choose_recipient - the connection's recipient domain, once, when no
 * setter gave it; several MX-lookup candidates go to c->cands */
static void choose_recipient(SSL *ssl, struct esa_conn *c)
{
	const char *host = X509_VERIFY_PARAM_get0_host(SSL_get0_param(ssl), 0);
	const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	struct esa_peer_facts p;
	struct esa_choice *ch;

	if (c->recipient[0] != '\0')
		return;
	if (!c->have_peer)
		peer_from_fd(ssl, c);
	memset(&p, 0, sizeof(p));
	p.name = host && *host ? host : sni && *sni ? sni : NULL;
	p.name_is_sni = p.name != NULL && p.name == sni;
	if (c->have_peer) {
		p.family = c->peer_family;
		memcpy(p.addr, c->peer, 16);
	}
	ch = calloc(1, sizeof(*ch));
	if (ch == NULL)
		return;
	if (c->learned != NULL && c->have_peer &&
	    (p.learned = calloc(LEARNED_MAX, sizeof(*p.learned))) != NULL)
		p.nlearned = c->learned(ssl, c, p.learned, LEARNED_MAX);
	if (esa_recipient_choose(c->cfg, &p, ch)) {
		esa_strlcpy(c->recipient, ch->cands[0].domain,
			    sizeof(c->recipient));
		esa_strlcpy(c->recipient_source, ch->source,
			    sizeof(c->recipient_source));
		if (c->via[0] == '\0')
			esa_strlcpy(c->via, ch->cands[0].via, sizeof(c->via));
		free(c->cands);	/* only ever chosen once; for safety */
		c->ncands = 0;
		if ((c->cands = malloc(ch->n * sizeof(*c->cands))) != NULL) {
			memcpy(c->cands, ch->cands, ch->n * sizeof(*c->cands));
			c->ncands = ch->n;
		}
	}
	free(p.learned);
	free(ch);
}

/* make_target - what the identity algorithms know of this connection,
 * for the recipient domain and via of cand (NULL: the connection's own) */
static void make_target(SSL *ssl, struct esa_conn *c,
			const struct esa_candidate *cand, struct esa_target *t,
			struct esa_result *res)
{
	const struct esa_domain_routes *dr;
	const char *recipient = cand ? cand->domain : c->recipient;
	char why[ESA_ERR_MAX];

	memset(t, 0, sizeof(*t));
	if (!c->have_peer)
		peer_from_fd(ssl, c);
	esa_strlcpy(res->recipient_source, c->recipient_source,
		    sizeof(res->recipient_source));
	if (recipient[0] != '\0' &&
	    esa_domain_normalize(recipient, t->recipient,
				 sizeof(t->recipient), why, sizeof(why)) < 0) {
		t->recipient[0] = '\0';
		esa_strlcpy(res->error, why, sizeof(res->error));
	}
	t->have_peer = c->have_peer;
	t->peer_family = c->peer_family;
	memcpy(t->peer, c->peer, 16);
	if (cand != NULL && esa_domain_normalize(cand->via, t->via,
			sizeof(t->via), why, sizeof(why)) < 0)
		esa_strlcpy(t->via, cand->via, sizeof(t->via));
	else if (cand == NULL)
		esa_strlcpy(t->via, c->via, sizeof(t->via));
	dr = t->recipient[0] ? esa_config_routes_for(c->cfg, t->recipient) : NULL;
	if (dr != NULL) {
		t->routes = dr->routes;
		t->nroutes = dr->n;
	}
}

/* effective_tls - the setting of this connection */
static enum esa_tls effective_tls(const struct esa_conn *c,
				  const struct esa_target *t)
{
	if (c->tls_set)
		return c->tls;
	return esa_config_tls_for(c->cfg, t->recipient);
}

/* modes_for - which algorithms the setting needs (both when logging) */
static unsigned modes_for(const struct esa_conn *c, enum esa_tls tls)
{
	return c->all_modes ? 3u : esa_tls_modes(tls);
}

/* stock - what OpenSSL itself decided: chain and the program's host name */
static void stock(SSL *ssl, const struct esa_conn *c, struct esa_result *res)
{
	const char *host = X509_VERIFY_PARAM_get0_host(SSL_get0_param(ssl), 0);

	res->stock_ok = !c->chain_failed && !c->name_error;
	esa_strlcpy(res->stock_host, host ? host : "", sizeof(res->stock_host));
}

/* evaluate_for - stage II for one recipient domain (cand, NULL for the
 * connection's own) into a new result, with DNS until deadline (esa_now_ms);
 * chain facts from OpenSSL's run */
static struct esa_result *evaluate_for(SSL *ssl, struct esa_conn *c,
				       X509_STORE_CTX *x,
				       const struct esa_candidate *cand,
				       uint64_t deadline)
{
	uint64_t now = esa_now_ms();
	struct esa_result *res = esa_result_new();
	struct esa_target t;
	enum esa_tls tls;

	if (res == NULL)
		return NULL;
	make_target(ssl, c, cand, &t, res);
	if (c->forced_error[0] != '\0')
		esa_strlcpy(res->error, c->forced_error, sizeof(res->error));
	tls = effective_tls(c, &t);
	res->tls = tls;
	stock(ssl, c, res);
	res->chain.checked = true;
	res->chain.ok = !c->chain_failed;
	res->chain.error = c->chain_failed ? c->chain_error : X509_V_OK;
	res->chain.depth = c->chain_failed ? c->chain_depth : 0;
	res->chain.flags = X509_VERIFY_PARAM_get_flags(
		X509_STORE_CTX_get0_param(x));
	res->chain.auth_level = X509_VERIFY_PARAM_get_auth_level(
		X509_STORE_CTX_get0_param(x));
	esa_strlcpy(res->chain.text, c->chain_failed ?
		    X509_verify_cert_error_string(c->chain_error) :
		    "verified to a trusted CA", sizeof(res->chain.text));
	esa_identity_check_modes(res, X509_STORE_CTX_get0_cert(x), &t,
				 esa_config_resolver(c->cfg),
				 deadline > now ? (unsigned)(deadline - now) : 1,
				 modes_for(c, tls));
	res->accept = esa_result_accept(res, tls) && c->forced_error[0] == '\0';
	return res;
}

/* note_candidate - one candidate's own verdicts, for the log */
static void note_candidate(struct esa_result *res,
			   const struct esa_candidate *cand,
			   const struct esa_result *of)
{
	struct esa_candidate_verdict *v;

	if (res->ncandidates >= ESA_MAX_CANDIDATES)
		return;
	if (res->candidates == NULL &&	/* only with several candidates */
	    (res->candidates = calloc(ESA_MAX_CANDIDATES,
				      sizeof(*res->candidates))) == NULL)
		return;
	v = &res->candidates[res->ncandidates++];
	esa_strlcpy(v->domain, of->recipient[0] ? of->recipient : cand->domain,
		    sizeof(v->domain));
	esa_strlcpy(v->via, cand->via, sizeof(v->via));
	v->tls = of->tls;
	v->verify_pass = esa_result_pass(of, ESA_MODE_VERIFY);
	v->hosted_pass = esa_result_pass(of, ESA_MODE_HOSTED);
	v->accept = of->accept;
}

/* merge - fold another candidate's result into res: a mode that passed
 * takes the other's failing verdict (its reason naming that domain), the
 * DNS queries add up, and the connection is accepted only if both are */
static void merge(struct esa_result *res, struct esa_result *other)
{
	char why[ESA_ERR_MAX];

	for (int m = ESA_MODE_VERIFY; m <= ESA_MODE_HOSTED; m++) {
		struct esa_verdict *v = &res->verdict[m], *o = &other->verdict[m];

		if (!o->computed || (v->computed && !v->pass) || o->pass)
			continue;
		free(v->tries);
		*v = *o;
		o->tries = NULL;
		o->ntries = o->tries_cap = 0;
		snprintf(why, sizeof(why), "recipient candidate %s: %s",
			 other->recipient, o->reason);
		esa_strlcpy(v->reason, why, sizeof(v->reason));
	}
	if (other->ndns > 0 &&
	    esa_grow((void **)&res->dns, &res->dns_cap, res->ndns + other->ndns,
		     sizeof(*res->dns)) == 0) {
		memcpy(res->dns + res->ndns, other->dns,
		       other->ndns * sizeof(*res->dns));
		res->ndns += other->ndns;
	}
	if (res->error[0] == '\0' && other->error[0] != '\0')
		esa_strlcpy(res->error, other->error, sizeof(res->error));
	if (res->accept && !other->accept) {
		res->accept = false;
		res->tls = other->tls;	/* the setting that refused */
	}
}

/* evaluate - stage II for the finished (or failed) chain, for every
 * recipient candidate under one DNS budget, into a new result that
 * replaces c->result */
static struct esa_result *evaluate(SSL *ssl, struct esa_conn *c,
				   X509_STORE_CTX *x)
{
	uint64_t deadline = esa_now_ms() + c->cfg->dns_budget_ms;
	struct esa_result *res, *other;

	choose_recipient(ssl, c);
	res = evaluate_for(ssl, c, x, c->ncands > 1 ? &c->cands[0] : NULL,
			   deadline);
	if (res != NULL && c->ncands > 1)
		note_candidate(res, &c->cands[0], res);
	for (size_t i = 1; res != NULL && i < c->ncands; i++) {
		other = evaluate_for(ssl, c, x, &c->cands[i], deadline);
		if (other == NULL) {
			esa_result_free(res);
			res = NULL;
			break;
		}
		note_candidate(res, &c->cands[i], other);
		merge(res, other);
		esa_result_free(other);
	}
	if (res == NULL)
		return NULL;
	esa_result_free(c->result);
	c->result = res;
	c->decided = true;
	c->accepted = res->accept;
	c->stock_name_failed = c->name_error;
	return res;
}

/* accept_all - the decision under every candidate's setting (observe,
 * after ESA's own chain check) */
static bool accept_all(const struct esa_result *res)
{
	bool ok = esa_result_accept(res, res->tls);

	for (size_t i = 0; i < res->ncandidates; i++)
		ok = ok && esa_result_accept(res, res->candidates[i].tls);
	return ok;
}

/* finish - the end of one verification: timing, the shim's hook, reset */
static void finish(SSL *ssl, struct esa_conn *c)
{
	if (c->result != NULL)
		c->result->elapsed_us = esa_now_us() - c->started_us;
	c->chain_failed = c->name_error = false;
	c->started_us = 0;
	if (c->on_decide != NULL)
		c->on_decide(ssl, c);
}

/* decide - run stage II and set the verification result as SPEC 5 says;
 * returns the callback's answer */
static int decide(SSL *ssl, struct esa_conn *c, X509_STORE_CTX *x)
{
	struct esa_result *res = evaluate(ssl, c, x);
	enum esa_tls tls;
	bool failed;
	int err;

	if (res == NULL) {
		c->chain_failed = c->name_error = false;
		X509_STORE_CTX_set_error(x, X509_V_ERR_OUT_OF_MEM);
		return 0;
	}
	tls = res->tls;
	failed = esa_tls_verifies(tls) &&
		 (!res->chain.ok || !esa_result_pass(res, esa_tls_mode(tls)));
	err = !failed ? X509_V_OK :
	      !res->chain.ok ? res->chain.error : X509_V_ERR_HOSTNAME_MISMATCH;
	if (c->forced_error[0] != '\0' || (!res->accept && err == X509_V_OK))
		err = X509_V_ERR_APPLICATION_VERIFICATION; /* not the names' fault */
	X509_STORE_CTX_set_error(x, err);
	finish(ssl, c);
	return res->accept ? 1 : 0;
}

/* observe - ESA_ENFORCE=observe: the program decides exactly as it would;
 * ESA's verdict is computed on the side, on the chain the server sent,
 * against the configuration's own store, and reported through the hook */
static int observe(SSL *ssl, struct esa_conn *c, int ok, X509_STORE_CTX *x)
{
	int err = X509_STORE_CTX_get_error(x);
	int depth = X509_STORE_CTX_get_error_depth(x);
	int answer = c->prev ? c->prev(ok, x) : ok;
	struct esa_result *res;

	if (!ok && is_name_error(err)) {
		c->name_error = true;
	} else if (!ok && !c->chain_failed) {
		c->chain_failed = true;
		c->chain_error = err;
		c->chain_depth = depth;
	}
	if (answer && !(ok && depth == 0))
		return answer;	/* the program's verification goes on */
	res = evaluate(ssl, c, x);
	if (res != NULL)	/* stage I again, against ESA's store, at the
				 * program's own security level */
		esa_chain_check(c->cfg, X509_STORE_CTX_get0_cert(x),
				X509_STORE_CTX_get0_untrusted(x), 0,
				SSL_get_security_level(ssl), res);
	if (res != NULL)
		res->accept = accept_all(res) && c->forced_error[0] == '\0';
	finish(ssl, c);
	return answer;
}

/* refuses_on_failure - settings under which a failed chain is final */
static bool refuses_on_failure(struct esa_conn *c, SSL *ssl)
{
	struct esa_target t;
	char why[ESA_ERR_MAX];

	if (c->forced_error[0] != '\0')
		return true;
	if (c->tls_set)
		return esa_tls_refuses_failure(c->tls);
	memset(&t, 0, sizeof(t));
	choose_recipient(ssl, c);
	for (size_t i = 0; i < (c->ncands > 1 ? c->ncands : 1); i++) {
		const char *d = c->ncands > 1 ? c->cands[i].domain : c->recipient;

		if (esa_domain_normalize(d, t.recipient, sizeof(t.recipient),
					 why, sizeof(why)) < 0) {
			if (esa_tls_refuses_failure(c->cfg->tls))
				return true;
		} else if (esa_tls_refuses_failure(
				   esa_config_tls_for(c->cfg, t.recipient))) {
			return true;	/* one candidate refusing refuses */
		}
	}
	return false;
}

/* esa_verify_cb - the verify callback installed by esa_*_install */
int esa_verify_cb(int ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(
		x, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct esa_conn *c = esa_conn_get(ssl, true);
	int err = X509_STORE_CTX_get_error(x);
	int depth = X509_STORE_CTX_get_error_depth(x);

	if (c == NULL) {	/* no state: fail closed */
		X509_STORE_CTX_set_error(x, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	if (c->skip != NULL && c->skip(ssl))
		return c->prev ? c->prev(ok, x) : ok;
	if (c->started_us == 0)
		c->started_us = esa_now_us();
	if (c->observe)
		return observe(ssl, c, ok, x);
	if (c->prev != NULL) {	/* the program's callback still runs */
		c->prev(ok, x);
		X509_STORE_CTX_set_error(x, err);
	}
	if (!ok && is_name_error(err)) {
		c->name_error = true;	/* stage II is ESA's, not OpenSSL's */
		return 1;
	}
	if (!ok) {
		if (!c->chain_failed) {
			c->chain_failed = true;
			c->chain_error = err;
			c->chain_depth = depth;
		}
		if (refuses_on_failure(c, ssl))
			return decide(ssl, c, x);
		return 1;	/* see the whole chain; decide at its end */
	}
	if (depth > 0)
		return 1;
	return decide(ssl, c, x);
}

/* trust_store - the config's own store, or NULL to keep the program's */
static X509_STORE *trust_store(esa_config *cfg, int *failed)
{
	char err[ESA_ERR_MAX];
	X509_STORE *store;

	*failed = 0;
	if (!cfg->cafile[0] && !cfg->capath[0] && !cfg->crlfile[0])
		return NULL;
	store = esa_config_shared_store(cfg, err, sizeof(err));
	if (store == NULL) {
		esa_strlcpy(cfg->err, err, sizeof(cfg->err));
		*failed = 1;
	}
	return store;
}

/* esa_ctx_install - ESA verification for every SSL made from ctx */
int esa_ctx_install(SSL_CTX *ctx, esa_config *cfg)
{
	struct esa_ctx_state *s;
	X509_STORE *store;
	int failed;

	if (ctx == NULL || cfg == NULL || !indexes_ready())
		return -1;
	store = trust_store(cfg, &failed);
	if (failed)
		return -1;
	if (store != NULL) {
		SSL_CTX_set1_verify_cert_store(ctx, store);
		X509_STORE_free(store);
	}
	if (esa_chain_profile_flags(cfg) != 0)	/* the program's store too */
		X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx),
					    esa_chain_profile_flags(cfg));
	s = SSL_CTX_get_ex_data(ctx, ctx_idx);
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		if (s == NULL || SSL_CTX_set_ex_data(ctx, ctx_idx, s) != 1) {
			free(s);
			return -1;
		}
		s->prev = SSL_CTX_get_verify_callback(ctx);
	} else {
		esa_config_free(s->cfg);
	}
	s->cfg = config_ref(cfg);
	SSL_CTX_set_verify(ctx, SSL_CTX_get_verify_mode(ctx) | SSL_VERIFY_PEER,
			   esa_verify_cb);
	return 0;
}

/* esa_ssl_install - ESA verification for one SSL */
int esa_ssl_install(SSL *ssl, esa_config *cfg)
{
	struct esa_conn *c;
	X509_STORE *store;
	SSL_verify_cb prev;
	int failed;

	if (ssl == NULL || cfg == NULL || !indexes_ready())
		return -1;
	store = trust_store(cfg, &failed);
	if (failed)
		return -1;
	if (store != NULL) {
		SSL_set1_verify_cert_store(ssl, store);
		X509_STORE_free(store);
	}
	if (esa_chain_profile_flags(cfg) != 0)	/* the program's store too */
		X509_VERIFY_PARAM_set_flags(SSL_get0_param(ssl),
					    esa_chain_profile_flags(cfg));
	prev = SSL_get_verify_callback(ssl);
	if (prev == esa_verify_cb)
		prev = NULL;
	c = SSL_get_ex_data(ssl, ssl_idx);
	if (c != NULL) {
		esa_config_free(c->cfg);
		c->cfg = config_ref(cfg);
		c->prev = prev ? prev : c->prev;
	} else if (conn_new(ssl, cfg, prev) == NULL) {
		return -1;
	}
	SSL_set_verify(ssl, SSL_get_verify_mode(ssl) | SSL_VERIFY_PEER,
		       esa_verify_cb);
	return 0;
}

/* esa_ssl_set_recipient - the recipient domain of this connection */
int esa_ssl_set_recipient(SSL *ssl, const char *domain)
{
	struct esa_conn *c = esa_conn_get(ssl, true);

	if (c == NULL || domain == NULL || strlen(domain) >= sizeof(c->recipient))
		return -1;
	esa_strlcpy(c->recipient, domain, sizeof(c->recipient));
	esa_strlcpy(c->recipient_source, "set", sizeof(c->recipient_source));
	return 0;
}

/* esa_ssl_set_via - the route or MX host the connection was made to */
int esa_ssl_set_via(SSL *ssl, const char *host)
{
	struct esa_conn *c = esa_conn_get(ssl, true);
	char why[ESA_ERR_MAX];

	if (c == NULL || host == NULL)
		return -1;
	if (esa_domain_normalize(host, c->via, sizeof(c->via), why,
				 sizeof(why)) < 0)
		esa_strlcpy(c->via, host, sizeof(c->via)); /* an IP route */
	return 0;
}

/* esa_ssl_set_peer - the peer address, instead of getpeername() */
int esa_ssl_set_peer(SSL *ssl, const char *ip)
{
	struct esa_conn *c = esa_conn_get(ssl, true);
	int family;
	unsigned char addr[16];

	if (c == NULL || ip == NULL || esa_parse_ip(ip, &family, addr) < 0)
		return -1;
	c->peer_family = family;
	memcpy(c->peer, addr, 16);
	c->have_peer = true;
	return 0;
}

/* esa_ssl_set_tls - the TLS setting of this connection */
int esa_ssl_set_tls(SSL *ssl, enum esa_tls tls)
{
	struct esa_conn *c = esa_conn_get(ssl, true);

	if (c == NULL || !esa_tls_valid(tls))
		return -1;
	c->tls = tls;
	c->tls_set = true;
	return 0;
}

/* esa_ssl_result - the decision of the last verification, or NULL */
const esa_result *esa_ssl_result(const SSL *ssl)
{
	struct esa_conn *c;

	if (ssl == NULL || !indexes_ready())
		return NULL;
	c = SSL_get_ex_data(ssl, ssl_idx);
	return c ? c->result : NULL;
}
