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
 * The recipient domain (SPEC 8.3), when no setter gave one, is chosen once
 * per connection by recipient.c's policy from the facts gathered here (the
 * name the program asked OpenSSL to check or sent as SNI, the peer, the
 * host's learned hook); with several candidates each is verified and
 * recipient.c folds their verdicts into one record.
 *
 * Hosts: the shim attaches the library to connections it does not own
 * (esa_ssl_attach) with hooks (struct esa_hooks) and tells it what it sees
 * through small setters; the per-connection state itself is private to
 * this file.
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

#include "guard.h"
#include "internal.h"

/* The state of one SSL under esaverify, hung on it with ex_data. */
struct esa_conn {
	esa_config *cfg;		/* a reference, dropped with the SSL */
	SSL_verify_cb prev;		/* the program's callback, still called */
	struct esa_hooks hooks;		/* the host's (zero: the library's own use) */
	char recipient[ESA_NAME_MAX];	/* as given; normalised when used */
	enum esa_recipient_source recipient_source;
	char via[ESA_NAME_MAX];
	bool have_peer;
	int peer_family;
	unsigned char peer[16];
	bool tls_set;
	enum esa_tls tls;
	char forced_error[ESA_ERR_MAX];	/* set: refuse every verification */
	/* the recipient domains chosen (recipient.c), once; the first is
	 * c->recipient */
	struct esa_candidate *cands;	/* ncands of them, malloc'd */
	size_t ncands;
	uint64_t started_us;		/* when the verification began */
	/* one verification's observations, reset once it is decided */
	bool chain_failed;
	int chain_error;
	int chain_depth;
	bool name_error;		/* OpenSSL's own host-name check failed */
	struct esa_result *result;	/* the last decision */
	/* DANE accepted at a chain error before the end (docs/dane.md 5):
	 * the rest of this verification of this leaf is accepted, and the
	 * decision is reported at its end */
	X509 *dane_hold;
};

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

/* conn_get - the state of ssl; created from its SSL_CTX's installation
 * when create is set.  NULL when ssl is not under esaverify. */
static struct esa_conn *conn_get(SSL *ssl, bool create)
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

/* esa_ssl_attach - state for ssl under cfg and a host's hooks, whatever
 * its SSL_CTX says; an SSL already under esaverify keeps its own */
int esa_ssl_attach(SSL *ssl, esa_config *cfg, SSL_verify_cb prev,
		   const struct esa_hooks *hooks)
{
	struct esa_conn *c;

	if (ssl == NULL || cfg == NULL || !indexes_ready())
		return -1;
	if (SSL_get_ex_data(ssl, ssl_idx) != NULL)
		return 0;
	if ((c = conn_new(ssl, cfg, prev)) == NULL)
		return -1;
	if (hooks != NULL)
		c->hooks = *hooks;
	return 0;
}

/* esa_ssl_attached - is ssl under esaverify? */
bool esa_ssl_attached(SSL *ssl)
{
	return ssl != NULL && indexes_ready() &&
	       SSL_get_ex_data(ssl, ssl_idx) != NULL;
}

