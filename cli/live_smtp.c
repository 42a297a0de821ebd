/*
 * live_smtp.c - one SMTP STARTTLS session for esa-check's live mode
 *
 * RFC 5321 and RFC 3207 as far as a client needs them to see a server's
 * certificate, no further: connect, read the 220 greeting, EHLO, look for
 * STARTTLS among the extensions, STARTTLS, the TLS handshake with the
 * esaverify callback installed, QUIT.  No mail is sent.  The socket is
 * non-blocking and every step (connect, each reply, the handshake) is
 * bounded by --timeout through poll(2).
 *
 * The server is hostile input: replies are read through a bounded buffer;
 * a line longer than LINE_LEN_MAX, more than LINES_MAX lines, or a reply
 * that is not "ddd" followed by space or hyphen fails the session; data
 * pipelined after the 220 to STARTTLS (the STARTTLS command injection of
 * 2011) fails it too rather than being taken as if it came through TLS.
 * Reply text is kept raw and escaped where it is printed.
 *
 * The handshake runs under setting 4 (preferred-verify) with both modes
 * computed (esa_ssl_set_all_modes): the callback then records its verdicts
 * and never refuses, so every certificate gets a decision record; live.c
 * decides from the record whether the host passes the requested modes.
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "live.h"

#define LINE_LEN_MAX 2048	/* RFC 5321 4.5.3.1.5 says 512; be lenient */
#define LINES_MAX 100		/* lines of one reply */
#define QUIT_WAIT_MS 2000	/* QUIT is a courtesy: wait for 221 no longer */

/* One session's connection and its reply reader. */
struct smtp {
	int fd;
	SSL *ssl;		/* NULL before STARTTLS */
	unsigned timeout_ms;
	char buf[LINE_LEN_MAX + 2];
	size_t len;		/* octets buffered, not yet consumed */
	int code;		/* of the last reply */
	char first[256];	/* its first line's text, after "ddd " */
	bool starttls;		/* STARTTLS was among its lines */
};

/* fail - end the attempt with an outcome and a one-line reason */
static int fail(struct live_attempt *a, enum live_outcome o, const char *fmt,
		...) __attribute__((format(printf, 3, 4)));
static int fail(struct live_attempt *a, enum live_outcome o, const char *fmt,
		...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->reason, sizeof(a->reason), fmt, ap);
	va_end(ap);
	a->outcome = o;
	return -1;
}

/* secs - a timeout in seconds, for messages */
static double secs(unsigned ms)
{
	return ms / 1000.0;
}

/* sockaddr_of - the attempt's address and port as a sockaddr */
static socklen_t sockaddr_of(const struct live_attempt *a,
			     struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)a->port);
		memcpy(&s4->sin_addr, a->addr, 4);
		return sizeof(*s4);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons((uint16_t)a->port);
	memcpy(&s6->sin6_addr, a->addr, 16);
	return sizeof(*s6);
}

/* tcp_connect - a non-blocking TCP connection within the timeout */
static int tcp_connect(struct smtp *s, struct live_attempt *a)
{
	struct sockaddr_storage ss;
	socklen_t sl = sockaddr_of(a, &ss), el = sizeof(int);
	int err = 0;

	s->fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return fail(a, LIVE_NET_ERROR, "socket: %s", strerror(errno));
	if (connect(s->fd, (struct sockaddr *)&ss, sl) == 0)
		return 0;
	if (errno == EINPROGRESS) {
		if (esa_wait_fd(s->fd, POLLOUT, esa_now_ms() + s->timeout_ms) != 0)
			err = errno;
		else if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
			err = errno;
	} else {
		err = errno;
	}
	if (err == 0)
		return 0;
	if (err == ETIMEDOUT)
		return fail(a, LIVE_TIMEOUT, "connect: no answer within %g s",
			    secs(s->timeout_ms));
	if (err == ECONNREFUSED)
		return fail(a, LIVE_REFUSED, "connect: connection refused");
	return fail(a, LIVE_NET_ERROR, "connect: %s", strerror(err));
}

/* io_read - up to n octets, plain or through TLS; > 0 octets, 0 the
 * server closed, -1 with errno (ETIMEDOUT at the deadline) */
static ssize_t io_read(struct smtp *s, char *p, size_t n, uint64_t deadline)
{
	for (;;) {
		ssize_t k;
		short ev = POLLIN;

		if (s->ssl == NULL) {
			k = recv(s->fd, p, n, 0);
			if (k >= 0)
				return k;
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				return -1;
		} else {
			int r = SSL_read(s->ssl, p, n > INT_MAX ? INT_MAX : (int)n);
			int e = SSL_get_error(s->ssl, r);

			if (r > 0)
				return r;
			if (e == SSL_ERROR_ZERO_RETURN)
				return 0;
			if (e == SSL_ERROR_WANT_WRITE)
				ev = POLLOUT;
			else if (e != SSL_ERROR_WANT_READ) {
				errno = EPROTO;
				return -1;
			}
		}
		if (esa_wait_fd(s->fd, ev, deadline) != 0)
			return -1;
	}
}

