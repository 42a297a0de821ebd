/*
 * net.c - socket hooks: no plain-text MAIL FROM where TLS is required
 *
 * SPEC 5: settings 3, 5 and 6 mean "no delivery without TLS".  A write on
 * a client socket whose peer port is an SMTP port (25, 587, 2525, or the
 * ESA_PORTS) that carries an SMTP "MAIL FROM:" command in clear, on a
 * socket where no TLS session was established, fails with EPERM under
 * those settings and is logged: the program reports a failed send; the
 * socket is shut down so that it does not wait for a reply, and every
 * later write on it fails the same way, so nothing of the message goes out
 * in clear.  Under settings 1, 2 and 4, and under ESA_ENFORCE=observe, it
 * goes through and is logged.  A TLS session never writes that text in clear: its records
 * are encrypted (with kernel TLS, the descriptor is marked as TLS first).
 * The library judges it (esa_plaintext_judge: the setting of
 * ESA_RECIPIENT_DOMAIN, else of the recipient domains the destinations file
 * or the program's own MX lookups lead to - learn.c: a mailer that falls
 * back to plain text is judged for the domain it delivers to - else the
 * default); the shim only gathers those facts.
 *
 * Cost for everyone else: a check of the first kilobyte of each write for
 * a line starting "MAIL FROM:"; the socket is looked at (getpeername) only
 * then.  The only state is two bits per descriptor, "TLS is up here" (set
 * when a handshake succeeds) and "a MAIL FROM was stopped here", both
 * cleared by connect() and close().
 *
 * The same writes tell which socket a handshake runs over when the SSL has
 * no descriptor of its own: curl's BIO (shim_learn_socket), memory BIOs
 * (shim_match_hello).
 *
 * The hooks pass straight through while the shim itself runs (shim_busy):
 * the DNS queries of a verification, the log's own writes.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "shim.h"

#define SCAN_MAX 1024		/* bytes of a write looked at */

/* One bit per descriptor: "TLS is up here", "a MAIL FROM was stopped". */
typedef _Atomic uint64_t fd_bits[SHIM_MAX_FDS / 64];
static fd_bits tls_bits, stopped_bits;

/* set_bit - mark or clear fd in bits */
static void set_bit(fd_bits bits, int fd, bool on)
{
	uint64_t bit;

	if (fd < 0 || fd >= SHIM_MAX_FDS)
		return;
	bit = UINT64_C(1) << (fd % 64);
	if (on)
		atomic_fetch_or(&bits[fd / 64], bit);
	else if (atomic_load(&bits[fd / 64]) & bit)
		atomic_fetch_and(&bits[fd / 64], ~bit);
}

/* has_bit - is fd marked in bits? */
static bool has_bit(fd_bits bits, int fd)
{
	if (fd < 0 || fd >= SHIM_MAX_FDS)
		return false;
	return (atomic_load(&bits[fd / 64]) >> (fd % 64)) & 1;
}

/* forget - a new connection, or none, on fd */
static void forget(int fd)
{
	set_bit(tls_bits, fd, false);
	set_bit(stopped_bits, fd, false);
}

/* shim_mark_tls - a TLS session is up on fd */
void shim_mark_tls(int fd)
{
	set_bit(tls_bits, fd, true);
}

/* shim_peer_of - peer address and port of a connected INET socket */
bool shim_peer_of(int fd, int *family, unsigned char addr[16], int *port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
		return false;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;

		*family = AF_INET;
		memcpy(addr, &s4->sin_addr, 4);
		*port = ntohs(s4->sin_port);
		return true;
	}
	if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			*family = AF_INET;
			memcpy(addr, &s6->sin6_addr.s6_addr[12], 4);
		} else {
			*family = AF_INET6;
			memcpy(addr, &s6->sin6_addr, 16);
		}
		*port = ntohs(s6->sin6_port);
		return true;
	}
	return false;
}

/* has_mail_from - does a line of buf (first SCAN_MAX bytes) start with
 * "MAIL FROM:" (RFC 5321 4.1.1.2; verbs are case-insensitive)? */
