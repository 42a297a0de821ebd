/*
 * dns.c - one DNS lookup interface (SPEC 6): the front end esa_lookup and
 * the in-process answer cache, shared by both backends.  The libresolv
 * backend lives in dns_libresolv.c, the static master-file backend in
 * dnsfile.c; dns_impl.h is what they share.
 *
 * Contract (internal.h, "dns.c, dns_libresolv.c, dnsfile.c"):
 *  - esa_lookup(r, name, type, deadline, out) always fills *out and returns
 *    0 exactly when out->status is ESA_DNS_OK; out->rr is malloc'd, the
 *    caller frees it with esa_answer_free().  Only A, AAAA, MX, PTR and
 *    TLSA (docs/dane.md) may be asked for.  On failure out->reason is one line naming the query,
 *    e.g. "PTR 1.2.0.192.in-addr.arpa: NXDOMAIN".
 *  - MX records come sorted by preference (stable).
 *  - The deadline bounds the whole lookup: nothing is sent once it passed
 *    (TIMEOUT); the backend is told the deadline and keeps to it.
 *  - Cache: key canonical name + type, guarded by r->lock.  An answer lives
 *    for the lifetime its backend returned (dns_libresolv.c: smallest TTL,
 *    or the RFC 2308 negative TTL capped at 60 s), at most ESA_TTL_CAP
 *    (3600 s); failures are never cached.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "dns_impl.h"

/* ---- names of things ---------------------------------------------------- */

/* esa_dns_status_name - the log name of a lookup status */
const char *esa_dns_status_name(enum esa_dns_status st)
{
	switch (st) {
	case ESA_DNS_OK:	return "ok";
	case ESA_DNS_NODATA:	return "nodata";
	case ESA_DNS_NXDOMAIN:	return "nxdomain";
	case ESA_DNS_SERVFAIL:	return "servfail";
	case ESA_DNS_REFUSED:	return "refused";
	case ESA_DNS_TIMEOUT:	return "timeout";
	case ESA_DNS_MALFORMED:	return "malformed";
	case ESA_DNS_ERROR:	return "error";
	}
	return "error";
}

/* esa_rrtype_name - the mnemonic of a record type we deal in */
const char *esa_rrtype_name(uint16_t type)
{
	switch (type) {
	case ESA_T_A:		return "A";
	case ESA_T_CNAME:	return "CNAME";
	case ESA_T_PTR:		return "PTR";
	case ESA_T_MX:		return "MX";
	case ESA_T_AAAA:	return "AAAA";
	case ESA_T_TLSA:	return "TLSA";
	}
	return "unknown";
}

/* ---- small helpers ------------------------------------------------------ */

/* esa_now_ms - monotonic milliseconds */
uint64_t esa_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* esa_reverse_name - the in-addr.arpa or ip6.arpa name of an address */
int esa_reverse_name(int family, const unsigned char *addr, char *out,
		     size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t len = 0;
	int i;

	if (out == NULL || outsz == 0 || addr == NULL)
		return -1;
	out[0] = '\0';
	if (family == AF_INET) {
		char d[4][24], buf[sizeof "255.255.255.255.in-addr.arpa"];
		size_t n;

		for (i = 0; i < 4; i++)
			esa_utoa(addr[i], d[i]);
		n = esa_cat(buf, sizeof buf, d[3], ".", d[2], ".", d[1], ".",
			    d[0], ".in-addr.arpa", (char *)NULL);
		if (n >= outsz)
			return -1;	/* out[0] is already "" */
		memcpy(out, buf, n + 1);
		return 0;
	}
	if (family != AF_INET6 || outsz < 16 * 4 + sizeof "ip6.arpa")
		return -1;
	for (i = 15; i >= 0; i--) {
		out[len++] = hex[addr[i] & 0x0f];
		out[len++] = '.';
		out[len++] = hex[addr[i] >> 4];
		out[len++] = '.';
	}
	memcpy(out + len, "ip6.arpa", sizeof "ip6.arpa");
	return 0;
}

