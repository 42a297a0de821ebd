/*
 * log.c - the shim's log: one JSON line per verified client handshake
 * (SPEC 8.5), one per plain-text MAIL FROM on an SMTP port, and the
 * configuration errors; to syslog (facility mail), stderr, or a file.
 *
 * How much a handshake logs is ESA_LOG_LEVEL (like Postfix's
 * smtp_tls_loglevel): "ab" the full line, every member of SPEC 8.5 with
 * the presented identifiers, every reference tried and every DNS query,
 * for both algorithms (the A/B picture; the default under observe);
 * "summary" one short line with "level":"summary" (who, the setting, the
 * chain's and each computed algorithm's verdict with its reason, DANE's
 * verdict when it was asked for, the decision; the default under esa); "failures" the full line of the
 * connections that fail (esa) or would (observe: ESA would reject, or the
 * program's own verification failed), and of plain-text MAIL FROMs that
 * ESA refuses, nothing for the others.  Under summary and failures only
 * the setting's own algorithm is run (esashim.c), so the other one is
 * null in their lines.  Configuration errors are logged at every level.
 *
 * Never stdout: it may carry the program's own protocol.  Nor stderr when
 * descriptor 2 has become a network socket (a daemon that closed it and
 * reused the number), for the same reason.  The shim never calls
 * openlog(): the program's own syslog identity and options stay as they
 * are.  Failures to log are silent: logging must never disturb the
 * program, and errno is kept.
 *
 * The log file.  Its descriptor is opened at the first line (O_APPEND,
 * O_CLOEXEC, O_NOCTTY; never 0, 1 or 2) and kept; each line is one
 * write(2) on it, so lines from threads and forked children (who inherit
 * the descriptor and keep using it) never interleave.  The descriptor
 * lives in the program's table, where the program may close it behind the
 * shim's back (a daemon closing every descriptor, close_range(),
 * closefrom()) and reuse the number for a socket or a file of its own; a
 * line must never land there.  So before every write the number is
 * checked with fstat(2): the file it refers to must still be the one
 * opened (st_dev, st_ino); if not, the number is the program's now, is
 * forgotten (never closed) and the path is opened again.  The close() hook
 * (net.c) forgets it at once.  The one case fstat cannot tell apart is the
 * program itself opening the same log file onto the freed number: the line
 * then goes into that file through the program's descriptor.
 *
 * Rotation: at most once a second (a coarse monotonic clock, no system
 * call) the path is looked up with stat(2); when it leads to another file
 * or to none (logrotate renamed or removed it), the shim's descriptor is
 * closed and the path opened again, creating the file if needed: new
 * lines go to the new file within about a second.  When the path cannot be
 * opened (a chroot, privileges dropped, no descriptor left) the line goes
 * to syslog, as before, and the next line tries again.  A program that
 * dropped privileges after its first line keeps writing through the
 * descriptor opened before, until the file is rotated.
 *
 * Per line, in the common case: fstat and write; stat once a second.  The
 * process id and the program's name are kept, and taken again in a forked
 * child (pthread_atfork), so every line carries its own process's id.  One
 * mutex guards the descriptor; it is taken around fork() so that no child
 * inherits it held.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "result_impl.h"
#include "shim.h"

extern char *program_invocation_short_name;

/* write_all - write a buffer fully to fd, retrying short writes */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* write_line - a line and its newline, with one writev(2) (one append,
 * so lines of several processes never interleave); 0 or -1 */
static int write_line(int fd, const char *line, size_t len)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)line, .iov_len = len },
		{ .iov_base = (void *)"\n", .iov_len = 1 },
	};
	ssize_t n;

	while ((n = writev(fd, iov, 2)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return -1;
	if ((size_t)n >= len + 1)
		return 0;
	if ((size_t)n < len &&	/* short (a full disk): the rest in order */
	    write_all(fd, line + n, len - (size_t)n) != 0)
		return -1;
	return write_all(fd, "\n", 1);
}

#define CHECK_PATH_MS 1000	/* how often the path is compared (rotation) */

/* The log file's state, under lock (taken around fork). */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = -1;		/* the shim's descriptor, -1 none */
static dev_t log_dev;		/* the file it was opened on */
static ino_t log_ino;
static long long checked_ms;	/* when the path was last compared */
static rlim_t fsize_max = RLIM_INFINITY;	/* RLIMIT_FSIZE, read with it */
static off_t log_size;		/* its size at the last fstat */
static char prog[64];		/* program_name(), read for prog_pid */
static pid_t prog_pid;
/* log_fd for the close() hook, read without the lock */
static atomic_int log_fd_seen = -1;

/* The process id, taken again in a forked child. */
static pid_t my_pid;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* fork_prepare, fork_parent, fork_child - no child inherits the lock
 * held; a child logs its own pid */
static void fork_prepare(void)
{
	pthread_mutex_lock(&lock);
}
static void fork_parent(void)
{
	pthread_mutex_unlock(&lock);
}
static void fork_child(void)
{
	my_pid = getpid();
	pthread_mutex_unlock(&lock);
}

/* init - the pid, and the fork handlers, once */
static void init(void)
{
	my_pid = getpid();
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* pid_now - this process's id without a system call */
static pid_t pid_now(void)
{
	pthread_once(&init_once, init);
	return my_pid;
}

/* now_ms - a coarse monotonic clock (vDSO: no system call) */
static long long now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) != 0)
		return 0;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* drop_fd - the shim no longer uses log_fd; closed only when it is
 * known to be the shim's own (ours) */
