/*
 * config.c - settings, SMTP routes and the destinations file (SPEC 5, 8.4)
 *
 * The configuration is an opaque esa_config (esaverify.h) filled by setters
 * that return 0 or -1; on -1 a one-line reason naming the value and the
 * problem is left in cfg->err (sticky: a later success does not clear it;
 * esa_config_error reads it).  Once configured, a config is read-only and may
 * be shared by threads; the only state built later, the resolver, is made
 * under cfg->lock (esa_config_resolver).
 *
 * Contracts:
 *  - esa_config_new returns a config holding one reference; every holder
 *    (the callback module takes one per SSL_CTX with
 *    __atomic_add_fetch(&cfg->refs, 1, ...)) drops it with esa_config_free,
 *    and the last one frees everything, the resolver included.
 *  - esa_routes_parse returns a malloc'd array the caller frees with free().
 *  - esa_config_add_routes APPENDS to the routes already configured for the
 *    domain (the list stays stably sorted by priority, earlier additions
 *    first among equals); a destinations file's [routes] entry REPLACES the
 *    domain's routes, and its [destinations] entries replace entries with
 *    the same key.  A file is applied all or nothing: on any error the
 *    config is unchanged.
 *  - esa_config_tls_for: exact domain, else the longest ".suffix" entry the
 *    domain lies under, else "default", else the setting of
 *    esa_config_set_tls.  ".example.org" means every subdomain of
 *    example.org (SPEC 8.4) and NOT example.org itself: write both lines
 *    to cover both.
 *
 * Input is hostile: the file may hold NULs, very long lines, CRs, no final
 * newline; nothing is copied into a fixed-size buffer without a bound, and
 * text quoted in errors is truncated and escaped so the error stays one line.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define ROUTES_MAX 1000		/* routes per domain */
#define FILE_MAX (1024 * 1024)	/* bytes of a destinations file */
#define QUOTE_MAX 80		/* octets of input quoted in errors */
#define PATH_QUOTE_MAX 200	/* octets of a file name in errors */

/* ---- small helpers ----------------------------------------------------- */

/* is_space - ASCII white space, independent of the locale */
static bool is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	       c == '\f';
}

