/*
 * learn.c - what the program's own DNS work says about where it connects
 * (issue 7)
 *
 * A mailer that delivers straight to MX hosts never tells OpenSSL the
 * recipient domain, but it looks the domain's MX records up itself, then the
 * exchanges' addresses, then connects to one of them.  resolv.c hands every
 * DNS answer the program receives (and every address getaddrinfo() or
 * gethostbyname() gives it) to this file, which remembers two kinds of fact:
 *
 *   MX     domain D's MX records named host H (an MX query for D that found
 *          no MX record makes D its own host, RFC 5321 5.1);
 *   ADDR   host H resolved to address A.
 *
 * At the handshake, shim_learned() turns the peer address A back into the
 * hosts H that resolved to it and the domains D whose MX named them: the
 * recipient domain candidates of SPEC 8.3's "mx-lookup" source, with H as the
 * MX host that led there (SPEC 4.2 step 3).  The choice between candidates
 * is the library's (esa_recipient_choose); nothing here decides anything.
 *
 * Answers are read with the library's own DNS parser (esa_dns_parse_answer,
 * the one the libresolv backend uses): the same checks of the question,
 * RCODE, CNAME chain and record data.  The question is taken from the answer
 * itself, so res_search()'s search-list expansion and res_querydomain() are
 * seen as the names actually asked.
 *
 * Facts live for their record's TTL, at least LEARN_TTL_MIN seconds (a
 * TTL-0 answer still covers the connection it was looked up for) and at
 * most the parser's cap; addresses from getaddrinfo/gethostbyname, which
 * carry no TTL, for LEARN_TTL_MIN.  The tables are per process, bounded
 * (LEARN_MAX facts of each kind; the least recently confirmed goes first
 * when full), under one mutex, which is taken around fork() so that no
 * child inherits it held.
 */
#include <arpa/nameser.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "shim.h"

#define LEARN_MAX 512		/* facts of each kind kept */
#define LEARN_TTL_MIN 60	/* seconds a fact is kept at least */

struct mx_fact {
	char domain[ESA_NAME_MAX];
	char host[ESA_NAME_MAX];
	uint64_t seen;		/* when learned (sequence number); 0: free */
	uint64_t expires_ms;
};

struct addr_fact {
	char host[ESA_NAME_MAX];
	int family;
	unsigned char addr[16];
	uint64_t seen;
	uint64_t expires_ms;
};

static struct mx_fact mx_facts[LEARN_MAX];
static struct addr_fact addr_facts[LEARN_MAX];
static size_t mx_top, addr_top;	/* slots ever used */
static uint64_t seq;		/* the order facts were learned in */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* fork_prepare, fork_release - no child inherits the lock held */
static void fork_prepare(void)
{
	pthread_mutex_lock(&lock);
}
static void fork_release(void)
{
	pthread_mutex_unlock(&lock);
}
static void register_atfork(void)
{
	pthread_atfork(fork_prepare, fork_release, fork_release);
}

/* expiry - when a fact seen now with this TTL is forgotten */
static uint64_t expiry(uint64_t now, uint32_t ttl)
{
	if (ttl < LEARN_TTL_MIN)
		ttl = LEARN_TTL_MIN;
	return now + 1000 * (uint64_t)ttl;
}

/* canon - a name as the program gave it into the canonical form (the
 * library's: ASCII lower case whatever the program's locale, no trailing
 * dot); false if empty or too long */
static bool canon(const char *in, char *out, size_t outsz)
{
	return esa_name_canon(in, strlen(in), out, outsz);
}

/* slot - the index to (re)use among top used slots of a table of cap:
 * match if one matches, else a free or expired one, else the least
 * recently seen; *top grows when a new slot is taken */
