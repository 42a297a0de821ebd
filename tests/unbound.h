/*
 * unbound.h - a private unbound(8) on loopback for integration tests.
 *
 * test_unbound_start writes a configuration into a fresh directory under
 * /tmp, runs /usr/sbin/unbound in the foreground on 127.0.0.1 and ::1 at a
 * free port, and returns once it answers (at most about 5 s).  It serves
 * only the local zones given and refuses everything else (local-zone "."
 * refuse): it never recurses and never talks to another server.  The
 * caller must call test_unbound_stop, which kills it by PID, reaps it and
 * removes the directory.  The child also dies with the process that
 * started it (PR_SET_PDEATHSIG), so a crashed test leaves nothing behind.
 *
 * No Criterion in here: callers turn -1 into a test failure with u->err.
 */
#ifndef TEST_UNBOUND_H
#define TEST_UNBOUND_H

#include <sys/types.h>

struct test_unbound {
	pid_t pid;		/* > 0 while running */
	int port;		/* UDP and TCP, on 127.0.0.1 and ::1 */
	char dir[64];		/* holds unbound.conf, unbound.log, unbound.pid */
	char err[1024];		/* why start failed, with the end of the log */
};

/* SPEC 7's reference records, as unbound server: lines. */
#define TEST_UNBOUND_SPEC7 \
	"local-zone: \"example.com.\" static\n" \
	"local-data: \"example.com. 300 IN MX 10 mx01.subd.emailhosted.not.\"\n" \
	"local-data: \"example.com. 300 IN MX 20 mx02.subd.emailhosted.not.\"\n" \
	"local-zone: \"emailhosted.not.\" static\n" \
	"local-data: \"mx01.subd.emailhosted.not. 300 IN A 192.0.2.1\"\n" \
	"local-data: \"mx02.subd.emailhosted.not. 300 IN A 192.0.2.2\"\n" \
	"local-data: \"mx0a.emailhosted.not. 300 IN A 192.0.2.1\"\n" \
	"local-data: \"mx0b.emailhosted.not. 300 IN A 192.0.2.2\"\n" \
	"local-zone: \"2.0.192.in-addr.arpa.\" static\n" \
	"local-data-ptr: \"192.0.2.1 300 mx0a.emailhosted.not.\"\n" \
	"local-data-ptr: \"192.0.2.2 300 mx0b.emailhosted.not.\"\n"

/* test_unbound_start - start unbound with these extra server: lines
 * (local-zone, local-data, local-data-ptr, ...; NULL for none).  0 once it
 * answers on 127.0.0.1:u->port; -1 with u->err saying why. */
int test_unbound_start(const char *local_data_lines, struct test_unbound *u);

/* test_unbound_stop - kill it (SIGTERM, then SIGKILL after 3 s), reap it,
 * remove its directory.  Safe to call twice or after a failed start. */
void test_unbound_stop(struct test_unbound *u);

#endif
