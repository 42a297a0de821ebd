/*
 * identity.c - the two ESA identity algorithms and their decision record
 *
 * Given the presented identifiers (res->ids) and what is known of the
 * connection (struct esa_target), esa_identity_decide() walks the reference
 * identifiers in the order SPEC 4.1 (Verify, settings 4 and 5) or SPEC 4.2
 * (Verify Hosted Domains, setting 6) gives, stopping at the first match.
 * Every reference identifier tried is appended to the verdict's record with
 * its source and outcome, so an explanation never needs a second walk.
 * DNS is lazy: a query is sent only when its answer could still change the
 * verdict.  A lookup that fails removes what it would have given (fail
 * closed) and is recorded both as a try and in res->dns.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/x509.h>

#include "internal.h"

#define PTR_NAMES_MAX 8		/* SPEC 4.1 step 3 */

int esa_verdict_add_try(struct esa_verdict *v, enum esa_source src,
			const char *ref, enum esa_id_kind against,
			enum esa_try_outcome outcome, int matched,
			const char *note)
{
	struct esa_try *t;

	if (esa_grow((void **)&v->tries, &v->tries_cap, v->ntries + 1,
		     sizeof(*t)) < 0)
		return -1;
	t = &v->tries[v->ntries++];
	t->source = src;
	esa_strlcpy(t->reference, ref, sizeof(t->reference));
	t->against = against;
	t->outcome = outcome;
	t->matched = matched;
	esa_strlcpy(t->note, note ? note : "", sizeof(t->note));
	return 0;
}

/* lookup - one DNS query, logged in res->dns */
static int lookup(struct esa_result *res, esa_resolver *r, const char *name,
		  uint16_t type, uint64_t deadline, struct esa_answer *ans)
{
	struct esa_dnsq *q;

	if (r == NULL) {
		memset(ans, 0, sizeof(*ans));
		ans->status = ESA_DNS_ERROR;
		ans->rcode = -1;
		esa_cat(ans->reason, sizeof(ans->reason), esa_rrtype_name(type),
			" ", name, ": no resolver configured", (char *)NULL);
		return -1;
	}
	esa_lookup(r, name, type, deadline, ans);
	if (esa_grow((void **)&res->dns, &res->dns_cap, res->ndns + 1,
		     sizeof(*q)) == 0) {
		q = &res->dns[res->ndns++];
		esa_strlcpy(q->name, name, sizeof(q->name));
		q->type = type;
		q->status = ans->status;
		q->rcode = ans->rcode;
		q->count = ans->count;
		q->ad = ans->ad;
		q->cached = ans->cached;
		q->ms = ans->ms;
	}
	return ans->status == ESA_DNS_OK ? 0 : -1;
}

/* resolves_to_peer - do name's A or AAAA records include the peer?
 * 1 yes (note: the type), 0 no (note: the type and what they were),
 * -1 lookup failed (note says why) */
static int resolves_to_peer(struct esa_result *res, esa_resolver *r,
			    const struct esa_target *t, const char *name,
			    uint64_t deadline, char *note, size_t notesz)
{
	struct esa_answer ans;
	size_t alen = t->peer_family == AF_INET ? 4 : 16;
	uint16_t type = t->peer_family == AF_INET ? ESA_T_A : ESA_T_AAAA;
	int found = 0;
	size_t off = 0;

	if (lookup(res, r, name, type, deadline, &ans) < 0) {
		esa_strlcpy(note, ans.reason, notesz);
		esa_answer_free(&ans);
		return -1;
	}
	for (size_t i = 0; i < ans.count && !found; i++)
		found = memcmp(ans.rr[i].addr, t->peer, alen) == 0;
	/* the addresses are worth listing only when the peer is not there */
	off = esa_cat(note, notesz, esa_rrtype_name(type), (char *)NULL);
	for (size_t i = 0; i < ans.count && !found; i++) {
		char ip[64];

		esa_format_ip(t->peer_family, ans.rr[i].addr, ip, sizeof(ip));
		off += esa_cat(note + off, notesz - off, " ", ip, (char *)NULL);
	}
	esa_answer_free(&ans);
	return found;
}

