/*
 * dns.c - one DNS lookup interface (SPEC 6): the front end esa_lookup, the
 * in-process answer cache, and the libresolv backend.  The static
 * master-file backend lives in dnsfile.c.
 *
 * Contract (internal.h, "dns.c / dnsfile.c"):
 *  - esa_lookup(r, name, type, deadline, out) always fills *out and returns
 *    0 exactly when out->status is ESA_DNS_OK; out->rr is malloc'd, the
 *    caller frees it with esa_answer_free().  Only A, AAAA, MX and PTR may
 *    be asked for.  On failure out->reason is one line naming the query,
 *    e.g. "PTR 1.2.0.192.in-addr.arpa: NXDOMAIN".
 *  - MX records come sorted by preference (stable).
 *  - Answers are hostile input.  Only records of the asked type owned by
 *    the query name or a name on its CNAME chain (followed through the
 *    answer section, at most 8 deep) are kept; record names must be LDH
 *    (plus '_') after decompression, anything else is dropped as malformed.
 *    At most ESA_DNS_MAX_RR records are kept.
 *  - libresolv: a fresh struct __res_state per lookup (res_ninit, then
 *    res_nclose), never the global _res, so threads may share a resolver.
 *    The query is built with res_nmkquery (RD and AD set, EDNS0 OPT added
 *    here, no DO bit) and sent with res_nsend; we read the RCODE ourselves
 *    because res_nquery folds REFUSED, SERVFAIL and a lost packet into one
 *    h_errno.  A nameserver override replaces the system list: IPv4 in
 *    nsaddr_list[0], IPv6 in _u._ext.nsaddrs[0] (which res_nclose frees).
 *  - Truncation: glibc's own TCP fallback has no timeout, so RES_IGNTC is
 *    set and a truncated answer is asked again over TCP here, within the
 *    deadline.
 *  - The deadline bounds the whole lookup: nothing is sent once it passed
 *    (TIMEOUT).  glibc's timers count whole seconds, at least one, so a
 *    lookup started with less than a second left may overrun it by < 1 s.
 *  - Cache: key canonical name + type, guarded by r->lock.  Positive answers
 *    live for the smallest TTL of the kept records and followed CNAMEs,
 *    capped at 3600 s; NXDOMAIN and NODATA for the SOA negative TTL
 *    (RFC 2308: min of SOA TTL and MINIMUM) capped at 60 s, 60 s when the
 *    answer has no SOA; failures are never cached.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dns_impl.h"

#define TTL_CAP 3600		/* seconds an answer may stay cached */
#define NEG_TTL_MAX 60		/* seconds a NXDOMAIN/NODATA may stay cached */
#define ANS_MAX 65536		/* largest DNS message */
#define QBUF_MAX 512		/* query buffer; a query is < 300 octets */
#define EDNS_UDP_SIZE 1232	/* advertised UDP payload (DNS flag day 2020) */

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
	}
	return "unknown";
}

/* rcode_name - the mnemonic of a DNS RCODE, for reasons */
static const char *rcode_name(int rcode)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
		"REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH",
		"NOTZONE",
	};

	if (rcode >= 0 && (size_t)rcode < sizeof names / sizeof names[0])
		return names[rcode];
	return "unknown RCODE";
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

/* printable - a hostile string made safe for a one-line reason */
static void printable(const char *in, char *out, size_t outsz)
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

/* ttl_clamp - RFC 2181 8: a TTL with the top bit set means zero */
static uint32_t ttl_clamp(uint32_t ttl)
{
	return ttl > 0x7fffffffu ? 0 : ttl;
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
	e->expires_ms = now + (uint64_t)(life > TTL_CAP ? TTL_CAP : life) * 1000u;
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
	       type == ESA_T_PTR;
}

/* default_detail - the reason text when the backend gave none */
static const char *default_detail(enum esa_dns_status st)
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
		    default_detail(out->status), sizeof detail);
	snprintf(out->reason, sizeof out->reason, "%s %s: %.300s",
		 esa_rrtype_name(type), name, detail);
}

/* sort_mx - MX records by preference, ties in answer order (stable), so
 * logs and explanations do not depend on the server's rrset rotation */
