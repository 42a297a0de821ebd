/*
 * hostilefix.h - what the hostile-input test files share: a leaf name in
 * UTF-8, the target of SPEC 7's peer, and the check that a verdict failed
 * closed.
 */
#ifndef ESA_TESTS_HOSTILEFIX_H
#define ESA_TESTS_HOSTILEFIX_H

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include <criterion/criterion.h>

#include "internal.h"
#include "pki.h"

#define NAME(s) { (s), 0, TEST_STR_UTF8, false }

/* target - recipient (normalised here) from peer 192.0.2.1 */
static inline struct esa_target target(const char *recipient)
{
	struct esa_target t;
	char why[ESA_ERR_MAX];

	memset(&t, 0, sizeof(t));
	cr_assert_eq(esa_domain_normalize(recipient, t.recipient,
					  sizeof(t.recipient), why,
					  sizeof(why)), 0, "%s", why);
	t.have_peer = true;
	t.peer_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", t.peer);
	return t;
}

/* failed_closed - the verdict fails, with a reason, matching nothing */
static inline void expect_failed_closed(const struct esa_result *res,
					enum esa_mode m, const char *row)
{
	const struct esa_verdict *v = &res->verdict[m];

	cr_expect(v->computed, "%s: %s not computed", row, esa_mode_name(m));
	cr_expect(!v->pass, "%s: %s passed on %s", row, esa_mode_name(m),
		  v->reference);
	cr_expect_eq(v->matched, -1, "%s", row);
	cr_expect_neq(v->reason[0], '\0', "%s: no reason", row);
	cr_expect(!esa_result_accept(res, m == ESA_MODE_VERIFY ?
				     ESA_TLS_REQUIRED_VERIFY :
				     ESA_TLS_REQUIRED_VERIFY_HOSTED),
		  "%s: delivered", row);
}

#endif
