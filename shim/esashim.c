/*
 * esashim.c - LD_PRELOAD interposer putting ESA verification into
 * unmodified OpenSSL 3 clients (SPEC 8.3)
 *
 * Configuration is read when the program makes its first SSL_CTX (before
 * a daemon such as Postfix drops privileges or enters a chroot), else at
 * the first handshake.
 *
 * Reaching every connection.  Clients set TLS up in different ways
 * (openssl s_client calls only SSL_set_connect_state through the dynamic
 * linker, Python's ssl SSL_do_handshake, curl SSL_connect, and libssl calls
 * its own exported functions internally), so all three hooks attach, and
 * attaching is idempotent: it also absorbs the retries of non-blocking
 * handshakes.  Attaching hangs libesaverify's per-connection state on the
 * SSL (esa_ssl_attach, with the shim's hooks), keeps the program's verify callback as the one the
 * library chains to (it is still called), and installs the shim's callback
 * with the program's verify mode unchanged.  SSL_set_verify calls made
 * later are rerouted the same way.
 *
 * Arming (ESA_ENFORCE=esa only): SSL_VERIFY_PEER is added, so the ESA
 * verdict decides the handshake and SSL_get_verify_result(); a program
 * that verifies nothing (SSL_VERIFY_NONE) also gets the shim's trust store
 * (ESA_CAFILE/ESA_CAPATH or the system store) for stage I.  Under observe
 * nothing of the program's SSL changes: the library verifies on the side
 * and the program's own answers stand.  With ESA_PORTS, a connection is
 * armed once its peer port is known to be selected, and left alone (the
 * callback passes straight through to the program's) otherwise.
 *
 * The socket: SSL_get_fd() when the SSL has one; else (curl's own BIO) the
 * TCP socket the handshake writes to, seen by the socket hooks of net.c
 * while SSL_connect/SSL_do_handshake runs on this thread; else (memory
 * BIOs) the socket that later carries its ClientHello.  It gives the peer
 * address for the PTR step of SPEC 4.1 and the port for ESA_PORTS.
 *
 * Re-entrancy: shim_busy guards the shim's own work (and the library's:
 * DNS queries inside the verify callback); hooks entered while it is set
 * pass straight through.  errno and the OpenSSL error queue are kept
 * across the shim's work.  Nothing here writes to stdout, aborts or exits.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>

#include "shim.h"

__thread int shim_busy __attribute__((tls_model("initial-exec")));
__thread SSL *shim_handshake __attribute__((tls_model("initial-exec")));

/* The shim's part of a connection's state, beside the library's esa_conn. */
struct shim_ssl {
	bool settled;	/* arming decided (ESA_PORTS needs the port first) */
	bool skipped;	/* ESA_PORTS leaves this connection alone */
	bool armed;	/* esa: SSL_VERIFY_PEER put on */
	bool store_set;	/* esa: the shim's store put on (SSL_VERIFY_NONE) */
	int fd;		/* the TCP socket of the handshake, -1 unknown */
	int port;	/* its peer port, 0 unknown */
};

static pthread_once_t idx_once = PTHREAD_ONCE_INIT;
static int st_idx = -1;

static int shim_verify_cb(int ok, X509_STORE_CTX *x);

/*
 * Handshakes whose socket is not known yet (memory BIOs: Python's asyncio):
 * their ClientHello's random is kept here until a socket write carries it,
 * which names the socket.  The random is unique per handshake, so this is
 * a match, not a guess.
 */
#define PENDING_MAX 64
static struct {
	SSL *ssl;
	unsigned char random[32];
} pending[PENDING_MAX];
static pthread_mutex_t pending_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int npending;

/* pending_add - remember ssl's ClientHello random (idempotent) */
static void pending_add(SSL *ssl)
{
	unsigned char r[32];
	int free_slot = -1;

	if (SSL_get_client_random(ssl, r, sizeof(r)) != sizeof(r))
		return;
	pthread_mutex_lock(&pending_lock);
	for (int i = 0; i < PENDING_MAX; i++) {
		if (pending[i].ssl == ssl) {
			memcpy(pending[i].random, r, sizeof(r));
			free_slot = -2;
			break;
		}
		if (pending[i].ssl == NULL && free_slot == -1)
			free_slot = i;
	}
	if (free_slot >= 0) {
		pending[free_slot].ssl = ssl;
		memcpy(pending[free_slot].random, r, sizeof(r));
		atomic_fetch_add(&npending, 1);
	}
	pthread_mutex_unlock(&pending_lock);
}