/* esa_dns_canon - check a text name and bring it to canonical form */
int esa_dns_canon(const char *in, char *out, size_t outsz, const char **why)
{
	size_t len = strlen(in), i, label = 0;
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	if (len > 0 && in[len - 1] == '.')
		len--;		/* one trailing dot: the root label */
	if (len > 253)
		return *why = "name too long", -1;
	if (len + 1 > outsz)
		return *why = "name too long", -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '.') {
			if (label == 0)
				return *why = "empty label", -1;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '-' || c == '_') {
			if (++label > 63)
				return *why = "label longer than 63", -1;
		} else {
			return *why = "invalid character in name", -1;
		}
		out[i] = esa_ascii_lower((char)c);
	}
	if (len > 0 && label == 0)
		return *why = "empty label", -1;
	out[len] = '\0';
	return 0;
}

/* esa_dns_printable - a hostile string made safe for a one-line reason */
void esa_dns_printable(const char *in, char *out, size_t outsz)
{
	size_t i, o = 0;

	for (i = 0; in[i] != '\0' && o + 4 < outsz; i++) {
		unsigned char c = (unsigned char)in[i];

		out[o++] = (c >= 0x21 && c < 0x7f) ? (char)c : '?';
	}
	if (in[i] != '\0' && o + 4 <= outsz) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	if (outsz > 0)
		out[o < outsz ? o : outsz - 1] = '\0';
}

/* esa_answer_free - release the records of an answer */
void esa_answer_free(struct esa_answer *ans)
{
	if (ans == NULL)
		return;
	free(ans->rr);
	ans->rr = NULL;
	ans->count = ans->cap = 0;
}

/* esa_answer_push - append one record, within the cap */
int esa_answer_push(struct esa_answer *out, const struct esa_rr *rr)
{
	if (out->count >= ESA_DNS_MAX_RR)
		return 1;
	if ((rr->type == ESA_T_MX || rr->type == ESA_T_PTR) &&
	    rr->name[0] == '\0') {
		if (rr->type == ESA_T_MX)
			out->null_mx = true;	/* RFC 7505: names no host */
		return 1;
	}
	if (esa_grow((void **)&out->rr, &out->cap, out->count + 1,
		     sizeof(*out->rr)) != 0)
		return -1;
	out->rr[out->count++] = *rr;
	return 0;
}

/* answer_copy - a deep copy of an answer; 0 or -1 on ENOMEM */
static int answer_copy(struct esa_answer *dst, const struct esa_answer *src)
{
	*dst = *src;
	dst->rr = NULL;
	dst->cap = 0;
	if (src->count == 0)
		return 0;
	dst->rr = malloc(src->count * sizeof *dst->rr);
	if (dst->rr == NULL) {
		dst->count = 0;
		return -1;
	}
	dst->cap = src->count;
	memcpy(dst->rr, src->rr, src->count * sizeof *dst->rr);
	return 0;
}

/* ---- resolver objects --------------------------------------------------- */

/* esa_resolver_alloc - a zeroed resolver with its lock initialised */
esa_resolver *esa_resolver_alloc(enum esa_resolver_kind kind)
{
	esa_resolver *r = calloc(1, sizeof *r);

	if (r == NULL)
		return NULL;
	if (pthread_mutex_init(&r->lock, NULL) != 0) {
		free(r);
		return NULL;
	}
	r->kind = kind;
	return r;
}

/* esa_resolver_count - one more query sent or lookup answered */
void esa_resolver_count(esa_resolver *r)
{
	__atomic_fetch_add(&r->queries, 1, __ATOMIC_RELAXED);
}

/* esa_resolver_queries - queries sent (static: lookups answered) */
unsigned long esa_resolver_queries(const esa_resolver *r)
{
	if (r == NULL)
		return 0;
	return __atomic_load_n(&r->queries, __ATOMIC_RELAXED);
}

/* ---- the cache ------------------------------------------------------------ */

struct esa_cache_entry {
	struct esa_cache_entry *next;
	uint16_t type;
	uint64_t stored_ms;
	uint64_t expires_ms;
	struct esa_answer ans;	/* rr owned by the entry */
	char name[ESA_NAME_MAX];
};