static void sort_mx(struct esa_answer *out)
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
		printable(name != NULL ? name : "(null)", shown, sizeof shown);
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
		sort_mx(out);
	word_reason(qname, type, out);
	if (r->cache_enabled && life > 0)
		cache_put(r, qname, type, life, out);
out:
	out->ms = (unsigned)(esa_now_ms() - start);
	return out->status == ESA_DNS_OK ? 0 : -1;
}

/* ---- libresolv backend: the nameserver --------------------------------- */

/* parse_port - a decimal port 1..65535 */
static int parse_port(const char *s, in_port_t *port)
{
	unsigned long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535)
			return -1;
	}
	if (v == 0)
		return -1;
	*port = (in_port_t)v;
	return 0;
}

/* parse_nameserver - "IP", "IP:PORT", "[IPv6]:PORT", "[IPv6]", bare IPv6 */
static int parse_nameserver(const char *text, esa_resolver *r)
{
	char host[64];
	const char *port = NULL, *colon = strchr(text, ':');
	struct in6_addr a6;
	struct in_addr a4;
	in_port_t p = 53;
	size_t hl;

	if (text[0] == '[') {
		const char *end = strchr(text, ']');

		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return -1;
		hl = (size_t)(end - text - 1);
		if (hl >= sizeof host)
			return -1;
		memcpy(host, text + 1, hl);
		port = end[1] == ':' ? end + 2 : NULL;
	} else if (colon != NULL && strchr(colon + 1, ':') == NULL) {
		hl = (size_t)(colon - text);	/* IPv4:PORT */
		if (hl >= sizeof host)
			return -1;
		memcpy(host, text, hl);
		port = colon + 1;
	} else {
		hl = strlen(text);		/* IPv4 or bare IPv6 */
		if (hl >= sizeof host)
			return -1;
		memcpy(host, text, hl);
	}
	host[hl] = '\0';
	if (port != NULL && parse_port(port, &p) != 0)
		return -1;
	memset(&r->ns, 0, sizeof r->ns);
	if (text[0] != '[' && inet_pton(AF_INET, host, &a4) == 1) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&r->ns;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(p);
		sin->sin_addr = a4;
		r->nslen = sizeof *sin;
		snprintf(r->ns_text, sizeof r->ns_text, "%.46s:%u", host, (unsigned)p);
	} else if ((text[0] == '[' || port == NULL) &&
		   inet_pton(AF_INET6, host, &a6) == 1) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&r->ns;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(p);
		sin6->sin6_addr = a6;
		r->nslen = sizeof *sin6;
		snprintf(r->ns_text, sizeof r->ns_text, "[%.46s]:%u", host, (unsigned)p);
	} else {
		return -1;
	}
	r->have_ns = true;
	return 0;
}

/* ---- libresolv backend: one exchange ----------------------------------- */

/* Everything one libresolv lookup needs (calloc'd: it is 1.5 KB). */
struct lr_ctx {
	esa_resolver *r;
	const char *name;
	uint16_t type;
	uint64_t deadline;
	struct __res_state st;
	bool st_ready;
	unsigned char q[QBUF_MAX];
	int qlen;
	unsigned char *ans;	/* ANS_MAX octets, malloc'd */
	int alen;
};

/* lr_keep_servers - ask only the first n nameservers.  res_nclose frees
 * _u._ext.nsaddrs[] only below nscount, so the slots dropped are freed
 * here; no socket is open between res_nsend calls (no RES_STAYOPEN). */
static void lr_keep_servers(struct __res_state *st, int n)
{
	int i;

	for (i = n; i < MAXNS; i++) {
		free(st->_u._ext.nsaddrs[i]);
		st->_u._ext.nsaddrs[i] = NULL;
	}
	if (st->nscount > n)
		st->nscount = n;
}

/* lr_override - make the override the only nameserver of st.  IPv6 uses
 * glibc's extended slot: nsaddr_list[0].sin_family 0 and _u._ext.nsaddrs[0]
 * a malloc'd sockaddr_in6, exactly what res_ninit builds for an IPv6
 * "nameserver" line and what res_nclose frees. */