/* pending_take - the pending SSL whose random is r (removed), or the
 * entry of ssl (removed) when r is NULL */
static SSL *pending_take(const unsigned char *r, SSL *ssl)
{
	SSL *found = NULL;

	if (atomic_load(&npending) == 0)
		return NULL;
	pthread_mutex_lock(&pending_lock);
	for (int i = 0; i < PENDING_MAX && found == NULL; i++) {
		if (pending[i].ssl == NULL ||
		    (r ? memcmp(pending[i].random, r, 32) != 0 : pending[i].ssl != ssl))
			continue;
		found = pending[i].ssl;
		pending[i].ssl = NULL;
		atomic_fetch_sub(&npending, 1);
	}
	pthread_mutex_unlock(&pending_lock);
	return found;
}

/* state_free - ex_data destructor of struct shim_ssl */
static void state_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
		       long argl, void *argp)
{
	(void)ad, (void)idx, (void)argl, (void)argp;
	if (ptr != NULL)
		pending_take(NULL, parent);
	free(ptr);
}

/* init_index - the ex_data index of struct shim_ssl, once */
static void init_index(void)
{
	st_idx = SSL_get_ex_new_index(0, "esashim", NULL, NULL, state_free);
}

/* state_get - the shim's state of ssl, made when create is set */
static struct shim_ssl *state_get(SSL *ssl, bool create)
{
	struct shim_ssl *st;

	pthread_once(&idx_once, init_index);
	if (st_idx < 0 || ssl == NULL)
		return NULL;
	st = SSL_get_ex_data(ssl, st_idx);
	if (st != NULL || !create)
		return st;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return NULL;
	st->fd = -1;
	if (SSL_set_ex_data(ssl, st_idx, st) != 1) {
		free(st);
		return NULL;
	}
	return st;
}

/* real_set_verify - libssl's SSL_set_verify, not the hook */
static void real_set_verify(SSL *ssl, int mode, SSL_verify_cb cb)
{
	void (*real)(SSL *, int, SSL_verify_cb) =
		SHIM_REAL(SSL_set_verify, SHIM_OPENSSL_VER);

	if (real != NULL)
		real(ssl, mode, cb);
}

/* real_set_session - libssl's SSL_set_session, not the hook */
static void real_set_session(SSL *ssl, SSL_SESSION *session)
{
	int (*real)(SSL *, SSL_SESSION *) =
		SHIM_REAL(SSL_set_session, SHIM_OPENSSL_VER);

	if (real != NULL)
		real(ssl, session);
}

/* use_store - stage I for a program that verifies nothing: the shim's
 * store; without one the library refuses the connection (fail closed) */
static void use_store(SSL *ssl, struct shim_ssl *st)
{
	char why[ESA_ERR_MAX], msg[ESA_ERR_MAX];
	X509_STORE *store;

	if (st->store_set)
		return;
	store = shim_store(why, sizeof(why));
	if (store != NULL && SSL_set1_verify_cert_store(ssl, store) == 1) {
		st->store_set = true;
		return;
	}
	snprintf(msg, sizeof(msg), "no trust store for stage I: %.400s",
		 store ? "cannot attach it" : why);
	esa_ssl_refuse(ssl, msg);
}

/* arm - esa: the ESA verdict decides this connection */
static void arm(SSL *ssl, struct shim_ssl *st)
{
	int mode = SSL_get_verify_mode(ssl);
	unsigned long profile = esa_chain_profile_flags(shim_conf()->cfg);

	if (!(mode & SSL_VERIFY_PEER))
		use_store(ssl, st);
	/* ESA_STRICT, ESA_PARTIAL_CHAIN: a profile that did not apply must not
	 * let the handshake verify with fewer checks than asked for */
	if (profile != 0 &&
	    X509_VERIFY_PARAM_set_flags(SSL_get0_param(ssl), profile) != 1)
		esa_ssl_refuse(ssl, "cannot apply the chain profile");
	real_set_verify(ssl, mode | SSL_VERIFY_PEER, shim_verify_cb);
	st->armed = true;
}