/* io_write - all of text, plain or through TLS; 0 or -1 with errno */
static int io_write(struct smtp *s, const char *p, size_t n,
		    uint64_t deadline)
{
	while (n > 0) {
		ssize_t k;
		short ev = POLLOUT;

		if (s->ssl == NULL) {
			k = send(s->fd, p, n, MSG_NOSIGNAL);
			if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				return -1;
		} else {
			int r = SSL_write(s->ssl, p, (int)n);
			int e = SSL_get_error(s->ssl, r);

			k = r > 0 ? r : -1;
			if (r <= 0 && e == SSL_ERROR_WANT_READ)
				ev = POLLIN;
			else if (r <= 0 && e != SSL_ERROR_WANT_WRITE) {
				errno = EPROTO;
				return -1;
			}
		}
		if (k > 0) {
			p += k;
			n -= (size_t)k;
		} else if (esa_wait_fd(s->fd, ev, deadline) != 0) {
			return -1;
		}
	}
	return 0;
}

/* reply_line - take one complete line off the buffer into line (without
 * CRLF); 1 taken, 0 none complete yet, -1 a line too long */
static int reply_line(struct smtp *s, char *line, size_t linesz)
{
	char *nl = memchr(s->buf, '\n', s->len);
	size_t n;

	if (nl == NULL)
		return s->len >= LINE_LEN_MAX ? -1 : 0;
	n = (size_t)(nl - s->buf);
	if (n > 0 && s->buf[n - 1] == '\r')
		n--;
	if (n >= linesz)
		return -1;
	memcpy(line, s->buf, n);
	line[n] = '\0';
	n = (size_t)(nl - s->buf) + 1;
	memmove(s->buf, s->buf + n, s->len - n);
	s->len -= n;
	return 1;
}

/* is_keyword - does the extension line text start with the word kw? */
static bool is_keyword(const char *text, const char *kw)
{
	size_t n = strlen(kw);

	return strnlen(text, n) == n && esa_ascii_eq(text, n, kw, n) &&
	       (text[n] == '\0' || text[n] == ' ');
}

/* take_line - check one reply line and note what it says; 1 the reply
 * goes on, 0 it ended, -1 malformed */
static int take_line(struct smtp *s, const char *line, size_t nth)
{
	int code;

	if (strlen(line) < 3 || line[0] < '2' || line[0] > '5' ||
	    line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9' ||
	    (line[3] != '\0' && line[3] != ' ' && line[3] != '-'))
		return -1;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (nth > 0 && code != s->code)
		return -1;	/* RFC 5321 4.2.1: one code per reply */
	s->code = code;
	if (nth == 0)
		esa_strlcpy(s->first, line, sizeof(s->first));
	else if (line[3] != '\0' && is_keyword(line + 4, "STARTTLS"))
		s->starttls = true;	/* an EHLO extension (RFC 3207) */
	return line[3] == '-' ? 1 : 0;
}

/* read_reply - one whole reply, possibly multi-line, within the timeout;
 * 0 with s->code and s->first, or -1 with the attempt failed */
static int read_reply(struct smtp *s, struct live_attempt *a, const char *what,
		      unsigned timeout_ms)
{
	uint64_t deadline = esa_now_ms() + timeout_ms;
	char line[LINE_LEN_MAX + 1];
	size_t nth = 0;
	int more = 1;

	s->code = 0;
	s->first[0] = '\0';
	s->starttls = false;
	while (more > 0) {
		int got = reply_line(s, line, sizeof(line));
		ssize_t k;

		if (got < 0)
			return fail(a, LIVE_SMTP_ERROR, "%s: a line longer than "
				    "%d octets", what, LINE_LEN_MAX);
		if (got > 0) {
			more = take_line(s, line, nth);
			if (more < 0 || ++nth > LINES_MAX)
				return fail(a, LIVE_SMTP_ERROR, "%s: not an SMTP "
					    "reply (line %zu)", what, nth);
			continue;
		}
		k = io_read(s, s->buf + s->len, LINE_LEN_MAX - s->len, deadline);
		if (k > 0) {
			s->len += (size_t)k;
		} else if (k == 0) {
			return fail(a, LIVE_NET_ERROR, "%s: the server closed "
				    "the connection", what);
		} else if (errno == ETIMEDOUT) {
			return fail(a, LIVE_TIMEOUT, "%s: nothing within %g s",
				    what, secs(timeout_ms));
		} else {
			return fail(a, LIVE_NET_ERROR, "%s: %s", what,
				    s->ssl ? "TLS read failed" : strerror(errno));
		}
	}
	return 0;
}