static bool has_mail_from(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + (len < SCAN_MAX ? len : SCAN_MAX);

	while (p != NULL && end - p >= 10) {
		if ((p[0] == 'M' || p[0] == 'm') && esa_ascii_eq(p, 10, "MAIL FROM:", 10))
			return true;
		p = memchr(p, '\n', (size_t)(end - p));
		if (p != NULL)
			p++;
	}
	return false;
}

#define LEARNED_MAX 32	/* names resolved to the peer, weighed at most */

/* judge - the library's judgement of a clear-text MAIL FROM to the peer,
 * from what the shim knows: ESA_RECIPIENT_DOMAIN, the program's own DNS
 * work about the peer (learn.c), a configuration error */
static void judge(const struct shim_conf *sc, int family,
		  const unsigned char *addr, struct esa_plaintext *out)
{
	struct esa_peer_facts p = { .family = family };

	memcpy(p.addr, addr, 16);
	if (sc->recipient[0] == '\0' &&
	    (p.learned = calloc(LEARNED_MAX, sizeof(*p.learned))) != NULL)
		p.nlearned = shim_learned(family, addr, p.learned, LEARNED_MAX);
	esa_plaintext_judge(sc->cfg, sc->recipient, &p, sc->error, out);
	free(p.learned);
}

/* refuse_plaintext - a clear-text MAIL FROM on an SMTP client socket:
 * log it; true when it must not be sent */
static bool refuse_plaintext(int fd, const char *buf, size_t len)
{
	const struct shim_conf *sc;
	struct esa_plaintext pt;
	unsigned char addr[16];
	char peer[64];
	int family, port, type = 0;
	socklen_t tlen = sizeof(type);
	bool reject;

	if (shim_busy || buf == NULL || !has_mail_from(buf, len) ||
	    has_bit(tls_bits, fd))
		return false;
	if (!shim_peer_of(fd, &family, addr, &port) ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0 ||
	    type != SOCK_STREAM)
		return false;
	sc = shim_conf();
	if (sc->cfg == NULL || !shim_port_smtp(sc, port))
		return false;
	shim_busy++;
	judge(sc, family, addr, &pt);
	esa_format_ip(family, addr, peer, sizeof(peer));
	shim_log_plaintext(fd, peer, port, pt.domain, pt.tls, pt.reject, pt.why);
	reject = pt.reject && !sc->observe;
	if (reject) {	/* the session is over: nothing more is sent, and no
			 * program waits for a reply */
		set_bit(stopped_bits, fd, true);
		shutdown(fd, SHUT_RDWR);
	}
	shim_busy--;
	return reject;
}

/* gather - the first bytes of an iovec array, for the check */
static size_t gather(const struct iovec *iov, size_t n, char *out, size_t cap)
{
	size_t used = 0, k;

	for (size_t i = 0; iov != NULL && i < n && used < cap; i++) {
		k = iov[i].iov_len < cap - used ? iov[i].iov_len : cap - used;
		if (k > 0 && iov[i].iov_base != NULL)
			memcpy(out + used, iov[i].iov_base, k);
		used += k;
	}
	return used;
}

/* outgoing - every write: learn the handshake's socket, police MAIL FROM;
 * true when it must fail (EPERM, never EPIPE: no SIGPIPE for the program) */
static bool outgoing(int fd, const char *buf, size_t len)
{
	int saved = errno;
	bool refuse;

	if (shim_busy)
		return false;
	if (has_bit(stopped_bits, fd))
		return true;	/* the rest of a stopped session: not in clear either */
	if (shim_handshake != NULL)
		shim_learn_socket(shim_handshake, fd);
	else
		shim_match_hello(fd, (const unsigned char *)buf, len);
	refuse = refuse_plaintext(fd, buf, len);
	errno = saved;
	return refuse;
}

/* outgoing_iov - the same for gathered writes */
static bool outgoing_iov(int fd, const struct iovec *iov, size_t n)
{
	char buf[SCAN_MAX];

	if (shim_busy)
		return false;
	if (has_bit(stopped_bits, fd))
		return true;
	return outgoing(fd, buf, gather(iov, n, buf, sizeof(buf)));
}