/* settle - decide, once the port is known if ESA_PORTS needs it, whether
 * this connection is ESA's; arm it under esa */
static void settle(SSL *ssl, struct shim_ssl *st)
{
	const struct shim_conf *sc = shim_conf();

	if (st->settled || !esa_ssl_attached(ssl))
		return;
	if (sc->nports > 0) {
		if (st->port == 0)
			return;
		st->skipped = !shim_port_selected(sc, st->port);
	}
	st->settled = true;
	if (!st->skipped && !sc->observe)
		arm(ssl, st);
}

/* note_socket - fd is the connection's socket: peer and port.  It must
 * be a stream socket (not UDP).  The SSL's own descriptor of a TLS (not
 * DTLS) connection carries a byte stream, so with an INET peer it is TCP
 * and needs no SO_TYPE query; a socket only seen written to (a BIO of the
 * program's own) is asked. */
static bool note_socket(SSL *ssl, struct shim_ssl *st, int fd)
{
	unsigned char addr[16];
	int family, port, type = 0;
	socklen_t tlen = sizeof(type);
	bool stream = fd == SSL_get_fd(ssl) && !SSL_is_dtls(ssl);

	if (!shim_peer_of(fd, &family, addr, &port) ||
	    (!stream && (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0 ||
			 type != SOCK_STREAM)))
		return false;
	st->fd = fd;
	st->port = port;
	esa_ssl_note_peer(ssl, family, addr);
	return true;
}

/* shim_learn_socket - a write on fd while ssl's handshake runs here */
void shim_learn_socket(SSL *ssl, int fd)
{
	struct shim_ssl *st = state_get(ssl, false);
	int saved = errno;

	if (st == NULL || st->fd >= 0)
		return;
	shim_busy++;
	if (note_socket(ssl, st, SSL_get_fd(ssl) >= 0 ? SSL_get_fd(ssl) : fd))
		settle(ssl, st);
	shim_busy--;
	errno = saved;
}

/* shim_match_hello - a write on fd outside any handshake call: when it is
 * the ClientHello of a pending handshake (TLS record 22, handshake type 1,
 * the 32-byte random at offset 11), fd is that connection's socket */
void shim_match_hello(int fd, const unsigned char *buf, size_t len)
{
	SSL *ssl;

	if (atomic_load(&npending) == 0 || buf == NULL || len < 43 ||
	    buf[0] != 0x16 || buf[5] != 0x01)
		return;
	if ((ssl = pending_take(buf + 11, NULL)) != NULL)
		shim_learn_socket(ssl, fd);
}

/* on_decide - the library decided: mark the socket, log the line from
 * the decision record */
static void on_decide(SSL *ssl, const struct esa_result *res)
{
	struct shim_ssl *st = state_get(ssl, false);
	int fd = st && st->fd >= 0 ? st->fd : SSL_get_fd(ssl);

	if (!shim_conf()->observe && res != NULL && res->accept)
		shim_mark_tls(fd);
	shim_log_decision(ssl, res, st ? st->port : 0);
}

/* skip_conn - asked by the callback: is this connection left alone? */
static bool skip_conn(SSL *ssl)
{
	struct shim_ssl *st = state_get(ssl, false);

	if (st == NULL)
		return false;
	if (!st->settled) {	/* ESA_PORTS and the port was not known yet */
		if (st->fd < 0)
			note_socket(ssl, st, SSL_get_fd(ssl));
		settle(ssl, st);
	}
	return !st->settled || st->skipped;
}

/* learned - the library asks what the program's DNS work says about the
 * connection's peer (recipient_source "mx-lookup", issue 7) */
static size_t learned(SSL *ssl, int family, const unsigned char *addr,
		      struct esa_learned *out, size_t max)
{
	(void)ssl;
	return shim_learned(family, addr, out, max);
}

/* setup - the library's state for a new client connection: the shim's
 * hooks, the configuration error (every verification refuses) and
 * ESA_RECIPIENT_DOMAIN; 0 or -1 */
