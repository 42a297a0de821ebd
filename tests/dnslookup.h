/*
 * dnslookup.h - two small helpers the DNS test files share: a lookup with
 * a fresh budget, and the text form of an answer's address.
 */
#ifndef ESA_TESTS_DNSLOOKUP_H
#define ESA_TESTS_DNSLOOKUP_H

#include <sys/socket.h>

#include <criterion/criterion.h>

#include "internal.h"

#define BUDGET_MS 3000

/* lookup - esa_lookup with a fresh budget */
static inline int lookup(esa_resolver *r, const char *name, uint16_t type,
			 struct esa_answer *a)
{
	return esa_lookup(r, name, type, esa_now_ms() + BUDGET_MS, a);
}

/* ip_of - the text form of record i's address */
static inline const char *ip_of(const struct esa_answer *a, size_t i,
				char buf[64])
{
	esa_format_ip(a->rr[i].type == ESA_T_AAAA ? AF_INET6 : AF_INET,
		      a->rr[i].addr, buf, 64);
	return buf;
}

/* expect_spec7_mx - a is SPEC 7's MX answer for example.com, TTL 300 */
static inline void expect_spec7_mx(const struct esa_answer *a)
{
	cr_assert_eq(a->count, 2);
	cr_expect_eq(a->rr[0].pref, 10);
	cr_expect_str_eq(a->rr[0].name, "mx01.subd.emailhosted.not");
	cr_expect_eq(a->rr[1].pref, 20);
	cr_expect_str_eq(a->rr[1].name, "mx02.subd.emailhosted.not");
	cr_expect_eq(a->ttl, 300);
}

#endif
