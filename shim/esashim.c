/*
 * esashim.c - LD_PRELOAD interposer putting ESA verification into
 * unmodified OpenSSL 3 clients (SPEC 8.3)
 *
 * Every client SSL is reached through SSL_set_connect_state, SSL_connect or
 * SSL_do_handshake (whichever the program calls through the dynamic
 * linker; libssl calls some internally, so attaching is idempotent).  There
 * the shim hangs libesaverify's per-connection state on the SSL, keeps the
 * program's own verify callback as the one to chain to, and installs
 * esa_verify_cb: with ESA_ENFORCE=esa it decides (SSL_VERIFY_PEER, and the
 * shim's trust store for programs that verify nothing); with observe the
 * verify mode and the program's answers are left exactly as they were and
 * ESA's verdict is only logged.  SSL_set_verify calls made later are
 * rerouted the same way.
 *
 * Settings 3, 5 and 6 also mean "no delivery without TLS": connect() notes
 * client sockets to SMTP ports, and a plain-text "MAIL FROM" written on one
 * of them fails with EPERM (a TLS session never writes that in clear).
 *
 * Real functions come from dlsym(RTLD_NEXT); the shim links libssl itself,
 * so they resolve even in programs that dlopen libssl into a local scope.
 * Nothing here writes to stdout, aborts or exits.
 */
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim.h"

#define EXPORT __attribute__((visibility("default")))
#define WATCH_FDS 65536

typedef void (*set_connect_state_fn)(SSL *);
typedef int (*handshake_fn)(SSL *);
typedef void (*set_verify_fn)(SSL *, int, SSL_verify_cb);
typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);
typedef int (*close_fn)(int);
typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*send_fn)(int, const void *, size_t, int);

static struct {
	set_connect_state_fn set_connect_state;
	handshake_fn connect, do_handshake;
	set_verify_fn set_verify;
	connect_fn sock_connect;
	close_fn close;
	write_fn write;
	send_fn send;
} real;

/* port of a watched SMTP client socket, by fd; 0 when not watched */
static _Atomic unsigned short watched[WATCH_FDS];

/* real_sym - the next definition of name, also when libssl was dlopen'ed
 * into a local scope */
static void *real_sym(const char *name, const char *lib)
{
	void *p = dlsym(RTLD_NEXT, name), *h;

	if (p == NULL && lib != NULL &&
	    (h = dlopen(lib, RTLD_LAZY | RTLD_NOLOAD)) != NULL) {
		p = dlsym(h, name);
		dlclose(h);
	}
	return p;
}

/* resolve - every real function, once, before main runs */
__attribute__((constructor)) static void resolve(void)
{
	real.set_connect_state = (set_connect_state_fn)real_sym(
		"SSL_set_connect_state", "libssl.so.3");
	real.connect = (handshake_fn)real_sym("SSL_connect", "libssl.so.3");
	real.do_handshake = (handshake_fn)real_sym("SSL_do_handshake",
						   "libssl.so.3");
	real.set_verify = (set_verify_fn)real_sym("SSL_set_verify",
						  "libssl.so.3");
	real.sock_connect = (connect_fn)real_sym("connect", NULL);
	real.close = (close_fn)real_sym("close", NULL);
	real.write = (write_fn)real_sym("write", NULL);
	real.send = (send_fn)real_sym("send", NULL);
}

/* skip_port - the ESA_PORTS filter, asked by the callback */
static bool skip_port(SSL *ssl)
{
	const struct shim_conf *sc = shim_conf();
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = SSL_get_fd(ssl), port = 0;

	if (sc->nports == 0)
		return false;
	if (fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
		port = ss.ss_family == AF_INET6 ?
		       ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) :
		       ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return !shim_port_selected(sc, port);
}

/* attach - put ESA verification on a client SSL, once */
static void attach(SSL *ssl)
{
	const struct shim_conf *sc;
	struct esa_conn *c;
	SSL_verify_cb prev;
	int mode;

	if (ssl == NULL || SSL_is_server(ssl) || real.set_verify == NULL)
		return;
	if (esa_conn_get(ssl, false) != NULL)
		return;		/* already attached: retries, re-entry */
	sc = shim_conf();
	if (sc->cfg == NULL)
		return;
	prev = SSL_get_verify_callback(ssl);
	mode = SSL_get_verify_mode(ssl);
	c = esa_conn_attach(ssl, sc->cfg, prev == esa_verify_cb ? NULL : prev);
	if (c == NULL)
		return;
	c->all_modes = true;	/* one run gives the whole A/B picture */
	c->observe = sc->observe;
	c->skip = skip_port;
	c->on_decide = shim_log_decision;
	esa_strlcpy(c->forced_error, sc->error, sizeof(c->forced_error));
	if (sc->recipient[0] != '\0') {
		esa_strlcpy(c->recipient, sc->recipient, sizeof(c->recipient));
		esa_strlcpy(c->recipient_source, "env",
			    sizeof(c->recipient_source));
	}
	if (sc->observe) {
		real.set_verify(ssl, mode, esa_verify_cb);
		return;
	}
	if (mode == SSL_VERIFY_NONE && sc->store != NULL)
		SSL_set1_verify_cert_store(ssl, sc->store);
	real.set_verify(ssl, mode | SSL_VERIFY_PEER, esa_verify_cb);
}

