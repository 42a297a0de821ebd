/*
 * dnslookup.h - two small helpers the DNS test files share: a lookup with
 * a fresh budget, and the text form of an answer's address.
 */
#ifndef ESA_TESTS_DNSLOOKUP_H
#define ESA_TESTS_DNSLOOKUP_H

#include <sys/socket.h>

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

#endif