/* cache_bucket - FNV-1a of name and type */
static size_t cache_bucket(const char *name, uint16_t type)
{
	uint32_t h = 2166136261u;

	for (; *name != '\0'; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	h = (h ^ (type & 0xff)) * 16777619u;
	h = (h ^ (type >> 8)) * 16777619u;
	return h % ESA_CACHE_BUCKETS;
}

/* entry_free - release one cache entry */
static void entry_free(struct esa_cache_entry *e)
{
	free(e->ans.rr);
	free(e);
}

/* cache_purge - drop expired entries, or all (now == 0); lock held */
static void cache_purge(esa_resolver *r, uint64_t now)
{
	size_t b;

	for (b = 0; b < ESA_CACHE_BUCKETS; b++) {
		struct esa_cache_entry **pp = &r->bucket[b];

		while (*pp != NULL) {
			struct esa_cache_entry *e = *pp;

			if (now != 0 && e->expires_ms > now) {
				pp = &e->next;
				continue;
			}
			*pp = e->next;
			entry_free(e);
			r->ncached--;
		}
	}
}

/* cache_get - a live cached answer for name/type into out; true if found */
static bool cache_get(esa_resolver *r, const char *name, uint16_t type,
		      uint64_t now, struct esa_answer *out)
{
	struct esa_cache_entry **pp, *e;
	bool found = false;
	uint32_t age;
	size_t i;

	pthread_mutex_lock(&r->lock);
	for (pp = &r->bucket[cache_bucket(name, type)]; (e = *pp) != NULL;) {
		if (e->expires_ms <= now) {	/* expired: drop on the way */
			*pp = e->next;
			entry_free(e);
			r->ncached--;
			continue;
		}
		if (e->type == type && strcmp(e->name, name) == 0)
			break;
		pp = &e->next;
	}
	if (e != NULL && answer_copy(out, &e->ans) == 0) {
		found = true;
		age = (uint32_t)((now - e->stored_ms) / 1000u);
		out->cached = true;
		out->ttl = out->ttl > age ? out->ttl - age : 0;
		for (i = 0; i < out->count; i++)
			out->rr[i].ttl = out->rr[i].ttl > age ?
					 out->rr[i].ttl - age : 0;
	}
	pthread_mutex_unlock(&r->lock);
	return found;
}

/* cache_put - remember ans for life seconds (replacing an older entry) */
static void cache_put(esa_resolver *r, const char *name, uint16_t type,
		      uint32_t life, const struct esa_answer *ans)
{
	struct esa_cache_entry *e = calloc(1, sizeof *e), **pp;
	uint64_t now = esa_now_ms();
	size_t b = cache_bucket(name, type);

	if (e == NULL)
		return;
	if (answer_copy(&e->ans, ans) != 0) {
		free(e);
		return;
	}
	esa_strlcpy(e->name, name, sizeof e->name);
	e->type = type;
	e->stored_ms = now;
	e->expires_ms = now + (uint64_t)(life > ESA_TTL_CAP ? ESA_TTL_CAP : life) * 1000u;
	pthread_mutex_lock(&r->lock);
	for (pp = &r->bucket[b]; *pp != NULL; pp = &(*pp)->next) {
		struct esa_cache_entry *old = *pp;

		if (old->type == type && strcmp(old->name, name) == 0) {
			*pp = old->next;
			entry_free(old);
			r->ncached--;
			break;
		}
	}
	if (r->ncached >= ESA_CACHE_MAX)
		cache_purge(r, now);
	if (r->ncached >= ESA_CACHE_MAX)
		cache_purge(r, 0);	/* still full of live answers: start over */
	e->next = r->bucket[b];
	r->bucket[b] = e;
	r->ncached++;
	pthread_mutex_unlock(&r->lock);
}

/* esa_resolver_fork_lock - take or release the cache lock (fork) */
void esa_resolver_fork_lock(esa_resolver *r, bool lock)
{
	if (r == NULL)
		return;
	if (lock)
		pthread_mutex_lock(&r->lock);
	else
		pthread_mutex_unlock(&r->lock);
}

/* esa_resolver_flush - drop every cached answer */
void esa_resolver_flush(esa_resolver *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->lock);
	cache_purge(r, 0);
	pthread_mutex_unlock(&r->lock);
}

