/*
 * live.c - esa-check's live mode: the hosts of a domain and the search
 * among them (SPEC 4.3, 8.2)
 *
 * The hosts, in order:
 *  - the SMTP routes of the recipient domain (--route, --config [routes]),
 *    by priority, ties in configured order (config_routes.c keeps them
 *    sorted);
 *  - else the exchanges of its MX records by preference, ties in answer
 *    order (esa_lookup sorts them stably);
 *  - else, when the domain has no MX record (NODATA), the domain itself:
 *    the implicit MX of RFC 5321 5.1.
 * A null MX (RFC 7505), a domain that does not exist or an MX lookup that
 * fails leaves no host: the check fails (exit 1) with the reason.
 *
 * Each host name is resolved when the search reaches it (A, then AAAA,
 * under one DNS budget); an IP-literal route is used as it is.  Each
 * address is contacted once: a later host leading to an address already
 * tried on the same port is noted on that attempt, not contacted again
 * (SPEC 4.3: several routes resolving to one IP give one connection).
 *
 * The skip rule: a host passes when its chain verifies (unless --no-chain)
 * and EVERY requested mode passes on its certificate.  The first host that
 * passes is used and the search stops; a host that does not answer, does
 * not offer STARTTLS, fails the handshake or fails a requested mode is
 * skipped for the next.  With --mode verify or --mode hosted this is
 * exactly ESA's search under setting 5 or 6.  With --mode both it asks for
 * one host acceptable under both; the report also names, per mode, the
 * first host that passed that mode alone, which is the host ESA would use
 * under that mode's setting (every host before the one used was tried, so
 * that host is among those contacted).
 *
 * Exit status (live_run): 0 a host passed, 1 none did, 2 the tool itself
 * could not run.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "live.h"

#define ADDRS_MAX (2 * ESA_DNS_MAX_RR)	/* addresses of one host */
#define EHLO_FALLBACK "esa-check.invalid"

/* One address of a host. */
struct live_addr {
	int family;
	unsigned char addr[16];
};

/* live_source_name - the JSON word of a source */
const char *live_source_name(enum live_source s)
{
	switch (s) {
	case LIVE_SRC_ROUTE: return "route";
	case LIVE_SRC_MX: return "mx";
	case LIVE_SRC_IMPLICIT: return "implicit-mx";
	}
	return "unknown";
}

/* live_outcome_name - the JSON word of an outcome */
const char *live_outcome_name(enum live_outcome o)
{
	switch (o) {
	case LIVE_NO_ADDRESS: return "no-address";
	case LIVE_REFUSED: return "refused";
	case LIVE_TIMEOUT: return "timeout";
	case LIVE_NET_ERROR: return "network-error";
	case LIVE_SMTP_ERROR: return "smtp-error";
	case LIVE_NO_STARTTLS: return "no-starttls";
	case LIVE_TLS_FAILED: return "tls-failed";
	case LIVE_FAILED: return "failed";
	case LIVE_PASSED: return "passed";
	}
	return "unknown";
}

/* ---- the host list ------------------------------------------------------ */

/* add_host - append one host; 0 or -1 (out of memory) */
static int add_host(struct live *l, const struct live_host *h)
{
	if (esa_grow((void **)&l->hosts, &l->hosts_cap, l->nhosts + 1,
		     sizeof(*l->hosts)) != 0)
		return -1;
	l->hosts[l->nhosts++] = *h;
	return 0;
}

/* note_lookup - keep one host-finding DNS query for the report */
static int note_lookup(struct live *l, const char *name, uint16_t type,
		       const struct esa_answer *ans)
{
	struct live_lookup *p;

	if (esa_grow((void **)&l->lookups, &l->lookups_cap, l->nlookups + 1,
		     sizeof(*l->lookups)) != 0)
		return -1;
	p = &l->lookups[l->nlookups++];
	memset(p, 0, sizeof(*p));
	esa_strlcpy(p->name, name, sizeof(p->name));
	p->type = type;
	p->status = ans->status;
	p->rcode = ans->rcode;
	p->count = ans->count;
	p->ms = ans->ms;
	esa_strlcpy(p->reason, ans->reason, sizeof(p->reason));
	return 0;
}