/* SSL_set_connect_state - every client we saw calls it */
EXPORT void SSL_set_connect_state(SSL *ssl)
{
	if (real.set_connect_state == NULL)
		return;
	real.set_connect_state(ssl);
	attach(ssl);
}

/* SSL_connect - a client handshake (curl calls it directly) */
EXPORT int SSL_connect(SSL *ssl)
{
	if (real.connect == NULL)
		return -1;
	if (ssl != NULL && real.set_connect_state != NULL && SSL_is_server(ssl))
		real.set_connect_state(ssl);	/* as SSL_connect does itself */
	attach(ssl);
	return real.connect(ssl);
}

/* SSL_do_handshake - Python's ssl module drives the handshake with it */
EXPORT int SSL_do_handshake(SSL *ssl)
{
	if (real.do_handshake == NULL)
		return -1;
	attach(ssl);
	return real.do_handshake(ssl);
}

/* SSL_set_verify - a callback set after attaching becomes the one chained */
EXPORT void SSL_set_verify(SSL *ssl, int mode, SSL_verify_cb cb)
{
	struct esa_conn *c = esa_conn_get(ssl, false);

	if (real.set_verify == NULL)
		return;
	if (c == NULL || cb == esa_verify_cb || shim_conf()->cfg == NULL) {
		real.set_verify(ssl, mode, cb);
		return;
	}
	c->prev = cb;
	real.set_verify(ssl, c->observe ? mode : mode | SSL_VERIFY_PEER,
			esa_verify_cb);
}

/* sockaddr_port - the port of an AF_INET/AF_INET6 address, else 0 */
static int sockaddr_port(const struct sockaddr *sa, socklen_t len)
{
	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in))
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6))
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

/* connect - note client sockets to SMTP ports */
EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	int rc, saved, port = sockaddr_port(sa, len);

	if (real.sock_connect == NULL) {
		errno = ENOSYS;
		return -1;
	}
	rc = real.sock_connect(fd, sa, len);
	saved = errno;
	if (fd >= 0 && fd < WATCH_FDS)
		atomic_store(&watched[fd], port > 0 && (rc == 0 || saved == EINPROGRESS) &&
			     shim_port_smtp(shim_conf(), port) ? (unsigned short)port : 0);
	errno = saved;
	return rc;
}

/* close - forget a watched socket */
EXPORT int close(int fd)
{
	if (fd >= 0 && fd < WATCH_FDS)
		atomic_store(&watched[fd], 0);
	if (real.close == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return real.close(fd);
}

/* blocks_plaintext - is this a clear-text MAIL FROM the setting forbids? */
static bool blocks_plaintext(int fd, const void *buf, size_t len)
{
	const struct shim_conf *sc;
	enum esa_tls tls;
	int port;

	if (fd < 0 || fd >= WATCH_FDS || len < 10)
		return false;
	port = atomic_load(&watched[fd]);
	if (port == 0 || strncasecmp(buf, "MAIL FROM:", 10) != 0)
		return false;
	sc = shim_conf();
	if (sc->cfg == NULL)
		return false;
	tls = esa_config_tls_for(sc->cfg, sc->recipient);
	if (tls != ESA_TLS_REQUIRED && tls != ESA_TLS_REQUIRED_VERIFY &&
	    tls != ESA_TLS_REQUIRED_VERIFY_HOSTED && sc->error[0] == '\0')
		return false;
	shim_log_blocked(fd, port, sc->error[0] ? sc->error :
			 "no TLS session on this SMTP connection; the TLS setting requires one");
	return true;
}

/* write - stop a clear-text MAIL FROM where TLS is required */
EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	if (real.write == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (blocks_plaintext(fd, buf, len)) {
		errno = EPERM;
		return -1;
	}
	return real.write(fd, buf, len);
}

/* send - the same for send(2) */
EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	if (real.send == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (blocks_plaintext(fd, buf, len)) {
		errno = EPERM;
		return -1;
	}
	return real.send(fd, buf, len, flags);
}