static int lr_override(const esa_resolver *r, struct __res_state *st)
{
	lr_keep_servers(st, 1);
	if (r->ns.ss_family == AF_INET) {
		memcpy(&st->nsaddr_list[0], &r->ns, sizeof st->nsaddr_list[0]);
	} else {
		if (st->_u._ext.nsaddrs[0] == NULL)
			st->_u._ext.nsaddrs[0] = malloc(sizeof(struct sockaddr_in6));
		if (st->_u._ext.nsaddrs[0] == NULL)
			return -1;
		memcpy(st->_u._ext.nsaddrs[0], &r->ns, sizeof(struct sockaddr_in6));
		memset(&st->nsaddr_list[0], 0, sizeof st->nsaddr_list[0]);
	}
	st->nscount = 1;
	return 0;
}

/* lr_timers - glibc's retrans/retry from the time left: a try waits about
 * retrans seconds per server (at least one), so retry * retrans * nscount
 * <= seconds left; with fewer seconds than servers, fewer servers */
static void lr_timers(struct __res_state *st, uint64_t deadline)
{
	uint64_t now = esa_now_ms();
	int secs = now < deadline ? (int)((deadline - now) / 1000u) : 0;
	int ns;

	if (secs < 1)
		secs = 1;
	if (secs > 30)
		secs = 30;
	if (st->nscount > secs)
		lr_keep_servers(st, secs);
	ns = st->nscount > 0 ? st->nscount : 1;
	st->retry = secs >= 2 * ns ? 2 : 1;
	st->retrans = secs / (ns * st->retry);
	if (st->retrans < 1)
		st->retrans = 1;
}

/* lr_init - a fresh per-lookup resolver state with our options */
static int lr_init(struct lr_ctx *c, struct esa_answer *out)
{
	memset(&c->st, 0, sizeof c->st);
	if (res_ninit(&c->st) != 0) {
		snprintf(out->reason, sizeof out->reason,
			 "res_ninit failed: %s", strerror(errno));
		return -1;
	}
	c->st_ready = true;
	/* No search list, no rotation, no glibc TCP fallback (it has no
	 * timeout); keep the AD bit (RES_TRUSTAD, glibc >= 2.31) and never
	 * reload resolv.conf over our changes. */
	c->st.options = RES_INIT | RES_RECURSE | RES_IGNTC | RES_TRUSTAD |
			RES_NORELOAD;
	/* A non-zero pfcode makes res_nsend return SERVFAIL, REFUSED and
	 * NOTIMP answers instead of dropping them ("called from dig"), so
	 * the RCODE can be reported.  pfcode only selects debug printing. */
	c->st.pfcode = RES_PRF_HEAD1;
	if (c->r->have_ns && lr_override(c->r, &c->st) != 0) {
		esa_strlcpy(out->reason, "out of memory", sizeof out->reason);
		return -1;
	}
	return 0;
}

/* lr_mkquery - build the query in c->q: RD, AD (RFC 6840 5.7) and, with
 * edns, an OPT record advertising EDNS_UDP_SIZE (RFC 6891) */
static int lr_mkquery(struct lr_ctx *c, bool edns)
{
	int n = res_nmkquery(&c->st, ns_o_query, c->name, ns_c_in, c->type,
			     NULL, 0, NULL, c->q, sizeof c->q);

	if (n < HFIXEDSZ || n + 11 > (int)sizeof c->q)
		return -1;
	c->q[3] |= 0x20;	/* AD: tell us whether the data was validated */
	if (edns) {
		unsigned char *p = c->q + n;

		*p++ = 0;			/* owner: root */
		NS_PUT16(ns_t_opt, p);
		NS_PUT16(EDNS_UDP_SIZE, p);	/* class: UDP payload size */
		NS_PUT32(0, p);			/* ext-rcode, version, flags */
		NS_PUT16(0, p);			/* rdlength */
		n += 11;
		c->q[10] = 0;
		c->q[11] = 1;			/* ARCOUNT */
	}
	c->qlen = n;
	return 0;
}

