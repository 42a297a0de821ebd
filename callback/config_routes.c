/*
 * config_routes.c - SMTP routes (SPEC 8.2, 8.4): the route syntax
 * "HOST[:PORT][/pri=N], ..." and the routes configured per domain.
 *
 * Contracts:
 *  - esa_routes_parse returns a malloc'd array the caller frees with free().
 *  - esa_config_add_routes APPENDS to the routes already configured for the
 *    domain (the list stays stably sorted by priority, earlier additions
 *    first among equals); a destinations file's [routes] entry REPLACES the
 *    domain's routes (config_file.c).
 *  - esa_config_routes_for: the exact domain only.
 *
 * Input is hostile: nothing is copied into a fixed-size buffer without a
 * bound, and text quoted in errors is truncated and escaped.
 */
#include <stdlib.h>
#include <string.h>

#include "config_impl.h"

#define ROUTES_MAX 1000		/* routes per domain */

/* route_host - fill r->host from HOST: an IP literal or a normalised FQDN */
static const char *route_host(const char *host, size_t hostlen, bool br,
			      struct esa_route *r, char *why, size_t whysz)
{
	size_t i;
	bool dotted_digits = true;

	if (esa_cfg_parse_ip_n(host, hostlen, &r->family, r->ip) == 0) {
		r->is_ip = true;	/* "[192.0.2.7]" too (RFC 5321) */
		esa_format_ip(r->family, r->ip, r->host, sizeof(r->host));
		return NULL;
	}
	if (br)
		return "only IP addresses go in brackets";
	for (i = 0; i < hostlen; i++)
		if (!(host[i] == '.' || (host[i] >= '0' && host[i] <= '9')))
			dotted_digits = false;
	if (dotted_digits)
		return "not a valid IPv4 address";
	if (memchr(host, ':', hostlen) != NULL)
		return "not a valid IPv6 address (write [IPv6]:PORT "
		       "for a port)";
	for (i = 0; i < hostlen; i++)
		if (esa_cfg_is_space((unsigned char)host[i]))
			return "white space inside the host name";
	if (esa_cfg_normalize_n(host, hostlen, r->host, sizeof(r->host), why,
				whysz) != 0)
		return why;
	return NULL;
}

/* route_option - "/pri=N" (N 0..65535; "pri" in any case) */
static const char *route_option(const char *s, size_t n, int *pri)
{
	unsigned long v;
	int rc;

	if (n < 4 || !esa_ascii_eq_word(s, 3, "pri") || s[3] != '=')
		return "unknown option (expected /pri=N)";
	rc = esa_cfg_parse_num(s + 4, n - 4, 65535, &v);
	if (rc == -1)
		return "priority is not a number";
	if (rc == -2)
		return "priority out of range (0-65535)";
	*pri = (int)v;
	return NULL;
}

/* route_item - parse one "HOST[:PORT][/pri=N]" */
static int route_item(const char *s, size_t n, struct esa_route *r,
		      char *why, size_t whysz)
{
	const char *slash, *host, *problem;
	char detail[ESA_ERR_MAX], q[QUOTE_MAX * 4 + 8];
	size_t hostlen, hp;
	bool br;

	memset(r, 0, sizeof(*r));
	detail[0] = '\0';
	slash = memchr(s, '/', n);
	hp = slash ? (size_t)(slash - s) : n;
	problem = esa_cfg_split_hostport(s, hp, &host, &hostlen, &br, &r->port);
	if (problem == NULL && slash != NULL)
		problem = route_option(slash + 1, (size_t)(s + n - slash - 1),
				       &r->pri);
	if (problem == NULL)
		problem = route_host(host, hostlen, br, r, detail,
				     sizeof(detail));
	if (problem == NULL)
		return 0;
	esa_cfg_quote(q, sizeof(q), s, n);
	esa_cfg_seterr(why, whysz, "bad route '%s': %s", q, problem);
	return -1;
}

/* merge_sort - stable sort of routes by priority (0 first) */
static void merge_sort(struct esa_route *a, struct esa_route *tmp, size_t n)
{
	size_t mid = n / 2, i = 0, j = mid, k = 0;

	if (n < 2)
		return;
	merge_sort(a, tmp, mid);
	merge_sort(a + mid, tmp, n - mid);
	while (i < mid && j < n)
		tmp[k++] = a[j].pri < a[i].pri ? a[j++] : a[i++];
	while (i < mid)
		tmp[k++] = a[i++];
	while (j < n)
		tmp[k++] = a[j++];
	memcpy(a, tmp, n * sizeof(*a));
}

/* sort_routes - stable by priority; -1 only if memory runs out */
static int sort_routes(struct esa_route *a, size_t n)
{
	struct esa_route *tmp;

	if (n < 2)
		return 0;
	tmp = calloc(n, sizeof(*tmp));
	if (tmp == NULL)
		return -1;
	merge_sort(a, tmp, n);
	free(tmp);
	return 0;
}

/* count_items - how many comma-separated items text holds */
static size_t count_items(const char *text, size_t len)
{
	size_t i, n = 1;

	for (i = 0; i < len; i++)
		if (text[i] == ',')
			n++;
	return n;
}