static void drop_fd(bool ours)
{
	int fd = log_fd;

	log_fd = -1;
	atomic_store(&log_fd_seen, -1);
	if (ours)
		close(fd);	/* the hook sees log_fd_seen -1 */
}

/* read_fsize_max - the program's file size limit (RLIMIT_FSIZE) */
static void read_fsize_max(void)
{
	struct rlimit rl;

	fsize_max = getrlimit(RLIMIT_FSIZE, &rl) == 0 ? rl.rlim_cur
						       : RLIM_INFINITY;
}

/* fits - may n more bytes be appended to the log file (its size as the
 * fstat before this line saw it)?  A write past RLIMIT_FSIZE raises
 * SIGXFSZ, which terminates the program unless it handles it: a line that
 * would cross the limit goes to syslog instead. */
static bool fits(size_t n)
{
	return fsize_max == RLIM_INFINITY ||
	       (log_size >= 0 && (rlim_t)log_size + n <= fsize_max);
}

/* open_log - open the path; false when it cannot be (syslog instead).
 * Never on 0, 1 or 2: a program started with them closed would find its
 * own output going into the log, and its /dev/null on other numbers. */
static bool open_log(const char *path)
{
	struct stat st;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
		      O_NOCTTY, 0644), low = fd;

	if (fd >= 0 && fd <= STDERR_FILENO) {
		fd = fcntl(low, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
		close(low);
	}
	if (fd < 0)
		return false;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return false;
	}
	log_fd = fd;
	log_dev = st.st_dev;
	log_ino = st.st_ino;
	log_size = st.st_size;
	checked_ms = now_ms();
	read_fsize_max();
	atomic_store(&log_fd_seen, fd);
	return true;
}

/* log_file_fd - the descriptor to write the next line to, -1 for none:
 * log_fd while it still refers to the file opened (the program may have
 * closed it and reused the number) and, checked once a second, the path
 * still leads to that file (rotation); else the path opened again.
 * Called with lock held. */
static int log_file_fd(const char *path)
{
	struct stat st;
	long long now;

	if (log_fd >= 0 && (fstat(log_fd, &st) != 0 || st.st_dev != log_dev ||
			    st.st_ino != log_ino))
		drop_fd(false);	/* the number is the program's now */
	else if (log_fd >= 0)
		log_size = st.st_size;
	if (log_fd >= 0 && (now = now_ms()) - checked_ms >= CHECK_PATH_MS) {
		checked_ms = now;
		read_fsize_max();	/* a setrlimit since */
		if (stat(path, &st) != 0 || st.st_dev != log_dev ||
		    st.st_ino != log_ino)
			drop_fd(true);	/* renamed or removed */
	}
	if (log_fd < 0)
		open_log(path);
	return log_fd;
}

/* to_file - one line (no newline) to the log file; false when it was not
 * written */
static bool to_file(const char *path, const char *line, size_t len)
{
	bool done = false;
	int fd;

	pthread_once(&init_once, init);
	pthread_mutex_lock(&lock);
	if ((fd = log_file_fd(path)) >= 0 && fits(len + 1))
		done = write_line(fd, line, len) == 0;
	pthread_mutex_unlock(&lock);
	return done;
}

/* shim_log_closing - the program closes fd: when it is the log file's,
 * forget it (the program's close() closes it), after a line being
 * written in another thread.  Closes while the shim runs on this thread
 * (shim_busy: every holder of the lock) pass: the shim's own, some made
 * with the lock held, and a signal handler's that interrupted it. */