/* is_name_error - OpenSSL's own host/email/IP check, replaced by ESA's */
static bool is_name_error(int err)
{
	return err == X509_V_ERR_HOSTNAME_MISMATCH ||
	       err == X509_V_ERR_EMAIL_MISMATCH ||
	       err == X509_V_ERR_IP_ADDRESS_MISMATCH;
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

/* port_from_fd - the server port of the SSL's socket, 0 if unknown */
static int port_from_fd(SSL *ssl)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = SSL_get_fd(ssl);

	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

#define LEARNED_MAX 32	/* names resolved to one peer, weighed at most */

/* choose_recipient - the connection's recipient domain(s), once, when no
 * setter gave it: the facts of the SSL for recipient.c to choose from */
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
	if (c->hooks.learned != NULL && c->have_peer &&
	    (p.learned = calloc(LEARNED_MAX, sizeof(*p.learned))) != NULL)
		p.nlearned = c->hooks.learned(ssl, c->peer_family, c->peer,
					      p.learned, LEARNED_MAX);
	if (esa_recipient_choose(c->cfg, &p, ch)) {
		esa_strlcpy(c->recipient, ch->cands[0].domain,
			    sizeof(c->recipient));
		c->recipient_source = ch->source;
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
	res->recipient_source = c->recipient_source;
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
	t->secure_mx = c->cfg->secure_mx;
	if (c->cfg->dane != ESA_DANE_NONE)
		t->port = port_from_fd(ssl);
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
	return c->hooks.all_modes ? 3u : esa_tls_modes(tls);
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
	if (cand == NULL || cand == &c->cands[0])	/* the first candidate's */
		esa_dane_check(res, c->cfg->dane, &t, X509_STORE_CTX_get0_cert(x),
			       X509_STORE_CTX_get0_untrusted(x),
			       esa_config_resolver(c->cfg), deadline);
	res->accept = esa_result_accept(res, tls) && c->forced_error[0] == '\0';
	return res;
}

/* evaluate - stage II for the finished (or failed) chain, for every
 * recipient candidate under one DNS budget, into a new result that
 * replaces c->result; the candidates' verdicts fold into it (recipient.c) */
static struct esa_result *evaluate(SSL *ssl, struct esa_conn *c,
				   X509_STORE_CTX *x)
{
	uint64_t deadline = esa_now_ms() + c->cfg->dns_budget_ms;
	struct esa_result *res, *other;

	choose_recipient(ssl, c);
	res = evaluate_for(ssl, c, x, c->ncands > 1 ? &c->cands[0] : NULL,
			   deadline);
	if (res != NULL && esa_candidates_set(res, c->cands, c->ncands) == 0)
		esa_candidates_note(res, 0, res);
	for (size_t i = 1; res != NULL && i < c->ncands; i++) {
		other = evaluate_for(ssl, c, x, &c->cands[i], deadline);
		if (other == NULL) {
			esa_result_free(res);
			res = NULL;
			break;
		}
		esa_candidates_note(res, i, other);
		esa_candidates_merge(res, other);
		esa_result_free(other);
	}
	if (res == NULL)
		return NULL;
	esa_result_free(c->result);
	c->result = res;
	return res;
}

/* finish - the end of one verification: timing, the shim's hook, reset */
static void finish(SSL *ssl, struct esa_conn *c)
{
	if (c->result != NULL)
		c->result->elapsed_us = esa_now_us() - c->started_us;
	c->chain_failed = c->name_error = false;
	c->started_us = 0;
	if (c->hooks.on_decide != NULL)
		c->hooks.on_decide(ssl, c->result);
}

/* decide - run stage II and set the verification result as SPEC 5 says;
 * returns the callback's answer.  final: the last call of the chain (ok at
 * depth 0); before it only DANE can accept, and then holds (dane_hold). */
static int decide(SSL *ssl, struct esa_conn *c, X509_STORE_CTX *x, bool final)
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
	if (esa_dane_decides(res->dane))	/* docs/dane.md 5: DANE's verdict */
		err = res->accept ? X509_V_OK : res->dane->x509_error != X509_V_OK ?
		      res->dane->x509_error : X509_V_ERR_APPLICATION_VERIFICATION;
	if (c->forced_error[0] != '\0' || (!res->accept && err == X509_V_OK))
		err = X509_V_ERR_APPLICATION_VERIFICATION; /* not the names' fault */
	X509_STORE_CTX_set_error(x, err);
	if (res->accept && !final) {	/* DANE accepted before the end */
		c->dane_hold = X509_STORE_CTX_get0_cert(x);
		return 1;
	}
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
		res->accept = esa_candidates_accept(res) &&
			      c->forced_error[0] == '\0';
	finish(ssl, c);
	return answer;
}

/* refuses_on_failure - settings under which a failed chain is final */
static bool refuses_on_failure(struct esa_conn *c, SSL *ssl)
{
	if (c->forced_error[0] != '\0')
		return true;
	if (c->tls_set)
		return esa_tls_refuses_failure(c->tls);
	choose_recipient(ssl, c);
	return esa_recipient_refuses_failure(c->cfg, c->recipient, c->cands,
					     c->ncands);
}

/* dane_recheck - stage I when the program's DANE records decided it: a
 * DANE-TA or DANE-EE match satisfies OpenSSL without a path to a trusted
 * CA, but ESA's stage I is the trust store's (SPEC 2), so the chain is
 * checked again against the configuration's store (issue 12) */
static void dane_recheck(SSL *ssl, struct esa_conn *c, X509_STORE_CTX *x)
{
	struct esa_result *tmp;

	if (c->chain_failed || SSL_get0_dane_authority(ssl, NULL, NULL) < 0)
		return;
	tmp = esa_result_new();
	if (tmp != NULL &&
	    esa_chain_check(c->cfg, X509_STORE_CTX_get0_cert(x),
			    X509_STORE_CTX_get0_untrusted(x), 0,
			    SSL_get_security_level(ssl), tmp) == 0) {
		esa_result_free(tmp);
		return;
	}
	c->chain_failed = true;
	c->chain_error = tmp ? tmp->chain.error : X509_V_ERR_OUT_OF_MEM;
	c->chain_depth = tmp ? tmp->chain.depth : 0;
	esa_result_free(tmp);
}

