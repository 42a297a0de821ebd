/*
 * config_file.c - the destinations and routes file (SPEC 8.4): its parser
 * and loader, esa_config_load_text and esa_config_load_file.
 *
 * Contracts:
 *  - [destinations] entries replace entries with the same key, a [routes]
 *    entry REPLACES the domain's routes (esa_config_add_routes appends).
 *  - A file is applied all or nothing: on any error the config is
 *    unchanged; the error names the file, the line and the problem.
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

#include "config_impl.h"

#define FILE_MAX (1024 * 1024)	/* bytes of a destinations file */

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
	esa_cfg_seterr(st->err, st->errsz, "%s:%lu: %s", st->label, st->line,
		       msg);
	return -1;
}

/* parse_section - "[destinations]" or "[routes]", any case, spaces inside */
static int parse_section(struct stage *st, const char *s, size_t n)
{
	char q[QUOTE_MAX * 4 + 8];
	const char *name;
	size_t nlen;

	esa_cfg_quote(q, sizeof(q), s, n);
	if (n < 2 || s[n - 1] != ']')
		return fail(st, "bad section header '%s' (expected "
			    "[destinations] or [routes])", q);
	name = s + 1;
	nlen = n - 2;
	esa_cfg_trim(&name, &nlen);
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
	if (esa_cfg_normalize_n(tmp, n + 1, norm, sizeof(norm), NULL, 0) == 0 &&
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

	esa_cfg_quote(q, sizeof(q), s, n);
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
	if (esa_cfg_normalize_n(s + off, n - off, key + off, keysz - off, why,
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
		for (k = s; s < end && !esa_cfg_is_space((unsigned char)*s) &&
		     *s != '='; s++)
			;
		klen = (size_t)(s - k);
		while (s < end && esa_cfg_is_space((unsigned char)*s))
			s++;
		esa_cfg_quote(q, sizeof(q), k, klen);
		if (s == end || *s != '=' || klen == 0)
			return fail(st, "bad option '%s' (expected "
				    "tls=SETTING)", q);
		if (!esa_ascii_eq_word(k, klen, "tls"))
			return fail(st, "unknown option '%s' (expected "
				    "tls)", q);
		if (have)
			return fail(st, "option tls given twice");
		for (s++; s < end && esa_cfg_is_space((unsigned char)*s); s++)
			;
		for (v = s; s < end && !esa_cfg_is_space((unsigned char)*s);
		     s++)
			;
		vlen = (size_t)(s - v);
		esa_cfg_quote(q, sizeof(q), v, vlen);
		val[0] = '\0';
		if (vlen < sizeof(val)) {
			memcpy(val, v, vlen);
			val[vlen] = '\0';
		}
		if (esa_tls_parse(val, tls) != 0)
			return fail(st, "unknown TLS setting '%s' (" ESA_TLS_EXPECTED
				    ")", q);
		have = true;
		while (s < end && esa_cfg_is_space((unsigned char)*s))
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

	while (i < n && !esa_cfg_is_space((unsigned char)s[i]))
		i++;
	*wlen = i;
	*rest = s + i;
	*restlen = n - i;
	esa_cfg_trim(rest, restlen);
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
	esa_cfg_quote(q, sizeof(q), s, wlen);
	if (s[0] == '.' || esa_ascii_eq_word(s, wlen, "default"))
		return fail(st, "routes need an exact domain, not '%s'", q);
	if (esa_cfg_normalize_n(s, wlen, e.domain, sizeof(e.domain), why,
				sizeof(why)) != 0)
		return fail(st, "bad route domain '%s': %s", q, why);
	if (restlen == 0)
		return fail(st, "no routes given for %s", e.domain);
	if (esa_routes_parse_n(rest, restlen, &e.routes, &e.n, why,
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
	esa_cfg_trim(&s, &n);
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
		k = esa_routes_find(cfg->routes, cfg->nroutes,
				    st->routes[i].domain);
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
		esa_cfg_seterr(cfg->err, sizeof(cfg->err), "%s: out of memory",
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
		esa_cfg_seterr(cfg->err, sizeof(cfg->err),
			       "no configuration file given");
		goto out;
	}
	esa_cfg_quote_upto(q, sizeof(q), path, strlen(path), PATH_QUOTE_MAX);
	f = fopen(path, "r");
	if (f == NULL) {
		esa_cfg_seterr(cfg->err, sizeof(cfg->err),
			       "%s: cannot open: %s", q, strerror(errno));
		goto out;
	}
	text = esa_read_stream(f, FILE_MAX, "file too large (more than 1 MiB)",
			       &len, &problem);
	if (text == NULL) {
		esa_cfg_seterr(cfg->err, sizeof(cfg->err),
			       "%s: cannot read: %s", q,
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
