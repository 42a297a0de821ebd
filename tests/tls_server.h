/*
 * tls_server.h - an in-process TLS server on loopback, and a client helper
 *
 * The server listens on 127.0.0.1 (or ::1) on an ephemeral port, and in a
 * pthread of its own accepts connections one after another: SSL_accept,
 * then reads until the client closes (or 5 s pass), then closes.  It
 * presents a given leaf, optional chain and key, and sends exactly that
 * chain (no auto-chaining from a store).  It stops after the requested
 * number of connections or when test_server_stop() is called.
 *
 * The client helper opens a TCP connection to the server, makes an SSL from
 * the caller's SSL_CTX, lets the test configure it (esa_ssl_set_recipient
 * and friends) through a setup callback, and runs SSL_connect.
 *
 * Ownership: test_server_start() takes its own references to the
 * certificates and key; test_server_stop() joins the thread and frees the
 * server.  The SSL a client helper returns is the caller's: close it with
 * test_tls_close().  Both sides set 5 s socket timeouts so a broken peer
 * fails a test instead of hanging it.  test_server_start() sets SIGPIPE to
 * SIG_IGN for the process (a peer that hangs up must not kill the test).
 */
#ifndef TEST_TLS_SERVER_H
#define TEST_TLS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <openssl/ssl.h>

struct test_server_opts {
	X509 *cert;		/* the leaf presented */
	EVP_PKEY *key;		/* its private key */
	X509 *const *chain;	/* nchain certificates sent after the leaf */
	size_t nchain;
	int connections;	/* stop after this many; 0: until stopped */
	bool ipv6;		/* listen on ::1 instead of 127.0.0.1 */
	int max_version;	/* e.g. TLS1_2_VERSION; 0: OpenSSL's default */
};

struct test_server_stats {
	int accepted;		/* TCP connections accepted */
	int ok;			/* SSL_accept succeeded */
	int failed;		/* SSL_accept failed */
};

struct test_server;

/* test_server_start - listen, start the thread; NULL on error. */
struct test_server *test_server_start(const struct test_server_opts *opts);
/* The port it listens on. */
int test_server_port(const struct test_server *srv);
/* test_server_stop - stop accepting, wait for the thread, fill stats (may
 * be NULL), free.  Safe to call when the thread has finished already. */
void test_server_stop(struct test_server *srv, struct test_server_stats *stats);

/* test_tls_connect - connect to 127.0.0.1:port, SSL_new(ctx), setup(ssl,
 * arg) if setup is not NULL, SSL_connect.  Returns SSL_connect's result
 * (1 on success, <= 0 on failure; -2 if the TCP connection or the SSL could
 * not be made, with *out_ssl NULL).  *out_ssl is the SSL either way
 * (SSL_get_verify_result(*out_ssl), esa_ssl_result(*out_ssl)); close it
 * with test_tls_close(). */
int test_tls_connect(SSL_CTX *ctx, int port, SSL **out_ssl,
		     void (*setup)(SSL *, void *), void *arg);
/* The same to a given address ("127.0.0.1", "::1"). */
int test_tls_connect_addr(SSL_CTX *ctx, const char *ip, int port,
			  SSL **out_ssl, void (*setup)(SSL *, void *),
			  void *arg);

/* One handshake's outcome, for tests that want everything at once. */
struct test_handshake {
	int rc;			/* SSL_connect's result (see above) */
	long verify;		/* SSL_get_verify_result, -1 without an SSL */
	SSL *ssl;		/* the caller's: test_tls_close() */
};

/* test_tls_handshake - test_tls_connect, filling *out. */
int test_tls_handshake(SSL_CTX *ctx, int port, void (*setup)(SSL *, void *),
		       void *arg, struct test_handshake *out);

/* test_tls_close - close_notify if the handshake completed, close the
 * socket, SSL_free.  NULL is fine. */
void test_tls_close(SSL *ssl);

#endif
