/*
 * recipient.c - which recipient domain(s) a connection is judged for, and
 * how the verdicts of several are folded into one (SPEC 8.3)
 *
 * The policy the callback (callback.c) and the shim apply when no setter
 * gave the recipient domain; the glue only gathers the facts (the names
 * the program asked for, its peer, what its own DNS work said) into a
 * struct esa_peer_facts.  In this order, the first that knows wins
 * (enum esa_recipient_source names it in the record):
 *   "env"/"set"     ESA_RECIPIENT_DOMAIN (the shim) or esa_ssl_set_recipient;
 *   "config-route"  the domain whose configured routes name the host the
 *                   program asked for, a host the program resolved to the
 *                   peer, or the peer's address (an IP-literal route);
 *   "mx-lookup"     the domains whose MX records, as the program itself
 *                   looked them up (the shim's learned hook), named a host
 *                   that resolved to the peer; the MX host is the via;
 *   "host"/"sni"    the name the program asked OpenSSL to check, or sent.
 * Several MX-lookup domains for one peer are narrowed to the one the
 * program asked for (host or SNI equal to a domain, else to an MX host);
 * those left are each verified, and a mode passes, and the connection is
 * accepted, only if it does for every one of them (esa_candidates_merge).
 * A MAIL FROM in clear is judged by the first of them whose setting
 * requires TLS (esa_plaintext_judge): one candidate requiring TLS is
 * enough to refuse it.
 *
 * Names are compared with the matcher's primitive (esa_name_eq,
 * esa_ascii_streq), never with the host program's locale.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "internal.h"

static const char *const source_names[] = {
	[ESA_RCPT_NONE] = "",
	[ESA_RCPT_SET] = "set",
	[ESA_RCPT_ENV] = "env",
	[ESA_RCPT_CONFIG_ROUTE] = "config-route",
	[ESA_RCPT_MX_LOOKUP] = "mx-lookup",
	[ESA_RCPT_HOST] = "host",
	[ESA_RCPT_SNI] = "sni",
};

/* esa_recipient_source_name - the log word of a source ("" for none) */
const char *esa_recipient_source_name(enum esa_recipient_source source)
{
	if (source < ESA_RCPT_NONE || source > ESA_RCPT_SNI)
		return "";
	return source_names[source];
}

/* ---- choosing ------------------------------------------------------------- */

/* route_domain - the domain whose configured routes include host, or NULL */
static const char *route_domain(const esa_config *cfg, const char *host)
{
	for (size_t i = 0; i < cfg->nroutes; i++)
		for (size_t k = 0; k < cfg->routes[i].n; k++)
			if (esa_ascii_streq(cfg->routes[i].routes[k].host, host))
				return cfg->routes[i].domain;
	return NULL;
}

/* route_domain_ip - the domain with an IP-literal route to the peer, the
 * route as text in via; NULL if none */
static const char *route_domain_ip(const esa_config *cfg,
				   const struct esa_peer_facts *p, char *via,
				   size_t viasz)
{
	for (size_t i = 0; p->family != 0 && i < cfg->nroutes; i++)
		for (size_t k = 0; k < cfg->routes[i].n; k++) {
			const struct esa_route *r = &cfg->routes[i].routes[k];

			if (r->is_ip && r->family == p->family &&
			    memcmp(r->ip, p->addr, r->family == AF_INET ? 4 : 16) == 0) {
				esa_strlcpy(via, r->host, viasz);
				return cfg->routes[i].domain;
			}
		}
	return NULL;
}

/* choice_one - a single recipient domain, its source and via */
static bool choice_one(struct esa_choice *ch, const char *domain,
		       enum esa_recipient_source source, const char *via)
{
	esa_strlcpy(ch->cands[0].domain, domain, sizeof(ch->cands[0].domain));
	esa_strlcpy(ch->cands[0].via, via ? via : "", sizeof(ch->cands[0].via));
	ch->source = source;
	ch->n = 1;
	return true;
}

/* from_routes - the destinations file: a route named by the program, a
 * route host the program resolved to the peer, an IP route to the peer */
static bool from_routes(const esa_config *cfg, const struct esa_peer_facts *p,
			struct esa_choice *ch)
{
	const char *dom = p->name ? route_domain(cfg, p->name) : NULL;
	char ip[ESA_NAME_MAX];

	if (dom != NULL)
		return choice_one(ch, dom, ESA_RCPT_CONFIG_ROUTE, p->name);
	for (size_t i = 0; i < p->nlearned; i++)
		if ((dom = route_domain(cfg, p->learned[i].host)) != NULL)
			return choice_one(ch, dom, ESA_RCPT_CONFIG_ROUTE,
					  p->learned[i].host);
	if ((dom = route_domain_ip(cfg, p, ip, sizeof(ip))) != NULL)
		return choice_one(ch, dom, ESA_RCPT_CONFIG_ROUTE, ip);
	return false;
}