void shim_log_closing(int fd)
{
	if (fd < 0 || shim_busy || atomic_load(&log_fd_seen) != fd)
		return;
	pthread_mutex_lock(&lock);
	if (log_fd == fd)
		drop_fd(false);
	pthread_mutex_unlock(&lock);
}

/* stderr_usable - fd 2 is open and not a network socket */
static bool stderr_usable(void)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (fcntl(STDERR_FILENO, F_GETFD) < 0)
		return false;
	if (getsockname(STDERR_FILENO, (struct sockaddr *)&ss, &len) != 0)
		return true;	/* not a socket */
	return ss.ss_family != AF_INET && ss.ss_family != AF_INET6;
}

/* to_stderr - one line (no newline) to stderr, when that is safe (not a
 * network socket; not past the file size limit when it is a file) */
static void to_stderr(const char *line, size_t len)
{
	struct rlimit rl;
	struct stat st;

	if (!stderr_usable())
		return;
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (fstat(STDERR_FILENO, &st) != 0 ||
	     (S_ISREG(st.st_mode) && (rlim_t)st.st_size + len + 1 > rl.rlim_cur)))
		return;
	write_line(STDERR_FILENO, line, len);
}

/* shim_log_line - one line to the configured channel */
void shim_log_line(const struct shim_conf *sc, const char *line)
{
	int saved = errno;
	size_t len = strlen(line);

	shim_busy++;
	if (sc->log == SHIM_LOG_STDERR)
		to_stderr(line, len);
	else if (sc->log != SHIM_LOG_FILE || !to_file(sc->log_path, line, len))
		syslog(LOG_MAIL | LOG_INFO, "%s", line);
	shim_busy--;
	errno = saved;
}

/* shim_log_error - a configuration error, once, to stderr and the channel */
void shim_log_error(const struct shim_conf *sc, const char *msg)
{
	char line[ESA_ERR_MAX + 96];
	int saved = errno;

	snprintf(line, sizeof(line), "esashim: %s; verification will fail "
		 "closed", msg);
	if (sc->log != SHIM_LOG_STDERR)
		shim_log_line(sc, line);
	shim_busy++;
	to_stderr(line, strlen(line));
	shim_busy--;
	errno = saved;
}

/* timestamp - ISO 8601 UTC with milliseconds */
static void timestamp(char *out, size_t outsz)
{
	/* the seconds as text, made again only when they change (strftime
	 * and gmtime cost more than the rest of a log line's header) */
	static __thread time_t sec = -1;
	static __thread char text[32];
	static __thread size_t n;
	struct timeval tv;
	long ms;

	gettimeofday(&tv, NULL);
	if (tv.tv_sec != sec) {
		struct tm tm;

		gmtime_r(&tv.tv_sec, &tm);
		n = strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &tm);
		sec = tv.tv_sec;
	}
	ms = (long)(tv.tv_usec / 1000);
	if (outsz < n + sizeof(".000Z")) {
		if (outsz > 0)
			out[0] = '\0';
		return;
	}
	memcpy(out, text, n);
	out[n] = '.';
	out[n + 1] = (char)('0' + ms / 100);
	out[n + 2] = (char)('0' + ms / 10 % 10);
	out[n + 3] = (char)('0' + ms % 10);
	memcpy(out + n + 4, "Z", 2);
}

/* read_program_name - the process's name: its main thread's comm (a
 * script's name, not its interpreter's; not a worker thread's own name),
 * else the name it was started by (no /proc, e.g. in a chroot) */
static void read_program_name(char *out, size_t outsz)
{
	int fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, out, outsz - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n > 0 && out[n - 1] == '\n')
		n--;
	if (n > 0)
		out[n] = '\0';
	else
		esa_strlcpy(out, program_invocation_short_name, outsz);
}

/* program_name - read_program_name once per process (a forked child
 * reads it again): three system calls less on every log line.  Read
 * without the lock: its close() must not meet the hook holding it. */
static void program_name(char *out, size_t outsz)
{
	pid_t pid = pid_now();
	char name[sizeof(prog)];
	bool known;

	pthread_mutex_lock(&lock);
	if ((known = prog_pid == pid && prog[0] != '\0'))
		esa_strlcpy(name, prog, sizeof(name));
	pthread_mutex_unlock(&lock);
	if (!known) {
		read_program_name(name, sizeof(name));
		pthread_mutex_lock(&lock);
		esa_strlcpy(prog, name, sizeof(prog));
		prog_pid = pid;
		pthread_mutex_unlock(&lock);
	}
	esa_strlcpy(out, name, outsz);
}