#define SLOT(table, top, cap, now, match) ({ \
	size_t best_ = 0, i_; \
	bool found_ = false; \
	for (i_ = 0; i_ < (top) && !found_; i_++) \
		if ((table)[i_].seen != 0 && (match)) \
			best_ = i_, found_ = true; \
	for (i_ = 0; i_ < (top) && !found_; i_++) \
		if ((table)[i_].seen == 0 || (table)[i_].expires_ms <= (now)) \
			best_ = i_, found_ = true; \
	if (!found_ && (top) < (cap)) \
		best_ = (top)++, found_ = true; \
	for (i_ = 0; i_ < (top) && !found_; i_++) \
		if ((table)[i_].seen < (table)[best_].seen) \
			best_ = i_; \
	best_; })

/* add_mx - domain's MX named host */
static void add_mx(const char *domain, const char *host, uint32_t ttl)
{
	uint64_t now = esa_now_ms();
	struct mx_fact *f;
	size_t i;

	pthread_once(&atfork_once, register_atfork);
	pthread_mutex_lock(&lock);
	i = SLOT(mx_facts, mx_top, LEARN_MAX, now,
		 strcmp(mx_facts[i_].domain, domain) == 0 &&
		 strcmp(mx_facts[i_].host, host) == 0);
	f = &mx_facts[i];
	esa_strlcpy(f->domain, domain, sizeof(f->domain));
	esa_strlcpy(f->host, host, sizeof(f->host));
	f->seen = ++seq;
	f->expires_ms = expiry(now, ttl);
	pthread_mutex_unlock(&lock);
}

/* add_addr - host resolved to addr */
static void add_addr(const char *host, int family, const unsigned char *addr,
		     uint32_t ttl)
{
	uint64_t now = esa_now_ms();
	size_t alen = family == AF_INET ? 4 : 16;
	struct addr_fact *f;
	size_t i;

	pthread_once(&atfork_once, register_atfork);
	pthread_mutex_lock(&lock);
	i = SLOT(addr_facts, addr_top, LEARN_MAX, now,
		 addr_facts[i_].family == family &&
		 memcmp(addr_facts[i_].addr, addr, alen) == 0 &&
		 strcmp(addr_facts[i_].host, host) == 0);
	f = &addr_facts[i];
	memset(f, 0, sizeof(*f));
	esa_strlcpy(f->host, host, sizeof(f->host));
	f->family = family;
	memcpy(f->addr, addr, alen);
	f->seen = ++seq;
	f->expires_ms = expiry(now, ttl);
	pthread_mutex_unlock(&lock);
}

/* question - the one question of a DNS message: canonical name and type;
 * false unless it is class IN, type A, AAAA or MX */
static bool question(const unsigned char *msg, int len, char *name,
		     size_t namesz, uint16_t *type)
{
	ns_msg m;
	ns_rr q;

	if (ns_initparse(msg, len, &m) < 0 || ns_msg_count(m, ns_s_qd) != 1 ||
	    ns_parserr(&m, ns_s_qd, 0, &q) < 0 || ns_rr_class(q) != ns_c_in)
		return false;
	*type = ns_rr_type(q);
	if (*type != ESA_T_A && *type != ESA_T_AAAA && *type != ESA_T_MX)
		return false;
	return canon(ns_rr_name(q), name, namesz);
}

/* shim_learn_dns - a DNS message the program received */
void shim_learn_dns(const unsigned char *msg, int len)
{
	char name[ESA_NAME_MAX], next[ESA_NAME_MAX];
	struct esa_answer ans;
	uint16_t type;
	uint32_t life;

	if (msg == NULL || len < NS_HFIXEDSZ ||
	    !question(msg, len, name, sizeof(name), &type))
		return;
	shim_busy++;
	life = esa_dns_parse_answer(msg, (size_t)len, name, type, &ans, next);
	for (size_t i = 0; ans.status == ESA_DNS_OK && i < ans.count; i++) {
		const struct esa_rr *rr = &ans.rr[i];

		if (type == ESA_T_MX)
			add_mx(name, rr->name, rr->ttl);
		else
			add_addr(name, type == ESA_T_A ? AF_INET : AF_INET6,
				 rr->addr, rr->ttl);
	}
	if (type == ESA_T_MX && ans.status == ESA_DNS_NODATA &&
	    next[0] == '\0' && !ans.null_mx)
		add_mx(name, name, life);	/* no MX: the domain itself */
	esa_answer_free(&ans);
	shim_busy--;
}