/* from_mx - the domains whose MX lookup by the program led to the peer,
 * narrowed to the one the program asked for when its name tells */
static bool from_mx(const struct esa_peer_facts *p, struct esa_choice *ch)
{
	struct esa_candidate all[ESA_MAX_CANDIDATES];
	const struct esa_learned *l = p->learned;
	size_t n = 0, keep = 0, by_domain, k;

	for (size_t i = 0; i < p->nlearned && n < ESA_MAX_CANDIDATES; i++) {
		if (l[i].domain[0] == '\0')
			continue;
		for (k = 0; k < n; k++)
			if (esa_name_eq(all[k].domain, l[i].domain) &&
			    esa_name_eq(all[k].via, l[i].host))
				break;
		if (k < n)
			continue;
		esa_strlcpy(all[n].domain, l[i].domain, sizeof(all[n].domain));
		esa_strlcpy(all[n].via, l[i].host, sizeof(all[n].via));
		n++;
	}
	if (n == 0)
		return false;
	for (k = 0; p->name != NULL && k < n; k++)	/* the domain asked for */
		if (esa_name_eq(all[k].domain, p->name))
			ch->cands[keep++] = all[k];
	by_domain = keep;
	for (k = 0; p->name != NULL && by_domain == 0 && k < n; k++)
		if (esa_name_eq(all[k].via, p->name))	/* else its MX host */
			ch->cands[keep++] = all[k];
	if (keep == 0) {	/* cannot tell: all of them */
		memcpy(ch->cands, all, n * sizeof(all[0]));
		keep = n;
	}
	ch->n = keep;
	ch->source = ESA_RCPT_MX_LOOKUP;
	return true;
}

/* esa_recipient_choose - the recipient domain(s) of a connection when no
 * setter gave one: the destinations file, the program's own MX lookups,
 * the name it asked for (the order of the file header, SPEC 8.3) */
bool esa_recipient_choose(const esa_config *cfg, const struct esa_peer_facts *p,
			  struct esa_choice *ch)
{
	memset(ch, 0, sizeof(*ch));
	if (from_routes(cfg, p, ch) || from_mx(p, ch))
		return true;
	if (p->name != NULL)
		return choice_one(ch, p->name,
				  p->name_is_sni ? ESA_RCPT_SNI : ESA_RCPT_HOST,
				  NULL);
	return false;
}

/* esa_recipient_refuses_failure - does a failed chain refuse at once when
 * the connection is for these domains (the one given, or n > 1
 * candidates)?  One candidate whose setting refuses is enough; a domain
 * that is not valid counts under the configuration's default setting. */
bool esa_recipient_refuses_failure(const esa_config *cfg, const char *recipient,
				   const struct esa_candidate *cands, size_t n)
{
	char dom[ESA_NAME_MAX], why[ESA_ERR_MAX];

	for (size_t i = 0; i < (n > 1 ? n : 1); i++) {
		const char *d = n > 1 ? cands[i].domain : recipient;

		if (esa_domain_normalize(d, dom, sizeof(dom), why,
					 sizeof(why)) < 0) {
			if (esa_tls_refuses_failure(cfg->tls))
				return true;
		} else if (esa_tls_refuses_failure(esa_config_tls_for(cfg, dom))) {
			return true;	/* one candidate refusing refuses */
		}
	}
	return false;
}

/* ---- several candidates, one decision ------------------------------------ */

/* esa_candidates_set - the candidates chosen for the connection, into the
 * record (the shim's log lists them); 0, or -1 when out of memory */
int esa_candidates_set(struct esa_result *res, const struct esa_candidate *c,
		       size_t n)
{
	free(res->candidates);
	res->candidates = NULL;
	res->ncandidates = 0;
	if (n == 0)
		return 0;
	if ((res->candidates = calloc(n, sizeof(*res->candidates))) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		esa_strlcpy(res->candidates[i].domain, c[i].domain,
			    sizeof(res->candidates[i].domain));
		esa_strlcpy(res->candidates[i].via, c[i].via,
			    sizeof(res->candidates[i].via));
		res->candidates[i].tls = res->tls;
	}
	res->ncandidates = n;
	return 0;
}

/* esa_candidates_note - candidate i's own verdicts (from its record of),
 * for the log */
void esa_candidates_note(struct esa_result *res, size_t i,
			 const struct esa_result *of)
{
	struct esa_candidate_verdict *v;

	if (i >= res->ncandidates)
		return;
	v = &res->candidates[i];
	v->tls = of->tls;
	v->verify_pass = esa_result_pass(of, ESA_MODE_VERIFY);
	v->hosted_pass = esa_result_pass(of, ESA_MODE_HOSTED);
	v->accept = of->accept;
}