/* header - the members every line starts with */
static void header(struct esa_json *j, const char *event)
{
	char ts[40], comm[64];

	timestamp(ts, sizeof(ts));
	program_name(comm, sizeof(comm));
	esa_json_kstr(j, "ts", ts);
	esa_json_kstr(j, "event", event);
	esa_json_kint(j, "pid", pid_now());
	esa_json_kstr(j, "program", comm);
}

/* emit - finish the object and log it */
static void emit(const struct shim_conf *sc, struct esa_json *j)
{
	char *line;

	esa_json_end_object(j);
	line = esa_json_take(j);
	if (line != NULL)
		shim_log_line(sc, line);
	free(line);
}

/* candidates - recipient_candidates: the domains whose MX lookups by the
 * program led to the peer (recipient_source "mx-lookup"), and, when there
 * were several, candidate_verdicts: each one's own verdicts (the line's
 * verify and hosted pass only if they pass for all); both from the record */
static void candidates(struct esa_json *j, const struct esa_result *res)
{
	if (res->recipient_source != ESA_RCPT_MX_LOOKUP ||
	    res->ncandidates == 0)
		return;
	esa_json_key(j, "recipient_candidates");
	esa_json_begin_array(j);
	for (size_t i = 0; i < res->ncandidates; i++)
		esa_json_str(j, res->candidates[i].domain);
	esa_json_end_array(j);
	if (res->ncandidates < 2)
		return;
	esa_json_key(j, "candidate_verdicts");
	esa_json_begin_array(j);
	for (size_t i = 0; i < res->ncandidates; i++) {
		const struct esa_candidate_verdict *v = &res->candidates[i];

		esa_json_begin_object(j);
		esa_json_kstr(j, "domain", v->domain);
		esa_json_kopt(j, "via", v->via);
		esa_json_kstr(j, "tls", esa_tls_name(v->tls));
		esa_json_kbool(j, "verify", v->verify_pass);
		esa_json_kbool(j, "hosted", v->hosted_pass);
		esa_json_kstr(j, "decision", v->accept ? "accept" : "reject");
		esa_json_end_object(j);
	}
	esa_json_end_array(j);
}

/* who - the members of a handshake line that say which connection, judged
 * for which recipient domain (the full and the summary line) */
static void who(struct esa_json *j, SSL *ssl, const struct esa_result *res,
		int port)
{
	esa_json_kopt(j, "peer", res->peer);
	esa_json_kint(j, "port", port);
	esa_json_kopt(j, "sni", SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name));
	esa_json_kopt(j, "recipient_domain", res->recipient);
	esa_json_kopt(j, "recipient_source",
		      esa_recipient_source_name(res->recipient_source));
	esa_json_kopt(j, "via", res->via);
}

/* full_line - the SPEC 8.5 line of one handshake, from its record: the
 * whole A/B picture (ESA_LOG_LEVEL ab, and failures' lines) */
static void full_line(SSL *ssl, const struct shim_conf *sc,
		      const struct esa_result *res, int port)
{
	struct esa_json j;

	esa_json_init(&j);
	esa_json_begin_object(&j);
	header(&j, "handshake");
	who(&j, ssl, res, port);
	candidates(&j, res);
	esa_json_kstr(&j, "tls", esa_tls_name(res->tls));
	esa_json_kstr(&j, "enforce", sc->observe ? "observe" : "esa");
	esa_json_key(&j, "chain");
	esa_result_json_chain(res, &j);
	esa_json_key(&j, "stock");
	esa_json_begin_object(&j);
	esa_json_kopt(&j, "host", res->stock_host);
	esa_json_kbool(&j, "ok", res->stock_ok);
	esa_json_end_object(&j);
	esa_json_key(&j, "presented");
	esa_result_json_presented(res, &j);
	esa_json_key(&j, "verify");
	esa_result_json_mode(res, ESA_MODE_VERIFY, &j);
	esa_json_key(&j, "hosted");
	esa_result_json_mode(res, ESA_MODE_HOSTED, &j);
	if (res->dane != NULL) {	/* docs/dane.md 7; only when asked for */
		esa_json_key(&j, "dane");
		esa_dane_json(res->dane, &j);
	}
	esa_json_kstr(&j, "decision", res->accept ? "accept" : "reject");
	esa_json_kopt(&j, "error", res->error);
	esa_json_key(&j, "dns");
	esa_result_json_dns(res, &j);
	esa_json_kuint(&j, "elapsed_us", res->elapsed_us);
	emit(sc, &j);
}

/* brief_mode - a verdict in a summary line: {"pass", "reference",
 * "source", "reason"} (what matched, or why nothing did), null when the
 * mode was not computed */