/* has_usable - does the certificate carry a usable identifier of a kind? */
static bool has_usable(const struct esa_idlist *ids, enum esa_id_kind kind)
{
	for (size_t i = 0; i < ids->n; i++)
		if (ids->ids[i].kind == kind && ids->ids[i].problem == NULL)
			return true;
	return false;
}

/* find_match - index of the first usable presented id of kind that ~= ref,
 * or -1.  The caller has checked ref (esa_reference_problem); each id was
 * checked when it was collected (p->problem), so the pairs only need
 * comparing. */
static int find_match(const struct esa_idlist *ids, enum esa_id_kind kind,
		      const char *ref)
{
	size_t rlen = strlen(ref);

	for (size_t i = 0; i < ids->n; i++) {
		const struct esa_presented *p = &ids->ids[i];

		if (p->kind == kind && p->problem == NULL &&
		    esa_match_valid(p->raw, p->len, ref, rlen) == ESA_MATCH_YES)
			return (int)i;
	}
	return -1;
}

/* tried - log a try of ref with its outcome; a match (idx >= 0, the
 * presented id that matched) makes the verdict pass.  Returns 1 on a
 * match, 0 otherwise, -1 on allocation failure. */
static int tried(struct esa_verdict *v, enum esa_source src, const char *ref,
		 enum esa_id_kind kind, enum esa_try_outcome outcome, int idx,
		 const char *note)
{
	if (esa_verdict_add_try(v, src, ref, kind, outcome, idx, note) < 0)
		return -1;
	if (idx < 0)
		return 0;
	v->pass = true;
	v->source = src;
	v->matched = idx;
	esa_strlcpy(v->reference, ref, sizeof(v->reference));
	return 1;
}

/* record - compare ref with the presented ids of kind and log the try:
 * a bad reference (note: why), no match (note as given), or a match.
 * Returns 1 on a match, 0 otherwise, -1 on allocation failure. */
static int record(struct esa_verdict *v, const struct esa_idlist *ids,
		  enum esa_source src, const char *ref, enum esa_id_kind kind,
		  const char *note)
{
	const char *why = esa_reference_problem(ref, strlen(ref));
	int idx;

	if (why != NULL)
		return tried(v, src, ref, kind, ESA_TRY_BAD_REFERENCE, -1, why);
	idx = find_match(ids, kind, ref);
	return tried(v, src, ref, kind,
		     idx >= 0 ? ESA_TRY_MATCH : ESA_TRY_NOMATCH, idx, note);
}

/* ptr_name_step - one PTR name N: if a CN-ID matches it, confirm A(N) */
static int ptr_name_step(struct esa_result *res, struct esa_verdict *v,
			 const struct esa_target *t, esa_resolver *r,
			 const char *name, uint64_t deadline)
{
	const enum esa_source src = ESA_SOURCE_PTR;
	const char *why = esa_reference_problem(name, strlen(name));
	char note[ESA_ERR_MAX], addrs[ESA_ERR_MAX], peer[64];
	int fc, idx;

	if (why != NULL)
		return tried(v, src, name, ESA_ID_CN, ESA_TRY_BAD_REFERENCE, -1,
			     why);
	if ((idx = find_match(&res->ids, ESA_ID_CN, name)) < 0)
		/* lazy: no CN-ID could match, so A/AAAA is not needed */
		return tried(v, src, name, ESA_ID_CN, ESA_TRY_NOMATCH, -1,
			     "not forward-confirmed: no CN-ID would match");
	fc = resolves_to_peer(res, r, t, name, deadline, addrs, sizeof(addrs));
	esa_format_ip(t->peer_family, t->peer, peer, sizeof(peer));
	if (fc < 0)
		return tried(v, src, name, ESA_ID_CN, ESA_TRY_LOOKUP_FAILED, -1,
			     addrs);
	if (fc == 0) {
		addrs[400] = '\0';	/* room for the rest of the note */
		esa_cat(note, sizeof(note), "not forward-confirmed: ", addrs,
			", not ", peer, (char *)NULL);
		return tried(v, src, name, ESA_ID_CN, ESA_TRY_NOT_CONFIRMED, -1,
			     note);
	}
	esa_cat(note, sizeof(note), "forward-confirmed: ",
		t->peer_family == AF_INET ? "A " : "AAAA ", peer, (char *)NULL);
	return tried(v, src, name, ESA_ID_CN, ESA_TRY_MATCH, idx, note);
}

