/*
 * dns_impl.h - the private shape of an esa_resolver, shared by dns.c (the
 * lookup front end and the cache), dns_libresolv.c (the libresolv backend)
 * and dnsfile.c (the static master-file backend).  Nothing else in the
 * library includes it (the fuzz targets do).
 *
 * A resolver is one struct with a backend function pointer: esa_lookup()
 * checks the name, serves the cache, enforces the deadline and words the
 * reason; the backend only answers one canonical name for one type.
 */
#ifndef ESA_DNS_IMPL_H
#define ESA_DNS_IMPL_H

#include <sys/socket.h>
#include "internal.h"

enum esa_resolver_kind {
	ESA_RESOLVER_LIBRESOLV,
	ESA_RESOLVER_STATIC,
};

#define ESA_CACHE_BUCKETS 256
#define ESA_CACHE_MAX 1024	/* entries; beyond it the cache is emptied */
#define ESA_CNAME_MAX 8		/* CNAMEs followed per lookup */
#define ESA_TTL_CAP 3600	/* seconds an answer may stay cached */

struct esa_cache_entry;
struct esa_zone;

/*
 * esa_backend_fn - answer name (canonical: lower case, no trailing dot,
 * checked by esa_dns_canon) for type, which is A, AAAA, MX, PTR or TLSA.  Fills
 * out->status, rcode, ad and the records (esa_answer_push); may put a short
 * detail (no name, no type: esa_lookup adds those) in out->reason.  Returns
 * how many seconds the answer may be cached, 0 for never.
 */
typedef uint32_t (*esa_backend_fn)(esa_resolver *r, const char *name,
				   uint16_t type, uint64_t deadline_ms,
				   struct esa_answer *out);

struct esa_resolver {
	enum esa_resolver_kind kind;
	esa_backend_fn query;
	void (*destroy)(esa_resolver *r);	/* frees backend state only */
	unsigned long queries;	/* __atomic_* access only */
	bool ad_trusted;	/* its AD bit means validated (docs/dane.md 2) */

	/* the cache, under lock */
	bool cache_enabled;
	pthread_mutex_t lock;
	struct esa_cache_entry *bucket[ESA_CACHE_BUCKETS];
	size_t ncached;

	/* libresolv backend: the nameserver override, if any */
	bool have_ns;
	struct sockaddr_storage ns;
	socklen_t nslen;
	char ns_text[64];	/* "127.0.0.1:5353", "[::1]:53", "system resolver" */

	/* static backend (dnsfile.c) */
	struct esa_zone *zone;
};

/* A zeroed resolver of this kind with its lock ready; NULL on ENOMEM. */
esa_resolver *esa_resolver_alloc(enum esa_resolver_kind kind);
/* Count one query sent (libresolv) or one lookup answered (static). */
void esa_resolver_count(esa_resolver *r);

/* esa_dns_canon - a domain name as text into the canonical form: one
 * trailing dot removed, lower case; "." becomes "".  Letters, digits, '-'
 * and '_' only, labels of 1..63 octets, at most 253 in all.  0, or -1 with
 * *why (static text) saying what is wrong. */
int esa_dns_canon(const char *in, char *out, size_t outsz, const char **why);

/* esa_dns_printable - a hostile string made safe for a one-line reason:
 * octets outside 0x21..0x7e as '?', "..." when it does not fit in outsz. */
void esa_dns_printable(const char *in, char *out, size_t outsz);

/* esa_dns_default_detail - the reason text for a status when the backend
 * gave none ("NXDOMAIN", "timeout", ...); "" for OK. */
const char *esa_dns_default_detail(enum esa_dns_status st);

/* esa_dns_sort_mx - MX records by preference, ties in answer order. */
void esa_dns_sort_mx(struct esa_answer *out);

/* esa_answer_push - append a copy of rr to out.  0 if added, 1 if dropped
 * (ESA_DNS_MAX_RR reached, or an MX/PTR target that is the root, as in a
 * null MX), -1 on allocation failure. */
int esa_answer_push(struct esa_answer *out, const struct esa_rr *rr);

/* esa_dns_parse_answer - read msg (a whole DNS message) exactly as the
 * libresolv backend reads the answer to a query for name (canonical) and
 * type: question check, RCODE, AD bit, CNAME chain, records, negative TTL;
 * MX sorted.  The query ID is taken from msg itself.  Sends nothing.  For
 * the fuzzer (tests/fuzz/fuzz_dns.c) and tests.  Fills *out (free with
 * esa_answer_free); next gets the CNAME target a further query would chase,
 * "" if none.  Returns the cache lifetime in seconds. */
uint32_t esa_dns_parse_answer(const unsigned char *msg, size_t len,
			      const char *name, uint16_t type,
			      struct esa_answer *out, char next[ESA_NAME_MAX]);

#endif
