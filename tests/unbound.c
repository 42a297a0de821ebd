/*
 * unbound.c - start and stop a private unbound for integration tests; see
 * unbound.h for the contract.  Only loopback addresses are ever used, and
 * the readiness probe is a raw DNS query sent to 127.0.0.1 only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "unbound.h"

#define UNBOUND_BIN "/usr/sbin/unbound"
#define READY_MS 5000

/* now_ms - monotonic milliseconds */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* bindable - can a socket of this type bind addr:port right now? */
static int bindable(int family, int type, int port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, ok, one = 1;

	memset(&ss, 0, sizeof ss);
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;

		s->sin_family = AF_INET;
		s->sin_port = htons((in_port_t)port);
		s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof *s;
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons((in_port_t)port);
		s->sin6_addr = in6addr_loopback;
		sl = sizeof *s;
	}
	fd = socket(family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	ok = bind(fd, (struct sockaddr *)&ss, sl) == 0;
	close(fd);
	return ok;
}

/* free_port - a port that UDP and TCP can bind on 127.0.0.1 and ::1 */
static int free_port(void)
{
	struct sockaddr_in s;
	socklen_t sl = sizeof s;
	int attempt, fd, port;

	for (attempt = 0; attempt < 50; attempt++) {
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		memset(&s, 0, sizeof s);
		s.sin_family = AF_INET;
		s.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(fd, (struct sockaddr *)&s, sizeof s) != 0 ||
		    getsockname(fd, (struct sockaddr *)&s, &sl) != 0) {
			close(fd);
			return -1;
		}
		close(fd);
		port = ntohs(s.sin_port);
		if (bindable(AF_INET, SOCK_DGRAM, port) &&
		    bindable(AF_INET, SOCK_STREAM, port) &&
		    bindable(AF_INET6, SOCK_DGRAM, port) &&
		    bindable(AF_INET6, SOCK_STREAM, port))
			return port;
	}
	return -1;
}

/* write_config - unbound.conf in u->dir */
static int write_config(const struct test_unbound *u, const char *lines)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof path, "%s/unbound.conf", u->dir);
	f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fprintf(f,
		"server:\n"
		"\tinterface: 127.0.0.1\n"
		"\tinterface: ::1\n"
		"\tport: %d\n"
		"\tdo-daemonize: no\n"
		"\tusername: \"\"\n"
		"\tchroot: \"\"\n"
		"\tdirectory: \"%s\"\n"
		"\tpidfile: \"%s/unbound.pid\"\n"
		"\tuse-syslog: no\n"
		"\tlogfile: \"\"\n"
		"\tverbosity: 1\n"
		"\tnum-threads: 1\n"
		"\tso-reuseport: no\n"
		"\tmodule-config: \"iterator\"\n"
		"\tdo-not-query-localhost: yes\n"
		"\tlocal-zone: \".\" refuse\n",
		u->port, u->dir, u->dir);
	if (lines != NULL)
		fprintf(f, "%s%s", lines,
			lines[0] && lines[strlen(lines) - 1] != '\n' ? "\n" : "");
	fprintf(f, "remote-control:\n\tcontrol-enable: no\n");
	ok = ferror(f) == 0;
	return (fclose(f) == 0 && ok) ? 0 : -1;
}

/* spawn - fork and exec unbound with its output in unbound.log */
static pid_t spawn(const struct test_unbound *u)
{
	char conf[128], log[128];
	pid_t parent = getpid(), pid;
	int fd;

	snprintf(conf, sizeof conf, "%s/unbound.conf", u->dir);
	snprintf(log, sizeof log, "%s/unbound.log", u->dir);
	pid = fork();
	if (pid != 0)
		return pid;
	/* child: die with the test process; no return from here */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(126);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		dup2(fd, 0);
	execl(UNBOUND_BIN, "unbound", "-d", "-c", conf, (char *)NULL);
	_exit(127);
}