/* ptr_step - SPEC 4.1 step 3: CN-IDs against the FCrDNS names of the peer */
static int ptr_step(struct esa_result *res, struct esa_verdict *v,
		    const struct esa_target *t, esa_resolver *r,
		    uint64_t deadline)
{
	struct esa_answer ans;
	char rev[ESA_NAME_MAX];
	int rc = 0;

	memset(&ans, 0, sizeof(ans));
	if (!has_usable(&res->ids, ESA_ID_CN))
		return tried(v, ESA_SOURCE_PTR, "", ESA_ID_CN,
			     ESA_TRY_LOOKUP_FAILED, -1,
			     "PTR not queried: the certificate has no usable CN-ID");
	if (!t->have_peer)
		return tried(v, ESA_SOURCE_PTR, "", ESA_ID_CN,
			     ESA_TRY_LOOKUP_FAILED, -1,
			     "PTR not queried: peer address unknown");
	if (esa_reverse_name(t->peer_family, t->peer, rev, sizeof(rev)) < 0) {
		esa_strlcpy(ans.reason, "cannot form the reverse name",
			    sizeof(ans.reason));
		goto failed;
	}
	if (lookup(res, r, rev, ESA_T_PTR, deadline, &ans) < 0)
		goto failed;
	for (size_t i = 0; i < ans.count && i < PTR_NAMES_MAX && rc == 0; i++)
		rc = ptr_name_step(res, v, t, r, ans.rr[i].name, deadline);
	goto out;
failed:
	rc = tried(v, ESA_SOURCE_PTR, "", ESA_ID_CN, ESA_TRY_LOOKUP_FAILED, -1,
		   ans.reason);
out:
	esa_answer_free(&ans);
	return rc;
}

/* decide_verify - SPEC 4.1, settings 4 and 5 */
static int decide_verify(struct esa_result *res, struct esa_verdict *v,
			 const struct esa_target *t, esa_resolver *r,
			 uint64_t deadline)
{
	int rc = 0;

	/* 4.1.1: DNS-IDs against the recipient domain only */
	if (res->ids.ndns > 0)
		rc = record(v, &res->ids, ESA_SOURCE_RECIPIENT, t->recipient,
			    ESA_ID_DNS, NULL);
	/* 4.1.2: CN-IDs against the recipient domain, even after DNS-IDs */
	if (rc == 0)
		rc = record(v, &res->ids, ESA_SOURCE_RECIPIENT, t->recipient,
			    ESA_ID_CN,
			    res->ids.ncn ? NULL : "the certificate has no CN-ID");
	/* 4.1.3: CN-IDs against forward-confirmed PTR names */
	if (rc == 0)
		rc = ptr_step(res, v, t, r, deadline);
	if (rc < 0)
		return -1;
	if (rc == 0)
		esa_strlcpy(v->reason,
			    "no DNS-ID or CN-ID matches the recipient domain, and no CN-ID matches a forward-confirmed PTR name",
			    sizeof(v->reason));
	return 0;
}

/* route_step - SPEC 4.2 step 2: one FQDN route; it counts only if it is the
 * route connected through or its A/AAAA records include the peer */
