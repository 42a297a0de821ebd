/*
 * bypass_server.c - a minimal SMTP server with TLS for tests/bypass.sh,
 * for what aiosmtpd cannot do: implicit TLS (BIO_new_ssl_connect) and a
 * TLS 1.2 renegotiation to another certificate
 *
 *   bypass_server --cert F --key F [--implicit] [--renego CERT2 KEY2]
 *                 --log FILE ADDR PORT
 *
 * Serves connections one after another, forever (the test stops it by
 * PID).  STARTTLS by default; --implicit starts TLS at once, then greets.
 * With --renego, the first command after the handshake (EHLO) is answered
 * only after the server switched to CERT2 and renegotiated.  Every command
 * line received over TLS is appended to FILE as "got: LINE" (the message
 * body as "body: LINE"), so a test can tell what reached the server; a
 * message completed with "." adds "delivered".  Prints "ready" on stdout
 * once listening.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static struct {
	const char *cert, *key, *cert2, *key2, *log, *addr;
	bool implicit;
	int port;
} opt;

/* The stream of one connection: plain until ssl is set. */
struct conn {
	int fd;
	SSL *ssl;
	char buf[8192];
	size_t used;
};

/* put - a reply */
static bool put(struct conn *c, const char *s)
{
	int n = (int)strlen(s);

	if (c->ssl)
		return SSL_write(c->ssl, s, n) == n;
	return write(c->fd, s, (size_t)n) == n;
}

/* line - the next line (CRLF stripped) into out; false at end of stream */
static bool line(struct conn *c, char *out, size_t cap)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->used);
		int n;

		if (nl != NULL) {
			size_t len = (size_t)(nl - c->buf);

			if (len > 0 && c->buf[len - 1] == '\r')
				len--;
			if (len >= cap)
				len = cap - 1;
			memcpy(out, c->buf, len);
			out[len] = '\0';
			c->used -= (size_t)(nl + 1 - c->buf);
			memmove(c->buf, nl + 1, c->used);
			return true;
		}
		if (c->used == sizeof(c->buf))
			return false;
		n = c->ssl ? SSL_read(c->ssl, c->buf + c->used, (int)(sizeof(c->buf) - c->used))
			   : (int)read(c->fd, c->buf + c->used, sizeof(c->buf) - c->used);
		if (n <= 0)
			return false;
		c->used += (size_t)n;
	}
}

/* note - one line to the log file */
static void note(const char *what, const char *s)
{
	FILE *f = fopen(opt.log, "a");

	if (f != NULL) {
		fprintf(f, "%s%s%s\n", what, *s ? ": " : "", s);
		fclose(f);
	}
}

/* renegotiate - switch to the second certificate and renegotiate */
static bool renegotiate(SSL *ssl)
{
	if (SSL_use_certificate_chain_file(ssl, opt.cert2) != 1 ||
	    SSL_use_PrivateKey_file(ssl, opt.key2, SSL_FILETYPE_PEM) != 1 ||
	    SSL_renegotiate(ssl) != 1 || SSL_do_handshake(ssl) != 1) {
		note("renegotiation failed", "");
		return false;
	}
	note("renegotiation requested", "");
	return true;
}

/* tls - TLS on the connection; false if the handshake fails */
static bool tls(struct conn *c, SSL_CTX *ctx)
{
	c->ssl = SSL_new(ctx);
	SSL_set_fd(c->ssl, c->fd);
	c->used = 0;
	if (SSL_accept(c->ssl) != 1) {
		note("handshake failed", "");
		return false;
	}
	note("handshake", SSL_get_version(c->ssl));
	return true;
}

/* serve - one SMTP session */
static void serve(struct conn *c, SSL_CTX *ctx)
{
	char l[1024];
	bool data = false, renego = opt.cert2 != NULL;

	if (opt.implicit && !tls(c, ctx))
		return;
	put(c, "220 bypass_server ESMTP\r\n");
	while (line(c, l, sizeof(l))) {
		if (c->ssl)
			note(data ? "body" : "got", l);
		if (data) {
			if (!strcmp(l, ".")) {
				data = false;
				note("delivered", "");
				put(c, "250 ok\r\n");
			}
			continue;
		}
		if (!strncasecmp(l, "EHLO", 4)) {
			if (c->ssl && renego) {
				renego = false;
				if (!renegotiate(c->ssl))
					return;
			}
			put(c, c->ssl ? "250 bypass_server\r\n" :
			    "250-bypass_server\r\n250 STARTTLS\r\n");
		} else if (!strncasecmp(l, "STARTTLS", 8) && !c->ssl) {
			put(c, "220 go ahead\r\n");
			if (!tls(c, ctx))
				return;
		} else if (!strncasecmp(l, "DATA", 4)) {
			data = true;
			put(c, "354 go on\r\n");
		} else if (!strncasecmp(l, "QUIT", 4)) {
			put(c, "221 bye\r\n");
			return;
		} else {
			put(c, "250 ok\r\n");
		}
	}
}

/* main - listen, serve one connection after another */
int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	SSL_CTX *ctx;
	int lfd, one = 1, i;

	for (i = 1; i + 1 < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--implicit")) opt.implicit = true;
		else if (!strcmp(argv[i], "--cert")) opt.cert = argv[++i];
		else if (!strcmp(argv[i], "--key")) opt.key = argv[++i];
		else if (!strcmp(argv[i], "--log")) opt.log = argv[++i];
		else if (!strcmp(argv[i], "--renego") && i + 2 < argc) {
			opt.cert2 = argv[++i];
			opt.key2 = argv[++i];
		} else break;
	}
	if (argc - i != 2 || !opt.cert || !opt.key || !opt.log) {
		fprintf(stderr, "usage: bypass_server --cert F --key F [--implicit] "
			"[--renego CERT2 KEY2] --log FILE ADDR PORT\n");
		return 2;
	}
	opt.addr = argv[i];
	opt.port = atoi(argv[i + 1]);
	signal(SIGPIPE, SIG_IGN);
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL || SSL_CTX_use_certificate_chain_file(ctx, opt.cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, opt.key, SSL_FILETYPE_PEM) != 1 ||
	    (opt.cert2 && SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) != 1)) {
		fprintf(stderr, "bypass_server: cannot load the certificate\n");
		return 1;
	}
	/* a renegotiation the client starts as an abbreviated handshake
	 * (OpenSSL does, on a HelloRequest) must become a full one, with the
	 * second certificate */
	SSL_CTX_set_options(ctx, SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, opt.addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(opt.port);
		len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, opt.addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(opt.port);
		len = sizeof(*s6);
	} else {
		fprintf(stderr, "bypass_server: bad address %s\n", opt.addr);
		return 2;
	}
	lfd = socket(ss.ss_family, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&ss, len) != 0 || listen(lfd, 8) != 0) {
		perror("bypass_server: listen");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		struct conn c = { .fd = accept(lfd, NULL, NULL) };
		struct timeval tv = { .tv_sec = 5 };

		if (c.fd < 0)
			continue;
		setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		serve(&c, ctx);
		if (c.ssl) {
			SSL_shutdown(c.ssl);
			SSL_free(c.ssl);
		}
		close(c.fd);
		ERR_clear_error();
	}
}