/* hosts_from_routes - the domain's SMTP routes, already in search order */
static int hosts_from_routes(struct live *l, const struct esa_domain_routes *dr)
{
	for (size_t i = 0; i < dr->n; i++) {
		const struct esa_route *r = &dr->routes[i];
		struct live_host h = {
			.source = LIVE_SRC_ROUTE, .pri = r->pri, .port = r->port,
			.is_ip = r->is_ip, .family = r->family,
		};

		esa_strlcpy(h.name, r->host, sizeof(h.name));
		memcpy(h.ip, r->ip, sizeof(h.ip));
		if (add_host(l, &h) < 0)
			return -1;
	}
	return 0;
}

/* hosts_from_answer - the exchanges of an MX answer; a null MX ("."),
 * RFC 7505, names none */
static int hosts_from_answer(struct live *l, const struct esa_answer *ans)
{
	for (size_t i = 0; i < ans->count; i++) {
		struct live_host h = { .source = LIVE_SRC_MX,
				       .pri = ans->rr[i].pref };

		if (ans->rr[i].name[0] == '\0')
			continue;
		esa_strlcpy(h.name, ans->rr[i].name, sizeof(h.name));
		if (add_host(l, &h) < 0)
			return -1;
	}
	if (l->nhosts == 0)
		snprintf(l->hosts_error, sizeof(l->hosts_error), "%s has a null "
			 "MX record (RFC 7505): it accepts no mail",
			 l->o->domain);
	return 0;
}

/* hosts_from_mx - MX records, else the implicit MX (RFC 5321 5.1) */
static int hosts_from_mx(struct live *l)
{
	const char *dom = l->o->domain;
	struct esa_answer ans;
	struct live_host h = { .source = LIVE_SRC_IMPLICIT };
	int rc = 0;

	l->from = LIVE_SRC_MX;
	esa_lookup(l->resolver, dom, ESA_T_MX,
		   esa_now_ms() + l->cfg->dns_budget_ms, &ans);
	if (note_lookup(l, dom, ESA_T_MX, &ans) < 0)
		rc = -1;
	else if (ans.status == ESA_DNS_OK)
		rc = hosts_from_answer(l, &ans);
	else if (ans.status == ESA_DNS_NODATA && ans.null_mx)
		snprintf(l->hosts_error, sizeof(l->hosts_error), "%s has a null "
			 "MX record (RFC 7505): it accepts no mail", dom);
	else if (ans.status == ESA_DNS_NXDOMAIN)
		snprintf(l->hosts_error, sizeof(l->hosts_error),
			 "%s does not exist (%.300s)", dom, ans.reason);
	else if (ans.status != ESA_DNS_NODATA)
		snprintf(l->hosts_error, sizeof(l->hosts_error),
			 "cannot find the mail hosts of %s: %.300s", dom,
			 ans.reason);
	else {
		l->from = LIVE_SRC_IMPLICIT;
		esa_strlcpy(h.name, dom, sizeof(h.name));
		rc = add_host(l, &h);
	}
	esa_answer_free(&ans);
	return rc;
}

/* list_hosts - routes if the domain has any, else MX (SPEC 4.3) */
static int list_hosts(struct live *l)
{
	const struct esa_domain_routes *dr =
		esa_config_routes_for(l->cfg, l->o->domain);

	if (dr != NULL && dr->n > 0) {
		l->from = LIVE_SRC_ROUTE;
		return hosts_from_routes(l, dr);
	}
	return hosts_from_mx(l);
}

/* resolve - the addresses of host h: A, then AAAA, under one DNS budget;
 * an IP literal as it is.  0, or -1 out of memory */