/* command - send one command line, then read its reply */
static int command(struct smtp *s, struct live_attempt *a, const char *cmd,
		   const char *what)
{
	char line[ESA_NAME_MAX + 16];

	snprintf(line, sizeof(line), "%s\r\n", cmd);
	if (io_write(s, line, strlen(line), esa_now_ms() + s->timeout_ms) != 0)
		return fail(a, errno == ETIMEDOUT ? LIVE_TIMEOUT : LIVE_NET_ERROR,
			    "%s: cannot send: %s", what,
			    errno == ETIMEDOUT ? "timeout" : strerror(errno));
	return read_reply(s, a, what, s->timeout_ms);
}

/* smtp_dialogue - greeting, EHLO, STARTTLS; 0 ready for the handshake */
static int smtp_dialogue(struct live *l, struct smtp *s, struct live_attempt *a)
{
	char ehlo[ESA_NAME_MAX + 8];

	if (read_reply(s, a, "greeting", s->timeout_ms) < 0)
		return -1;
	esa_strlcpy(a->banner, s->first, sizeof(a->banner));
	if (s->code != 220)
		return fail(a, LIVE_SMTP_ERROR, "greeting is not 220: %.200s",
			    s->first);
	snprintf(ehlo, sizeof(ehlo), "EHLO %s", l->ehlo);
	if (command(s, a, ehlo, "reply to EHLO") < 0)
		return -1;
	if (s->code != 250)
		return fail(a, LIVE_NO_STARTTLS, "EHLO refused (%.200s), and "
			    "STARTTLS needs EHLO", s->first);
	a->ehlo_ok = true;
	a->starttls = s->starttls;
	if (!a->starttls) {
		command(s, a, "QUIT", "reply to QUIT");	/* a courtesy */
		return fail(a, LIVE_NO_STARTTLS, "STARTTLS is not offered in "
			    "the reply to EHLO");
	}
	if (command(s, a, "STARTTLS", "reply to STARTTLS") < 0)
		return -1;
	esa_strlcpy(a->starttls_reply, s->first, sizeof(a->starttls_reply));
	if (s->code != 220)
		return fail(a, LIVE_SMTP_ERROR, "STARTTLS refused: %.200s",
			    s->first);
	if (s->len > 0)
		return fail(a, LIVE_SMTP_ERROR, "the server sent data after "
			    "its reply to STARTTLS, before TLS (command "
			    "injection?); not used");
	return 0;
}

/* tls_error - the reason of a failed handshake, one line */
static void tls_error(struct live_attempt *a, int e)
{
	unsigned long code = ERR_peek_last_error();
	const char *why = ERR_reason_error_string(code);

	if (why != NULL)
		fail(a, LIVE_TLS_FAILED, "TLS handshake failed: %s", why);
	else if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN)
		fail(a, LIVE_TLS_FAILED, "TLS handshake failed: the server "
		     "closed the connection");
	else
		fail(a, LIVE_TLS_FAILED, "TLS handshake failed (SSL error %d)",
		     e);
	ERR_clear_error();
}

/* tls_prepare - the SSL for this attempt, under the esaverify callback:
 * recipient, via, setting 4, both modes; 0 or -1 (err: the tool failed) */
static int tls_prepare(struct live *l, struct smtp *s, struct live_attempt *a,
		       char *err, size_t errsz)
{
	const struct live_host *h = &l->hosts[a->host];

	a->ssl = SSL_new(l->ctx);
	if (a->ssl == NULL || esa_ssl_install(a->ssl, l->cfg) != 0 ||
	    esa_ssl_set_recipient(a->ssl, l->o->domain) != 0 ||
	    esa_ssl_set_via(a->ssl, h->name) != 0 ||
	    esa_ssl_set_tls(a->ssl, ESA_TLS_PREFERRED_VERIFY) != 0 ||
	    esa_ssl_set_all_modes(a->ssl) != 0 ||	/* both verdicts */
	    SSL_set_fd(a->ssl, s->fd) != 1) {
		snprintf(err, errsz, "cannot set up TLS: %s",
			 esa_config_error(l->cfg)[0] ? esa_config_error(l->cfg)
						     : "out of memory");
		return -1;
	}
	if (!h->is_ip && SSL_set_tlsext_host_name(a->ssl, h->name) != 1) {
		snprintf(err, errsz, "cannot set up TLS: SNI %s refused", h->name);
		return -1;	/* SNI: the host name connected to */
	}
	/* the stock verdict beside ESA's: OpenSSL's check of the host name
	 * connected to, without partial wildcards, as Postfix's "verify"
	 * level asks for it; the callback records its error, never acts */
	if (l->o->stock && !h->is_ip) {
		SSL_set_hostflags(a->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (SSL_set1_host(a->ssl, h->name) != 1) {
			snprintf(err, errsz, "cannot set up TLS: host name %s "
				 "refused", h->name);
			return -1;
		}
	}
	if (l->o->at > 0)
		X509_VERIFY_PARAM_set_time(SSL_get0_param(a->ssl),
					   (time_t)l->o->at);
	s->ssl = a->ssl;
	return 0;
}

/* tls_handshake - SSL_connect within the timeout; 0 done, -1 failed */
static int tls_handshake(struct smtp *s, struct live_attempt *a)
{
	uint64_t deadline = esa_now_ms() + s->timeout_ms;

	ERR_clear_error();
	for (;;) {
		int r = SSL_connect(s->ssl), e;

		if (r == 1)
			return 0;
		e = SSL_get_error(s->ssl, r);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			tls_error(a, e);
			return -1;
		}
		if (esa_wait_fd(s->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
				deadline) != 0)
			return fail(a, LIVE_TIMEOUT, "TLS handshake: not done "
				    "within %g s", secs(s->timeout_ms));
	}
}

