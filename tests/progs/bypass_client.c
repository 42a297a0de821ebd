/*
 * bypass_client.c - SMTP clients that take the paths around the shim's
 * check (issue 12), one per CASE, for tests/bypass.sh
 *
 *   bypass_client CASE [OPTIONS] ADDR PORT [ADDR2 PORT2]
 *
 * Every TLS case connects to ADDR:PORT, says EHLO and STARTTLS in clear,
 * sets TLS up the way CASE names (nothing of it verifies the server unless
 * the case says so), then tries to deliver one message over TLS.  Under
 * ESA_ENFORCE=esa the shim must stop a certificate ESA refuses before any
 * of that message leaves: the test reads the server's mailbox.
 *
 * TLS cases:
 *   stock         SSL_connect, SSL_VERIFY_NONE (the baseline)
 *   certcb        SSL_CTX_set_cert_verify_callback: accepts everything,
 *                 X509_verify_cert never runs
 *   certcb-x509   the same callback calls X509_verify_cert, then accepts
 *   late-verify   SSL_set_verify(NONE, accept-all) and SSL_CTX_set_verify
 *                 after SSL_set_connect_state
 *   store-cb      SSL_VERIFY_PEER, --cafile, X509_STORE_set_verify_cb on
 *                 the context's store with an accept-all callback
 *   bio           BIO_new_ssl over the socket, BIO_do_handshake, BIO I/O
 *   bio-connect   BIO_new_ssl_connect to ADDR:PORT (implicit TLS, no
 *                 STARTTLS), BIO_do_handshake, BIO I/O
 *   write, write-ex, read, peek
 *                 no SSL_connect: the first SSL_write / SSL_write_ex /
 *                 SSL_read / SSL_peek runs the handshake
 *   write-nostate the same without SSL_set_connect_state
 *   clear         a delivery to ADDR:PORT (SNI --sni), SSL_clear, the same
 *                 SSL to ADDR2:PORT2 (SNI --sni2) with SSL_connect
 *   clear-write   the same, the second handshake run by SSL_write
 *   session       a delivery to ADDR:PORT, then a new SSL to ADDR2:PORT2
 *                 offered the first one's session (SSL_set_session)
 *   copy-session  the same with SSL_copy_session_id
 *   dane          SSL_dane_enable, SSL_dane_tlsa_add(--tlsa U S M HEX),
 *                 SSL_VERIFY_PEER
 *   renego        TLS 1.2 against bypass_server --renego: the server
 *                 renegotiates to another certificate after EHLO
 *   server        an SSL server in this process (--cert, --key), in a
 *                 thread on 127.0.0.1, and this client connecting to it
 *                 (implicit TLS); prints the server SSL's verify mode
 *   mx            --ns IP:PORT, --mx DOMAIN...: res_nquery MX for each
 *                 domain and A for each exchange first (an MTA's own
 *                 lookups), then the stock case to ADDR:PORT
 * Plain-text cases (no STARTTLS; the MAIL FROM goes out in clear):
 *   plain-write, plain-writev, plain-sendmsg, plain-more (send MSG_MORE),
 *   plain-split (MAIL FR | OM:... in two writes), plain-lower (mail from:),
 *   plain-pipeline (EHLO, 1200 bytes of NOOPs and MAIL FROM in one write),
 *   plain-dup (the commands through a dup()ed descriptor), plain-nonblock
 *   (non-blocking connect), plain-dup2 (a TLS session on ADDR:PORT, then a
 *   plain connection to ADDR2:PORT2 dup2()ed onto its descriptor)
 * IPv6 addresses work for every case.
 *
 * Prints one line per connection: "conn I: handshake ok|failed verify=N
 * mail=ok|failed|-" (plain cases: "conn I: plain mail=ok|refused|failed").
 * Exit 0 when every delivery succeeded, 1 otherwise, 2 on usage.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <resolv.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#define MAX_MX 8

static struct {
	const char *cse, *cafile, *sni, *sni2, *cert, *key, *ns;
	const char *tlsa[4];
	const char *mx[MAX_MX];
	int nmx;
	bool tls12;
	const char *addr, *addr2;
	int port, port2;
} opt;

static SSL_CTX *ctx;

/* The stream a delivery goes over: a BIO, an SSL or the bare socket. */
struct io {
	int fd;
	SSL *ssl;
	BIO *bio;
};