static void brief_mode(struct esa_json *j, const struct esa_result *res,
		       enum esa_mode mode)
{
	const struct esa_verdict *v = &res->verdict[mode];

	if (!v->computed) {
		esa_json_null(j);
		return;
	}
	esa_json_begin_object(j);
	esa_json_kbool(j, "pass", v->pass);
	esa_json_kopt(j, "reference", v->pass ? v->reference : NULL);
	esa_json_key(j, "source");
	esa_json_str(j, v->pass && v->source != ESA_SOURCE_NONE ?
		     esa_source_name(v->source) : NULL);
	esa_json_kstr(j, "reason", v->reason);
	esa_json_end_object(j);
}

/* summary_line - ESA_LOG_LEVEL summary: one short line per handshake,
 * the members of the full line that say who, under which setting, and
 * what was decided and why; none of the lists (presented, tried, dns,
 * candidates) */
static void summary_line(SSL *ssl, const struct shim_conf *sc,
			 const struct esa_result *res, int port)
{
	struct esa_json j;

	esa_json_init(&j);
	esa_json_begin_object(&j);
	header(&j, "handshake");
	esa_json_kstr(&j, "level", "summary");
	who(&j, ssl, res, port);
	esa_json_kstr(&j, "tls", esa_tls_name(res->tls));
	esa_json_kstr(&j, "enforce", sc->observe ? "observe" : "esa");
	esa_json_key(&j, "chain");
	esa_json_begin_object(&j);
	esa_json_kbool(&j, "ok", esa_result_chain_ok(res));
	esa_json_kopt(&j, "error", esa_result_chain_ok(res) ? NULL :
		      res->chain.text[0] ? res->chain.text : "unknown error");
	esa_json_end_object(&j);
	esa_json_key(&j, "stock");
	esa_json_begin_object(&j);
	esa_json_kbool(&j, "ok", res->stock_ok);
	esa_json_end_object(&j);
	esa_json_key(&j, "verify");
	brief_mode(&j, res, ESA_MODE_VERIFY);
	esa_json_key(&j, "hosted");
	brief_mode(&j, res, ESA_MODE_HOSTED);
	if (res->dane != NULL) {	/* only when DANE was asked for */
		esa_json_key(&j, "dane");
		esa_dane_json_brief(res->dane, &j);
	}
	esa_json_kstr(&j, "decision", res->accept ? "accept" : "reject");
	esa_json_kopt(&j, "error", res->error);
	esa_json_kuint(&j, "elapsed_us", res->elapsed_us);
	emit(sc, &j);
}

/* failed - ESA_LOG_LEVEL failures: does this connection fail (esa: ESA
 * rejects it) or would it (observe: ESA would reject it, or the program's
 * own verification failed)? */
static bool failed(const struct shim_conf *sc, const struct esa_result *res)
{
	return !res->accept || (sc->observe && !res->stock_ok);
}

/* shim_log_decision - the line of one handshake, at ESA_LOG_LEVEL */
void shim_log_decision(SSL *ssl, const struct esa_result *res, int port)
{
	const struct shim_conf *sc = shim_conf();

	if (res == NULL)
		return;
	if (sc->level == SHIM_LEVEL_SUMMARY)
		summary_line(ssl, sc, res, port);
	else if (sc->level == SHIM_LEVEL_AB || failed(sc, res))
		full_line(ssl, sc, res, port);
}

/* shim_log_plaintext - a MAIL FROM in clear on an SMTP port; ESA refuses
 * it under settings 3, 5, 6 (SPEC 5: no delivery without TLS); enforce
 * says whether the refusal was carried out */
void shim_log_plaintext(int fd, const char *peer, int port,
			const char *recipient, enum esa_tls tls, bool reject,
			const char *why)
{
	const struct shim_conf *sc = shim_conf();
	struct esa_json j;

	if (sc->level == SHIM_LEVEL_FAILURES && !reject)
		return;	/* ESA lets it (or would let it) through */
	esa_json_init(&j);
	esa_json_begin_object(&j);
	header(&j, "plaintext");
	esa_json_kopt(&j, "peer", peer);
	esa_json_kint(&j, "port", port);
	esa_json_kint(&j, "fd", fd);
	esa_json_kopt(&j, "recipient_domain", recipient);
	esa_json_kstr(&j, "tls", esa_tls_name(tls));
	esa_json_kstr(&j, "enforce", sc->observe ? "observe" : "esa");
	esa_json_kstr(&j, "decision", reject ? "reject" : "accept");
	esa_json_kopt(&j, "reason", why);
	emit(sc, &j);
}