/* name_text - a distinguished name as RFC 2253 text, malloc'd */
static char *name_text(const X509_NAME *name)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL, *text = NULL;
	long n;

	if (b == NULL)
		return NULL;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0) {
		n = BIO_get_mem_data(b, &p);
		text = strndup(n > 0 && p ? p : "", n > 0 ? (size_t)n : 0);
	}
	BIO_free(b);
	return text;
}

/* tls_details - protocol, cipher and the chain the server sent */
static int tls_details(struct live_attempt *a)
{
	const SSL_CIPHER *cipher = SSL_get_current_cipher(a->ssl);
	STACK_OF(X509) *sent = SSL_get_peer_cert_chain(a->ssl);
	int i, n = sent ? sk_X509_num(sent) : 0;

	esa_strlcpy(a->protocol, SSL_get_version(a->ssl), sizeof(a->protocol));
	esa_strlcpy(a->cipher, cipher ? SSL_CIPHER_get_name(cipher) : "",
		    sizeof(a->cipher));
	a->bits = cipher ? SSL_CIPHER_get_bits(cipher, NULL) : 0;
	if (n <= 0)
		return 0;
	a->chain = calloc((size_t)n, sizeof(*a->chain));
	if (a->chain == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		X509 *x = sk_X509_value(sent, i);

		a->chain[i].subject = name_text(X509_get_subject_name(x));
		a->chain[i].issuer = name_text(X509_get_issuer_name(x));
		a->nchain++;
		if (!a->chain[i].subject || !a->chain[i].issuer)
			return -1;
	}
	return 0;
}

/* take_record - the decision record the callback left on the SSL */
static void take_record(struct live_attempt *a)
{
	a->res = esa_ssl_record(a->ssl);
	if (a->outcome != LIVE_TLS_FAILED && a->outcome != LIVE_TIMEOUT)
		fail(a, LIVE_FAILED, a->res ? "verified" :
		     "no decision record: the certificate was never verified");
}

/* quit - QUIT through TLS and close_notify; a courtesy, errors ignored */
static void quit(struct smtp *s, struct live_attempt *a)
{
	struct live_attempt scratch = *a;	/* keep a's outcome and reason */
	uint64_t deadline = esa_now_ms() + QUIT_WAIT_MS;

	if (io_write(s, "QUIT\r\n", 6, deadline) == 0)
		read_reply(s, &scratch, "reply to QUIT",
			   s->timeout_ms < QUIT_WAIT_MS ? s->timeout_ms
							: QUIT_WAIT_MS);
	SSL_shutdown(s->ssl);
}

/* live_session - see live.h */
int live_session(struct live *l, struct live_attempt *a, char *err,
		 size_t errsz)
{
	struct smtp *s = calloc(1, sizeof(*s));
	uint64_t t0 = esa_now_ms();
	int rc = 0;

	if (s == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	s->fd = -1;
	s->timeout_ms = l->o->timeout_ms;
	if (tcp_connect(s, a) < 0)
		goto out;
	a->connected = true;
	if (smtp_dialogue(l, s, a) < 0)
		goto out;
	if (tls_prepare(l, s, a, err, errsz) < 0) {
		rc = -1;
		goto out;
	}
	if (tls_handshake(s, a) == 0) {
		a->tls_done = true;
		if (tls_details(a) < 0) {
			snprintf(err, errsz, "out of memory");
			rc = -1;
		}
	}
	take_record(a);
	if (a->tls_done)
		quit(s, a);
out:
	if (s->fd >= 0)
		close(s->fd);
	a->ms = (unsigned)(esa_now_ms() - t0);
	free(s);
	return rc;
}
