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
 * Cost for everyone else: a check of each write for a line starting
 * "MAIL FROM:" (the whole write: a pipelined burst may carry it after
 * kilobytes of other commands; a command split over writes or iovecs is
 * followed across them by the few octets of the verb that ended the last
 * piece); the socket is looked at (getpeername) only then.  The state per
 * descriptor: "TLS is up here" (set when a handshake succeeds), "a MAIL
 * FROM was stopped here", both cleared by connect() and close() and bound
 * to the socket's inode, so that a number dup2() or close_range() gives to
 * another socket behind the shim's back does not inherit them; and those
 * octets of a split verb.
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
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "shim.h"

#define MF_LEN 10		/* "MAIL FROM:" */

/* Per descriptor: the inode of the socket on which TLS is up / a MAIL FROM
 * was stopped (0: none), and how many octets of "MAIL FROM:" ended the
 * last write at the start of a line. */
typedef _Atomic uint64_t fd_marks[SHIM_MAX_FDS];
static fd_marks tls_marks, stopped_marks;
static _Atomic unsigned char partial[SHIM_MAX_FDS];

/* sock_id - what tells fd's socket from the next one to get its number:
 * its inode (a dup() shares it); 0 if fd is not open */
static uint64_t sock_id(int fd)
{
	struct stat sb;

	return fstat(fd, &sb) == 0 ? (uint64_t)sb.st_ino : 0;
}

/* set_mark - mark fd's socket in marks, or clear fd */
static void set_mark(fd_marks marks, int fd, bool on)
{
	if (fd < 0 || fd >= SHIM_MAX_FDS)
		return;
	if (on)
		atomic_store(&marks[fd], sock_id(fd));
	else if (atomic_load(&marks[fd]) != 0)
		atomic_store(&marks[fd], 0);
}

/* has_mark - is the socket now on fd the one marked? (fstat only when
 * fd's number was marked) */
static bool has_mark(fd_marks marks, int fd)
{
	uint64_t id;

	if (fd < 0 || fd >= SHIM_MAX_FDS || (id = atomic_load(&marks[fd])) == 0)
		return false;
	if (sock_id(fd) == id)
		return true;
	atomic_store(&marks[fd], 0);	/* another socket has the number */
	return false;
}

/* forget - a new connection, or none, on fd */
static void forget(int fd)
{
	set_mark(tls_marks, fd, false);
	set_mark(stopped_marks, fd, false);
	if (fd >= 0 && fd < SHIM_MAX_FDS && atomic_load(&partial[fd]) != 0)
		atomic_store(&partial[fd], 0);
}