/* io_all - send or receive exactly len octets on a non-blocking socket */
static int io_all(int fd, unsigned char *buf, size_t len, bool wr,
		  uint64_t deadline)
{
	size_t done = 0;

	while (done < len) {
		ssize_t k = wr ? send(fd, buf + done, len - done, MSG_NOSIGNAL)
			       : recv(fd, buf + done, len - done, 0);

		if (k > 0) {
			done += (size_t)k;
			continue;
		}
		if (k == 0) {
			errno = ECONNRESET;	/* the server hung up */
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (esa_wait_fd(fd, wr ? POLLOUT : POLLIN, deadline) != 0)
			return -1;
	}
	return 0;
}

/* lr_server - the address of the first nameserver, for the TCP retry */
static int lr_server(const struct lr_ctx *c, struct sockaddr_storage *ss,
		     socklen_t *sl)
{
	memset(ss, 0, sizeof *ss);
	if (c->r->have_ns) {
		memcpy(ss, &c->r->ns, c->r->nslen);
		*sl = c->r->nslen;
	} else if (c->st.nscount > 0 &&
		   c->st.nsaddr_list[0].sin_family == AF_INET) {
		memcpy(ss, &c->st.nsaddr_list[0], sizeof(struct sockaddr_in));
		*sl = sizeof(struct sockaddr_in);
	} else if (c->st.nscount > 0 && c->st._u._ext.nsaddrs[0] != NULL) {
		memcpy(ss, c->st._u._ext.nsaddrs[0], sizeof(struct sockaddr_in6));
		*sl = sizeof(struct sockaddr_in6);
	} else {
		errno = EADDRNOTAVAIL;
		return -1;
	}
	return 0;
}

/* lr_tcp - ask again over TCP (RFC 7766), bounded by the deadline; the
 * answer length, or -1 with errno */
static int lr_tcp(struct lr_ctx *c)
{
	struct sockaddr_storage ss;
	unsigned char buf[2 + QBUF_MAX], len2[2];
	socklen_t sl, el = sizeof(int);
	int fd = -1, rc = -1, err = 0, save;
	size_t n;

	if (lr_server(c, &ss, &sl) != 0)
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	esa_resolver_count(c->r);
	if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
		if (errno != EINPROGRESS || esa_wait_fd(fd, POLLOUT, c->deadline))
			goto out;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) || err) {
			errno = err ? err : errno;
			goto out;
		}
	}
	buf[0] = (unsigned char)(c->qlen >> 8);
	buf[1] = (unsigned char)c->qlen;
	memcpy(buf + 2, c->q, (size_t)c->qlen);
	if (io_all(fd, buf, (size_t)c->qlen + 2, true, c->deadline) ||
	    io_all(fd, len2, 2, false, c->deadline))
		goto out;
	n = (size_t)len2[0] << 8 | len2[1];
	if (io_all(fd, c->ans, n, false, c->deadline))
		goto out;
	rc = (int)n;	/* n <= 65535 = ANS_MAX - 1 */
out:
	save = errno;
	close(fd);
	errno = save;
	return rc;
}

/* lr_failed - the status of an exchange that brought no answer */
static void lr_failed(struct lr_ctx *c, int err, const char *how,
		      struct esa_answer *out)
{
	if (err == ETIMEDOUT || esa_now_ms() >= c->deadline) {
		out->status = ESA_DNS_TIMEOUT;
		snprintf(out->reason, sizeof out->reason,
			 "timeout (no answer from %s%s)", c->r->ns_text, how);
	} else if (err == ECONNREFUSED) {
		out->status = ESA_DNS_TIMEOUT;	/* nobody answered */
		snprintf(out->reason, sizeof out->reason,
			 "no answer from %s%s (connection refused)",
			 c->r->ns_text, how);
	} else {
		out->status = ESA_DNS_ERROR;
		snprintf(out->reason, sizeof out->reason,
			 "query to %s%s failed: %s", c->r->ns_text, how,
			 strerror(err));
	}
}

/* lr_exchange - send the query, UDP then TCP when truncated; an EDNS
 * FORMERR is asked again without EDNS.  0 with c->ans/alen, or -1 */
