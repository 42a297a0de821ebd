/*
 * smtp_server.c - an in-process SMTP server with STARTTLS on 127.0.0.1,
 * for `make bench` section 2b: a whole delivery per connection
 *
 * One thread accepts connections one after another (bench/hsloop makes
 * them one at a time) and speaks just enough SMTP for one delivery:
 * banner, EHLO (offering STARTTLS before TLS), STARTTLS, SSL_accept, EHLO,
 * MAIL, RCPT, DATA (read up to the lone dot and thrown away), RSET, NOOP,
 * QUIT; anything else gets 500.  Every read and write is bounded by a 5 s
 * timeout, so a broken client costs a connection, not the run; replies
 * go out at once (TCP_NODELAY).  The
 * server counts the messages it accepted (250 after DATA) and the
 * connections whose handshake failed.  smtp_server_stop() wakes the
 * thread through a pipe, joins it and frees everything.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "bench.h"

#define IO_TIMEOUT_S 5
#define LINE_MAX_ 1024

struct smtp_server {
	SSL_CTX *ctx;
	int lfd, stop_pipe[2], port;
	pthread_t thread;
	int messages, tls_failed;	/* written by the thread, read after join */
};

/* One connection: the socket, and the SSL once STARTTLS is done; a
 * buffer of what was read and not yet used. */
struct conn {
	int fd;
	SSL *ssl;
	char buf[16384];
	size_t have;
};

/* conn_write - all of s, over TLS once it is up; 0 or -1 */
static int conn_write(struct conn *c, const char *s)
{
	size_t len = strlen(s);

	while (len > 0) {
		int n = c->ssl ? SSL_write(c->ssl, s, (int)len)
			       : (int)send(c->fd, s, len, MSG_NOSIGNAL);

		if (n <= 0)
			return -1;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* conn_fill - read more into the buffer; 0 or -1 (closed, error, full) */
static int conn_fill(struct conn *c)
{
	int n;

	if (c->have >= sizeof(c->buf))
		return -1;
	n = c->ssl ? SSL_read(c->ssl, c->buf + c->have,
			      (int)(sizeof(c->buf) - c->have))
		   : (int)recv(c->fd, c->buf + c->have,
			       sizeof(c->buf) - c->have, 0);
	if (n <= 0)
		return -1;
	c->have += (size_t)n;
	return 0;
}

/* conn_line - the next line (CRLF or LF stripped) into out; 0 or -1 */
static int conn_line(struct conn *c, char *out, size_t outsz)
{
	char *nl;
	size_t len;

	while ((nl = memchr(c->buf, '\n', c->have)) == NULL)
		if (conn_fill(c) < 0)
			return -1;
	len = (size_t)(nl - c->buf);
	if (len > 0 && c->buf[len - 1] == '\r')
		len--;
	if (len >= outsz)
		len = outsz - 1;
	memcpy(out, c->buf, len);
	out[len] = '\0';
	c->have -= (size_t)(nl + 1 - c->buf);
	memmove(c->buf, nl + 1, c->have);
	return 0;
}

/* conn_data - the message after DATA, up to the line holding only ".";
 * 0 or -1 */
static int conn_data(struct conn *c)
{
	char line[LINE_MAX_];

	for (;;) {
		if (conn_line(c, line, sizeof(line)) < 0)
			return -1;
		if (strcmp(line, ".") == 0)
			return 0;
	}
}

/* has_verb - does the command line start with verb (any case)? */
static bool has_verb(const char *line, const char *verb)
{
	return strncasecmp(line, verb, strlen(verb)) == 0;
}

/* serve - one SMTP session */
static void serve(struct smtp_server *s, int fd)
{
	struct conn c = { .fd = fd };
	char line[LINE_MAX_];
	bool quit = false;
	int rc = 0;

	if (conn_write(&c, "220 bench.test ESMTP\r\n") < 0)
		goto out;
	while (!quit && rc == 0 && conn_line(&c, line, sizeof(line)) == 0) {
		if (has_verb(line, "EHLO"))
			rc = conn_write(&c, c.ssl ? "250-bench.test\r\n250 8BITMIME\r\n"
				: "250-bench.test\r\n250-8BITMIME\r\n250 STARTTLS\r\n");
		else if (has_verb(line, "STARTTLS") && c.ssl == NULL) {
			if ((rc = conn_write(&c, "220 go ahead\r\n")) < 0)
				break;
			c.have = 0;
			if ((c.ssl = SSL_new(s->ctx)) == NULL ||
			    SSL_set_fd(c.ssl, fd) != 1 || SSL_accept(c.ssl) != 1) {
				s->tls_failed++;
				goto out;
			}
		} else if (has_verb(line, "MAIL FROM:") ||
			   has_verb(line, "RCPT TO:") || has_verb(line, "RSET") ||
			   has_verb(line, "NOOP"))
			rc = conn_write(&c, "250 ok\r\n");
		else if (has_verb(line, "DATA")) {
			if ((rc = conn_write(&c, "354 go on\r\n")) < 0 ||
			    (rc = conn_data(&c)) < 0)
				break;
			s->messages++;
			rc = conn_write(&c, "250 queued\r\n");
		} else if (has_verb(line, "QUIT")) {
			conn_write(&c, "221 bye\r\n");
			quit = true;
		} else
			rc = conn_write(&c, "500 what\r\n");
	}
out:
	if (c.ssl != NULL) {
		if (quit)
			SSL_shutdown(c.ssl);
		SSL_free(c.ssl);
	}
	ERR_clear_error();
	close(fd);
}

/* run - the accept loop, until the stop pipe is written to */
static void *run(void *arg)
{
	struct smtp_server *s = arg;
	struct pollfd p[2] = { { .fd = s->lfd, .events = POLLIN },
			       { .fd = s->stop_pipe[0], .events = POLLIN } };
	struct timeval tv = { IO_TIMEOUT_S, 0 };
	int fd, one = 1;

	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN) || (fd = accept(s->lfd, NULL, NULL)) < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		/* a reply is one write; without this, the client's delayed
		 * ACK holds a write that follows an unacknowledged one (the
		 * session tickets after the handshake) for 40 ms */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		serve(s, fd);
	}
	return NULL;
}

