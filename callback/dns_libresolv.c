/*
 * dns_libresolv.c - the libresolv backend of the DNS interface (SPEC 6):
 * esa_resolver_libresolv and the esa_backend_fn behind it, which asks a
 * nameserver and reads the answer.  The front end (esa_lookup) and the
 * cache live in dns.c, the static master-file backend in dnsfile.c.
 *
 * Contract (internal.h, "dns.c, dns_libresolv.c, dnsfile.c"; dns_impl.h,
 * esa_backend_fn):
 *  - Answers are hostile input.  Only records of the asked type owned by
 *    the query name or a name on its CNAME chain (followed through the
 *    answer section, at most 8 deep) are kept; record names must be LDH
 *    (plus '_') after decompression, anything else is dropped as malformed.
 *    At most ESA_DNS_MAX_RR records are kept.
 *  - A fresh struct __res_state per lookup (res_ninit, then res_nclose),
 *    never the global _res, so threads may share a resolver.  The query is
 *    built with res_nmkquery (RD and AD set, EDNS0 OPT added here, no DO
 *    bit) and sent with res_nsend; we read the RCODE ourselves because
 *    res_nquery folds REFUSED, SERVFAIL and a lost packet into one
 *    h_errno.  A nameserver override (esa_nameserver_parse, the grammar
 *    the configuration uses) replaces the system list: IPv4 in
 *    nsaddr_list[0], IPv6 in _u._ext.nsaddrs[0] (which res_nclose frees).
 *  - Truncation: glibc's own TCP fallback has no timeout, so RES_IGNTC is
 *    set and a truncated answer is asked again over TCP here, within the
 *    deadline.
 *  - The deadline bounds the whole lookup: nothing is sent once it passed
 *    (TIMEOUT).  glibc's timers count whole seconds, at least one, so a
 *    lookup started with less than a second left may overrun it by < 1 s.
 *  - Cache lifetimes returned: positive answers live for the smallest TTL
 *    of the kept records and followed CNAMEs, capped at ESA_TTL_CAP;
 *    NXDOMAIN and NODATA for the SOA negative TTL (RFC 2308: min of SOA
 *    TTL and MINIMUM) capped at 60 s, 60 s when the answer has no SOA;
 *    failures 0 (never cached).
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns_impl.h"

#define NEG_TTL_MAX 60		/* seconds a NXDOMAIN/NODATA may stay cached */
#define ANS_MAX 65536		/* largest DNS message */
#define QBUF_MAX 512		/* query buffer; a query is < 300 octets */
#define EDNS_UDP_SIZE 1232	/* advertised UDP payload (DNS flag day 2020) */

/* ---- small helpers ------------------------------------------------------ */

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

/* ttl_clamp - RFC 2181 8: a TTL with the top bit set means zero */
static uint32_t ttl_clamp(uint32_t ttl)
{
	return ttl > 0x7fffffffu ? 0 : ttl;
}

/* ---- libresolv backend: the nameserver --------------------------------- */

/* lr_nameserver - the override from text, parsed by the configuration's
 * parser (esa_nameserver_parse); port 53 when none is given.  An IPv4
 * address in brackets is refused here, as it always was: the setter takes
 * "[192.0.2.1]:53" and hands it on as "192.0.2.1:53". */
static int lr_nameserver(const char *text, esa_resolver *r)
{
	struct esa_nameserver ns;
	char ip[INET6_ADDRSTRLEN];
	bool v6;
	int port;

	if (esa_nameserver_parse(text, &ns, NULL, 0) != 0 ||
	    (ns.bracketed && ns.family == AF_INET))
		return -1;
	v6 = ns.family == AF_INET6;
	port = ns.port != 0 ? ns.port : 53;
	memset(&r->ns, 0, sizeof r->ns);
	if (v6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&r->ns;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((in_port_t)port);
		memcpy(&sin6->sin6_addr, ns.addr, 16);
		r->nslen = sizeof *sin6;
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&r->ns;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((in_port_t)port);
		memcpy(&sin->sin_addr, ns.addr, 4);
		r->nslen = sizeof *sin;
	}
	esa_format_ip(ns.family, ns.addr, ip, sizeof ip);
	snprintf(r->ns_text, sizeof r->ns_text, "%s%s%s:%d", v6 ? "[" : "",
		 ip, v6 ? "]" : "", port);
	r->have_ns = true;
	r->ad_trusted = true;	/* the configured validating resolver */
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
	case ESA_T_TLSA:	/* RFC 6698 2.1; too long to keep: malformed */
		if (rdlen < 3 || rdlen - 3 > ESA_TLSA_DATA_MAX)
			return -1;
		o->usage = rd[0];
		o->selector = rd[1];
		o->mtype = rd[2];
		o->dlen = (uint16_t)(rdlen - 3);
		memcpy(o->data, rd + 3, rdlen - 3);
		return 0;
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
	uint32_t minttl = ESA_TTL_CAP;
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
	if (bad > 0 && c->type == ESA_T_TLSA)
		out->count = 0;	/* one unreadable TLSA: none is trusted */
	if (out->count > 0) {
		out->status = ESA_DNS_OK;
		out->ttl = ESA_TTL_CAP;
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
	ch->ttl = ESA_TTL_CAP;
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
	uint32_t life = ESA_TTL_CAP, l;
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
			    esa_dns_default_detail(out->status), sizeof detail);
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
		esa_dns_sort_mx(out);
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
	    lr_nameserver(nameserver, r) != 0) {
		if (err != NULL) {
			esa_dns_printable(nameserver, shown, sizeof shown);
			snprintf(err, errsz, "bad nameserver '%s': expected "
				 "IP[:PORT], [IPv6]:PORT or a bare IPv6 address",
				 shown);
		}
		esa_resolver_free(r);
		return NULL;
	}
	return r;
}