static int lr_exchange(struct lr_ctx *c, struct esa_answer *out)
{
	int attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		if (lr_mkquery(c, attempt == 0) != 0) {
			out->status = ESA_DNS_ERROR;
			esa_strlcpy(out->reason, "cannot build the query",
				    sizeof out->reason);
			return -1;
		}
		if (attempt > 0 && esa_now_ms() >= c->deadline) {
			lr_failed(c, ETIMEDOUT, "", out);
			return -1;
		}
		lr_timers(&c->st, c->deadline);
		esa_resolver_count(c->r);
		c->alen = res_nsend(&c->st, c->q, c->qlen, c->ans, ANS_MAX);
		if (c->alen < 0) {
			lr_failed(c, errno, "", out);
			return -1;
		}
		if (c->alen >= HFIXEDSZ && (c->ans[2] & 0x02)) {	/* TC */
			c->alen = lr_tcp(c);
			if (c->alen < 0) {
				lr_failed(c, errno, " over TCP (answer truncated)",
					  out);
				return -1;
			}
		}
		if (attempt == 0 && c->alen >= HFIXEDSZ &&
		    (c->ans[3] & 0x0f) == ns_r_formerr)
			continue;	/* an old server that rejects EDNS */
		return 0;
	}
	return 0;
}

/* ---- libresolv backend: reading the answer ----------------------------- */

/* rdata_name - the domain name that fills [p, end) of an rdata, checked and
 * canonical; 0 or -1 */
static int rdata_name(const ns_msg *msg, const unsigned char *p,
		      const unsigned char *end, char *out, size_t outsz)
{
	char text[NS_MAXDNAME];
	int n = ns_name_uncompress(ns_msg_base(*msg), ns_msg_end(*msg), p,
				   text, sizeof text);

	if (n < 0 || p + n != end)
		return -1;
	return esa_dns_canon(text, out, outsz, NULL);
}

/* rr_convert - one answer record into an esa_rr; -1 if its data is bad */
static int rr_convert(const ns_msg *msg, const ns_rr *rr, struct esa_rr *o)
{
	const unsigned char *rd = ns_rr_rdata(*rr);
	unsigned rdlen = ns_rr_rdlen(*rr);

	memset(o, 0, sizeof *o);
	o->type = ns_rr_type(*rr);
	o->ttl = ttl_clamp(ns_rr_ttl(*rr));
	switch (o->type) {
	case ESA_T_A:
		if (rdlen != 4)
			return -1;
		memcpy(o->addr, rd, 4);
		return 0;
	case ESA_T_AAAA:
		if (rdlen != 16)
			return -1;
		memcpy(o->addr, rd, 16);
		return 0;
	case ESA_T_MX:
		if (rdlen < 3)
			return -1;
		o->pref = ns_get16(rd);
		return rdata_name(msg, rd + 2, rd + rdlen, o->name, sizeof o->name);
	case ESA_T_PTR:
		return rdata_name(msg, rd, rd + rdlen, o->name, sizeof o->name);
	}
	return -1;
}

/* The CNAME chain of one answer: the name asked, then each target. */
struct chain {
	char name[ESA_CNAME_MAX + 1][ESA_NAME_MAX];
	size_t n;
	size_t limit;		/* names allowed: 8 CNAMEs over all queries */
	uint32_t ttl;		/* smallest CNAME TTL */
};

/* chain_has - is owner (as ns_parserr prints it) on the chain? */
static bool chain_has(const struct chain *ch, const char *owner)
{
	size_t i;

	for (i = 0; i < ch->n; i++)
		if (esa_ascii_streq(ch->name[i], owner))
			return true;
	return false;
}

/* chain_next - the CNAME owned by the chain's last name: 1 found, 0 none,
 * -1 malformed (why set) */
