/*
 * esa_client.c - a small SMTP STARTTLS client for the shim's tests
 *
 * It behaves like the OpenSSL clients the shim must serve, one trait per
 * option, so each can be tested alone under LD_PRELOAD=build/esashim.so:
 *   --verify        SSL_VERIFY_PEER (default SSL_VERIFY_NONE)
 *   --cafile F      trust store (default: none at all)
 *   --host NAME     SSL_set1_host (OpenSSL's own name check)
 *   --sni NAME      SNI
 *   --cb            a verify callback of its own that counts its calls and
 *                   always returns 1, so the program decides from
 *                   SSL_get_verify_result() after the handshake (Postfix)
 *   --late-verify   set mode and callback with SSL_set_verify after
 *                   SSL_set_connect_state (the hook must reroute it)
 *   --nonblock      non-blocking socket, SSL_connect retried (curl)
 *   --no-fd         a BIO method of its own over send()/recv() instead of
 *                   SSL_set_fd, so SSL_get_fd() is -1 (curl's BIO)
 *   --mail          deliver one message after the handshake
 *   --plain         no STARTTLS: deliver in plain text
 *   --threads N     N connections at once, one thread each, one SSL_CTX
 *   --fork N        one connection, then N children with one each
 *   --serial N      N connections one after another, in this process
 *   --between WHAT  with --serial, before each connection but the first:
 *                   wait         read a line from stdin (a test rotates
 *                                the shim's log file meanwhile)
 *                   close:F      close every descriptor above 2 with
 *                                close(), as a daemon does, then open
 *                                file F on every number that was open
 *                   close-range:F  the same with close_range(2), which the
 *                                shim does not see
 *                   With a file F: each of those descriptors gets one line
 *                   "esa_client fd N" after the next connection; at the end
 *                   F must hold only such lines: "own file: clean", else
 *                   "own file: foreign data" and the exit status is 1.
 * Prints one line per connection on stdout, in order:
 *   "conn I: handshake ok|failed verify=N cb=C mail=ok|failed|-"
 * (with --cb, handshake ok but verify != 0 counts as refused, as Postfix
 * does).  Exit 0 when every connection succeeded, 1 otherwise, 2 on usage.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define MAX_CONNS 64

static struct {
	bool verify, cb, late, nonblock, nofd, mail, plain;
	const char *cafile, *host, *sni, *addr;
	const char *between;
	int port, threads, forks, serial;
} opt = { .threads = 1 };

static SSL_CTX *ctx;
static atomic_int cb_calls[MAX_CONNS];
static int conn_idx;		/* ex_data index: which connection */
static char results[MAX_CONNS][160];

/* count_cb - the program's own callback: counts, accepts (Postfix style) */
static int count_cb(int ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	long i = (long)SSL_get_ex_data(ssl, conn_idx);

	(void)ok;
	if (i >= 0 && i < MAX_CONNS)
		atomic_fetch_add(&cb_calls[i], 1);
	return 1;
}

/* wait_fd - poll fd for the direction SSL asks for (non-blocking mode) */
static void wait_fd(int fd, int err)
{
	struct pollfd p = { .fd = fd, .events = err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN };

	poll(&p, 1, 5000);
}

/* io_write - a whole command to the stream, plain or TLS */
static bool io_write(int fd, SSL *ssl, const char *s)
{
	size_t len = strlen(s);

	if (ssl == NULL)
		return write(fd, s, len) == (ssize_t)len;
	for (;;) {
		int n = SSL_write(ssl, s, (int)len), e;

		if (n > 0)
			return n == (int)len;
		e = SSL_get_error(ssl, n);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			return false;
		wait_fd(fd, e);
	}
}

/* io_read - some bytes of the stream, waiting when non-blocking */
static int io_read(int fd, SSL *ssl, char *buf, int cap)
{
	for (;;) {
		int n = ssl ? SSL_read(ssl, buf, cap) : (int)read(fd, buf, (size_t)cap), e;

		if (n > 0 || ssl == NULL) {
			if (n < 0 && errno == EAGAIN) {
				wait_fd(fd, SSL_ERROR_WANT_READ);
				continue;
			}
			return n;
		}
		e = SSL_get_error(ssl, n);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			return -1;
		wait_fd(fd, e);
	}
}