static int setup(SSL *ssl, const struct shim_conf *sc)
{
	const struct esa_hooks hooks = {
		.observe = sc->observe,
		/* one run gives the whole A/B picture; the shorter levels
		 * need only the algorithm(s) the setting runs */
		.all_modes = sc->level == SHIM_LEVEL_AB,
		.skip = skip_conn,
		.on_decide = on_decide,
		.learned = learned,
	};
	SSL_verify_cb prev = SSL_get_verify_callback(ssl);

	if (esa_ssl_attach(ssl, sc->cfg, prev == shim_verify_cb ? NULL : prev,
			   &hooks) != 0)
		return -1;
	if (sc->error[0] != '\0')
		esa_ssl_refuse(ssl, sc->error);
	if (sc->recipient[0] != '\0')
		esa_ssl_set_recipient_from(ssl, sc->recipient, ESA_RCPT_ENV);
	real_set_verify(ssl, SSL_get_verify_mode(ssl), shim_verify_cb);
	return 0;
}

/* attach - put ESA verification on a client SSL; idempotent */
static void attach(SSL *ssl, bool is_client)
{
	const struct shim_conf *sc;
	struct shim_ssl *st;
	int saved = errno;

	if (ssl == NULL || shim_busy)
		return;
	shim_busy++;
	ERR_set_mark();
	if (!is_client && SSL_is_server(ssl))
		goto out;
	sc = shim_conf();
	if (sc->cfg == NULL || (st = state_get(ssl, true)) == NULL)
		goto out;
	if (!esa_ssl_attached(ssl) && setup(ssl, sc) != 0)
		goto out;
	if (!st->settled && st->fd < 0)
		note_socket(ssl, st, SSL_get_fd(ssl));
	settle(ssl, st);
	if (!sc->observe && !st->skipped && SSL_in_before(ssl) &&
	    SSL_get_session(ssl) != NULL)
		real_set_session(ssl, NULL);	/* see SSL_set_session */
out:
	ERR_pop_to_mark();
	shim_busy--;
	errno = saved;
}

/* shim_verify_cb - the callback installed: the library's, marked busy */
static int shim_verify_cb(int ok, X509_STORE_CTX *x)
{
	int rc, saved = errno;

	shim_busy++;
	rc = esa_verify_cb(ok, x);
	shim_busy--;
	errno = saved;
	return rc;
}

/* handshake - attach ESA to ssl (is_client: known to be a client), then
 * run one handshake step with the thread's SSL noted, so the socket hooks
 * can tell which socket it uses; mark it TLS once done.  -1 without the
 * real function. */
static int handshake(int (*real)(SSL *), SSL *ssl, bool is_client)
{
	SSL *outer;
	struct shim_ssl *st;
	int rc;

	if (real == NULL)
		return -1;
	attach(ssl, is_client);
	if (shim_busy)
		return real(ssl);
	outer = shim_handshake;
	shim_handshake = ssl;
	rc = real(ssl);
	shim_handshake = outer;
	if ((st = state_get(ssl, false)) == NULL)
		return rc;
	if (rc == 1)
		shim_mark_tls(st->fd >= 0 ? st->fd : SSL_get_fd(ssl));
	else if (st->fd < 0 && SSL_get_fd(ssl) < 0)
		pending_add(ssl);	/* a memory BIO: see shim_match_hello */
	return rc;
}

/* conf_early - read the configuration now, errno kept (SSL_CTX_new) */
static void conf_early(void)
{
	int saved = errno;

	if (!shim_busy)
		shim_conf();
	errno = saved;
}

/* SSL_CTX_new, SSL_CTX_new_ex - a program that uses TLS: read the
 * configuration now, while its files are still reachable (Postfix makes
 * its contexts before it drops privileges and enters its chroot) */
SHIM_EXPORT SSL_CTX *shim_SSL_CTX_new(const SSL_METHOD *method)
{
	SSL_CTX *(*real)(const SSL_METHOD *) =
		SHIM_REAL(SSL_CTX_new, SHIM_OPENSSL_VER);

	if (real == NULL)
		return NULL;
	conf_early();
	return real(method);
}
SHIM_SYMVER(shim_SSL_CTX_new, "SSL_CTX_new", SHIM_OPENSSL_VER);