/* accept_all - a verify callback that accepts everything */
static int accept_all(int ok, X509_STORE_CTX *x)
{
	(void)ok, (void)x;
	return 1;
}

/* certcb_none - replaces X509_verify_cert: accepts without looking */
static int certcb_none(X509_STORE_CTX *x, void *arg)
{
	(void)x, (void)arg;
	return 1;
}

/* certcb_x509 - verifies, then accepts whatever the answer */
static int certcb_x509(X509_STORE_CTX *x, void *arg)
{
	(void)arg;
	X509_verify_cert(x);
	return 1;
}

/* tcp - a connected TCP socket to addr:port (v4 or v6); nonblock: the
 * connect is non-blocking (waited for with poll), the socket blocking
 * again afterwards */
static int tcp(const char *addr, int port, bool nonblock)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	struct timeval tv = { .tv_sec = 5 };
	int fd, fl;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		len = sizeof(*s6);
	} else {
		return -1;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	fl = fcntl(fd, F_GETFL);
	if (nonblock)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	if (connect(fd, (struct sockaddr *)&ss, len) != 0) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int err = 0;
		socklen_t elen = sizeof(err);

		if (!nonblock || errno != EINPROGRESS || poll(&p, 1, 5000) != 1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0) {
			close(fd);
			return -1;
		}
	}
	fcntl(fd, F_SETFL, fl);
	return fd;
}

/* io_write - a whole string to the stream */
static bool io_write(struct io *io, const char *s)
{
	int len = (int)strlen(s);

	if (io->bio != NULL)
		return BIO_write(io->bio, s, len) == len;
	if (io->ssl != NULL)
		return SSL_write(io->ssl, s, len) == len;
	return write(io->fd, s, (size_t)len) == len;
}

/* io_read - some bytes of the stream */
static int io_read(struct io *io, char *buf, int cap)
{
	if (io->bio != NULL)
		return BIO_read(io->bio, buf, cap);
	if (io->ssl != NULL)
		return SSL_read(io->ssl, buf, cap);
	return (int)read(io->fd, buf, (size_t)cap);
}

/* reply - one SMTP reply (the last line of a multi-line one): its code,
 * -1 on end of stream */
static int reply(struct io *io)
{
	char buf[8192];
	size_t used = 0;

	for (;;) {
		int n = io_read(io, buf + used, (int)(sizeof(buf) - 1 - used));
		char *line, *end;

		if (n <= 0)
			return -1;
		used += (size_t)n;
		buf[used] = '\0';
		for (line = buf; (end = strstr(line, "\r\n")) != NULL; line = end + 2)
			if (end - line >= 4 && line[3] == ' ' && end + 2 == buf + used)
				return atoi(line);
		if (used >= sizeof(buf) - 1)
			return -1;
	}
}

/* command - one command and its expected reply class */
static bool command(struct io *io, const char *cmd, int want)
{
	return io_write(io, cmd) && reply(io) / 100 == want;
}

/* deliver - one message; ehlo: say EHLO first */
static bool deliver(struct io *io, bool ehlo)
{
	return (!ehlo || command(io, "EHLO client.test\r\n", 2)) &&
	       command(io, "MAIL FROM:<a@client.test>\r\n", 2) &&
	       command(io, "RCPT TO:<c@example.com>\r\n", 2) &&
	       command(io, "DATA\r\n", 3) &&
	       command(io, "Subject: bypass\r\n\r\nhello\r\n.\r\n", 2) &&
	       command(io, "QUIT\r\n", 2);
}

/* prelude - greeting, EHLO, STARTTLS in clear on fd */
static bool prelude(int fd)
{
	struct io io = { .fd = fd };

	return reply(&io) == 220 && command(&io, "EHLO client.test\r\n", 2) &&
	       command(&io, "STARTTLS\r\n", 2);
}

/* report - the line of one TLS connection; true if mail went */
static bool report(int i, SSL *ssl, bool hs, int mail)
{
	printf("conn %d: handshake %s verify=%ld mail=%s\n", i, hs ? "ok" : "failed",
	       ssl ? SSL_get_verify_result(ssl) : -1L,
	       mail < 0 ? "-" : mail ? "ok" : "failed");
	fflush(stdout);
	return hs && mail > 0;
}