static int route_step(struct esa_result *res, struct esa_verdict *v,
		      const struct esa_target *t, esa_resolver *r,
		      enum esa_id_kind kind, const char *host,
		      uint64_t deadline)
{
	const enum esa_source src = ESA_SOURCE_ROUTE;
	char addrs[ESA_ERR_MAX], note[ESA_ERR_MAX], peer[64];
	const char *why;
	int fc, idx;

	if (t->via[0] != '\0' && esa_ascii_streq(t->via, host))
		return record(v, &res->ids, src, host, kind,
			      "the route connected through");
	if ((why = esa_reference_problem(host, strlen(host))) != NULL)
		return tried(v, src, host, kind, ESA_TRY_BAD_REFERENCE, -1, why);
	if ((idx = find_match(&res->ids, kind, host)) < 0)
		/* lazy: whether it leads to the peer cannot change the verdict */
		return tried(v, src, host, kind, ESA_TRY_NOMATCH, -1, NULL);
	if (!t->have_peer)
		return tried(v, src, host, kind, ESA_TRY_NOT_PEER, -1,
			     "not the route connected through, and the peer address is unknown");
	fc = resolves_to_peer(res, r, t, host, deadline, addrs, sizeof(addrs));
	if (fc < 0)
		return tried(v, src, host, kind, ESA_TRY_LOOKUP_FAILED, -1,
			     addrs);
	esa_format_ip(t->peer_family, t->peer, peer, sizeof(peer));
	if (fc == 0) {
		addrs[400] = '\0';	/* room for the rest of the note */
		esa_cat(note, sizeof(note), "does not lead to ", peer, " (",
			addrs, ")", (char *)NULL);
		return tried(v, src, host, kind, ESA_TRY_NOT_PEER, -1, note);
	}
	esa_cat(note, sizeof(note), "leads to the peer ", peer, (char *)NULL);
	return tried(v, src, host, kind, ESA_TRY_MATCH, idx, note);
}

/* mx_step - SPEC 4.2 step 3: every MX exchange name of the recipient domain */
static int mx_step(struct esa_result *res, struct esa_verdict *v,
		   const struct esa_target *t, esa_resolver *r,
		   enum esa_id_kind kind, uint64_t deadline)
{
	struct esa_answer ans;
	int rc = 0;

	if (lookup(res, r, t->recipient, ESA_T_MX, deadline, &ans) < 0) {
		rc = tried(v, ESA_SOURCE_MX, "", kind, ESA_TRY_LOOKUP_FAILED, -1,
			   ans.reason);
		goto out;
	}
	if (t->secure_mx && !esa_answer_secure(r, &ans)) {	/* docs/dane.md */
		rc = tried(v, ESA_SOURCE_MX, "", kind, ESA_TRY_LOOKUP_FAILED, -1,
			   "MX answer not DNSSEC-secure (secure-mx)");
		goto out;
	}
	for (size_t i = 0; i < ans.count && rc == 0; i++) {
		char note[32], pref[24];

		esa_cat(note, sizeof(note), "MX ",
			esa_utoa(ans.rr[i].pref, pref), (char *)NULL);
		rc = record(v, &res->ids, ESA_SOURCE_MX, ans.rr[i].name, kind,
			    note);
	}
out:
	esa_answer_free(&ans);
	return rc;
}

/* decide_hosted - SPEC 4.2, setting 6 */
static int decide_hosted(struct esa_result *res, struct esa_verdict *v,
			 const struct esa_target *t, esa_resolver *r,
			 uint64_t deadline)
{
	/* presented: DNS-IDs if any, CN-IDs only without any DNS-ID */
	enum esa_id_kind kind = res->ids.ndns > 0 ? ESA_ID_DNS : ESA_ID_CN;
	size_t nfqdn = 0;
	int rc;

	rc = record(v, &res->ids, ESA_SOURCE_RECIPIENT, t->recipient, kind,
		    NULL);
	for (size_t i = 0; i < t->nroutes; i++)
		nfqdn += !t->routes[i].is_ip;
	for (size_t i = 0; i < t->nroutes && rc == 0; i++)
		if (!t->routes[i].is_ip)
			rc = route_step(res, v, t, r, kind, t->routes[i].host,
					deadline);
	if (rc == 0 && nfqdn == 0)
		rc = mx_step(res, v, t, r, kind, deadline);
	if (rc < 0)
		return -1;
	if (rc == 0)
		esa_cat(v->reason, sizeof(v->reason), "no ",
			kind == ESA_ID_DNS ? "DNS-ID" : "CN-ID",
			" matches the recipient domain or ",
			nfqdn ? "an SMTP route that leads to the peer"
			      : "an MX name", (char *)NULL);
	return 0;
}