static int chain_next(ns_msg *msg, struct chain *ch, const char **why)
{
	char target[ESA_NAME_MAX];
	int i, count = ns_msg_count(*msg, ns_s_an);
	ns_rr rr;

	for (i = 0; i < count; i++) {
		if (ns_parserr(msg, ns_s_an, i, &rr) < 0)
			return *why = "unparseable answer record", -1;
		if (ns_rr_type(rr) != ns_t_cname || ns_rr_class(rr) != ns_c_in ||
		    !esa_ascii_streq(ns_rr_name(rr), ch->name[ch->n - 1]))
			continue;
		if (ch->n >= ch->limit)
			return *why = "CNAME chain longer than 8", -1;
		if (rdata_name(msg, ns_rr_rdata(rr),
			       ns_rr_rdata(rr) + ns_rr_rdlen(rr),
			       target, sizeof target) != 0 || target[0] == '\0')
			return *why = "CNAME with a malformed target", -1;
		if (chain_has(ch, target))
			return *why = "CNAME loop", -1;
		memcpy(ch->name[ch->n++], target, sizeof target);
		if (ttl_clamp(ns_rr_ttl(rr)) < ch->ttl)
			ch->ttl = ttl_clamp(ns_rr_ttl(rr));
		return 1;
	}
	return 0;
}

/* ans_collect - keep the records of the asked type on the chain; the cache
 * lifetime, status set */
static uint32_t ans_collect(ns_msg *msg, const struct lr_ctx *c,
			    const struct chain *ch, struct esa_answer *out)
{
	int i, count = ns_msg_count(*msg, ns_s_an), bad = 0;
	uint32_t minttl = TTL_CAP;
	struct esa_rr e;
	ns_rr rr;

	for (i = 0; i < count; i++) {
		if (ns_parserr(msg, ns_s_an, i, &rr) < 0) {
			out->status = ESA_DNS_MALFORMED;
			esa_strlcpy(out->reason, "unparseable answer record",
				    sizeof out->reason);
			return 0;
		}
		if (ns_rr_type(rr) != c->type || ns_rr_class(rr) != ns_c_in ||
		    !chain_has(ch, ns_rr_name(rr)))
			continue;	/* not ours: ignored (internal.h) */
		if (rr_convert(msg, &rr, &e) != 0) {
			bad++;		/* hostile or broken data: skipped */
			continue;
		}
		if (esa_answer_push(out, &e) < 0) {
			out->status = ESA_DNS_ERROR;
			esa_strlcpy(out->reason, "out of memory", sizeof out->reason);
			return 0;
		}
		if (e.ttl < minttl)
			minttl = e.ttl;
	}
	if (out->count > 0) {
		out->status = ESA_DNS_OK;
		out->ttl = TTL_CAP;
		for (i = 0; i < (int)out->count; i++)
			if (out->rr[i].ttl < out->ttl)
				out->ttl = out->rr[i].ttl;
		return minttl < ch->ttl ? minttl : ch->ttl;
	}
	if (bad > 0) {
		out->status = ESA_DNS_MALFORMED;
		snprintf(out->reason, sizeof out->reason,
			 "%d record%s with malformed data dropped", bad,
			 bad == 1 ? "" : "s");
		return 0;
	}
	out->status = ESA_DNS_NODATA;	/* the caller reads the SOA */
	return 0;
}

/* neg_ttl - how long a NXDOMAIN/NODATA may be cached (RFC 2308 5) */
static uint32_t neg_ttl(ns_msg *msg)
{
	int i, count = ns_msg_count(*msg, ns_s_ns);
	uint32_t ttl = NEG_TTL_MAX, min;
	ns_rr rr;

	for (i = 0; i < count; i++) {
		if (ns_parserr(msg, ns_s_ns, i, &rr) < 0)
			return 0;
		if (ns_rr_type(rr) != ns_t_soa || ns_rr_rdlen(rr) < 22)
			continue;
		min = ns_get32(ns_rr_rdata(rr) + ns_rr_rdlen(rr) - 4);
		ttl = ttl_clamp(ns_rr_ttl(rr));
		if (min < ttl)
			ttl = min;
		break;
	}
	return ttl < NEG_TTL_MAX ? ttl : NEG_TTL_MAX;
}

/* ans_matches - is this the answer to our query (id, QR, question)? */
static bool ans_matches(ns_msg *msg, const struct lr_ctx *c)
{
	ns_rr q;

	if (ns_msg_id(*msg) != ((unsigned)c->q[0] << 8 | c->q[1]) ||
	    !ns_msg_getflag(*msg, ns_f_qr) ||
	    ns_msg_getflag(*msg, ns_f_opcode) != ns_o_query ||
	    ns_msg_count(*msg, ns_s_qd) != 1 ||
	    ns_parserr(msg, ns_s_qd, 0, &q) < 0)
		return false;
	return ns_rr_type(q) == c->type && ns_rr_class(q) == ns_c_in &&
	       esa_ascii_streq(ns_rr_name(q), c->name);
}