/* esa_candidates_merge - fold another candidate's record into res: a mode
 * that passed takes the other's failing verdict (its reason naming that
 * domain), the DNS queries add up, and the connection is accepted only if
 * both are */
void esa_candidates_merge(struct esa_result *res, struct esa_result *other)
{
	char why[ESA_ERR_MAX];

	for (int m = ESA_MODE_VERIFY; m <= ESA_MODE_HOSTED; m++) {
		struct esa_verdict *v = &res->verdict[m], *o = &other->verdict[m];

		if (!o->computed || (v->computed && !v->pass) || o->pass)
			continue;
		free(v->tries);
		*v = *o;
		o->tries = NULL;
		o->ntries = o->tries_cap = 0;
		snprintf(why, sizeof(why), "recipient candidate %s: %s",
			 other->recipient, o->reason);
		esa_strlcpy(v->reason, why, sizeof(v->reason));
	}
	if (other->ndns > 0 &&
	    esa_grow((void **)&res->dns, &res->dns_cap, res->ndns + other->ndns,
		     sizeof(*res->dns)) == 0) {
		memcpy(res->dns + res->ndns, other->dns,
		       other->ndns * sizeof(*res->dns));
		res->ndns += other->ndns;
	}
	if (res->error[0] == '\0' && other->error[0] != '\0')
		esa_strlcpy(res->error, other->error, sizeof(res->error));
	if (res->accept && !other->accept) {
		res->accept = false;
		res->tls = other->tls;	/* the setting that refused */
	}
}

/* esa_candidates_accept - the decision under every candidate's setting
 * (observe, after ESA's own chain check) */
bool esa_candidates_accept(const struct esa_result *res)
{
	bool ok = esa_result_accept(res, res->tls);

	for (size_t i = 0; i < res->ncandidates; i++)
		ok = ok && esa_result_accept(res, res->candidates[i].tls);
	return ok;
}

/* ---- a MAIL FROM in clear ------------------------------------------------- */

/* plaintext_setting - the setting and domain a clear-text MAIL FROM to the
 * peer is judged by: the recipient given; else the first of the domains
 * the facts lead to whose setting requires TLS, else the first of them;
 * else the default */
static enum esa_tls plaintext_setting(const esa_config *cfg,
				      const char *recipient,
				      const struct esa_peer_facts *p,
				      char *dom, size_t domsz)
{
	enum esa_tls tls = esa_config_tls_for(cfg, recipient), t;
	struct esa_choice *ch;

	esa_strlcpy(dom, recipient, domsz);
	if (recipient[0] != '\0' || (ch = calloc(1, sizeof(*ch))) == NULL)
		return tls;
	if (esa_recipient_choose(cfg, p, ch)) {
		tls = esa_config_tls_for(cfg, ch->cands[0].domain);
		esa_strlcpy(dom, ch->cands[0].domain, domsz);
		for (size_t i = 0; i < ch->n; i++) {
			t = esa_config_tls_for(cfg, ch->cands[i].domain);
			if (esa_tls_requires_tls(t)) {
				tls = t;
				esa_strlcpy(dom, ch->cands[i].domain, domsz);
				break;
			}
		}
	}
	free(ch);
	return tls;
}

/* esa_plaintext_judge - a MAIL FROM about to go out in clear on an SMTP
 * connection: the setting it is judged by, and whether ESA refuses it
 * (SPEC 5: settings that require TLS, or any configuration error) */
void esa_plaintext_judge(const esa_config *cfg, const char *recipient,
			 const struct esa_peer_facts *p,
			 const char *config_error, struct esa_plaintext *out)
{
	memset(out, 0, sizeof(*out));
	out->tls = plaintext_setting(cfg, recipient ? recipient : "", p,
				     out->domain, sizeof(out->domain));
	out->reject = (config_error != NULL && config_error[0] != '\0') ||
		      esa_tls_requires_tls(out->tls) ||
		      (cfg != NULL && cfg->dane == ESA_DANE_MANDATORY);	/* docs/dane.md 5 */
	if (config_error != NULL && config_error[0] != '\0')
		snprintf(out->why, sizeof(out->why),
			 "configuration error (%.400s)", config_error);
	else if (cfg != NULL && cfg->dane == ESA_DANE_MANDATORY &&
		 !esa_tls_requires_tls(out->tls))
		snprintf(out->why, sizeof(out->why), "MAIL FROM in plain text: "
			 "no TLS session on this SMTP connection, and DANE "
			 "mandatory requires one (setting %s)",
			 esa_tls_name(out->tls));
	else
		snprintf(out->why, sizeof(out->why), out->reject ?
			 "MAIL FROM in plain text: no TLS session on this SMTP "
			 "connection, and setting %s requires one" :
			 "MAIL FROM in plain text: setting %s allows it",
			 esa_tls_name(out->tls));
}