/* smtp_server_start - listen on 127.0.0.1, an ephemeral port, presenting
 * leaf; NULL on error */
struct smtp_server *smtp_server_start(const struct test_leaf *leaf)
{
	struct smtp_server *s = calloc(1, sizeof(*s));
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);

	signal(SIGPIPE, SIG_IGN);
	if (s == NULL)
		return NULL;
	s->lfd = -1;
	s->stop_pipe[0] = s->stop_pipe[1] = -1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s->ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
	    SSL_CTX_use_certificate(s->ctx, leaf->cert) != 1 ||
	    SSL_CTX_use_PrivateKey(s->ctx, leaf->key) != 1 ||
	    pipe(s->stop_pipe) != 0 ||
	    (s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(s->lfd, 16) != 0 ||
	    getsockname(s->lfd, (struct sockaddr *)&sa, &len) != 0 ||
	    pthread_create(&s->thread, NULL, run, s) != 0) {
		if (s->lfd >= 0)
			close(s->lfd);
		if (s->stop_pipe[0] >= 0) {
			close(s->stop_pipe[0]);
			close(s->stop_pipe[1]);
		}
		SSL_CTX_free(s->ctx);
		free(s);
		return NULL;
	}
	SSL_CTX_set_mode(s->ctx, SSL_MODE_NO_AUTO_CHAIN);
	s->port = ntohs(sa.sin_port);
	return s;
}

/* smtp_server_port - the port it listens on */
int smtp_server_port(const struct smtp_server *s)
{
	return s->port;
}

/* smtp_server_stop - stop, join, free; the messages accepted and the
 * failed handshakes into *messages, *tls_failed (either may be NULL) */
void smtp_server_stop(struct smtp_server *s, int *messages, int *tls_failed)
{
	if (s == NULL)
		return;
	if (write(s->stop_pipe[1], "x", 1) != 1)
		bench_note("smtp server: cannot wake the thread");
	pthread_join(s->thread, NULL);
	if (messages != NULL)
		*messages = s->messages;
	if (tls_failed != NULL)
		*tls_failed = s->tls_failed;
	close(s->lfd);
	close(s->stop_pipe[0]);
	close(s->stop_pipe[1]);
	SSL_CTX_free(s->ctx);
	free(s);
}