/* rcode_final - the status for an RCODE that ends the reading (anything
 * but NOERROR and NXDOMAIN); false when the records are to be read */
static bool rcode_final(struct esa_answer *out)
{
	switch (out->rcode) {
	case ns_r_noerror:
	case ns_r_nxdomain:
		return false;
	case ns_r_servfail:
		out->status = ESA_DNS_SERVFAIL;
		return true;
	case ns_r_refused:
		out->status = ESA_DNS_REFUSED;
		return true;
	}
	out->status = ESA_DNS_ERROR;
	snprintf(out->reason, sizeof out->reason, "server answered %s",
		 rcode_name(out->rcode));
	return true;
}

/* ans_parse - read c->ans into out; the cache lifetime (0: never).  When
 * the answer ends at a CNAME whose target it does not cover (servers that
 * do not chase, such as unbound's local-data), next gets the target to ask
 * for and hops the CNAMEs used so far. */
static uint32_t ans_parse(struct lr_ctx *c, struct esa_answer *out,
			  size_t *hops, char *next)
{
	struct chain *ch = NULL;
	const char *why = NULL;
	uint32_t life = 0;
	ns_msg msg;
	int more;

	out->status = ESA_DNS_MALFORMED;
	if (ns_initparse(c->ans, c->alen, &msg) < 0) {
		esa_strlcpy(out->reason, "unparseable answer", sizeof out->reason);
		goto out;
	}
	if (!ans_matches(&msg, c)) {
		esa_strlcpy(out->reason, "answer does not match the query",
			    sizeof out->reason);
		goto out;
	}
	out->rcode = ns_msg_getflag(msg, ns_f_rcode);
	out->ad = ns_msg_getflag(msg, ns_f_ad) != 0;
	if (rcode_final(out))
		goto out;
	ch = calloc(1, sizeof *ch);
	if (ch == NULL) {
		out->status = ESA_DNS_ERROR;
		esa_strlcpy(out->reason, "out of memory", sizeof out->reason);
		goto out;
	}
	esa_strlcpy(ch->name[0], c->name, ESA_NAME_MAX);
	ch->n = 1;
	ch->limit = ESA_CNAME_MAX + 1 - *hops;
	ch->ttl = TTL_CAP;
	while ((more = chain_next(&msg, ch, &why)) == 1)
		;
	if (more < 0) {
		esa_strlcpy(out->reason, why, sizeof out->reason);
		goto out;
	}
	if (out->rcode == ns_r_nxdomain) {
		out->status = ESA_DNS_NXDOMAIN;
		life = neg_ttl(&msg);
		goto out;
	}
	life = ans_collect(&msg, c, ch, out);
	if (out->status == ESA_DNS_NODATA && ch->n > 1) {
		*hops += ch->n - 1;	/* chase the target with a new query */
		memcpy(next, ch->name[ch->n - 1], ESA_NAME_MAX);
		life = ch->ttl;
	} else if (out->status == ESA_DNS_NODATA) {
		life = neg_ttl(&msg);
	}
out:
	free(ch);
	return out->status == ESA_DNS_OK || out->status == ESA_DNS_NODATA ||
	       out->status == ESA_DNS_NXDOMAIN ? life : 0;
}

/* lr_chase - one query per CNAME hop the server left to us; the cache
 * lifetime.  The AD bit holds only if every answer had it. */