/* pass_reason - the one line of a passing verdict */
static void pass_reason(const struct esa_result *res, struct esa_verdict *v)
{
	const struct esa_presented *p = &res->ids.ids[v->matched];

	esa_cat(v->reason, sizeof(v->reason),
		p->kind == ESA_ID_DNS ? "DNS-ID " : "CN-ID ", p->display,
		" matches ",
		v->source == ESA_SOURCE_PTR ? "forward-confirmed PTR name " :
		v->source == ESA_SOURCE_MX ? "MX name " :
		v->source == ESA_SOURCE_ROUTE ? "SMTP route " :
		"recipient domain ", v->reference, (char *)NULL);
}

/* esa_identity_decide - run one algorithm and fill res->verdict[mode] */
int esa_identity_decide(struct esa_result *res, enum esa_mode mode,
			const struct esa_target *t, esa_resolver *r,
			uint64_t deadline_ms)
{
	struct esa_verdict *v = &res->verdict[mode];
	int rc = 0;

	free(v->tries);
	memset(v, 0, sizeof(*v));
	v->mode = mode;
	v->computed = true;
	v->matched = -1;
	if (res->error[0] != '\0') {
		esa_strlcpy(v->reason, res->error, sizeof(v->reason));
		return 0;
	}
	if (t->recipient[0] == '\0') {
		esa_strlcpy(v->reason, "no recipient domain", sizeof(v->reason));
		return 0;
	}
	if (mode == ESA_MODE_VERIFY)
		rc = decide_verify(res, v, t, r, deadline_ms);
	else
		rc = decide_hosted(res, v, t, r, deadline_ms);
	if (rc < 0) {
		v->pass = false;
		esa_strlcpy(v->reason, "out of memory", sizeof(v->reason));
	} else if (v->pass) {
		pass_reason(res, v);
	}
	return rc;
}

/* esa_identity_check_modes - presented ids of leaf, then the modes asked
 * for (a bit mask of 1 << enum esa_mode) under one DNS budget */
int esa_identity_check_modes(struct esa_result *res, struct x509_st *leaf,
			     const struct esa_target *t, esa_resolver *r,
			     unsigned budget_ms, unsigned modes)
{
	uint64_t deadline = esa_now_ms() + budget_ms;
	int rc = 0;

	esa_strlcpy(res->recipient, t->recipient, sizeof(res->recipient));
	esa_strlcpy(res->via, t->via, sizeof(res->via));
	res->peer[0] = '\0';
	if (t->have_peer)
		esa_format_ip(t->peer_family, t->peer, res->peer,
			      sizeof(res->peer));
	esa_idlist_free(&res->ids);
	if (esa_presented_collect(leaf, &res->ids) < 0)
		esa_strlcpy(res->error,
			    "malformed certificate: its subjectAltName extension cannot be parsed",
			    sizeof(res->error));
	for (int m = ESA_MODE_VERIFY; m <= ESA_MODE_HOSTED; m++)
		if (modes & (1u << m))
			rc |= esa_identity_decide(res, m, t, r, deadline);
	return rc < 0 ? -1 : 0;
}

/* esa_identity_check - both modes */
int esa_identity_check(struct esa_result *res, struct x509_st *leaf,
		       const struct esa_target *t, esa_resolver *r,
		       unsigned budget_ms)
{
	return esa_identity_check_modes(res, leaf, t, r, budget_ms, 3u);
}

/* esa_lookup_logged - one logged query, for dane.c */
int esa_lookup_logged(struct esa_result *res, esa_resolver *r,
		      const char *name, uint16_t type, uint64_t deadline,
		      struct esa_answer *ans)
{
	return lookup(res, r, name, type, deadline, ans);
}