/* esa_resolver_free - release a resolver, its backend and its cache */
void esa_resolver_free(esa_resolver *r)
{
	if (r == NULL)
		return;
	if (r->destroy != NULL)
		r->destroy(r);
	cache_purge(r, 0);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* ---- the front end ---------------------------------------------------- */

/* type_supported - may this type be asked for? */
static bool type_supported(uint16_t type)
{
	return type == ESA_T_A || type == ESA_T_AAAA || type == ESA_T_MX ||
	       type == ESA_T_PTR || type == ESA_T_TLSA;
}

/* esa_dns_default_detail - the reason text when the backend gave none */
const char *esa_dns_default_detail(enum esa_dns_status st)
{
	switch (st) {
	case ESA_DNS_OK:	return "";
	case ESA_DNS_NODATA:	return "NODATA (the name has no such record)";
	case ESA_DNS_NXDOMAIN:	return "NXDOMAIN";
	case ESA_DNS_SERVFAIL:	return "SERVFAIL";
	case ESA_DNS_REFUSED:	return "REFUSED";
	case ESA_DNS_TIMEOUT:	return "timeout";
	case ESA_DNS_MALFORMED:	return "malformed answer";
	case ESA_DNS_ERROR:	return "lookup failed";
	}
	return "lookup failed";
}

/* word_reason - "TYPE name: detail" in out->reason when status is not OK */
static void word_reason(const char *name, uint16_t type,
			struct esa_answer *out)
{
	char detail[ESA_ERR_MAX];

	if (out->status == ESA_DNS_OK) {
		out->reason[0] = '\0';
		return;
	}
	esa_strlcpy(detail, out->reason[0] != '\0' ? out->reason :
		    esa_dns_default_detail(out->status), sizeof detail);
	snprintf(out->reason, sizeof out->reason, "%s %s: %.300s",
		 esa_rrtype_name(type), name, detail);
}

/* esa_dns_sort_mx - MX records by preference, ties in answer order
 * (stable), so logs and explanations do not depend on the server's rrset
 * rotation */
void esa_dns_sort_mx(struct esa_answer *out)
{
	size_t i, j;

	for (i = 1; i < out->count; i++) {
		struct esa_rr key = out->rr[i];

		for (j = i; j > 0 && out->rr[j - 1].pref > key.pref; j--)
			out->rr[j] = out->rr[j - 1];
		out->rr[j] = key;
	}
}

/* esa_lookup - look name up for type within the deadline (SPEC 6) */
int esa_lookup(esa_resolver *r, const char *name, uint16_t type,
	       uint64_t deadline_ms, struct esa_answer *out)
{
	char qname[ESA_NAME_MAX], shown[80];
	uint64_t start = esa_now_ms();
	const char *why = NULL;
	uint32_t life;

	memset(out, 0, sizeof *out);
	out->status = ESA_DNS_ERROR;
	out->rcode = -1;
	if (r == NULL || r->query == NULL) {
		esa_strlcpy(out->reason, "no resolver", sizeof out->reason);
		goto out;
	}
	if (name == NULL || esa_dns_canon(name, qname, sizeof qname, &why) ||
	    qname[0] == '\0') {
		esa_dns_printable(name != NULL ? name : "(null)", shown, sizeof shown);
		snprintf(out->reason, sizeof out->reason,
			 "%s %s: not a valid query name (%s)",
			 esa_rrtype_name(type), shown, why ? why : "root");
		goto out;
	}
	if (!type_supported(type)) {
		snprintf(out->reason, sizeof out->reason,
			 "type %u %s: not a supported query type",
			 (unsigned)type, qname);
		goto out;
	}
	if (r->cache_enabled && cache_get(r, qname, type, start, out))
		goto out;
	if (start >= deadline_ms) {
		out->status = ESA_DNS_TIMEOUT;
		esa_strlcpy(out->reason, "DNS time budget spent, query not sent",
			    sizeof out->reason);
		word_reason(qname, type, out);
		goto out;
	}
	life = r->query(r, qname, type, deadline_ms, out);
	if (type == ESA_T_MX)
		esa_dns_sort_mx(out);
	word_reason(qname, type, out);
	if (r->cache_enabled && life > 0)
		cache_put(r, qname, type, life, out);
out:
	out->ms = (unsigned)(esa_now_ms() - start);
	return out->status == ESA_DNS_OK ? 0 : -1;
}