static int resolve(struct live *l, size_t h, struct live_addr *out,
		   size_t *n)
{
	static const uint16_t types[] = { ESA_T_A, ESA_T_AAAA };
	const struct live_host *host = &l->hosts[h];
	uint64_t deadline = esa_now_ms() + l->cfg->dns_budget_ms;

	*n = 0;
	if (host->is_ip) {
		out[0].family = host->family;
		memcpy(out[0].addr, host->ip, 16);
		*n = 1;
		return 0;
	}
	for (size_t t = 0; t < 2; t++) {
		struct esa_answer ans;
		int rc;

		esa_lookup(l->resolver, host->name, types[t], deadline, &ans);
		rc = note_lookup(l, host->name, types[t], &ans);
		for (size_t i = 0; i < ans.count && *n < ADDRS_MAX; i++) {
			memset(&out[*n], 0, sizeof(out[*n]));
			out[*n].family = types[t] == ESA_T_A ? AF_INET : AF_INET6;
			memcpy(out[*n].addr, ans.rr[i].addr,
			       types[t] == ESA_T_A ? 4 : 16);
			(*n)++;
		}
		esa_answer_free(&ans);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* ---- the attempts ------------------------------------------------------- */

/* host_port - the port of a host: its route's, else --port */
static int host_port(const struct live *l, size_t h)
{
	return l->hosts[h].port > 0 ? l->hosts[h].port : l->o->port;
}

/* new_attempt - append an empty attempt for host h; its index or -1 */
static long new_attempt(struct live *l, size_t h)
{
	struct live_attempt *p;

	if (esa_grow((void **)&l->att, &l->att_cap, l->natt + 1,
		     sizeof(*l->att)) != 0)
		return -1;
	p = &l->att[l->natt];
	memset(p, 0, sizeof(*p));
	p->host = h;
	p->port = host_port(l, h);
	return (long)l->natt++;
}

/* find_attempt - the attempt already made to this address and port, -1 */
static long find_attempt(const struct live *l, const struct live_addr *ad,
			 int port)
{
	size_t len = ad->family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < l->natt; i++) {
		const struct live_attempt *a = &l->att[i];

		if (a->have_addr && a->family == ad->family &&
		    a->port == port && memcmp(a->addr, ad->addr, len) == 0)
			return (long)i;
	}
	return -1;
}

/* add_also - note that host h led to attempt i too */
static int add_also(struct live *l, size_t i, size_t h)
{
	struct live_attempt *a = &l->att[i];
	if (esa_grow((void **)&a->also, &a->also_cap, a->nalso + 1,
		     sizeof(*a->also)) != 0)
		return -1;
	a->also[a->nalso++] = h;
	return 0;
}

/* no_address - the attempt of a host that gave no address: why */
static void no_address(struct live *l, struct live_attempt *a, size_t k0)
{
	size_t off = 0;

	a->outcome = LIVE_NO_ADDRESS;
	snprintf(a->reason, sizeof(a->reason), "no address");
	for (size_t k = k0; k < l->nlookups && off < sizeof(a->reason); k++)
		off += (size_t)snprintf(a->reason + off, sizeof(a->reason) - off,
					"%s%s", k == k0 ? "no address: " : "; ",
					l->lookups[k].reason);
}

/* fail_text - append "what fails" to a reason being built */
static size_t fail_text(char *buf, size_t sz, size_t off, const char *what,
			const char *why)
{
	if (off >= sz)
		return off;
	return off + (size_t)snprintf(buf + off, sz - off, "%s%s fails: %s",
				      off ? "; " : "", what, why);
}

/* judge - the record under the domain's setting and the options; does
 * the host pass the chain and every requested mode (the skip rule)? */
static void judge(struct live *l, size_t i)
{
	struct live_attempt *a = &l->att[i];
	struct esa_result *res = a->res;
	size_t off = 0;
	bool chain;

	if (res == NULL)
		return;
	res->tls = l->tls;		/* report the domain's own setting */
	if (l->o->no_chain)
		res->chain.checked = false;
	res->accept = esa_result_accept(res, l->tls);
	if (esa_dane_decides(res->dane) &&
	    (a->outcome == LIVE_FAILED || a->outcome == LIVE_TLS_FAILED)) {
		/* docs/dane.md 5: DANE's verdict replaces chain and modes */
		a->outcome = res->dane->pass ? LIVE_PASSED : LIVE_FAILED;
		snprintf(a->reason, sizeof(a->reason), "%s", res->dane->reason);
		return;
	}
	if (a->outcome != LIVE_FAILED)
		return;			/* the handshake did not complete */
	chain = esa_result_chain_ok(res);
	if (!chain)
		off = fail_text(a->reason, sizeof(a->reason), 0, "the chain",
				res->chain.text);
	for (int m = ESA_MODE_VERIFY; m <= ESA_MODE_HOSTED; m++) {
		bool pass = chain && esa_result_pass(res, (enum esa_mode)m);

		if (pass && l->first_pass[m] < 0)
			l->first_pass[m] = (long)i;
		if (chain && !pass && (l->o->modes & (1u << m)))
			off = fail_text(a->reason, sizeof(a->reason), off,
					m == ESA_MODE_VERIFY ? "Verify" :
					"Verify Hosted Domains",
					esa_result_reason(res, (enum esa_mode)m));
	}
	if (off == 0) {
		a->outcome = LIVE_PASSED;
		snprintf(a->reason, sizeof(a->reason), "%s",
			 l->o->no_chain ? "every requested mode passes" :
			 "the chain and every requested mode pass");
	}
}

/* try_address - one address of host h: contact it unless already tried;
 * 0, or -1 when the tool failed (err set) */
static int try_address(struct live *l, size_t h, const struct live_addr *ad,
		       FILE *out, char *err, size_t errsz)
{
	long i = find_attempt(l, ad, host_port(l, h));
	struct live_attempt *a;

	if (i >= 0) {
		if (add_also(l, (size_t)i, h) < 0)
			goto oom;
		if (!l->o->json)
			live_report_duplicate(l, (size_t)i, out);
		return 0;
	}
	if ((i = new_attempt(l, h)) < 0)
		goto oom;
	a = &l->att[i];
	a->have_addr = true;
	a->family = ad->family;
	memcpy(a->addr, ad->addr, 16);
	esa_format_ip(a->family, a->addr, a->addr_text, sizeof(a->addr_text));
	if (live_session(l, a, err, errsz) < 0)
		return -1;
	judge(l, (size_t)i);
	if (!l->o->json)
		live_report_attempt(l, (size_t)i, out);
	if (a->outcome == LIVE_PASSED && l->used < 0)
		l->used = i;	/* the first to pass (others: all_hosts) */
	return 0;
oom:
	snprintf(err, errsz, "out of memory");
	return -1;
}

/* search - the hosts in order until one passes (SPEC 4.3) */
static int search(struct live *l, FILE *out, char *err, size_t errsz)
{
	struct live_addr *addrs = calloc(ADDRS_MAX, sizeof(*addrs));
	int rc = -1;

	if (addrs == NULL)
		goto oom;
	for (size_t h = 0; h < l->nhosts && (l->used < 0 || l->o->all_hosts);
	     h++) {
		size_t n, k0 = l->nlookups;
		long i;

		if (resolve(l, h, addrs, &n) < 0)
			goto oom;
		if (!l->o->json)
			live_report_host(l, h, k0, out);
		if (n == 0) {
			if ((i = new_attempt(l, h)) < 0)
				goto oom;
			no_address(l, &l->att[i], k0);
			if (!l->o->json)
				live_report_attempt(l, (size_t)i, out);
		}
		for (size_t k = 0; k < n && (l->used < 0 || l->o->all_hosts); k++)
			if (try_address(l, h, &addrs[k], out, err, errsz) < 0)
				goto out;
		if (!l->o->json)
			fflush(out);
	}
	rc = 0;
	goto out;
oom:
	snprintf(err, errsz, "out of memory");
out:
	free(addrs);
	return rc;
}

/* ---- the run ------------------------------------------------------------ */

/* ehlo_name - this machine's name when it is a valid FQDN, else a name
 * that says what we are without claiming anything (RFC 2606 .invalid) */
static void ehlo_name(char *out, size_t outsz)
{
	char host[ESA_NAME_MAX], why[ESA_ERR_MAX];

	if (gethostname(host, sizeof(host)) != 0 || strchr(host, '.') == NULL ||
	    esa_domain_normalize(host, out, outsz, why, sizeof(why)) != 0)
		esa_strlcpy(out, EHLO_FALLBACK, outsz);
}

/* make_none - the record the report shows when no host gave one: every
 * requested mode fails with the reason no certificate was seen */
static int make_none(struct live *l)
{
	struct esa_target t;

	l->none = esa_result_new();
	if (l->none == NULL)
		return -1;
	memset(&t, 0, sizeof(t));
	esa_strlcpy(t.recipient, l->o->domain, sizeof(t.recipient));
	if (l->hosts_error[0] != '\0')
		esa_strlcpy(l->none->error, l->hosts_error,
			    sizeof(l->none->error));
	else
		snprintf(l->none->error, sizeof(l->none->error), "no host "
			 "presented a certificate (%zu tried)", l->natt);
	l->none->tls = l->tls;
	l->none->chain.checked = true;
	l->none->chain.ok = false;
	esa_strlcpy(l->none->chain.text, "no certificate was presented",
		    sizeof(l->none->chain.text));
	for (int m = ESA_MODE_VERIFY; m <= ESA_MODE_HOSTED; m++)
		esa_identity_decide(l->none, (enum esa_mode)m, &t, NULL, 0);
	esa_strlcpy(l->none->recipient, l->o->domain,
		    sizeof(l->none->recipient));
	return 0;
}

/* live_top_result - see live.h */
const struct esa_result *live_top_result(const struct live *l)
{
	if (l->used >= 0)
		return l->att[l->used].res;
	for (size_t i = 0; i < l->natt; i++)
		if (l->att[i].res != NULL)
			return l->att[i].res;
	return l->none;
}

/* setup - resolver, TLS context, EHLO name; 0 or -1 (err set) */
static int setup(struct live *l, char *err, size_t errsz)
{
	l->resolver = esa_config_resolver(l->cfg);
	if (l->resolver == NULL) {
		snprintf(err, errsz, "%s", esa_config_error(l->cfg));
		return -1;
	}
	l->tls = esa_config_tls_for(l->cfg, l->o->domain);
	ehlo_name(l->ehlo, sizeof(l->ehlo));
	if (l->o->ctx != NULL && SSL_CTX_up_ref(l->o->ctx) == 1) {
		l->ctx = l->o->ctx;	/* shared (survey): set up once */
		return 0;
	}
	l->ctx = SSL_CTX_new(TLS_client_method());
	/* the system store, for a config without --cafile/--capath; with
	 * them, esa_ssl_install gives each SSL the config's own store */
	if (l->ctx == NULL || SSL_CTX_set_default_verify_paths(l->ctx) != 1) {
		snprintf(err, errsz, "cannot set up TLS (OpenSSL)");
		return -1;
	}
	return 0;
}

/* live_release - see live.h */
void live_release(struct live *l)
{
	for (size_t i = 0; i < l->natt; i++) {
		struct live_attempt *a = &l->att[i];

		for (size_t k = 0; k < a->nchain; k++) {
			free(a->chain[k].subject);
			free(a->chain[k].issuer);
		}
		free(a->chain);
		free(a->also);
		SSL_free(a->ssl);	/* and with it a->res */
	}
	free(l->att);
	free(l->hosts);
	free(l->lookups);
	esa_result_free(l->none);
	SSL_CTX_free(l->ctx);
}

/* live_check - see live.h */
int live_check(esa_config *cfg, const struct live_opts *o, struct live *l,
	       char *err, size_t errsz)
{
	memset(l, 0, sizeof(*l));
	l->o = o;
	l->cfg = cfg;
	l->used = l->first_pass[0] = l->first_pass[1] = -1;
	if (setup(l, err, errsz) < 0)
		return -1;
	if (list_hosts(l) < 0)
		goto oom;
	if (!o->json)
		live_report_start(l, stdout);
	if (search(l, stdout, err, errsz) < 0)
		return -1;
	if (live_top_result(l) == NULL && make_none(l) < 0)
		goto oom;
	return 0;
oom:
	snprintf(err, errsz, "out of memory");
	return -1;
}

/* live_run - see live.h */
int live_run(esa_config *cfg, const struct live_opts *o, char *err,
	     size_t errsz)
{
	struct live l;
	int status = 2;

	signal(SIGPIPE, SIG_IGN);	/* a server that hangs up is not fatal */
	if (live_check(cfg, o, &l, err, errsz) < 0)
		goto out;
	if (o->json ? live_report_json(&l, stdout) < 0
		    : (live_report_end(&l, stdout), 0)) {
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	status = l.used >= 0 ? 0 : 1;
out:
	live_release(&l);
	return status;
}
