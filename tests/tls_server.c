/*
 * tls_server.c - an in-process TLS server on loopback, and a client helper
 * (see tls_server.h)
 *
 * The server thread waits in poll() on the listening socket and on the read
 * end of a pipe; test_server_stop() writes to the pipe, so stopping never
 * depends on a client arriving.  Connections are served one at a time:
 * tests make them one at a time.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "tls_server.h"

#define IO_TIMEOUT_S 5

struct test_server {
	SSL_CTX *ctx;
	int lfd;		/* listening socket */
	int stop_pipe[2];	/* written to stop the thread */
	int port;
	int connections;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	struct test_server_stats stats;
};

/* set_timeouts - bound every blocking read and write on fd */
static void set_timeouts(int fd)
{
	struct timeval tv = { IO_TIMEOUT_S, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* server_ctx - a server SSL_CTX presenting exactly cert + chain */
static SSL_CTX *server_ctx(const struct test_server_opts *o)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	size_t i;

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
	if (SSL_CTX_use_certificate(ctx, o->cert) != 1
	    || SSL_CTX_use_PrivateKey(ctx, o->key) != 1
	    || SSL_CTX_check_private_key(ctx) != 1)
		goto fail;
	for (i = 0; i < o->nchain; i++)
		if (SSL_CTX_add1_chain_cert(ctx, o->chain[i]) != 1)
			goto fail;
	if (o->max_version
	    && SSL_CTX_set_max_proto_version(ctx, o->max_version) != 1)
		goto fail;
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* listen_loopback - a listening socket on 127.0.0.1 or ::1, port 0;
 * returns the fd and the port chosen, or -1 */
static int listen_loopback(bool ipv6, int *port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (ipv6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 16) != 0
	    || getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(ipv6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
		      : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/* serve_one - one connection: handshake, read until the client closes */
static void serve_one(struct test_server *srv, int fd)
{
	SSL *ssl = SSL_new(srv->ctx);
	char buf[256];
	bool ok = false;

	set_timeouts(fd);
	if (ssl != NULL && SSL_set_fd(ssl, fd) == 1) {
		ok = SSL_accept(ssl) == 1;
		if (ok) {
			while (SSL_read(ssl, buf, sizeof(buf)) > 0)
				;
			SSL_shutdown(ssl);
		}
	}
	ERR_clear_error();
	pthread_mutex_lock(&srv->lock);
	if (ok)
		srv->stats.ok++;
	else
		srv->stats.failed++;
	pthread_mutex_unlock(&srv->lock);
	SSL_free(ssl);
	close(fd);
}

/* server_main - the thread: accept until told to stop or done */
static void *server_main(void *arg)
{
	struct test_server *srv = arg;
	struct pollfd pfd[2];
	int served = 0, fd;

	while (srv->connections == 0 || served < srv->connections) {
		pfd[0] = (struct pollfd){ .fd = srv->lfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = srv->stop_pipe[0],
					  .events = POLLIN };
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break;
		if (!(pfd[0].revents & POLLIN))
			continue;
		fd = accept4(srv->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		pthread_mutex_lock(&srv->lock);
		srv->stats.accepted++;
		pthread_mutex_unlock(&srv->lock);
		serve_one(srv, fd);
		served++;
	}
	return NULL;
}

/* test_server_start - make the context and socket, start the thread */
struct test_server *test_server_start(const struct test_server_opts *opts)
{
	struct test_server *srv = calloc(1, sizeof(*srv));

	if (srv == NULL)
		return NULL;
	signal(SIGPIPE, SIG_IGN);
	srv->lfd = srv->stop_pipe[0] = srv->stop_pipe[1] = -1;
	srv->connections = opts->connections;
	pthread_mutex_init(&srv->lock, NULL);
	if ((srv->ctx = server_ctx(opts)) == NULL
	    || (srv->lfd = listen_loopback(opts->ipv6, &srv->port)) < 0
	    || pipe2(srv->stop_pipe, O_CLOEXEC) != 0
	    || pthread_create(&srv->thread, NULL, server_main, srv) != 0) {
		test_server_stop(srv, NULL);
		return NULL;
	}
	srv->started = true;
	return srv;
}

/* test_server_port - the ephemeral port chosen */
int test_server_port(const struct test_server *srv)
{
	return srv->port;
}

/* test_server_stop - signal the thread, join it, report, free */
void test_server_stop(struct test_server *srv, struct test_server_stats *stats)
{
	if (srv == NULL)
		return;
	if (srv->started) {
		if (write(srv->stop_pipe[1], "x", 1) < 0) {
			/* the thread still ends after its connections */
		}
		pthread_join(srv->thread, NULL);
	}
	if (stats != NULL)
		*stats = srv->stats;
	if (srv->lfd >= 0)
		close(srv->lfd);
	if (srv->stop_pipe[0] >= 0)
		close(srv->stop_pipe[0]);
	if (srv->stop_pipe[1] >= 0)
		close(srv->stop_pipe[1]);
	SSL_CTX_free(srv->ctx);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
}

/* connect_tcp - a connected TCP socket to ip:port, or -1 */
static int connect_tcp(const char *ip, int port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl;
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)port);
		sl = sizeof(*s4);
	} else if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)port);
		sl = sizeof(*s6);
	} else {
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	set_timeouts(fd);
	if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* test_tls_connect_addr - TCP connect, SSL_new, setup, SSL_connect */
int test_tls_connect_addr(SSL_CTX *ctx, const char *ip, int port,
			  SSL **out_ssl, void (*setup)(SSL *, void *),
			  void *arg)
{
	SSL *ssl = NULL;
	int fd;

	*out_ssl = NULL;
	fd = connect_tcp(ip, port);
	if (fd < 0)
		return -2;
	ssl = SSL_new(ctx);
	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		close(fd);
		return -2;
	}
	if (setup != NULL)
		setup(ssl, arg);
	*out_ssl = ssl;
	return SSL_connect(ssl);
}

/* test_tls_connect - the same to 127.0.0.1 */
int test_tls_connect(SSL_CTX *ctx, int port, SSL **out_ssl,
		     void (*setup)(SSL *, void *), void *arg)
{
	return test_tls_connect_addr(ctx, "127.0.0.1", port, out_ssl, setup,
				     arg);
}

/* test_tls_handshake - test_tls_connect with everything in one struct */
int test_tls_handshake(SSL_CTX *ctx, int port, void (*setup)(SSL *, void *),
		       void *arg, struct test_handshake *out)
{
	out->rc = test_tls_connect(ctx, port, &out->ssl, setup, arg);
	out->verify = out->ssl ? SSL_get_verify_result(out->ssl) : -1;
	return out->rc;
}

/* test_tls_close - shut down politely if we can, then free */
void test_tls_close(SSL *ssl)
{
	int fd;

	if (ssl == NULL)
		return;
	fd = SSL_get_fd(ssl);
	if (SSL_is_init_finished(ssl))
		SSL_shutdown(ssl);
	SSL_free(ssl);
	if (fd >= 0)
		close(fd);
	ERR_clear_error();
}