/* shim_mark_tls - a TLS session is up on fd */
void shim_mark_tls(int fd)
{
	set_mark(tls_marks, fd, true);
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

/* scan - does a line of buf start with "MAIL FROM:" (RFC 5321 4.1.1.2;
 * verbs are case-insensitive)?  The start of buf counts as the start of a
 * line (a write that begins mid-line is looked at as if it did: at worst
 * one refusal too many).  *carry, in and out: how many octets of the verb
 * ended the stream's previous piece at the start of a line (a command
 * split over writes or iovecs). */
static bool scan(const char *buf, size_t len, unsigned char *carry)
{
	const char *p = buf, *end = buf + len;
	size_t k = *carry, n;

	*carry = 0;
	while (p != NULL && p < end) {
		n = (size_t)(end - p) < MF_LEN - k ? (size_t)(end - p) : MF_LEN - k;
		if (esa_ascii_eq(p, n, "MAIL FROM:" + k, n)) {
			if (k + n == MF_LEN)
				return true;
			*carry = (unsigned char)(k + n);	/* the piece ends here */
			return false;
		}
		k = 0;
		p = memchr(p, '\n', (size_t)(end - p));
		if (p != NULL)
			p++;
	}
	return false;
}

/* scan_iov - the same over the first limit octets of an iovec array */
static bool scan_iov(const struct iovec *iov, size_t n, size_t limit,
		     unsigned char *carry)
{
	for (size_t i = 0; iov != NULL && i < n && limit > 0; i++) {
		size_t k = iov[i].iov_len < limit ? iov[i].iov_len : limit;

		if (k > 0 && iov[i].iov_base != NULL && scan(iov[i].iov_base, k, carry))
			return true;
		limit -= k;
	}
	return false;
}

/* carry_of, set_carry - fd's octets of a split verb */
static unsigned char carry_of(int fd)
{
	return fd >= 0 && fd < SHIM_MAX_FDS ? atomic_load(&partial[fd]) : 0;
}
static void set_carry(int fd, unsigned char c)
{
	if (fd >= 0 && fd < SHIM_MAX_FDS && atomic_load(&partial[fd]) != c)
		atomic_store(&partial[fd], c);
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

/* refuse_plaintext - a clear-text MAIL FROM on fd: when it is an SMTP
 * client socket without TLS, log it; true when it must not be sent */
static bool refuse_plaintext(int fd)
{
	const struct shim_conf *sc;
	struct esa_plaintext pt;
	unsigned char addr[16];
	char peer[64];
	int family, port, type = 0;
	socklen_t tlen = sizeof(type);
	bool reject;

	if (shim_busy || has_mark(tls_marks, fd))
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
		set_mark(stopped_marks, fd, true);
		shutdown(fd, SHUT_RDWR);
	}
	shim_busy--;
	return reject;
}

/* outgoing - every write: learn the handshake's socket, police MAIL FROM;
 * true when it must fail (EPERM, never EPIPE: no SIGPIPE for the program).
 * *carry: fd's split verb after the whole write (see sent) */
static bool outgoing(int fd, const char *buf, size_t len, unsigned char *carry)
{
	int saved = errno;
	bool refuse;

	*carry = carry_of(fd);
	if (shim_busy)
		return false;
	if (has_mark(stopped_marks, fd)) {
		errno = saved;
		return true;	/* the rest of a stopped session: not in clear either */
	}
	if (shim_handshake != NULL)
		shim_learn_socket(shim_handshake, fd);
	else
		shim_match_hello(fd, (const unsigned char *)buf, len);
	refuse = buf != NULL && scan(buf, len, carry) && refuse_plaintext(fd);
	errno = saved;
	return refuse;
}

/* outgoing_iov - the same for gathered writes */
static bool outgoing_iov(int fd, const struct iovec *iov, size_t n,
			 unsigned char *carry)
{
	int saved = errno;
	bool refuse;

	*carry = carry_of(fd);
	if (shim_busy)
		return false;
	if (has_mark(stopped_marks, fd)) {
		errno = saved;
		return true;
	}
	if (shim_handshake == NULL && n > 0 && iov != NULL)
		shim_match_hello(fd, iov[0].iov_base, iov[0].iov_len);
	else if (shim_handshake != NULL)
		shim_learn_socket(shim_handshake, fd);
	refuse = scan_iov(iov, n, SIZE_MAX, carry) && refuse_plaintext(fd);
	errno = saved;
	return refuse;
}

/* sent - the real write wrote rc of len octets: fd's split verb is what
 * the whole write left (carry), or what the part written left */
static ssize_t sent(int fd, ssize_t rc, size_t len, const char *buf,
		    const struct iovec *iov, size_t n, unsigned char carry)
{
	int saved = errno;

	if (shim_busy || rc < 0)
		return rc;
	if ((size_t)rc < len) {
		carry = carry_of(fd);
		if (buf != NULL)
			scan(buf, (size_t)rc, &carry);
		else
			scan_iov(iov, n, (size_t)rc, &carry);
	}
	set_carry(fd, carry);
	errno = saved;
	return rc;
}

/* iov_len - the octets of an iovec array */
static size_t iov_len(const struct iovec *iov, size_t n)
{
	size_t len = 0;

	for (size_t i = 0; iov != NULL && i < n; i++)
		len += iov[i].iov_len;
	return len;
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
	unsigned char c;

	if (outgoing(fd, buf, len, &c)) {
		errno = EPERM;
		return -1;
	}
	return sent(fd, real(fd, buf, len), len, buf, NULL, 0, c);
}
SHIM_SYMVER(shim_write, "write", SHIM_LIBC_VER);

/* send - Python, curl */
SHIM_EXPORT ssize_t shim_send(int fd, const void *buf, size_t len, int flags)
{
	ssize_t (*real)(int, const void *, size_t, int) = SHIM_REAL(send, NULL);

	if (real == NULL)
		NOT_FOUND(-1);
	unsigned char c;

	if (outgoing(fd, buf, len, &c)) {
		errno = EPERM;
		return -1;
	}
	return sent(fd, real(fd, buf, len, flags), len, buf, NULL, 0, c);
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
	unsigned char c;

	if (flags & MSG_FASTOPEN)
		forget(fd);
	if (outgoing(fd, buf, len, &c)) {
		errno = EPERM;
		return -1;
	}
	return sent(fd, real(fd, buf, len, flags, sa, salen), len, buf, NULL, 0, c);
}
SHIM_SYMVER(shim_sendto, "sendto", SHIM_LIBC_VER);

/* writev - gathered writes */
SHIM_EXPORT ssize_t shim_writev(int fd, const struct iovec *iov, int n)
{
	ssize_t (*real)(int, const struct iovec *, int) = SHIM_REAL(writev, NULL);

	if (real == NULL)
		NOT_FOUND(-1);
	unsigned char c = 0;

	if (n > 0 && outgoing_iov(fd, iov, (size_t)n, &c)) {
		errno = EPERM;
		return -1;
	}
	if (n <= 0)
		return real(fd, iov, n);
	return sent(fd, real(fd, iov, n), iov_len(iov, (size_t)n), NULL, iov,
		    (size_t)n, c);
}
SHIM_SYMVER(shim_writev, "writev", SHIM_LIBC_VER);

/* sendmsg - gathered sends */
SHIM_EXPORT ssize_t shim_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	ssize_t (*real)(int, const struct msghdr *, int) = SHIM_REAL(sendmsg, NULL);

	if (real == NULL)
		NOT_FOUND(-1);
	unsigned char c = 0;

	if (msg != NULL && (flags & MSG_FASTOPEN))
		forget(fd);
	if (msg != NULL && outgoing_iov(fd, msg->msg_iov, msg->msg_iovlen, &c)) {
		errno = EPERM;
		return -1;
	}
	if (msg == NULL)
		return real(fd, msg, flags);
	return sent(fd, real(fd, msg, flags), iov_len(msg->msg_iov, msg->msg_iovlen),
		    NULL, msg->msg_iov, msg->msg_iovlen, c);
}
SHIM_SYMVER(shim_sendmsg, "sendmsg", SHIM_LIBC_VER);

#endif /* SHIM_LIBC_VER */