/* SSL_CTX_new_ex - the same, with a library context */
SHIM_EXPORT SSL_CTX *shim_SSL_CTX_new_ex(OSSL_LIB_CTX *libctx, const char *propq,
					 const SSL_METHOD *method)
{
	SSL_CTX *(*real)(OSSL_LIB_CTX *, const char *, const SSL_METHOD *) =
		SHIM_REAL(SSL_CTX_new_ex, SHIM_OPENSSL_VER);

	if (real == NULL)
		return NULL;
	conf_early();
	return real(libctx, propq, method);
}
SHIM_SYMVER(shim_SSL_CTX_new_ex, "SSL_CTX_new_ex", SHIM_OPENSSL_VER);

/* SSL_set_connect_state - every client seen calls it, or libssl does */
SHIM_EXPORT void shim_SSL_set_connect_state(SSL *ssl)
{
	void (*real)(SSL *) = SHIM_REAL(SSL_set_connect_state, SHIM_OPENSSL_VER);

	if (real == NULL)
		return;
	real(ssl);
	attach(ssl, true);
}
SHIM_SYMVER(shim_SSL_set_connect_state, "SSL_set_connect_state",
	    SHIM_OPENSSL_VER);

/* SSL_connect - a client handshake (curl, Perl): a client by definition */
SHIM_EXPORT int shim_SSL_connect(SSL *ssl)
{
	return handshake(SHIM_REAL(SSL_connect, SHIM_OPENSSL_VER), ssl, true);
}
SHIM_SYMVER(shim_SSL_connect, "SSL_connect", SHIM_OPENSSL_VER);

/* SSL_do_handshake - Python's ssl module drives the handshake with it */
SHIM_EXPORT int shim_SSL_do_handshake(SSL *ssl)
{
	return handshake(SHIM_REAL(SSL_do_handshake, SHIM_OPENSSL_VER), ssl,
			 false);
}
SHIM_SYMVER(shim_SSL_do_handshake, "SSL_do_handshake", SHIM_OPENSSL_VER);

/* SSL_set_session - esa: no resumption of a session ESA did not verify
 * (OpenSSL does not verify a resumed session again, and a session cached
 * before, or under another setting, would bypass ESA): the program's
 * offer is dropped and a full, verified handshake follows; attach() does
 * the same for a session kept on a reused SSL (s_client -reconnect).
 * Connections ESA_PORTS leaves alone resume as usual. */
SHIM_EXPORT int shim_SSL_set_session(SSL *ssl, SSL_SESSION *session)
{
	int (*real)(SSL *, SSL_SESSION *) =
		SHIM_REAL(SSL_set_session, SHIM_OPENSSL_VER);
	const struct shim_conf *sc;
	struct shim_ssl *st;

	if (real == NULL)
		return 0;
	if (shim_busy || ssl == NULL || session == NULL)
		return real(ssl, session);
	sc = shim_conf();
	st = state_get(ssl, false);
	if (sc->cfg == NULL || sc->observe || (st != NULL && st->skipped))
		return real(ssl, session);
	return 1;
}
SHIM_SYMVER(shim_SSL_set_session, "SSL_set_session", SHIM_OPENSSL_VER);

/* SSL_set_verify - a callback set after attaching becomes the one chained;
 * an armed connection keeps SSL_VERIFY_PEER */
SHIM_EXPORT void shim_SSL_set_verify(SSL *ssl, int mode, SSL_verify_cb cb)
{
	struct shim_ssl *st;

	if (shim_busy || ssl == NULL || cb == shim_verify_cb ||
	    (st = state_get(ssl, false)) == NULL || !esa_ssl_attached(ssl))
		return real_set_verify(ssl, mode, cb);
	shim_busy++;
	esa_ssl_set_prev(ssl, cb);
	if (st->armed && !(mode & SSL_VERIFY_PEER))
		use_store(ssl, st);
	real_set_verify(ssl, st->armed ? mode | SSL_VERIFY_PEER : mode,
			shim_verify_cb);
	shim_busy--;
}
SHIM_SYMVER(shim_SSL_set_verify, "SSL_set_verify", SHIM_OPENSSL_VER);

/* SSL_clear - the SSL is made ready for another connection (a second host,
 * s_client -reconnect): what the shim and the library learned from the
 * last one (socket, peer, port, the recipient domain chosen from its name)
 * is forgotten, so the next handshake is judged on its own facts; under
 * esa the session SSL_clear keeps for resumption is dropped (see
 * SSL_set_session) */