#ifdef SHIM_LIBC_VER

#define NOT_FOUND(rv) do { errno = ENOSYS; return rv; } while (0)

/* connect - a new connection on fd: no TLS on it yet */
SHIM_EXPORT int shim_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	int (*real)(int, const struct sockaddr *, socklen_t) =
		SHIM_REAL(connect, NULL);

	if (real == NULL)
		NOT_FOUND(-1);
	forget(fd);
	return real(fd, sa, len);
}
SHIM_SYMVER(shim_connect, "connect", SHIM_LIBC_VER);

/* close - forget fd, here and in the log (log.c) */
SHIM_EXPORT int shim_close(int fd)
{
	int (*real)(int) = SHIM_REAL(close, NULL);

	if (real == NULL)
		NOT_FOUND(-1);
	forget(fd);
	shim_log_closing(fd);
	return real(fd);
}
SHIM_SYMVER(shim_close, "close", SHIM_LIBC_VER);

/* write - Perl, s-nail, Postfix */
SHIM_EXPORT ssize_t shim_write(int fd, const void *buf, size_t len)
{
	ssize_t (*real)(int, const void *, size_t) = SHIM_REAL(write, NULL);

	if (real == NULL)
		NOT_FOUND(-1);
	if (outgoing(fd, buf, len)) {
		errno = EPERM;
		return -1;
	}
	return real(fd, buf, len);
}
SHIM_SYMVER(shim_write, "write", SHIM_LIBC_VER);

/* send - Python, curl */
SHIM_EXPORT ssize_t shim_send(int fd, const void *buf, size_t len, int flags)
{
	ssize_t (*real)(int, const void *, size_t, int) = SHIM_REAL(send, NULL);

	if (real == NULL)
		NOT_FOUND(-1);
	if (outgoing(fd, buf, len)) {
		errno = EPERM;
		return -1;
	}
	return real(fd, buf, len, flags);
}
SHIM_SYMVER(shim_send, "send", SHIM_LIBC_VER);

/* sendto - also TCP Fast Open, which connects without connect() */
SHIM_EXPORT ssize_t shim_sendto(int fd, const void *buf, size_t len, int flags,
				const struct sockaddr *sa, socklen_t salen)
{
	ssize_t (*real)(int, const void *, size_t, int, const struct sockaddr *,
			socklen_t) = SHIM_REAL(sendto, NULL);

	if (real == NULL)
		NOT_FOUND(-1);
	if (flags & MSG_FASTOPEN)
		forget(fd);
	if (outgoing(fd, buf, len)) {
		errno = EPERM;
		return -1;
	}
	return real(fd, buf, len, flags, sa, salen);
}
SHIM_SYMVER(shim_sendto, "sendto", SHIM_LIBC_VER);

/* writev - gathered writes */
SHIM_EXPORT ssize_t shim_writev(int fd, const struct iovec *iov, int n)
{
	ssize_t (*real)(int, const struct iovec *, int) = SHIM_REAL(writev, NULL);

	if (real == NULL)
		NOT_FOUND(-1);
	if (n > 0 && outgoing_iov(fd, iov, (size_t)n)) {
		errno = EPERM;
		return -1;
	}
	return real(fd, iov, n);
}
SHIM_SYMVER(shim_writev, "writev", SHIM_LIBC_VER);

/* sendmsg - gathered sends */
SHIM_EXPORT ssize_t shim_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	ssize_t (*real)(int, const struct msghdr *, int) = SHIM_REAL(sendmsg, NULL);

	if (real == NULL)
		NOT_FOUND(-1);
	if (msg != NULL && (flags & MSG_FASTOPEN))
		forget(fd);
	if (msg != NULL && outgoing_iov(fd, msg->msg_iov, msg->msg_iovlen)) {
		errno = EPERM;
		return -1;
	}
	return real(fd, msg, flags);
}
SHIM_SYMVER(shim_sendmsg, "sendmsg", SHIM_LIBC_VER);

#endif /* SHIM_LIBC_VER */