/* reply - read one SMTP reply; its code, or -1 */
static int reply(int fd, SSL *ssl)
{
	char buf[4096], *line;
	size_t used = 0;

	for (;;) {
		int n = io_read(fd, ssl, buf + used, (int)(sizeof(buf) - 1 - used));

		if (n <= 0)
			return -1;
		used += (size_t)n;
		buf[used] = '\0';
		for (line = buf; (line = strstr(line, "\r\n")) != NULL; line += 2) {
			char *start = line;

			while (start > buf && start[-1] != '\n')
				start--;
			if (strlen(start) >= 4 && start[3] == ' ')
				return atoi(start);
		}
		if (used >= sizeof(buf) - 1)
			return -1;
	}
}

/* command - one command, the expected reply class */
static bool command(int fd, SSL *ssl, const char *cmd, int want)
{
	return io_write(fd, ssl, cmd) && reply(fd, ssl) / 100 == want;
}

/* deliver - one message over the session */
static bool deliver(int fd, SSL *ssl)
{
	return (ssl == NULL || command(fd, ssl, "EHLO client.test\r\n", 2)) &&
	       command(fd, ssl, "MAIL FROM:<a@client.test>\r\n", 2) &&
	       command(fd, ssl, "RCPT TO:<c@example.com>\r\n", 2) &&
	       command(fd, ssl, "DATA\r\n", 3) &&
	       command(fd, ssl, "Subject: esa_client\r\n\r\nhello\r\n.\r\n", 2) &&
	       command(fd, ssl, "QUIT\r\n", 2);
}