static uint32_t lr_chase(struct lr_ctx *c, struct esa_answer *out)
{
	char cur[ESA_NAME_MAX], next[ESA_NAME_MAX], detail[ESA_ERR_MAX];
	uint32_t life = TTL_CAP, l;
	size_t hops = 0;
	bool ad = true;

	esa_strlcpy(cur, c->name, sizeof cur);
	for (;;) {
		c->name = cur;
		next[0] = '\0';
		out->rcode = -1;
		out->ad = false;
		if (hops > 0 && esa_now_ms() >= c->deadline) {
			lr_failed(c, ETIMEDOUT, "", out);
			l = 0;
		} else if (lr_exchange(c, out) != 0) {
			l = 0;
		} else {
			l = ans_parse(c, out, &hops, next);
			ad = ad && out->ad;
		}
		life = l < life ? l : life;
		if (next[0] == '\0')
			break;
		memcpy(cur, next, sizeof cur);
	}
	out->ad = ad && out->ad;
	if (hops > 0 && out->status != ESA_DNS_OK) {
		esa_strlcpy(detail, out->reason[0] ? out->reason :
			    default_detail(out->status), sizeof detail);
		snprintf(out->reason, sizeof out->reason,
			 "%.200s (at CNAME target %.253s)", detail, cur);
	}
	return life;
}

/* esa_dns_parse_answer - ans_parse on a given message (fuzzing, tests) */
uint32_t esa_dns_parse_answer(const unsigned char *msg, size_t len,
			      const char *name, uint16_t type,
			      struct esa_answer *out, char next[ESA_NAME_MAX])
{
	struct lr_ctx *c = calloc(1, sizeof *c);
	uint32_t life = 0;
	size_t hops = 0;

	memset(out, 0, sizeof *out);
	out->status = ESA_DNS_ERROR;
	out->rcode = -1;
	next[0] = '\0';
	if (c == NULL || len > ANS_MAX ||
	    (c->ans = malloc(len > 0 ? len : 1)) == NULL) {
		esa_strlcpy(out->reason, c == NULL || len <= ANS_MAX ?
			    "out of memory" : "message too long",
			    sizeof out->reason);
		goto out;
	}
	memcpy(c->ans, msg, len);	/* exactly len octets: overreads show */
	c->alen = (int)len;
	c->name = name;
	c->type = type;
	if (len >= 2) {			/* the ID our query would have had */
		c->q[0] = msg[0];
		c->q[1] = msg[1];
	}
	life = ans_parse(c, out, &hops, next);
	if (type == ESA_T_MX)
		sort_mx(out);
out:
	if (c != NULL)
		free(c->ans);
	free(c);
	return life;
}

/* lr_query - the libresolv backend (esa_backend_fn) */
static uint32_t lr_query(esa_resolver *r, const char *name, uint16_t type,
			 uint64_t deadline_ms, struct esa_answer *out)
{
	struct lr_ctx *c = calloc(1, sizeof *c);
	uint32_t life = 0;

	out->status = ESA_DNS_ERROR;
	if (c == NULL || (c->ans = malloc(ANS_MAX)) == NULL) {
		esa_strlcpy(out->reason, "out of memory", sizeof out->reason);
		goto out;
	}
	c->r = r;
	c->name = name;
	c->type = type;
	c->deadline = deadline_ms;
	if (lr_init(c, out) != 0)
		goto out;
	life = lr_chase(c, out);
out:
	if (c != NULL && c->st_ready)
		res_nclose(&c->st);
	if (c != NULL)
		free(c->ans);
	free(c);
	return life;
}

/* esa_resolver_libresolv - a cached libresolv resolver, optionally with
 * one nameserver replacing the system's list */
esa_resolver *esa_resolver_libresolv(const char *nameserver, char *err,
				     size_t errsz)
{
	esa_resolver *r = esa_resolver_alloc(ESA_RESOLVER_LIBRESOLV);
	char shown[80];

	if (err != NULL && errsz > 0)
		err[0] = '\0';
	if (r == NULL) {
		if (err != NULL)
			esa_strlcpy(err, "out of memory", errsz);
		return NULL;
	}
	r->query = lr_query;
	r->cache_enabled = true;
	esa_strlcpy(r->ns_text, "the system resolver", sizeof r->ns_text);
	if (nameserver != NULL && nameserver[0] != '\0' &&
	    parse_nameserver(nameserver, r) != 0) {
		if (err != NULL) {
			printable(nameserver, shown, sizeof shown);
			snprintf(err, errsz, "bad nameserver '%s': expected "
				 "IP[:PORT], [IPv6]:PORT or a bare IPv6 address",
				 shown);
		}
		esa_resolver_free(r);
		return NULL;
	}
	return r;
}