/* esa_verify_cb - the verify callback installed by esa_*_install */
int esa_verify_cb(int ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(
		x, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct esa_conn *c = conn_get(ssl, true);
	int err = X509_STORE_CTX_get_error(x);
	int depth = X509_STORE_CTX_get_error_depth(x);

	if (c == NULL) {	/* no state: fail closed */
		X509_STORE_CTX_set_error(x, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	if (c->hooks.skip != NULL && c->hooks.skip(ssl))
		return c->prev ? c->prev(ok, x) : ok;
	if (c->started_us == 0)
		c->started_us = esa_now_us();
	if (c->hooks.observe)
		return observe(ssl, c, ok, x);
	if (c->prev != NULL) {	/* the program's callback still runs */
		c->prev(ok, x);
		X509_STORE_CTX_set_error(x, err);
	}
	if (c->dane_hold != NULL && c->dane_hold != X509_STORE_CTX_get0_cert(x))
		c->dane_hold = NULL;	/* another verification: decide anew */
	if (c->dane_hold != NULL) {	/* DANE accepted this chain already */
		X509_STORE_CTX_set_error(x, X509_V_OK);
		if (ok && depth == 0) {
			c->dane_hold = NULL;
			finish(ssl, c);
		}
		return 1;
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
			return decide(ssl, c, x, false);
		return 1;	/* see the whole chain; decide at its end */
	}
	if (depth > 0)
		return 1;
	dane_recheck(ssl, c, x);
	return decide(ssl, c, x, true);
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

/* store_not_attached - OpenSSL refused the store: install fails (a
 * handshake must not go on against the program's store unnoticed) */
static void store_not_attached(esa_config *cfg)
{
	esa_strlcpy(cfg->err, "cannot attach the trust store to the connection",
		    sizeof(cfg->err));
}

/* esa_ctx_install - ESA verification for every SSL made from ctx */
int esa_ctx_install(SSL_CTX *ctx, esa_config *cfg)
{
	struct esa_ctx_state *s;
	X509_STORE *store = NULL;
	unsigned long profile;
	int failed, rc = -1;

	if (ctx == NULL || cfg == NULL || !indexes_ready())
		return -1;
	store = trust_store(cfg, &failed);
	ENSURE(!failed);
	if (store != NULL)	/* stage I against the configuration's store */
		GUARD_OSSL(SSL_CTX_set1_verify_cert_store(ctx, store),
			   store_not_attached(cfg));
	profile = esa_chain_profile_flags(cfg);
	if (profile != 0)	/* the program's store too */
		GUARD_OSSL(X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx),
						       profile));
	s = SSL_CTX_get_ex_data(ctx, ctx_idx);
	if (s == NULL) {
		ENSURE_REF(s = calloc(1, sizeof(*s)));
		GUARD_OSSL(SSL_CTX_set_ex_data(ctx, ctx_idx, s), free(s));
		s->prev = SSL_CTX_get_verify_callback(ctx);
	} else {
		esa_config_free(s->cfg);
	}
	s->cfg = config_ref(cfg);
	SSL_CTX_set_verify(ctx, SSL_CTX_get_verify_mode(ctx) | SSL_VERIFY_PEER,
			   esa_verify_cb);
	rc = 0;
out:
	X509_STORE_free(store);
	return rc;
}

/* esa_ssl_install - ESA verification for one SSL */
int esa_ssl_install(SSL *ssl, esa_config *cfg)
{
	struct esa_conn *c;
	X509_STORE *store = NULL;
	SSL_verify_cb prev;
	unsigned long profile;
	int failed, rc = -1;

	if (ssl == NULL || cfg == NULL || !indexes_ready())
		return -1;
	store = trust_store(cfg, &failed);
	ENSURE(!failed);
	if (store != NULL)
		GUARD_OSSL(SSL_set1_verify_cert_store(ssl, store),
			   store_not_attached(cfg));
	profile = esa_chain_profile_flags(cfg);
	if (profile != 0)	/* the program's store too */
		GUARD_OSSL(X509_VERIFY_PARAM_set_flags(SSL_get0_param(ssl),
						       profile));
	prev = SSL_get_verify_callback(ssl);
	if (prev == esa_verify_cb)
		prev = NULL;
	c = SSL_get_ex_data(ssl, ssl_idx);
	if (c != NULL) {
		esa_config_free(c->cfg);
		c->cfg = config_ref(cfg);
		c->prev = prev ? prev : c->prev;
	} else {
		ENSURE_REF(conn_new(ssl, cfg, prev));
	}
	SSL_set_verify(ssl, SSL_get_verify_mode(ssl) | SSL_VERIFY_PEER,
		       esa_verify_cb);
	rc = 0;
out:
	X509_STORE_free(store);
	return rc;
}

/* esa_ssl_set_recipient - the recipient domain of this connection */
int esa_ssl_set_recipient(SSL *ssl, const char *domain)
{
	struct esa_conn *c = conn_get(ssl, true);

	if (c == NULL || domain == NULL || strlen(domain) >= sizeof(c->recipient))
		return -1;
	esa_strlcpy(c->recipient, domain, sizeof(c->recipient));
	c->recipient_source = ESA_RCPT_SET;
	return 0;
}

/* esa_ssl_set_recipient_from - the recipient domain as a host knows it */
int esa_ssl_set_recipient_from(SSL *ssl, const char *domain,
			       enum esa_recipient_source source)
{
	struct esa_conn *c = conn_get(ssl, true);

	if (c == NULL || domain == NULL || strlen(domain) >= sizeof(c->recipient))
		return -1;
	esa_strlcpy(c->recipient, domain, sizeof(c->recipient));
	c->recipient_source = source;
	return 0;
}

/* esa_ssl_set_via - the route or MX host the connection was made to */
int esa_ssl_set_via(SSL *ssl, const char *host)
{
	struct esa_conn *c = conn_get(ssl, true);
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
	struct esa_conn *c = conn_get(ssl, true);
	int family;
	unsigned char addr[16];

	if (c == NULL || ip == NULL || esa_parse_ip(ip, &family, addr) < 0)
		return -1;
	c->peer_family = family;
	memcpy(c->peer, addr, 16);
	c->have_peer = true;
	return 0;
}

/* esa_ssl_note_peer - the peer a host saw on the socket, unless known */
void esa_ssl_note_peer(SSL *ssl, int family, const unsigned char addr[16])
{
	struct esa_conn *c = conn_get(ssl, false);

	if (c == NULL || c->have_peer ||
	    (family != AF_INET && family != AF_INET6))
		return;
	c->peer_family = family;
	memcpy(c->peer, addr, 16);
	c->have_peer = true;
}

/* esa_ssl_reset - the SSL carries a new connection (SSL_clear): forget
 * what belonged to the last one (peer, the recipient domain chosen for it,
 * its candidates and via, its record); keep the configuration, the
 * program's callback, the host's hooks, a refusal and what a host set
 * (esa_ssl_set_recipient, ESA_RECIPIENT_DOMAIN, the setting) */
void esa_ssl_reset(SSL *ssl)
{
	struct esa_conn *c = conn_get(ssl, false);

	if (c == NULL)
		return;
	if (c->recipient_source != ESA_RCPT_SET &&
	    c->recipient_source != ESA_RCPT_ENV) {
		c->recipient[0] = '\0';
		c->recipient_source = ESA_RCPT_NONE;
	}
	c->via[0] = '\0';
	c->have_peer = false;
	free(c->cands);
	c->cands = NULL;
	c->ncands = 0;
	c->started_us = 0;
	c->chain_failed = c->name_error = false;
	esa_result_free(c->result);
	c->result = NULL;
}

/* esa_ssl_refuse - refuse every verification of ssl; the first reason stays */
void esa_ssl_refuse(SSL *ssl, const char *why)
{
	struct esa_conn *c = conn_get(ssl, false);

	if (c != NULL && why != NULL && c->forced_error[0] == '\0')
		esa_strlcpy(c->forced_error, why, sizeof(c->forced_error));
}

/* esa_ssl_set_prev - the program's callback, chained from now on */
void esa_ssl_set_prev(SSL *ssl, SSL_verify_cb cb)
{
	struct esa_conn *c = conn_get(ssl, false);

	if (c != NULL)
		c->prev = cb;
}

/* esa_ssl_set_all_modes - both algorithms in ssl's records */
int esa_ssl_set_all_modes(SSL *ssl)
{
	struct esa_conn *c = conn_get(ssl, true);

	if (c == NULL)
		return -1;
	c->hooks.all_modes = true;
	return 0;
}

/* esa_ssl_set_tls - the TLS setting of this connection */
int esa_ssl_set_tls(SSL *ssl, enum esa_tls tls)
{
	struct esa_conn *c = conn_get(ssl, true);

	if (c == NULL || !esa_tls_valid(tls))
		return -1;
	c->tls = tls;
	c->tls_set = true;
	return 0;
}

/* esa_ssl_record - the same record, for a host to edit its report */
struct esa_result *esa_ssl_record(SSL *ssl)
{
	struct esa_conn *c = conn_get(ssl, false);

	return c ? c->result : NULL;
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