/* new_ssl - an SSL on fd with SNI sni (NULL: none), client state */
static SSL *new_ssl(int fd, const char *sni, bool state)
{
	SSL *ssl = SSL_new(ctx);

	if (ssl == NULL)
		return NULL;
	SSL_set_fd(ssl, fd);
	if (sni != NULL)
		SSL_set_tlsext_host_name(ssl, sni);
	if (state)
		SSL_set_connect_state(ssl);
	return ssl;
}

/* hex - decode s into out; its length, -1 if not hex */
static int hex(const char *s, unsigned char *out, int cap)
{
	int n = 0;

	for (; s[0] && s[1] && n < cap; s += 2) {
		unsigned int v;

		if (sscanf(s, "%2x", &v) != 1)
			return -1;
		out[n++] = (unsigned char)v;
	}
	return *s ? -1 : n;
}

/* starttls_conn - TCP, prelude; -1 on failure */
static int starttls_conn(const char *addr, int port)
{
	int fd = tcp(addr, port, false);

	if (fd >= 0 && !prelude(fd)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* implicit - the handshake run by the first data call of kind */
static bool implicit(SSL *ssl, const char *kind)
{
	struct timeval tv = { .tv_sec = 1 }, back = { .tv_sec = 5 };
	char c;
	size_t n;

	if (!strcmp(kind, "write"))
		return SSL_write(ssl, "EHLO client.test\r\n", 18) == 18;
	if (!strcmp(kind, "write-ex"))
		return SSL_write_ex(ssl, "EHLO client.test\r\n", 18, &n) == 1;
	/* the server says nothing after the handshake: the call times out */
	setsockopt(SSL_get_fd(ssl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (!strcmp(kind, "read"))
		SSL_read(ssl, &c, 1);
	else
		SSL_peek(ssl, &c, 1);
	setsockopt(SSL_get_fd(ssl), SOL_SOCKET, SO_RCVTIMEO, &back, sizeof(back));
	return SSL_is_init_finished(ssl) &&
	       SSL_write(ssl, "EHLO client.test\r\n", 18) == 18;
}

/* one_tls - the single-connection TLS cases */
static bool one_tls(void)
{
	const char *c = opt.cse;
	struct io io = { .fd = -1 };
	bool hs = false, ehlo = true, implicit_case;
	int mail = -1;
	SSL *ssl = NULL;

	implicit_case = !strcmp(c, "write") || !strcmp(c, "write-ex") ||
			!strcmp(c, "read") || !strcmp(c, "peek") ||
			!strcmp(c, "write-nostate");
	if (!strcmp(c, "certcb"))
		SSL_CTX_set_cert_verify_callback(ctx, certcb_none, NULL);
	if (!strcmp(c, "certcb-x509"))
		SSL_CTX_set_cert_verify_callback(ctx, certcb_x509, NULL);
	if (!strcmp(c, "store-cb")) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		X509_STORE_set_verify_cb(SSL_CTX_get_cert_store(ctx), accept_all);
	}
	if (!strcmp(c, "dane") && SSL_CTX_dane_enable(ctx) != 1)
		return report(0, NULL, false, -1);
	if (!strcmp(c, "bio-connect")) {
		char target[300];

		io.bio = BIO_new_ssl_connect(ctx);
		snprintf(target, sizeof(target), strchr(opt.addr, ':') ?
			 "[%s]:%d" : "%s:%d", opt.addr, opt.port);
		BIO_get_ssl(io.bio, &ssl);
		if (opt.sni)
			SSL_set_tlsext_host_name(ssl, opt.sni);
		BIO_set_conn_hostname(io.bio, target);
		hs = BIO_do_handshake(io.bio) == 1;
		mail = hs ? reply(&io) == 220 && deliver(&io, true) : -1;
		hs = hs && SSL_is_init_finished(ssl);
		report(0, ssl, hs, mail);
		BIO_free_all(io.bio);
		return hs && mail > 0;
	}
	if ((io.fd = starttls_conn(opt.addr, opt.port)) < 0)
		return report(0, NULL, false, -1);
	if (!strcmp(c, "bio")) {
		io.bio = BIO_new_ssl(ctx, 1);
		BIO_get_ssl(io.bio, &ssl);
		if (opt.sni)
			SSL_set_tlsext_host_name(ssl, opt.sni);
		BIO_push(io.bio, BIO_new_socket(io.fd, BIO_NOCLOSE));
		hs = BIO_do_handshake(io.bio) == 1;
	} else {
		ssl = new_ssl(io.fd, opt.sni, strcmp(c, "write-nostate") != 0);
		if (!strcmp(c, "late-verify")) {
			SSL_set_verify(ssl, SSL_VERIFY_NONE, accept_all);
			SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, accept_all);
		}
		if (!strcmp(c, "dane")) {
			unsigned char d[64];
			int n = hex(opt.tlsa[3], d, sizeof(d));

			SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
			/* RFC 7672 3.1.1: DANE-EE ignores the names */
			if (SSL_dane_enable(ssl, opt.sni ? opt.sni : "example.com") <= 0 ||
			    n <= 0 || SSL_dane_tlsa_add(ssl, (uint8_t)atoi(opt.tlsa[0]),
							 (uint8_t)atoi(opt.tlsa[1]),
							 (uint8_t)atoi(opt.tlsa[2]),
							 d, (size_t)n) <= 0) {
				fprintf(stderr, "bypass_client: cannot set DANE up\n");
				return report(0, ssl, false, -1);
			}
			SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
		}
		io.ssl = ssl;
		if (implicit_case) {
			hs = implicit(ssl, c);
			ehlo = false;
			if (hs)
				hs = reply(&io) / 100 == 2;
		} else {
			hs = SSL_connect(ssl) == 1;
		}
	}
	if (hs)
		mail = deliver(&io, ehlo);
	report(0, ssl, hs, mail);
	if (io.bio)
		BIO_free_all(io.bio);
	else
		SSL_free(ssl);
	close(io.fd);
	return hs && mail > 0;
}

/* two_tls - clear, clear-write, session, copy-session: a delivery to
 * ADDR:PORT, then one to ADDR2:PORT2 that reuses the SSL or its session */
static bool two_tls(void)
{
	const char *c = opt.cse;
	bool reuse = !strncmp(c, "clear", 5), hs, ok;
	int fd = starttls_conn(opt.addr, opt.port), mail = -1;
	SSL *ssl = fd >= 0 ? new_ssl(fd, opt.sni, true) : NULL, *ssl2 = NULL;
	SSL_SESSION *sess = NULL;
	struct io io = { .fd = fd, .ssl = ssl };

	hs = ssl != NULL && SSL_connect(ssl) == 1;
	if (hs)
		mail = deliver(&io, true);
	ok = report(0, ssl, hs, mail);
	if (ssl != NULL)
		sess = SSL_get1_session(ssl);	/* TLS 1.3: after the tickets came */
	if (ssl != NULL && !reuse)
		SSL_shutdown(ssl);
	if (fd >= 0)
		close(fd);
	mail = -1;
	if ((fd = starttls_conn(opt.addr2, opt.port2)) < 0)
		return report(1, NULL, false, -1) && false;
	if (reuse) {
		if (ssl == NULL || SSL_clear(ssl) != 1)
			return report(1, NULL, false, -1) && false;
		ssl2 = ssl;
		ssl = NULL;
		SSL_set_fd(ssl2, fd);
		if (opt.sni2)
			SSL_set_tlsext_host_name(ssl2, opt.sni2);
	} else {
		ssl2 = new_ssl(fd, opt.sni2, true);
		if (!strcmp(c, "copy-session"))
			SSL_copy_session_id(ssl2, ssl);
		else if (sess != NULL)
			SSL_set_session(ssl2, sess);
	}
	io.fd = fd;
	io.ssl = ssl2;
	if (!strcmp(c, "clear-write")) {
		hs = SSL_write(ssl2, "EHLO client.test\r\n", 18) == 18 &&
		     reply(&io) / 100 == 2;
		if (hs)
			mail = deliver(&io, false);
	} else {
		hs = SSL_connect(ssl2) == 1;
		if (hs)
			mail = deliver(&io, true);
	}
	printf("conn 1: reused=%d\n", ssl2 ? SSL_session_reused(ssl2) : 0);
	ok = report(1, ssl2, hs, mail) && ok;
	SSL_SESSION_free(sess);
	SSL_free(ssl);
	SSL_free(ssl2);
	close(fd);
	return ok;
}

/* renego - TLS 1.2; the server renegotiates to another certificate after
 * our EHLO, so its reply comes only after a second handshake */
static bool renego(void)
{
	int fd = starttls_conn(opt.addr, opt.port), mail = -1;
	SSL *ssl = fd >= 0 ? new_ssl(fd, opt.sni, true) : NULL;
	struct io io = { .fd = fd, .ssl = ssl };
	bool hs = ssl != NULL && SSL_connect(ssl) == 1;
	X509 *first = hs ? SSL_get1_peer_certificate(ssl) : NULL, *second;

	if (hs)
		mail = deliver(&io, true);
	second = ssl ? SSL_get1_peer_certificate(ssl) : NULL;
	printf("conn 0: renegotiated=%s\n", first && second &&
	       X509_cmp(first, second) != 0 ? "yes" : "no");
	X509_free(first);
	X509_free(second);
	report(0, ssl, hs, mail);
	SSL_free(ssl);
	if (fd >= 0)
		close(fd);
	return hs && mail > 0;
}

/* Server in this process: its SSL, and what its thread saw. */
static struct {
	SSL_CTX *ctx;
	int lfd;
	int mode;		/* SSL_get_verify_mode after the handshake */
	bool cb;		/* a verify callback was set on it */
	bool ok;		/* handshake done, "ping" read, "pong" written */
} srv;

/* server_thread - one connection: handshake, ping, pong */
static void *server_thread(void *arg)
{
	int fd = accept(srv.lfd, NULL, NULL);
	SSL *ssl;
	char buf[5] = "";

	(void)arg;
	if (fd < 0 || (ssl = SSL_new(srv.ctx)) == NULL)
		return NULL;
	SSL_set_fd(ssl, fd);
	SSL_set_accept_state(ssl);
	srv.ok = SSL_do_handshake(ssl) == 1 && SSL_read(ssl, buf, 4) == 4 &&
		 !memcmp(buf, "ping", 4) && SSL_write(ssl, "pong", 4) == 4;
	srv.mode = SSL_get_verify_mode(ssl);
	srv.cb = SSL_get_verify_callback(ssl) != NULL;
	SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
	return NULL;
}

/* in_process - a TLS server in a thread and this client against it */
static bool in_process(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	pthread_t th;
	char buf[5] = "";
	bool hs, io_ok;
	int fd;
	SSL *ssl;

	srv.ctx = SSL_CTX_new(TLS_method());
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (srv.ctx == NULL || opt.cert == NULL ||
	    SSL_CTX_use_certificate_chain_file(srv.ctx, opt.cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(srv.ctx, opt.key, SSL_FILETYPE_PEM) != 1 ||
	    (srv.lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(srv.lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(srv.lfd, 1) != 0 ||
	    getsockname(srv.lfd, (struct sockaddr *)&sa, &len) != 0 ||
	    pthread_create(&th, NULL, server_thread, NULL) != 0) {
		fprintf(stderr, "bypass_client: cannot start the server\n");
		return false;
	}
	fd = tcp("127.0.0.1", ntohs(sa.sin_port), false);
	ssl = new_ssl(fd, opt.sni, true);
	hs = ssl != NULL && SSL_connect(ssl) == 1;
	io_ok = hs && SSL_write(ssl, "ping", 4) == 4 && SSL_read(ssl, buf, 4) == 4 &&
		!memcmp(buf, "pong", 4);
	SSL_free(ssl);
	close(fd);
	pthread_join(th, NULL);
	printf("client: handshake %s io=%s\n", hs ? "ok" : "failed", io_ok ? "ok" : "failed");
	printf("server: handshake %s mode=%d cb=%s\n", srv.ok ? "ok" : "failed",
	       srv.mode, srv.cb ? "set" : "none");
	return hs && io_ok && srv.ok && srv.mode == SSL_VERIFY_NONE && !srv.cb;
}

/* lookups - the MTA's own DNS work: MX of each --mx domain, A of each
 * exchange, through res_nquery against --ns */
static void lookups(void)
{
	struct __res_state rs;
	unsigned char ans[4096];
	char host[NS_MAXDNAME], ip[64] = "", port[8] = "53";
	struct in_addr a;

	memset(&rs, 0, sizeof(rs));
	if (opt.ns == NULL || res_ninit(&rs) != 0)
		return;
	sscanf(opt.ns, "%63[^:]:%7s", ip, port);
	if (inet_pton(AF_INET, ip, &a) != 1)
		return;
	rs.nsaddr_list[0].sin_family = AF_INET;
	rs.nsaddr_list[0].sin_addr = a;
	rs.nsaddr_list[0].sin_port = htons(atoi(port));
	rs.nscount = 1;
	for (int d = 0; d < opt.nmx; d++) {
		int n = res_nquery(&rs, opt.mx[d], ns_c_in, ns_t_mx, ans, sizeof(ans));
		ns_msg m;
		ns_rr rr;

		if (n <= 0 || ns_initparse(ans, n, &m) < 0)
			continue;
		for (int i = 0; i < ns_msg_count(m, ns_s_an); i++) {
			unsigned char a4[4096];

			if (ns_parserr(&m, ns_s_an, i, &rr) < 0 || ns_rr_type(rr) != ns_t_mx ||
			    dn_expand(ns_msg_base(m), ns_msg_end(m), ns_rr_rdata(rr) + 2,
				      host, sizeof(host)) < 0)
				continue;
			printf("MX %s %s\n", opt.mx[d], host);
			res_nquery(&rs, host, ns_c_in, ns_t_a, a4, sizeof(a4));
		}
	}
	res_nclose(&rs);
}

/* plain_mail - the MAIL FROM of a plain case, sent its way on fd */
static ssize_t plain_mail(int fd)
{
	const char *c = opt.cse;
	static const char mf[] = "MAIL FROM:<a@client.test>\r\n";
	struct iovec iov[2] = {
		{ .iov_base = (void *)mf, .iov_len = 5 },
		{ .iov_base = (void *)(mf + 5), .iov_len = sizeof(mf) - 6 },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t n;

	if (!strcmp(c, "plain-writev"))
		return writev(fd, iov, 2);
	if (!strcmp(c, "plain-sendmsg"))
		return sendmsg(fd, &msg, MSG_NOSIGNAL);
	if (!strcmp(c, "plain-more")) {
		if ((n = send(fd, mf, 7, MSG_MORE | MSG_NOSIGNAL)) < 0)
			return n;
		return send(fd, mf + 7, sizeof(mf) - 8, MSG_NOSIGNAL);
	}
	if (!strcmp(c, "plain-split")) {
		if ((n = write(fd, mf, 7)) < 0)
			return n;
		return write(fd, mf + 7, sizeof(mf) - 8);
	}
	if (!strcmp(c, "plain-lower"))
		return write(fd, "mail from:<a@client.test>\r\n", sizeof(mf) - 1);
	return write(fd, mf, sizeof(mf) - 1);
}

/* replies - read until n final reply lines came, all 2xx */
static bool replies(int fd, int n)
{
	char buf[16384];
	size_t used = 0;
	int seen = 0;

	while (seen < n) {
		ssize_t k = read(fd, buf + used, sizeof(buf) - 1 - used);
		char *line = buf, *end;

		if (k <= 0)
			return false;
		used += (size_t)k;
		buf[used] = '\0';
		while ((end = strstr(line, "\r\n")) != NULL) {
			if (end - line >= 4 && line[3] == ' ') {
				if (line[0] != '2')
					return false;
				seen++;
			}
			line = end + 2;
		}
		used -= (size_t)(line - buf);
		memmove(buf, line, used);
	}
	return true;
}

/* plain_one - greeting, EHLO (pipelined with MAIL FROM for
 * plain-pipeline), MAIL FROM the case's way, then the rest of the message
 * with write(); every reply read; prints what the writes did */
static bool plain_one(int fd)
{
	static const char *rest[] = {
		"RCPT TO:<c@example.com>\r\n", "DATA\r\n",
		"Subject: bypass\r\n\r\nsecret\r\n.\r\n", "QUIT\r\n",
	};
	struct io io = { .fd = fd };
	char burst[2048] = "EHLO client.test\r\n";
	bool refused = false, ok;
	int wfd = fd;

	if (!strcmp(opt.cse, "plain-dup"))
		wfd = dup(fd);
	io.fd = wfd;
	if (reply(&io) != 220)
		return false;
	if (!strcmp(opt.cse, "plain-pipeline")) {
		for (int i = 0; i < 200; i++)	/* 1200 bytes */
			strcat(burst, "NOOP\r\n");
		strcat(burst, "MAIL FROM:<a@client.test>\r\n");
		ok = write(wfd, burst, strlen(burst)) == (ssize_t)strlen(burst) &&
		     replies(fd, 202);
	} else {
		ok = command(&io, "EHLO client.test\r\n", 2) && plain_mail(wfd) > 0 &&
		     reply(&io) / 100 == 2;
	}
	refused = !ok && errno == EPERM;
	for (size_t i = 0; ok && i < sizeof(rest) / sizeof(rest[0]); i++)
		ok = command(&io, rest[i], i == 1 ? 3 : 2);
	printf("conn 0: plain mail=%s\n", ok ? "ok" : refused ? "refused" : "failed");
	if (wfd != fd)
		close(wfd);
	return ok;
}

/* plain - the plain-text cases */
static bool plain(void)
{
	int fd, tfd;
	bool ok;
	SSL *ssl = NULL;

	if (!strcmp(opt.cse, "plain-dup2")) {	/* TLS first on this number */
		if ((tfd = starttls_conn(opt.addr, opt.port)) < 0 ||
		    (ssl = new_ssl(tfd, opt.sni, true)) == NULL || SSL_connect(ssl) != 1) {
			printf("conn 0: the TLS session did not come up\n");
			return false;
		}
		if ((fd = tcp(opt.addr2, opt.port2, false)) < 0 || dup2(fd, tfd) < 0)
			return false;
		close(fd);
		fd = tfd;
	} else {
		fd = tcp(opt.addr, opt.port, !strcmp(opt.cse, "plain-nonblock"));
	}
	if (fd < 0)
		return false;
	ok = plain_one(fd);
	SSL_free(ssl);
	close(fd);
	return ok;
}

/* usage - how to call it; exit 2 */
static void usage(void)
{
	fprintf(stderr, "usage: bypass_client CASE [--cafile F] [--sni N] [--sni2 N] "
		"[--tls12] [--tlsa U S M HEX] [--cert F --key F] [--ns IP:PORT] "
		"[--mx DOMAIN]... ADDR PORT [ADDR2 PORT2]\n");
	exit(2);
}

/* parse - the command line into opt */
static void parse(int argc, char **argv)
{
	int i;

	if (argc < 2)
		usage();
	opt.cse = argv[1];
	for (i = 2; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		const char *a = argv[i];
		bool v = i + 1 < argc;

		if (!strcmp(a, "--tls12")) opt.tls12 = true;
		else if (v && !strcmp(a, "--cafile")) opt.cafile = argv[++i];
		else if (v && !strcmp(a, "--sni")) opt.sni = argv[++i];
		else if (v && !strcmp(a, "--sni2")) opt.sni2 = argv[++i];
		else if (v && !strcmp(a, "--cert")) opt.cert = argv[++i];
		else if (v && !strcmp(a, "--key")) opt.key = argv[++i];
		else if (v && !strcmp(a, "--ns")) opt.ns = argv[++i];
		else if (v && !strcmp(a, "--mx") && opt.nmx < MAX_MX) opt.mx[opt.nmx++] = argv[++i];
		else if (i + 4 < argc && !strcmp(a, "--tlsa")) {
			for (int k = 0; k < 4; k++)
				opt.tlsa[k] = argv[++i];
		} else usage();
	}
	if (argc - i != 2 && argc - i != 4)
		usage();
	opt.addr = argv[i];
	opt.port = atoi(argv[i + 1]);
	if (argc - i == 4) {
		opt.addr2 = argv[i + 2];
		opt.port2 = atoi(argv[i + 3]);
	}
}

/* main - one SSL_CTX, then the case */
int main(int argc, char **argv)
{
	const char *c;
	bool ok;

	parse(argc, argv);
	c = opt.cse;
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL || (opt.cafile && SSL_CTX_load_verify_locations(ctx, opt.cafile, NULL) != 1) ||
	    (opt.tls12 && SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) != 1)) {
		fprintf(stderr, "bypass_client: cannot set up the SSL_CTX\n");
		return 2;
	}
	if (!strncmp(c, "clear", 5) || !strcmp(c, "session") || !strcmp(c, "copy-session")) {
		if (opt.addr2 == NULL)
			usage();
		ok = two_tls();
	} else if (!strcmp(c, "renego")) {
		ok = renego();
	} else if (!strcmp(c, "server")) {
		ok = in_process();
	} else if (!strncmp(c, "plain-", 6)) {
		if (!strcmp(c, "plain-dup2") && opt.addr2 == NULL)
			usage();
		ok = plain();
	} else {
		if (!strcmp(c, "mx"))
			lookups();
		ok = one_tls();
	}
	SSL_CTX_free(ctx);
	return ok ? 0 : 1;
}