/* trim - narrow [*s, *s + *n) to drop white space at both ends */
static void trim(const char **s, size_t *n)
{
	while (*n > 0 && is_space((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && is_space((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* quote_upto - s[0..n) as printable one-line text: at most max octets,
 * control octets and backslashes as \xHH, "..." when cut */
static void quote_upto(char *dst, size_t dstsz, const char *s, size_t n,
		       size_t max)
{
	size_t i, o = 0;
	bool cut = n > max;

	if (cut)
		n = max;
	for (i = 0; i < n && o + 5 < dstsz; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == '\\')
			o += (size_t)snprintf(dst + o, dstsz - o, "\\x%02x", c);
		else
			dst[o++] = (char)c;
	}
	if ((cut || i < n) && o + 4 <= dstsz) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

/* quote - a piece of input as it appears in a reason */
static void quote(char *dst, size_t dstsz, const char *s, size_t n)
{
	quote_upto(dst, dstsz, s, n, QUOTE_MAX);
}

/* seterr - format a reason into a buffer, then make sure it is one line */
static void seterr(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;
	size_t i;

	if (err == NULL || errsz == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	for (i = 0; err[i] != '\0'; i++)
		if ((unsigned char)err[i] < 0x20 || err[i] == 0x7f)
			err[i] = '?';
}

/* parse_num - decimal digits only (no sign, no space) into *out <= max */
static int parse_num(const char *s, size_t n, unsigned long max,
		     unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
		if (v > max)
			return -2;
	}
	*out = v;
	return 0;
}

/* normalize_n - esa_domain_normalize on a length-counted piece of text */
static int normalize_n(const char *s, size_t n, char *out, size_t outsz,
		       char *why, size_t whysz)
{
	char *copy;
	int rc;

	if (memchr(s, '\0', n) != NULL) {
		seterr(why, whysz, "invalid domain: NUL octet");
		return -1;
	}
	copy = strndup(s, n);
	if (copy == NULL) {
		seterr(why, whysz, "out of memory");
		return -1;
	}
	rc = esa_domain_normalize(copy, out, outsz, why, whysz);
	free(copy);
	return rc;
}

/* ---- host[:port] ------------------------------------------------------- */

/*
 * split_hostport - cut "HOST", "HOST:PORT", "[V6]", "[V6]:PORT" or a bare
 * IPv6 literal (two or more colons: never a port, so "::1:53" is an
 * address).  The host (*host, *hostlen) points into s; *port is 0 when
 * none is given.
 * Returns NULL, or the problem.
 */
static const char *split_hostport(const char *s, size_t n, const char **host,
				  size_t *hostlen, bool *bracketed, int *port)
{
	const char *colon, *portp = NULL, *close;
	size_t portlen = 0;
	unsigned long v;
	int rc;

	*port = 0;
	*bracketed = false;
	if (n > 0 && s[0] == '[') {
		close = memchr(s, ']', n);
		if (close == NULL)
			return "missing ']'";
		*bracketed = true;
		*host = s + 1;
		*hostlen = (size_t)(close - s) - 1;
		if (close + 1 < s + n) {
			if (close[1] != ':')
				return "text after ']'";
			portp = close + 2;
			portlen = (size_t)(s + n - portp);
		}
	} else {
		*host = s;
		*hostlen = n;
		colon = memchr(s, ':', n);
		if (colon != NULL &&
		    memchr(colon + 1, ':', n - (size_t)(colon - s) - 1) == NULL) {
			*hostlen = (size_t)(colon - s);
			portp = colon + 1;
			portlen = (size_t)(s + n - portp);
		}
	}
	if (*hostlen == 0)
		return "missing host";
	if (portp != NULL) {
		if (portlen == 0)
			return "missing port";
		rc = parse_num(portp, portlen, 65535, &v);
		if (rc == -1)
			return "port is not a number";
		if (rc == -2 || v == 0)
			return "port out of range (1-65535)";
		*port = (int)v;
	}
	return NULL;
}

/* parse_ip_n - esa_parse_ip on length-counted text */
static int parse_ip_n(const char *s, size_t n, int *family,
		      unsigned char addr[16])
{
	char buf[64];

	if (n == 0 || n >= sizeof(buf) || memchr(s, '\0', n) != NULL)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return esa_parse_ip(buf, family, addr);
}

/* drop_resolver - forget a resolver built from earlier DNS settings */
static void drop_resolver(esa_config *cfg)
{
	pthread_mutex_lock(&cfg->lock);
	if (cfg->resolver != NULL)
		esa_resolver_free(cfg->resolver);
	cfg->resolver = NULL;
	pthread_mutex_unlock(&cfg->lock);
}

/* esa_config_set_nameserver - validate "IP[:PORT]" and keep it canonical */
int esa_config_set_nameserver(esa_config *cfg, const char *ipport)
{
	const char *host, *problem = NULL;
	unsigned char addr[16];
	char ip[64], q[QUOTE_MAX * 4 + 8];
	size_t hostlen;
	bool br;
	int family, port, rc = -1;

	if (cfg == NULL)
		goto out;
	if (ipport == NULL || ipport[0] == '\0') {
		cfg->nameserver[0] = '\0';	/* the system's list */
		drop_resolver(cfg);
		rc = 0;
		goto out;
	}
	problem = split_hostport(ipport, strlen(ipport), &host, &hostlen, &br,
				 &port);
	if (problem == NULL && parse_ip_n(host, hostlen, &family, addr) != 0)
		problem = "not an IPv4 or IPv6 address";
	if (problem != NULL) {
		quote(q, sizeof(q), ipport, strlen(ipport));
		seterr(cfg->err, sizeof(cfg->err), "bad nameserver '%s': %s "
		       "(expected IP[:PORT], [IPv6]:PORT or a bare IPv6 "
		       "address)", q, problem);
		goto out;
	}
	esa_format_ip(family, addr, ip, sizeof(ip));
	if (port == 0)
		snprintf(cfg->nameserver, sizeof(cfg->nameserver), "%s", ip);
	else if (family == AF_INET6)
		snprintf(cfg->nameserver, sizeof(cfg->nameserver), "[%s]:%d",
			 ip, port);
	else
		snprintf(cfg->nameserver, sizeof(cfg->nameserver), "%s:%d",
			 ip, port);
	drop_resolver(cfg);
	rc = 0;
out:
	return rc;
}

/* ---- routes: SPEC 8.2, 8.4 --------------------------------------------- */

/* route_host - fill r->host from HOST: an IP literal or a normalised FQDN */
static const char *route_host(const char *host, size_t hostlen, bool br,
			      struct esa_route *r, char *why, size_t whysz)
{
	size_t i;
	bool dotted_digits = true;

	if (parse_ip_n(host, hostlen, &r->family, r->ip) == 0) {
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
		if (is_space((unsigned char)host[i]))
			return "white space inside the host name";
	if (normalize_n(host, hostlen, r->host, sizeof(r->host), why,
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
	rc = parse_num(s + 4, n - 4, 65535, &v);
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
	problem = split_hostport(s, hp, &host, &hostlen, &br, &r->port);
	if (problem == NULL && slash != NULL)
		problem = route_option(slash + 1, (size_t)(s + n - slash - 1),
				       &r->pri);
	if (problem == NULL)
		problem = route_host(host, hostlen, br, r, detail,
				     sizeof(detail));
	if (problem == NULL)
		return 0;
	quote(q, sizeof(q), s, n);
	seterr(why, whysz, "bad route '%s': %s", q, problem);
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

/* routes_parse_n - esa_routes_parse on length-counted text */
static int routes_parse_n(const char *text, size_t len, struct esa_route **out,
			  size_t *nout, char *why, size_t whysz)
{
	struct esa_route *routes = NULL;
	const char *p = text, *end = text + len, *comma, *item;
	size_t n = 0, want, itemlen;
	int rc = -1;

	want = count_items(text, len);
	if (want > ROUTES_MAX) {
		seterr(why, whysz, "too many routes (more than %d)",
		       ROUTES_MAX);
		goto out;
	}
	routes = calloc(want, sizeof(*routes));
	if (routes == NULL) {
		seterr(why, whysz, "out of memory");
		goto out;
	}
	for (n = 0; n < want; n++, p = comma + 1) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (comma == NULL)
			comma = end;
		item = p;
		itemlen = (size_t)(comma - p);
		trim(&item, &itemlen);
		if (itemlen == 0) {
			seterr(why, whysz, "bad route list: route %zu of %zu "
			       "is empty", n + 1, want);
			goto out;
		}
		if (route_item(item, itemlen, &routes[n], why, whysz) != 0)
			goto out;
	}
	if (sort_routes(routes, n) != 0) {
		seterr(why, whysz, "out of memory");
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
		seterr(why, whysz, "bad route list: none given");
		return -1;
	}
	return routes_parse_n(text, strlen(text), out, n, why, whysz);
}

/* find_routes - the index of domain's entry in a routes array, or -1 */
static long find_routes(const struct esa_domain_routes *r, size_t n,
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

	i = find_routes(cfg->routes, cfg->nroutes, domain);
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
		seterr(cfg->err, sizeof(cfg->err), "routes: %s",
		       domain ? why : "no domain given");
		goto out;
	}
	if (esa_routes_parse(routes, &list, &n, why, sizeof(why)) != 0) {
		seterr(cfg->err, sizeof(cfg->err), "routes for %s: %s", dom,
		       why);
		goto out;
	}
	arc = append_routes(cfg, dom, list, n);
	if (arc != 0) {
		seterr(cfg->err, sizeof(cfg->err), "routes for %s: %s", dom,
		       arc == -2 ? "too many routes (more than 1000)" :
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
	i = find_routes(cfg->routes, cfg->nroutes, dom);
	return i < 0 ? NULL : &cfg->routes[i];
}

/* ---- the config object ------------------------------------------------- */

/* esa_config_new - defaults: required-verify, 5 s of DNS, system store */
esa_config *esa_config_new(void)
{
	esa_config *cfg = calloc(1, sizeof(*cfg));

	if (cfg == NULL)
		return NULL;
	cfg->tls = ESA_TLS_REQUIRED_VERIFY;
	cfg->dns_budget_ms = 5000;
	cfg->refs = 1;
	if (pthread_mutex_init(&cfg->lock, NULL) != 0) {
		free(cfg);
		return NULL;
	}
	return cfg;
}

/* free_routes - free an array of domain route lists */
static void free_routes(struct esa_domain_routes *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(r[i].routes);
	free(r);
}

/* esa_config_free - drop one reference; the last one frees everything */
void esa_config_free(esa_config *cfg)
{
	if (cfg == NULL)
		return;
	if (__atomic_sub_fetch(&cfg->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	if (cfg->resolver != NULL)
		esa_resolver_free(cfg->resolver);
	X509_STORE_free(cfg->store);
	esa_chain_memo_flush(cfg);
	free(cfg->dests);
	free_routes(cfg->routes, cfg->nroutes);
	pthread_mutex_destroy(&cfg->lock);
	free(cfg);
}

/* esa_config_error - the last setter error, "" if none */
const char *esa_config_error(const esa_config *cfg)
{
	return cfg == NULL ? "no configuration" : cfg->err;
}

/* esa_config_set_tls - the setting used when no destination entry matches */
int esa_config_set_tls(esa_config *cfg, const char *setting)
{
	char q[QUOTE_MAX * 4 + 8];
	enum esa_tls t;

	if (cfg == NULL)
		return -1;
	if (esa_tls_parse(setting, &t) != 0) {
		quote(q, sizeof(q), setting ? setting : "",
		      setting ? strlen(setting) : 0);
		seterr(cfg->err, sizeof(cfg->err),
		       "unknown TLS setting '%s' (" ESA_TLS_EXPECTED ")", q);
		return -1;
	}
	cfg->tls = t;
	return 0;
}

/* check_path - can path be read now, as a file (dir false) or a directory? */
static int check_path(const char *what, const char *path, bool dir,
		      size_t maxlen, char *err, size_t errsz)
{
	char q[PATH_QUOTE_MAX * 4 + 8];
	struct stat st;
	const char *problem = NULL;

	if (strlen(path) >= maxlen)
		problem = "path too long";
	else if (stat(path, &st) != 0)
		problem = strerror(errno);
	else if (dir && !S_ISDIR(st.st_mode))
		problem = "not a directory";
	else if (!dir && S_ISDIR(st.st_mode))
		problem = "is a directory";
	else if (access(path, dir ? R_OK | X_OK : R_OK) != 0)
		problem = strerror(errno);
	if (problem == NULL)
		return 0;
	quote_upto(q, sizeof(q), path, strlen(path), PATH_QUOTE_MAX);
	seterr(err, errsz, "%s '%s': %s", what, q, problem);
	return -1;
}

/* esa_config_set_dns_file - answer DNS from a master file (checked now) */
int esa_config_set_dns_file(esa_config *cfg, const char *path)
{
	if (cfg == NULL)
		return -1;
	if (path != NULL && path[0] != '\0' &&
	    check_path("DNS file", path, false, sizeof(cfg->dns_file),
		       cfg->err, sizeof(cfg->err)) != 0)
		return -1;
	esa_strlcpy(cfg->dns_file, path ? path : "", sizeof(cfg->dns_file));
	drop_resolver(cfg);
	return 0;
}

/* esa_config_set_dns_budget_ms - 1 ms .. 60 s for all queries of a check */
int esa_config_set_dns_budget_ms(esa_config *cfg, unsigned ms)
{
	if (cfg == NULL)
		return -1;
	if (ms < 1 || ms > 60000) {
		seterr(cfg->err, sizeof(cfg->err), "DNS budget %u ms out of "
		       "range (1-60000)", ms);
		return -1;
	}
	cfg->dns_budget_ms = ms;
	return 0;
}

/* esa_config_set_trust - stage I trust store; NULL or "" leaves one unset */
int esa_config_set_trust(esa_config *cfg, const char *cafile,
			 const char *capath, const char *crlfile)
{
	const char *ca = cafile ? cafile : "", *cp = capath ? capath : "";
	const char *crl = crlfile ? crlfile : "";

	if (cfg == NULL)
		return -1;
	if ((ca[0] && check_path("CA file", ca, false, sizeof(cfg->cafile),
				 cfg->err, sizeof(cfg->err)) != 0) ||
	    (cp[0] && check_path("CA directory", cp, true, sizeof(cfg->capath),
				 cfg->err, sizeof(cfg->err)) != 0) ||
	    (crl[0] && check_path("CRL file", crl, false, sizeof(cfg->crlfile),
				  cfg->err, sizeof(cfg->err)) != 0))
		return -1;
	pthread_mutex_lock(&cfg->lock);	/* a store from the old settings */
	X509_STORE_free(cfg->store);
	cfg->store = NULL;
	esa_chain_memo_flush(cfg);	/* and what it verified */
	esa_strlcpy(cfg->cafile, ca, sizeof(cfg->cafile));
	esa_strlcpy(cfg->capath, cp, sizeof(cfg->capath));
	esa_strlcpy(cfg->crlfile, crl, sizeof(cfg->crlfile));
	pthread_mutex_unlock(&cfg->lock);
	return 0;
}

/* esa_config_set_chain_flags - opt-in profiles of stage I (SPEC 2) */
int esa_config_set_chain_flags(esa_config *cfg, unsigned flags)
{
	if (cfg == NULL)
		return -1;
	if (flags & ~(ESA_CHAIN_STRICT | ESA_CHAIN_PARTIAL)) {
		snprintf(cfg->err, sizeof(cfg->err), "unknown chain flags 0x%x",
			 flags & ~(ESA_CHAIN_STRICT | ESA_CHAIN_PARTIAL));
		return -1;
	}
	pthread_mutex_lock(&cfg->lock);	/* a store with the old flags */
	X509_STORE_free(cfg->store);
	cfg->store = NULL;
	esa_chain_memo_flush(cfg);	/* and what it verified */
	cfg->chain_flags = flags;
	pthread_mutex_unlock(&cfg->lock);
	return 0;
}

/* esa_config_resolver - the shared resolver, made on first use */
esa_resolver *esa_config_resolver(esa_config *cfg)
{
	char err[ESA_ERR_MAX];
	esa_resolver *r = NULL;

	if (cfg == NULL)
		return NULL;
	pthread_mutex_lock(&cfg->lock);
	if (cfg->resolver != NULL) {
		r = cfg->resolver;
		goto out;
	}
	err[0] = '\0';
	if (cfg->dns_file[0] != '\0')
		r = esa_resolver_static_file(cfg->dns_file, err, sizeof(err));
	else
		r = esa_resolver_libresolv(cfg->nameserver[0] ?
					   cfg->nameserver : NULL, err,
					   sizeof(err));
	if (r == NULL)
		seterr(cfg->err, sizeof(cfg->err), "DNS: %s",
		       err[0] ? err : "cannot set up the resolver");
	cfg->resolver = r;
out:
	pthread_mutex_unlock(&cfg->lock);
	return r;
}

/* ---- destinations: most specific wins (SPEC 8.4) ----------------------- */

/* esa_config_fork_lock - every lock of cfg, taken or released around
 * fork(): the config's (resolver creation), then the resolver's cache */
void esa_config_fork_lock(esa_config *cfg, bool lock)
{
	if (cfg == NULL)
		return;
	if (lock) {
		pthread_mutex_lock(&cfg->lock);
		esa_resolver_fork_lock(cfg->resolver, true);
	} else {
		esa_resolver_fork_lock(cfg->resolver, false);
		pthread_mutex_unlock(&cfg->lock);
	}
}

/* esa_config_tls_for - exact > longest ".suffix" > "default" > cfg->tls */
enum esa_tls esa_config_tls_for(const esa_config *cfg, const char *domain)
{
	char dom[ESA_NAME_MAX], why[ESA_ERR_MAX];
	const struct esa_dest *best = NULL, *def = NULL;
	size_t i, dlen = 0, klen, bestlen = 0;
	bool valid = false;

	if (cfg == NULL)
		return ESA_TLS_REQUIRED_VERIFY;
	if (domain != NULL && esa_domain_normalize(domain, dom, sizeof(dom),
						    why, sizeof(why)) == 0) {
		valid = true;
		dlen = strlen(dom);
	}
	for (i = 0; i < cfg->ndests; i++) {
		const struct esa_dest *d = &cfg->dests[i];

		if (strcmp(d->domain, "default") == 0) {
			def = d;
			continue;
		}
		if (!valid)
			continue;
		if (d->domain[0] != '.') {
			if (strcmp(d->domain, dom) == 0)
				return d->tls;	/* exact beats all */
			continue;
		}
		/* ".example.org": strictly below example.org, not itself */
		klen = strlen(d->domain);
		if (klen < dlen && klen > bestlen &&
		    strcmp(dom + dlen - klen, d->domain) == 0) {
			best = d;
			bestlen = klen;
		}
	}
	if (best != NULL)
		return best->tls;
	return def != NULL ? def->tls : cfg->tls;
}

/* ---- the destinations and routes file ---------------------------------- */

enum section { SEC_NONE, SEC_DEST, SEC_ROUTES };

/* What one file gives, kept apart until all of it parsed (all or nothing). */
struct stage {
	const char *label;
	unsigned long line;
	enum section sec;
	struct esa_dest *dests;
	unsigned long *dline;		/* line of each dest */
	size_t ndests, capd, capdl;
	struct esa_domain_routes *routes;
	unsigned long *rline;
	size_t nroutes, capr, caprl;
	char *err;
	size_t errsz;
};

/* fail - "LABEL:LINE: problem" */
static int fail(struct stage *st, const char *fmt, ...)
{
	char msg[ESA_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	seterr(st->err, st->errsz, "%s:%lu: %s", st->label, st->line, msg);
	return -1;
}

/* parse_section - "[destinations]" or "[routes]", any case, spaces inside */
static int parse_section(struct stage *st, const char *s, size_t n)
{
	char q[QUOTE_MAX * 4 + 8];
	const char *name;
	size_t nlen;

	quote(q, sizeof(q), s, n);
	if (n < 2 || s[n - 1] != ']')
		return fail(st, "bad section header '%s' (expected "
			    "[destinations] or [routes])", q);
	name = s + 1;
	nlen = n - 2;
	trim(&name, &nlen);
	if (esa_ascii_eq_word(name, nlen, "destinations"))
		st->sec = SEC_DEST;
	else if (esa_ascii_eq_word(name, nlen, "routes"))
		st->sec = SEC_ROUTES;
	else
		return fail(st, "unknown section '%s' (expected [destinations] "
			    "or [routes])", q);
	return 0;
}

/* suffix_key - ".org" as the key: normalise "a.org", then drop the "a" */
static int suffix_key(const char *s, size_t n, char *key, size_t keysz)
{
	char *tmp, norm[ESA_NAME_MAX + 1];
	int rc = -1;

	if (n < 2 || n > ESA_NAME_MAX || s[1] == '.')
		return -1;
	tmp = malloc(n + 2);
	if (tmp == NULL)
		return -1;
	tmp[0] = 'a';
	memcpy(tmp + 1, s, n);
	if (normalize_n(tmp, n + 1, norm, sizeof(norm), NULL, 0) == 0 &&
	    norm[0] == 'a' && norm[1] == '.' && strlen(norm + 1) < keysz) {
		esa_strlcpy(key, norm + 1, keysz);
		rc = 0;
	}
	free(tmp);
	return rc;
}

/* dest_key - "default", ".suffix" or an exact domain, normalised */
static int dest_key(struct stage *st, const char *s, size_t n, char *key,
		    size_t keysz)
{
	char why[ESA_ERR_MAX], q[QUOTE_MAX * 4 + 8];
	size_t off = 0;

	quote(q, sizeof(q), s, n);
	if (esa_ascii_eq_word(s, n, "default")) {
		esa_strlcpy(key, "default", keysz);
		return 0;
	}
	if (n >= 2 && s[0] == '*' && s[1] == '.')
		return fail(st, "bad destination '%s': write '%s' for every "
			    "subdomain", q, q + 1);
	if (s[0] == '.') {
		if (n == 1)
			return fail(st, "bad destination '.': no domain");
		key[0] = '.';
		off = 1;
	}
	if (normalize_n(s + off, n - off, key + off, keysz - off, why,
			sizeof(why)) == 0)
		return 0;
	if (off == 1 && suffix_key(s, n, key, keysz) == 0)
		return 0;	/* ".org": a one-label suffix */
	return fail(st, "bad destination '%s': %s", q, why);
}

/* dest_options - "tls=SETTING" (spaces around '=' allowed), once each */
static int dest_options(struct stage *st, const char *s, size_t n,
			enum esa_tls *tls)
{
	const char *end = s + n, *k, *v;
	char q[QUOTE_MAX * 4 + 8], val[32];
	size_t klen, vlen;
	bool have = false;

	while (s < end) {
		for (k = s; s < end && !is_space((unsigned char)*s) &&
		     *s != '='; s++)
			;
		klen = (size_t)(s - k);
		while (s < end && is_space((unsigned char)*s))
			s++;
		quote(q, sizeof(q), k, klen);
		if (s == end || *s != '=' || klen == 0)
			return fail(st, "bad option '%s' (expected "
				    "tls=SETTING)", q);
		if (!esa_ascii_eq_word(k, klen, "tls"))
			return fail(st, "unknown option '%s' (expected "
				    "tls)", q);
		if (have)
			return fail(st, "option tls given twice");
		for (s++; s < end && is_space((unsigned char)*s); s++)
			;
		for (v = s; s < end && !is_space((unsigned char)*s); s++)
			;
		vlen = (size_t)(s - v);
		quote(q, sizeof(q), v, vlen);
		val[0] = '\0';
		if (vlen < sizeof(val)) {
			memcpy(val, v, vlen);
			val[vlen] = '\0';
		}
		if (esa_tls_parse(val, tls) != 0)
			return fail(st, "unknown TLS setting '%s' (" ESA_TLS_EXPECTED
				    ")", q);
		have = true;
		while (s < end && is_space((unsigned char)*s))
			s++;
	}
	if (!have)
		return fail(st, "missing tls=SETTING");
	return 0;
}

/* split_first - the first word of a line and the trimmed rest */
static void split_first(const char *s, size_t n, size_t *wlen,
			const char **rest, size_t *restlen)
{
	size_t i = 0;

	while (i < n && !is_space((unsigned char)s[i]))
		i++;
	*wlen = i;
	*rest = s + i;
	*restlen = n - i;
	trim(rest, restlen);
}

/* parse_dest - "DOMAIN tls=SETTING" in [destinations] */
static int parse_dest(struct stage *st, const char *s, size_t n)
{
	struct esa_dest d;
	const char *rest;
	size_t wlen, restlen;

	memset(&d, 0, sizeof(d));
	split_first(s, n, &wlen, &rest, &restlen);
	if (dest_key(st, s, wlen, d.domain, sizeof(d.domain)) != 0 ||
	    dest_options(st, rest, restlen, &d.tls) != 0)
		return -1;
	if (esa_grow((void **)&st->dests, &st->capd, st->ndests + 1,
		     sizeof(*st->dests)) != 0 ||
	    esa_grow((void **)&st->dline, &st->capdl, st->ndests + 1,
		     sizeof(*st->dline)) != 0)
		return fail(st, "out of memory");
	st->dline[st->ndests] = st->line;
	st->dests[st->ndests++] = d;
	return 0;
}

/* parse_routes - "DOMAIN HOST[:PORT][/pri=N], ..." in [routes] */
static int parse_routes(struct stage *st, const char *s, size_t n)
{
	struct esa_domain_routes e;
	char why[ESA_ERR_MAX], q[QUOTE_MAX * 4 + 8];
	const char *rest;
	size_t wlen, restlen;

	memset(&e, 0, sizeof(e));
	split_first(s, n, &wlen, &rest, &restlen);
	quote(q, sizeof(q), s, wlen);
	if (s[0] == '.' || esa_ascii_eq_word(s, wlen, "default"))
		return fail(st, "routes need an exact domain, not '%s'", q);
	if (normalize_n(s, wlen, e.domain, sizeof(e.domain), why,
			sizeof(why)) != 0)
		return fail(st, "bad route domain '%s': %s", q, why);
	if (restlen == 0)
		return fail(st, "no routes given for %s", e.domain);
	if (routes_parse_n(rest, restlen, &e.routes, &e.n, why,
			   sizeof(why)) != 0)
		return fail(st, "%s", why);
	if (esa_grow((void **)&st->routes, &st->capr, st->nroutes + 1,
		     sizeof(*st->routes)) != 0 ||
	    esa_grow((void **)&st->rline, &st->caprl, st->nroutes + 1,
		     sizeof(*st->rline)) != 0) {
		free(e.routes);
		return fail(st, "out of memory");
	}
	st->rline[st->nroutes] = st->line;
	st->routes[st->nroutes++] = e;
	return 0;
}

/* parse_line - one line without its newline; comments and blanks skipped */
static int parse_line(struct stage *st, const char *s, size_t n)
{
	const char *hash;

	if (memchr(s, '\0', n) != NULL)
		return fail(st, "NUL octet in line");
	if (st->line == 1 && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		s += 3;		/* a UTF-8 byte order mark */
		n -= 3;
	}
	hash = memchr(s, '#', n);
	if (hash != NULL)
		n = (size_t)(hash - s);
	trim(&s, &n);
	if (n == 0)
		return 0;
	if (s[0] == '[')
		return parse_section(st, s, n);
	if (st->sec == SEC_DEST)
		return parse_dest(st, s, n);
	if (st->sec == SEC_ROUTES)
		return parse_routes(st, s, n);
	return fail(st, "entry outside a section (put [destinations] or "
		    "[routes] above it)");
}

/* dup_cmp - order keys, then lines, for the duplicate check */
struct keyline {
	const char *key;
	unsigned long line;
};
static int dup_cmp(const void *a, const void *b)
{
	const struct keyline *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* find_dup - the earliest line repeating a key of an earlier line, or 0 */
static unsigned long find_dup(struct keyline *kl, size_t n,
			      unsigned long *first, const char **key)
{
	unsigned long best = 0;
	size_t i;

	qsort(kl, n, sizeof(*kl), dup_cmp);
	for (i = 1; i < n; i++) {
		if (strcmp(kl[i].key, kl[i - 1].key) == 0 &&
		    (best == 0 || kl[i].line < best)) {
			best = kl[i].line;
			*first = kl[i - 1].line;
			*key = kl[i].key;
		}
	}
	return best;
}

/* check_dups - report a key given twice in one section, by earliest line */
static int check_dups(struct stage *st, unsigned long before)
{
	struct keyline *kl;
	const char *key = NULL, *kd = NULL;
	unsigned long ld, lr, fd = 0, fr = 0;
	size_t i, n = 0;
	int rc = 0;

	kl = calloc(st->ndests + st->nroutes + 1, sizeof(*kl));
	if (kl == NULL)
		return fail(st, "out of memory");
	for (i = 0; i < st->ndests; i++)
		kl[n++] = (struct keyline){ st->dests[i].domain, st->dline[i] };
	ld = find_dup(kl, n, &fd, &kd);
	for (n = 0, i = 0; i < st->nroutes; i++)
		kl[n++] = (struct keyline){ st->routes[i].domain, st->rline[i] };
	lr = find_dup(kl, n, &fr, &key);
	if (ld != 0 && (lr == 0 || ld < lr)) {
		lr = ld;
		fr = fd;
		key = kd;
	}
	if (lr != 0 && lr < before) {
		st->line = lr;
		rc = fail(st, "duplicate entry '%s' (first on line %lu)", key,
			  fr);
	}
	free(kl);
	return rc;
}

/* commit - move a parsed file into cfg: same keys replaced, others added;
 * the room is made first so nothing can fail half way */
static int commit(esa_config *cfg, struct stage *st)
{
	size_t i, j;
	long k;

	if (esa_grow((void **)&cfg->dests, &cfg->dests_cap,
		     cfg->ndests + st->ndests, sizeof(*cfg->dests)) != 0 ||
	    esa_grow((void **)&cfg->routes, &cfg->routes_cap,
		     cfg->nroutes + st->nroutes, sizeof(*cfg->routes)) != 0)
		return -1;
	for (i = 0; i < st->ndests; i++) {
		for (j = 0; j < cfg->ndests; j++)
			if (strcmp(cfg->dests[j].domain,
				   st->dests[i].domain) == 0)
				break;
		if (j == cfg->ndests)
			cfg->ndests++;
		cfg->dests[j] = st->dests[i];
	}
	for (i = 0; i < st->nroutes; i++) {
		k = find_routes(cfg->routes, cfg->nroutes, st->routes[i].domain);
		if (k < 0)
			k = (long)cfg->nroutes++;
		else
			free(cfg->routes[k].routes);
		cfg->routes[k] = st->routes[i];
		st->routes[i].routes = NULL;	/* now cfg's */
	}
	return 0;
}

/* parse_all - every line of text into st; stops at the first problem */
static int parse_all(struct stage *st, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *nl;
	int rc = 0;

	while (p < end && rc == 0) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		st->line++;
		rc = parse_line(st, p, (size_t)(nl - p));
		p = nl + 1;
	}
	/* a duplicate on an earlier line is the first problem of the file */
	if (check_dups(st, rc == 0 ? ULONG_MAX : st->line) != 0)
		rc = -1;
	return rc;
}

/* esa_config_load_text - a destinations file from memory; label names it */
int esa_config_load_text(esa_config *cfg, const char *text, size_t len,
			 const char *label)
{
	struct stage st;
	size_t i;
	int rc = -1;

	if (cfg == NULL)
		return -1;
	memset(&st, 0, sizeof(st));
	st.label = label ? label : "(config)";
	st.err = cfg->err;
	st.errsz = sizeof(cfg->err);
	if (text == NULL && len > 0)
		goto out;
	if (parse_all(&st, text ? text : "", len) != 0)
		goto out;
	if (commit(cfg, &st) != 0) {
		seterr(cfg->err, sizeof(cfg->err), "%s: out of memory",
		       st.label);
		goto out;
	}
	rc = 0;
out:
	for (i = 0; i < st.nroutes; i++)
		free(st.routes[i].routes);
	free(st.routes);
	free(st.rline);
	free(st.dests);
	free(st.dline);
	return rc;
}

/* esa_config_load_file - read a destinations and routes file (SPEC 8.4) */
int esa_config_load_file(esa_config *cfg, const char *path)
{
	const char *problem = NULL;
	char q[PATH_QUOTE_MAX * 4 + 8];
	char *text = NULL;
	FILE *f = NULL;
	size_t len = 0;
	int rc = -1;

	if (cfg == NULL)
		goto out;
	if (path == NULL || path[0] == '\0') {
		seterr(cfg->err, sizeof(cfg->err), "no configuration file given");
		goto out;
	}
	quote_upto(q, sizeof(q), path, strlen(path), PATH_QUOTE_MAX);
	f = fopen(path, "r");
	if (f == NULL) {
		seterr(cfg->err, sizeof(cfg->err), "%s: cannot open: %s", q,
		       strerror(errno));
		goto out;
	}
	text = esa_read_stream(f, FILE_MAX, "file too large (more than 1 MiB)",
			       &len, &problem);
	if (text == NULL) {
		seterr(cfg->err, sizeof(cfg->err), "%s: cannot read: %s", q,
		       problem ? problem : "unknown error");
		goto out;
	}
	rc = esa_config_load_text(cfg, text, len, q);
out:
	if (f != NULL)
		fclose(f);
	free(text);
	return rc;
}