/* tcp - a connected socket */
static int tcp(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(opt.port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || inet_pton(AF_INET, opt.addr, &sa.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* handshake - SSL_connect, retried when non-blocking */
static int handshake(SSL *ssl, int fd)
{
	for (;;) {
		int rc = SSL_connect(ssl), e;

		if (rc == 1 || !opt.nonblock)
			return rc;
		e = SSL_get_error(ssl, rc);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			return rc;
		wait_fd(fd, e);
	}
}

/* own_write - send() for a BIO over a socket that OpenSSL does not know as
 * one (no descriptor BIO in the chain), as curl's is */
static int own_write(BIO *b, const char *buf, int len)
{
	int n = (int)send((int)(long)BIO_get_data(b), buf, (size_t)len, MSG_NOSIGNAL);

	BIO_clear_retry_flags(b);
	if (n < 0 && errno == EAGAIN)
		BIO_set_retry_write(b);
	return n;
}

/* own_read - recv() for the BIO */
static int own_read(BIO *b, char *buf, int len)
{
	int n = (int)recv((int)(long)BIO_get_data(b), buf, (size_t)len, 0);

	BIO_clear_retry_flags(b);
	if (n < 0 && errno == EAGAIN)
		BIO_set_retry_read(b);
	return n;
}

/* own_ctrl - only flush is known */
static long own_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b, (void)num, (void)ptr;
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

/* own_bio_method - the method, made once (main thread, before workers) */
static BIO_METHOD *own_bio_method(void)
{
	static BIO_METHOD *m;

	if (m == NULL && (m = BIO_meth_new(BIO_get_new_index() |
					   BIO_TYPE_SOURCE_SINK, "esa_client")) != NULL) {
		BIO_meth_set_write(m, own_write);
		BIO_meth_set_read(m, own_read);
		BIO_meth_set_ctrl(m, own_ctrl);
	}
	return m;
}

/* make_ssl - an SSL for fd, set up as the options say */
static SSL *make_ssl(int fd, long i)
{
	SSL *ssl = SSL_new(ctx);
	int mode = opt.verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE;

	if (ssl == NULL)
		return NULL;
	SSL_set_ex_data(ssl, conn_idx, (void *)i);
	if (opt.nofd) {
		BIO *b = BIO_new(own_bio_method());

		if (b == NULL) {
			SSL_free(ssl);
			return NULL;
		}
		BIO_set_data(b, (void *)(long)fd);
		BIO_set_init(b, 1);
		SSL_set_bio(ssl, b, b);
	} else {
		SSL_set_fd(ssl, fd);
	}
	if (opt.sni)
		SSL_set_tlsext_host_name(ssl, opt.sni);
	if (opt.host)
		SSL_set1_host(ssl, opt.host);
	if (!opt.late)
		SSL_set_verify(ssl, mode, opt.cb ? count_cb : NULL);
	SSL_set_connect_state(ssl);
	if (opt.late)
		SSL_set_verify(ssl, mode, opt.cb ? count_cb : NULL);
	return ssl;
}

/* one - one connection, its result line in results[i] */
static bool one(long i)
{
	int fd = -1, rc = 0;
	long vr = -1;
	SSL *ssl = NULL;
	const char *mail = "-";
	bool ok = false;

	if ((fd = tcp()) < 0)
		goto out;
	if (opt.plain) {
		ok = reply(fd, NULL) == 220 && command(fd, NULL, "EHLO client.test\r\n", 2);
		mail = ok && deliver(fd, NULL) ? "ok" : "failed";
		ok = ok && strcmp(mail, "ok") == 0;
		goto out;
	}
	if (reply(fd, NULL) != 220 || !command(fd, NULL, "EHLO client.test\r\n", 2) ||
	    !command(fd, NULL, "STARTTLS\r\n", 2))
		goto out;
	if (opt.nonblock)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if ((ssl = make_ssl(fd, i)) == NULL)
		goto out;
	rc = handshake(ssl, fd);
	vr = SSL_get_verify_result(ssl);
	ok = rc == 1 && !(opt.cb && vr != X509_V_OK);
	if (ok && opt.mail) {
		mail = deliver(fd, ssl) ? "ok" : "failed";
		ok = strcmp(mail, "ok") == 0;
	}
out:
	snprintf(results[i], sizeof(results[i]),
		 "conn %ld: handshake %s verify=%ld cb=%d mail=%s", i,
		 opt.plain ? (ok ? "plain" : "failed") : rc == 1 ? "ok" : "failed",
		 vr, atomic_load(&cb_calls[i]), mail);
	SSL_free(ssl);
	if (fd >= 0)
		close(fd);
	ERR_clear_error();
	return ok;
}

/* worker - a thread's connection */
static void *worker(void *arg)
{
	return one((long)arg) ? (void *)1 : NULL;
}

/* usage - say how to call it, exit 2 */
static void usage(void)
{
	fprintf(stderr, "usage: esa_client [--verify] [--cafile F] [--host N] "
		"[--sni N] [--cb] [--late-verify] [--nonblock] [--no-fd] "
		"[--mail|--plain] [--threads N|--fork N|--serial N "
		"[--between wait|close:FILE|close-range:FILE]] ADDR PORT\n");
	exit(2);
}

/* parse - the command line into opt */
static void parse(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--verify")) opt.verify = true;
		else if (!strcmp(a, "--cb")) opt.cb = true;
		else if (!strcmp(a, "--late-verify")) opt.late = true;
		else if (!strcmp(a, "--nonblock")) opt.nonblock = true;
		else if (!strcmp(a, "--no-fd")) opt.nofd = true;
		else if (!strcmp(a, "--mail")) opt.mail = true;
		else if (!strcmp(a, "--plain")) opt.plain = true;
		else if (v && !strcmp(a, "--cafile")) opt.cafile = argv[++i];
		else if (v && !strcmp(a, "--host")) opt.host = argv[++i];
		else if (v && !strcmp(a, "--sni")) opt.sni = argv[++i];
		else if (v && !strcmp(a, "--threads")) opt.threads = atoi(argv[++i]);
		else if (v && !strcmp(a, "--fork")) opt.forks = atoi(argv[++i]);
		else if (v && !strcmp(a, "--serial")) opt.serial = atoi(argv[++i]);
		else if (v && !strcmp(a, "--between")) opt.between = argv[++i];
		else usage();
	}
	if (argc - i != 2 || opt.threads < 1 || opt.threads > MAX_CONNS ||
	    opt.forks < 0 || opt.forks >= MAX_CONNS || opt.serial < 0 ||
	    opt.serial > MAX_CONNS || (opt.between && !opt.serial) ||
	    (opt.between && strcmp(opt.between, "wait") != 0 &&
	     strncmp(opt.between, "close:", 6) != 0 &&
	     strncmp(opt.between, "close-range:", 12) != 0))
		usage();
	opt.addr = argv[i];
	opt.port = atoi(argv[i + 1]);
}

/* run_forks - a connection here, then one in each child */
static int run_forks(void)
{
	bool ok = one(0);
	int status, failed = !ok;
	pid_t pid;

	printf("%s\n", results[0]);
	fflush(stdout);
	for (long i = 1; i <= opt.forks; i++) {
		pid = fork();
		if (pid == 0) {
			ok = one(i);
			printf("%s\n", results[i]);
			fflush(stdout);
			_exit(ok ? 0 : 1);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	return failed ? 1 : 0;
}

/* Descriptors above 2 that --between close:F opened on F. */
static int own_fds[1024];
static int nown;

/* reclaim - close every descriptor above 2 (close() or close_range()),
 * then open path on every number up to the highest that was open, so that
 * a number anyone else kept is the program's now; false if it cannot */
static bool reclaim(const char *path, bool range)
{
	int top = 2, fd;

	for (fd = 3; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			top = fd;
	if (range && close_range(3, ~0U, 0) != 0) {
		perror("esa_client: close_range");
		return false;
	}
	for (fd = 3; !range && fd <= top; fd++)
		close(fd);
	nown = 0;
	while (nown < top - 2 &&
	       (fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644)) >= 0) {
		own_fds[nown++] = fd;
		if (fd >= top)
			break;
	}
	return nown > 0;
}

/* mark_own - one line of the program's own into each reclaimed number */
static void mark_own(void)
{
	char line[64];

	for (int i = 0; i < nown; i++) {
		int n = snprintf(line, sizeof(line), "esa_client fd %d\n", own_fds[i]);

		if (write(own_fds[i], line, (size_t)n) != n)
			fprintf(stderr, "esa_client: cannot write fd %d\n", own_fds[i]);
	}
}

/* own_file_clean - path holds only mark_own()'s lines */
static bool own_file_clean(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int n;
	bool clean = f != NULL;

	while (clean && fgets(line, sizeof(line), f) != NULL)
		clean = sscanf(line, "esa_client fd %d\n", &n) == 1 &&
			strchr(line, '{') == NULL;
	if (f != NULL)
		fclose(f);
	return clean;
}

/* run_serial - opt.serial connections one after another, opt.between
 * done before each but the first */
static int run_serial(void)
{
	const char *file = NULL;
	bool range = false;
	char line[16];
	int failed = 0;

	if (opt.between && strncmp(opt.between, "close:", 6) == 0)
		file = opt.between + 6;
	else if (opt.between && strncmp(opt.between, "close-range:", 12) == 0)
		file = opt.between + 12, range = true;
	for (long i = 0; i < opt.serial; i++) {
		if (i > 0 && file != NULL && !reclaim(file, range))
			return 2;
		if (i > 0 && file == NULL && opt.between != NULL &&
		    fgets(line, sizeof(line), stdin) == NULL)
			return 2;
		failed += !one(i);
		printf("%s\n", results[i]);
		fflush(stdout);
		mark_own();
	}
	if (file != NULL) {
		for (int i = 0; i < nown; i++)
			close(own_fds[i]);
		if (own_file_clean(file)) {
			printf("own file: clean\n");
		} else {
			printf("own file: foreign data\n");
			failed++;
		}
	}
	return failed ? 1 : 0;
}

/* main - one SSL_CTX, then the connections the options ask for */
int main(int argc, char **argv)
{
	pthread_t th[MAX_CONNS];
	int failed = 0;
	void *res;

	parse(argc, argv);
	ctx = SSL_CTX_new(TLS_client_method());
	conn_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if (ctx == NULL || (opt.cafile && SSL_CTX_load_verify_locations(ctx, opt.cafile, NULL) != 1)) {
		fprintf(stderr, "esa_client: cannot set up the SSL_CTX\n");
		return 2;
	}
	if (opt.nofd && own_bio_method() == NULL)
		return 2;
	if (opt.forks > 0)
		return run_forks();
	if (opt.serial > 0)
		return run_serial();
	for (long i = 0; i < opt.threads; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)i) != 0)
			return 2;
	for (long i = 0; i < opt.threads; i++) {
		pthread_join(th[i], &res);
		failed += res == NULL;
		printf("%s\n", results[i]);
	}
	SSL_CTX_free(ctx);
	return failed ? 1 : 0;
}
