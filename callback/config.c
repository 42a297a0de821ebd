/*
 * config.c - settings (SPEC 5, 8.4): the config object, its setters and
 * getters, and the text helpers that the routes (config_routes.c) and the
 * destinations file (config_file.c) share with it (config_impl.h).
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
 *  - esa_config_tls_for: exact domain, else the longest ".suffix" entry the
 *    domain lies under, else "default", else the setting of
 *    esa_config_set_tls.  ".example.org" means every subdomain of
 *    example.org (SPEC 8.4) and NOT example.org itself: write both lines
 *    to cover both.
 *
 * Input is hostile: text quoted in errors is truncated and escaped so the
 * error stays one line (esa_cfg_quote, esa_cfg_seterr).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_impl.h"

/* ---- text helpers, shared (config_impl.h) ------------------------------ */

/* esa_cfg_is_space - ASCII white space, independent of the locale */
bool esa_cfg_is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	       c == '\f';
}

/* esa_cfg_trim - narrow [*s, *s + *n) to drop white space at both ends */
void esa_cfg_trim(const char **s, size_t *n)
{
	while (*n > 0 && esa_cfg_is_space((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && esa_cfg_is_space((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* esa_cfg_quote_upto - s[0..n) as printable one-line text: at most max
 * octets, control octets and backslashes as \xHH, "..." when cut */
void esa_cfg_quote_upto(char *dst, size_t dstsz, const char *s, size_t n,
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

/* esa_cfg_quote - a piece of input as it appears in a reason */
void esa_cfg_quote(char *dst, size_t dstsz, const char *s, size_t n)
{
	esa_cfg_quote_upto(dst, dstsz, s, n, QUOTE_MAX);
}

/* esa_cfg_seterr - format a reason into a buffer, then make sure it is one
 * line */
void esa_cfg_seterr(char *err, size_t errsz, const char *fmt, ...)
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

/* esa_cfg_parse_num - decimal digits only (no sign, no space) into
 * *out <= max */
int esa_cfg_parse_num(const char *s, size_t n, unsigned long max,
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

/* esa_cfg_normalize_n - esa_domain_normalize on a length-counted piece of
 * text */
int esa_cfg_normalize_n(const char *s, size_t n, char *out, size_t outsz,
			char *why, size_t whysz)
{
	char *copy;
	int rc;

	if (memchr(s, '\0', n) != NULL) {
		esa_cfg_seterr(why, whysz, "invalid domain: NUL octet");
		return -1;
	}
	copy = strndup(s, n);
	if (copy == NULL) {
		esa_cfg_seterr(why, whysz, "out of memory");
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
const char *esa_cfg_split_hostport(const char *s, size_t n,
				   const char **host, size_t *hostlen,
				   bool *bracketed, int *port)
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
		rc = esa_cfg_parse_num(portp, portlen, 65535, &v);
		if (rc == -1)
			return "port is not a number";
		if (rc == -2 || v == 0)
			return "port out of range (1-65535)";
		*port = (int)v;
	}
	return NULL;
}

/* esa_cfg_parse_ip_n - esa_parse_ip on length-counted text */
int esa_cfg_parse_ip_n(const char *s, size_t n, int *family,
		       unsigned char addr[16])
{
	char buf[64];

	if (n == 0 || n >= sizeof(buf) || memchr(s, '\0', n) != NULL)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return esa_parse_ip(buf, family, addr);
}

/* esa_nameserver_parse - "IP", "IP:PORT", "[IPv6]:PORT", "[IPv6]" or a
 * bare IPv6 address into *ns, with the canonical text (internal.h) */
int esa_nameserver_parse(const char *text, struct esa_nameserver *ns,
			 char *err, size_t errsz)
{
	const char *host, *problem;
	char ip[INET6_ADDRSTRLEN], q[QUOTE_MAX * 4 + 8];
	size_t hostlen;

	memset(ns, 0, sizeof(*ns));
	if (text == NULL)
		text = "";
	problem = esa_cfg_split_hostport(text, strlen(text), &host, &hostlen,
					 &ns->bracketed, &ns->port);
	if (problem == NULL &&
	    esa_cfg_parse_ip_n(host, hostlen, &ns->family, ns->addr) != 0)
		problem = "not an IPv4 or IPv6 address";
	if (problem != NULL) {
		esa_cfg_quote(q, sizeof(q), text, strlen(text));
		esa_cfg_seterr(err, errsz, "bad nameserver '%s': %s (expected "
			       "IP[:PORT], [IPv6]:PORT or a bare IPv6 address)",
			       q, problem);
		return -1;
	}
	esa_format_ip(ns->family, ns->addr, ip, sizeof(ip));
	if (ns->port == 0)
		snprintf(ns->text, sizeof(ns->text), "%s", ip);
	else if (ns->family == AF_INET6)
		snprintf(ns->text, sizeof(ns->text), "[%s]:%d", ip, ns->port);
	else
		snprintf(ns->text, sizeof(ns->text), "%s:%d", ip, ns->port);
	return 0;
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

/* esa_config_set_nameserver - validate "IP[:PORT]" and keep it canonical;
 * NULL or "" means the system's list */
int esa_config_set_nameserver(esa_config *cfg, const char *ipport)
{
	struct esa_nameserver ns;

	if (cfg == NULL)
		return -1;
	if (ipport == NULL || ipport[0] == '\0') {
		cfg->nameserver[0] = '\0';
	} else {
		if (esa_nameserver_parse(ipport, &ns, cfg->err,
					 sizeof(cfg->err)) != 0)
			return -1;
		esa_strlcpy(cfg->nameserver, ns.text, sizeof(cfg->nameserver));
	}
	drop_resolver(cfg);
	return 0;
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
	esa_routes_free(cfg->routes, cfg->nroutes);
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
		esa_cfg_quote(q, sizeof(q), setting ? setting : "",
			      setting ? strlen(setting) : 0);
		esa_cfg_seterr(cfg->err, sizeof(cfg->err),
			       "unknown TLS setting '%s' (" ESA_TLS_EXPECTED
			       ")", q);
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
	esa_cfg_quote_upto(q, sizeof(q), path, strlen(path), PATH_QUOTE_MAX);
	esa_cfg_seterr(err, errsz, "%s '%s': %s", what, q, problem);
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
		esa_cfg_seterr(cfg->err, sizeof(cfg->err), "DNS budget %u ms "
			       "out of range (1-60000)", ms);
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
		esa_cfg_seterr(cfg->err, sizeof(cfg->err), "DNS: %s",
			       err[0] ? err : "cannot set up the resolver");
	cfg->resolver = r;
out:
	pthread_mutex_unlock(&cfg->lock);
	return r;
}

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

/* ---- destinations: most specific wins (SPEC 8.4) ----------------------- */

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