/* probe - does 127.0.0.1:port answer a DNS query within ms? */
static int probe(int port, int ms)
{
	/* id 0x5eed, RD, one question: ". IN SOA" (refused: any answer does) */
	static const unsigned char q[] = {
		0x5e, 0xed, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		0x00, 0x00, 0x06, 0x00, 0x01,
	};
	struct sockaddr_in s;
	unsigned char buf[512];
	struct pollfd p;
	int fd, ok = 0;
	ssize_t n;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	memset(&s, 0, sizeof s);
	s.sin_family = AF_INET;
	s.sin_port = htons((in_port_t)port);
	s.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (sendto(fd, q, sizeof q, 0, (struct sockaddr *)&s, sizeof s) < 0)
		goto out;
	p.fd = fd;
	p.events = POLLIN;
	if (poll(&p, 1, ms) == 1) {
		n = recv(fd, buf, sizeof buf, 0);
		ok = n >= 12 && buf[0] == 0x5e && buf[1] == 0xed;
	}
out:
	close(fd);
	return ok;
}

/* log_tail - the last part of unbound.log, on one line, for u->err */
static void log_tail(const struct test_unbound *u, char *out, size_t outsz)
{
	char path[128], buf[600];
	size_t n = 0, i;
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof path, "%s/unbound.log", u->dir);
	f = fopen(path, "r");
	if (f == NULL)
		return;
	if (fseek(f, -(long)(sizeof buf - 1), SEEK_END) != 0)
		rewind(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	for (i = 0; i < n; i++)
		if (buf[i] == '\n' || buf[i] == '\r')
			buf[i] = ' ';
	buf[n] = '\0';
	snprintf(out, outsz, "%s", buf);
}

/* wait_ready - until unbound answers, exits, or READY_MS pass */
static int wait_ready(struct test_unbound *u, int *exited)
{
	long long end = now_ms() + READY_MS;
	int status;

	*exited = 0;
	while (now_ms() < end) {
		if (waitpid(u->pid, &status, WNOHANG) == u->pid) {
			*exited = 1;
			u->pid = 0;
			return -1;
		}
		if (probe(u->port, 100))
			return 0;
		usleep(20000);
	}
	return -1;
}

/* test_unbound_start - start it and wait until it answers */
int test_unbound_start(const char *local_data_lines, struct test_unbound *u)
{
	char tail[600];
	int attempt, exited = 0;

	memset(u, 0, sizeof *u);
	if (access(UNBOUND_BIN, X_OK) != 0) {
		snprintf(u->err, sizeof u->err, "%s not executable: %s",
			 UNBOUND_BIN, strerror(errno));
		return -1;
	}
	snprintf(u->dir, sizeof u->dir, "/tmp/esa-unbound-XXXXXX");
	if (mkdtemp(u->dir) == NULL) {
		snprintf(u->err, sizeof u->err, "mkdtemp: %s", strerror(errno));
		u->dir[0] = '\0';
		return -1;
	}
	/* a port can be taken between the check and unbound's bind: retry */
	for (attempt = 0; attempt < 3; attempt++) {
		u->port = free_port();
		if (u->port < 0 || write_config(u, local_data_lines) != 0) {
			snprintf(u->err, sizeof u->err, "no free loopback port "
				 "or cannot write %s/unbound.conf", u->dir);
			return -1;
		}
		u->pid = spawn(u);
		if (u->pid < 0) {
			snprintf(u->err, sizeof u->err, "fork: %s", strerror(errno));
			u->pid = 0;
			return -1;
		}
		if (wait_ready(u, &exited) == 0)
			return 0;
		if (!exited)
			break;
	}
	log_tail(u, tail, sizeof tail);
	snprintf(u->err, sizeof u->err, "unbound on 127.0.0.1:%d %s; log: %s",
		 u->port, exited ? "exited at start" :
		 "did not answer within 5 s", tail[0] ? tail : "(empty)");
	test_unbound_stop(u);
	return -1;
}

/* remove_dir - the files we made and the directory */
static void remove_dir(struct test_unbound *u)
{
	static const char *const files[] = {
		"unbound.conf", "unbound.log", "unbound.pid",
	};
	char path[128];
	size_t i;

	if (u->dir[0] == '\0')
		return;
	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", u->dir, files[i]);
		unlink(path);
	}
	rmdir(u->dir);
	u->dir[0] = '\0';
}

/* test_unbound_stop - stop it by PID and clean up */
void test_unbound_stop(struct test_unbound *u)
{
	long long end;
	int status;

	if (u->pid > 0) {
		kill(u->pid, SIGTERM);
		end = now_ms() + 3000;
		while (waitpid(u->pid, &status, WNOHANG) == 0) {
			if (now_ms() >= end) {
				kill(u->pid, SIGKILL);
				waitpid(u->pid, &status, 0);
				break;
			}
			usleep(10000);
		}
		u->pid = 0;
	}
	remove_dir(u);
}