/* esa_routes_parse_n - esa_routes_parse on length-counted text */
int esa_routes_parse_n(const char *text, size_t len, struct esa_route **out,
		       size_t *nout, char *why, size_t whysz)
{
	struct esa_route *routes = NULL;
	const char *p = text, *end = text + len, *comma, *item;
	size_t n = 0, want, itemlen;
	int rc = -1;

	want = count_items(text, len);
	if (want > ROUTES_MAX) {
		esa_cfg_seterr(why, whysz, "too many routes (more than %d)",
			       ROUTES_MAX);
		goto out;
	}
	routes = calloc(want, sizeof(*routes));
	if (routes == NULL) {
		esa_cfg_seterr(why, whysz, "out of memory");
		goto out;
	}
	for (n = 0; n < want; n++, p = comma + 1) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (comma == NULL)
			comma = end;
		item = p;
		itemlen = (size_t)(comma - p);
		esa_cfg_trim(&item, &itemlen);
		if (itemlen == 0) {
			esa_cfg_seterr(why, whysz, "bad route list: route %zu "
				       "of %zu is empty", n + 1, want);
			goto out;
		}
		if (route_item(item, itemlen, &routes[n], why, whysz) != 0)
			goto out;
	}
	if (sort_routes(routes, n) != 0) {
		esa_cfg_seterr(why, whysz, "out of memory");
		goto out;
	}
	*out = routes;
	*nout = n;
	routes = NULL;
	rc = 0;
out:
	free(routes);
	return rc;
}

/* esa_routes_parse - "HOST[:PORT][/pri=N], ..." sorted stably by priority */
int esa_routes_parse(const char *text, struct esa_route **out, size_t *n,
		     char *why, size_t whysz)
{
	if (text == NULL || out == NULL || n == NULL) {
		esa_cfg_seterr(why, whysz, "bad route list: none given");
		return -1;
	}
	return esa_routes_parse_n(text, strlen(text), out, n, why, whysz);
}

/* esa_routes_find - the index of domain's entry in a routes array, or -1 */
long esa_routes_find(const struct esa_domain_routes *r, size_t n,
		     const char *domain)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(r[i].domain, domain) == 0)
			return (long)i;
	return -1;
}

/* append_routes - add more routes to cfg's entry for a normalised domain */
static int append_routes(esa_config *cfg, const char *domain,
			 struct esa_route *add, size_t nadd)
{
	struct esa_domain_routes *e;
	struct esa_route *all;
	size_t have = 0, cap;
	long i;

	i = esa_routes_find(cfg->routes, cfg->nroutes, domain);
	if (i >= 0)
		have = cfg->routes[i].n;
	if (have + nadd > ROUTES_MAX)
		return -2;
	if (i < 0 && esa_grow((void **)&cfg->routes, &cfg->routes_cap,
			      cfg->nroutes + 1, sizeof(*cfg->routes)) != 0)
		return -1;
	all = i >= 0 ? cfg->routes[i].routes : NULL;
	cap = have;	/* sized exactly so far */
	if (esa_grow((void **)&all, &cap, have + nadd, sizeof(*all)) != 0)
		return -1;
	if (i < 0) {
		e = &cfg->routes[cfg->nroutes++];
		memset(e, 0, sizeof(*e));
		esa_strlcpy(e->domain, domain, sizeof(e->domain));
	} else {
		e = &cfg->routes[i];
	}
	memcpy(all + have, add, nadd * sizeof(*all));
	e->routes = all;
	e->n = have + nadd;
	return sort_routes(e->routes, e->n);
}

/* esa_config_add_routes - append routes for one (exact) recipient domain */
int esa_config_add_routes(esa_config *cfg, const char *domain,
			  const char *routes)
{
	struct esa_route *list = NULL;
	char dom[ESA_NAME_MAX], why[ESA_ERR_MAX];
	size_t n = 0;
	int rc = -1, arc;

	if (cfg == NULL)
		goto out;
	if (domain == NULL ||
	    esa_domain_normalize(domain, dom, sizeof(dom), why,
				 sizeof(why)) != 0) {
		esa_cfg_seterr(cfg->err, sizeof(cfg->err), "routes: %s",
			       domain ? why : "no domain given");
		goto out;
	}
	if (esa_routes_parse(routes, &list, &n, why, sizeof(why)) != 0) {
		esa_cfg_seterr(cfg->err, sizeof(cfg->err), "routes for %s: %s",
			       dom, why);
		goto out;
	}
	arc = append_routes(cfg, dom, list, n);
	if (arc != 0) {
		esa_cfg_seterr(cfg->err, sizeof(cfg->err), "routes for %s: %s",
			       dom, arc == -2 ?
			       "too many routes (more than 1000)" :
			       "out of memory");
		goto out;
	}
	rc = 0;
out:
	free(list);
	return rc;
}

/* esa_config_routes_for - the routes of exactly this domain, or NULL */
const struct esa_domain_routes *esa_config_routes_for(const esa_config *cfg,
						      const char *domain)
{
	char dom[ESA_NAME_MAX], why[ESA_ERR_MAX];
	long i;

	if (cfg == NULL || domain == NULL || cfg->nroutes == 0)
		return NULL;
	if (esa_domain_normalize(domain, dom, sizeof(dom), why,
				 sizeof(why)) != 0)
		return NULL;
	i = esa_routes_find(cfg->routes, cfg->nroutes, dom);
	return i < 0 ? NULL : &cfg->routes[i];
}

/* esa_routes_free - free an array of domain route lists */
void esa_routes_free(struct esa_domain_routes *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(r[i].routes);
	free(r);
}