/* shim_learn_no_mx - an MX query for name found the name but no MX record
 * (the caller saw NO_DATA without the message): name is its own host */
void shim_learn_no_mx(const char *name)
{
	char n[ESA_NAME_MAX];

	if (name != NULL && strchr(name, '.') != NULL &&
	    canon(name, n, sizeof(n)))
		add_mx(n, n, 0);
}

/* shim_learn_addr - host resolved to addr, with no TTL known */
void shim_learn_addr(const char *host, int family, const void *addr)
{
	char n[ESA_NAME_MAX];
	unsigned char probe[16];

	if (host == NULL || addr == NULL ||
	    (family != AF_INET && family != AF_INET6))
		return;
	if (esa_parse_ip(host, &family, probe) == 0)
		return;		/* an address literal names no host */
	if (canon(host, n, sizeof(n)))
		add_addr(n, family, addr, 0);
}

/* One learned pair and when it was learned, for ordering. */
struct found {
	struct esa_learned l;
	uint64_t seen;
};

/* put - append a pair unless out is full */
static void put(struct found *out, size_t *n, size_t max, const char *domain,
		const char *host, uint64_t seen)
{
	if (*n >= max)
		return;
	esa_strlcpy(out[*n].l.domain, domain, sizeof(out[*n].l.domain));
	esa_strlcpy(out[*n].l.host, host, sizeof(out[*n].l.host));
	out[*n].seen = seen;
	(*n)++;
}

/* collect - under the lock: every (domain, host) pair that leads to addr,
 * then every host without a domain */
static size_t collect(int family, const unsigned char *addr,
		      struct found *out, size_t max)
{
	uint64_t now = esa_now_ms();
	size_t alen = family == AF_INET ? 4 : 16, n = 0;

	for (size_t a = 0; a < addr_top; a++) {
		const struct addr_fact *af = &addr_facts[a];
		bool named = false;

		if (af->seen == 0 || af->expires_ms <= now ||
		    af->family != family || memcmp(af->addr, addr, alen) != 0)
			continue;
		for (size_t m = 0; m < mx_top; m++) {
			const struct mx_fact *mf = &mx_facts[m];

			if (mf->seen == 0 || mf->expires_ms <= now ||
			    strcmp(mf->host, af->host) != 0)
				continue;
			put(out, &n, max, mf->domain, af->host, mf->seen);
			named = true;
		}
		if (!named)
			put(out, &n, max, "", af->host, 0);
	}
	return n;
}

/* shim_learned - what leads to the peer address: (domain, MX host) pairs,
 * the most recently learned first, then hosts no MX named */
size_t shim_learned(int family, const unsigned char *addr,
		    struct esa_learned *out, size_t max)
{
	struct found *f;
	size_t n;

	if (addr == NULL || max == 0 ||
	    (family != AF_INET && family != AF_INET6))
		return 0;
	f = calloc(max, sizeof(*f));
	if (f == NULL)
		return 0;
	pthread_mutex_lock(&lock);
	n = collect(family, addr, f, max);
	pthread_mutex_unlock(&lock);
	for (size_t i = 1; i < n; i++)	/* insertion sort, newest first */
		for (size_t k = i; k > 0 && f[k].seen > f[k - 1].seen; k--) {
			struct found t = f[k];

			f[k] = f[k - 1];
			f[k - 1] = t;
		}
	for (size_t i = 0; i < n; i++)
		out[i] = f[i].l;
	free(f);
	return n;
}