SHIM_EXPORT int shim_SSL_clear(SSL *ssl)
{
	int (*real)(SSL *) = SHIM_REAL(SSL_clear, SHIM_OPENSSL_VER);
	struct shim_ssl *st;
	int rc, saved;

	if (real == NULL)
		return 0;
	rc = real(ssl);
	if (rc != 1 || shim_busy || (st = state_get(ssl, false)) == NULL ||
	    !esa_ssl_attached(ssl))
		return rc;
	saved = errno;
	shim_busy++;
	ERR_set_mark();
	pending_take(NULL, ssl);
	esa_ssl_reset(ssl);
	if (!shim_conf()->observe && !st->skipped && SSL_get_session(ssl) != NULL)
		real_set_session(ssl, NULL);
	st->fd = -1;
	st->port = 0;
	st->settled = st->skipped = false;
	ERR_pop_to_mark();
	shim_busy--;
	errno = saved;
	return rc;
}
SHIM_SYMVER(shim_SSL_clear, "SSL_clear", SHIM_OPENSSL_VER);

/* The program's replacement of X509_verify_cert, per SSL_CTX. */
struct cert_cb {
	int (*cb)(X509_STORE_CTX *, void *);
	void *arg;
};

static pthread_once_t certcb_once = PTHREAD_ONCE_INIT;
static int certcb_idx = -1;

/* certcb_free - ex_data destructor of struct cert_cb */
static void certcb_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
			long argl, void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	free(ptr);
}

/* certcb_index - the SSL_CTX ex_data index of struct cert_cb, once */
static void certcb_index(void)
{
	certcb_idx = SSL_CTX_get_ex_new_index(0, "esashim certcb", NULL, NULL,
					      certcb_free);
}

/* shim_cert_verify - installed in place of the program's cert_verify
 * callback: a connection ESA decides runs X509_verify_cert, whose verify
 * callback is ESA's (the program's chain decision is replaced, as its
 * verify callback's is); others get the program's callback */
static int shim_cert_verify(X509_STORE_CTX *x, void *arg)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x,
		SSL_get_ex_data_X509_STORE_CTX_idx());
	struct cert_cb *cc = ssl && certcb_idx >= 0 ?
		SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), certcb_idx) : NULL;
	bool esa;

	(void)arg;
	shim_busy++;
	esa = ssl != NULL && esa_ssl_attached(ssl) && !shim_conf()->observe &&
	      !skip_conn(ssl);
	shim_busy--;
	if (esa || cc == NULL || cc->cb == NULL)
		return X509_verify_cert(x);
	return cc->cb(x, cc->arg);
}

/* SSL_CTX_set_cert_verify_callback - a program that replaces
 * X509_verify_cert would never reach ESA's verify callback (or would
 * ignore its answer): the shim's callback stands in front of it */
SHIM_EXPORT void shim_SSL_CTX_set_cert_verify_callback(SSL_CTX *ctx,
	int (*cb)(X509_STORE_CTX *, void *), void *arg)
{
	void (*real)(SSL_CTX *, int (*)(X509_STORE_CTX *, void *), void *) =
		SHIM_REAL(SSL_CTX_set_cert_verify_callback, SHIM_OPENSSL_VER);
	struct cert_cb *cc;

	if (real == NULL)
		return;
	if (shim_busy || ctx == NULL || cb == NULL || cb == shim_cert_verify)
		return real(ctx, cb, arg);
	pthread_once(&certcb_once, certcb_index);
	cc = certcb_idx >= 0 ? SSL_CTX_get_ex_data(ctx, certcb_idx) : NULL;
	if (cc == NULL && certcb_idx >= 0 && (cc = calloc(1, sizeof(*cc))) != NULL &&
	    SSL_CTX_set_ex_data(ctx, certcb_idx, cc) != 1) {
		free(cc);
		cc = NULL;
	}
	if (cc == NULL)		/* no memory: ESA's check, the program's lost */
		return real(ctx, shim_cert_verify, NULL);
	cc->cb = cb;
	cc->arg = arg;
	real(ctx, shim_cert_verify, NULL);
}
SHIM_SYMVER(shim_SSL_CTX_set_cert_verify_callback,
	    "SSL_CTX_set_cert_verify_callback", SHIM_OPENSSL_VER);
