/*
 * dnsfile.c - the static resolver (SPEC 6): answers every lookup from an
 * RFC 1035 master-file subset held in memory, for tests and what-if
 * experiments, through the same esa_lookup() interface as libresolv.
 *
 * Accepted input, one record per line (RFC 1035 5.1):
 *     NAME [TTL] [IN] TYPE RDATA      TTL and class in either order
 *   - TYPE is A, AAAA, MX (PREF NAME), PTR (NAME), CNAME (NAME) or TLSA
 *     (USAGE SELECTOR MTYPE HEX, RFC 6698 2.2: three numbers 0..255 and
 *     the association data in hex, which may be split by blanks), in any
 *     letter case; the class, if given, is IN.
 *   - $DNSSEC secure|insecure|bogus marks the records after it (until the
 *     next one; insecure before any): docs/dane.md 8.
 *   - $ORIGIN NAME and $TTL TTL; names not ending in '.' are completed with
 *     the origin (the root until a $ORIGIN), '@' is the origin.
 *   - A line starting with a blank repeats the previous owner.
 *   - ';' starts a comment; blank lines are skipped; CR-LF is accepted.
 *   - A PTR owner may be written as an IPv4 or IPv6 address (SPEC 7's
 *     "192.0.2.1 PTR mx0a.emailhosted.not."); it stands for its
 *     in-addr.arpa / ip6.arpa name.  Other types may not use that form.
 *   - TTL: decimal seconds or BIND units (1h30m, 2d, 1w), at most 2^31-1.
 *     A record without one takes $TTL, else the last explicit TTL, else
 *     3600.
 *   - Not supported (each is an error naming the line): parentheses,
 *     quoted strings, escapes, $INCLUDE, other types and classes, and a
 *     CNAME sharing its owner with any other record (RFC 1034 3.6.2).
 *   - Errors are one line: "FILE:LINE: problem".
 *
 * Answers: a name absent from the file is NXDOMAIN (SPEC 6: even a name
 * that only has names below it), a present name without the type NODATA;
 * CNAMEs are followed, at most 8.  AD is set when every record the answer
 * gives or follows is marked secure (NODATA: every record of the name); a
 * lookup that would give a bogus record is SERVFAIL, as from a validating
 * resolver.  The marks are trusted (ad_trusted): a what-if is the truth.  Every answered lookup
 * counts in esa_resolver_queries(); nothing is cached (answers are free).
 * The parser allocates everything it keeps and copies nothing into a fixed
 * buffer without checking its length first: it is fuzzed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns_impl.h"

#define ZTOK_MAX 16		/* fields on one line; TLSA hex may be split */
#define DEFAULT_TTL 3600
#define FILE_MAX (64u << 20)	/* a master file larger than this is refused */

/* One record of the zone. */
struct zrec {
	char *owner;		/* canonical */
	unsigned line;
	struct esa_rr rr;	/* rr.type may be ESA_T_CNAME */
	enum zmark { ZM_INSECURE, ZM_SECURE, ZM_BOGUS } mark;	/* $DNSSEC */
};

struct esa_zone {
	struct zrec *rec;	/* sorted by owner, type, line after parsing */
	size_t n, cap;
};

/* Parser state, one per file. */
struct zparse {
	const char *label;
	unsigned line;
	struct esa_zone *zone;
	char origin[ESA_NAME_MAX];	/* canonical, "" = root */
	char prev[ESA_NAME_MAX];	/* previous owner */
	bool have_prev, prev_ip;
	uint32_t dollar_ttl, last_ttl;
	bool have_dollar_ttl, have_last_ttl;
	enum zmark mark;		/* the last $DNSSEC */
	char *err;
	size_t errsz;
};

/* shown - a token made printable and short for an error message */
static const char *shown(const char *tok, char buf[48])
{
	size_t i, o = 0;

	for (i = 0; tok[i] != '\0' && o < 40; i++) {
		unsigned char c = (unsigned char)tok[i];

		buf[o++] = (c >= 0x21 && c < 0x7f) ? (char)c : '?';
	}
	if (tok[i] != '\0') {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

/* zp_error - "LABEL:LINE: problem" into the caller's buffer; always -1 */
static int zp_error(struct zparse *p, const char *fmt, ...)
{
	char msg[ESA_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (p->err != NULL && p->errsz > 0)
		snprintf(p->err, p->errsz, "%.200s:%u: %.280s", p->label,
			 p->line, msg);
	return -1;
}

/* zp_ttl - a TTL: decimal seconds or BIND units (s, m, h, d, w) */
static int zp_ttl(struct zparse *p, const char *tok, uint32_t *out)
{
	uint64_t total = 0, num = 0;
	bool digits = false, unit = false;
	char b[48];
	const char *s;

	for (s = tok; *s != '\0'; s++) {
		uint64_t mul = 0;

		if (*s >= '0' && *s <= '9') {
			num = num * 10 + (uint64_t)(*s - '0');
			digits = true;
			if (num > 0x7fffffffu)
				goto bad;
			continue;
		}
		switch (*s | 0x20) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		case 'w': mul = 604800; break;
		default: goto bad;
		}
		if (!digits)
			goto bad;
		total += num * mul;
		if (total > 0x7fffffffu)
			goto bad;
		num = 0;
		digits = false;
		unit = true;
	}
	if (digits)
		total += num;	/* plain number, or trailing seconds */
	if ((!digits && !unit) || total > 0x7fffffffu)
		goto bad;
	*out = (uint32_t)total;
	return 0;
bad:
	return zp_error(p, "bad TTL '%s'", shown(tok, b));
}

/* zp_name - a name token, completed with the origin, into canonical out
 * (ESA_NAME_MAX octets); what names the field in errors */
static int zp_name(struct zparse *p, const char *tok, const char *what,
		   char *out)
{
	char full[2 * ESA_NAME_MAX], b[48];
	size_t tl = strlen(tok), ol = strlen(p->origin);
	const char *why = NULL;

	if (strcmp(tok, "@") == 0) {
		memcpy(out, p->origin, ol + 1);
		return 0;
	}
	if (tl > 253 + 1)
		return zp_error(p, "%s '%s': name too long", what, shown(tok, b));
	if (tl == 0 || tok[tl - 1] == '.' || ol == 0) {
		if (esa_dns_canon(tok, out, ESA_NAME_MAX, &why) != 0)
			return zp_error(p, "%s '%s': %s", what, shown(tok, b), why);
		return 0;
	}
	if (tl + 1 + ol > 253)
		return zp_error(p, "%s '%s': name too long with origin '%s'",
				what, shown(tok, b), p->origin);
	memcpy(full, tok, tl);
	full[tl] = '.';
	memcpy(full + tl + 1, p->origin, ol + 1);
	if (esa_dns_canon(full, out, ESA_NAME_MAX, &why) != 0)
		return zp_error(p, "%s '%s': %s", what, shown(tok, b), why);
	return 0;
}

/* zp_directive - $ORIGIN or $TTL */
static int zp_directive(struct zparse *p, char **tok, size_t nt)
{
	char name[ESA_NAME_MAX], b[48];

	if (esa_ascii_streq(tok[0], "$ORIGIN")) {
		if (nt != 2)
			return zp_error(p, "$ORIGIN takes one name");
		if (zp_name(p, tok[1], "$ORIGIN", name) != 0)
			return -1;
		memcpy(p->origin, name, sizeof name);
		return 0;
	}
	if (esa_ascii_streq(tok[0], "$TTL")) {
		if (nt != 2)
			return zp_error(p, "$TTL takes one TTL");
		if (zp_ttl(p, tok[1], &p->dollar_ttl) != 0)
			return -1;
		p->have_dollar_ttl = true;
		return 0;
	}
	if (esa_ascii_streq(tok[0], "$DNSSEC")) {
		static const char *const marks[] = { "insecure", "secure", "bogus" };

		for (size_t k = 0; nt == 2 && k < 3; k++)
			if (esa_ascii_streq(tok[1], marks[k])) {
				p->mark = (enum zmark)k;
				return 0;
			}
		return zp_error(p, "$DNSSEC takes secure, insecure or bogus");
	}
	if (esa_ascii_streq(tok[0], "$INCLUDE"))
		return zp_error(p, "$INCLUDE is not supported");
	return zp_error(p, "unknown directive '%s'", shown(tok[0], b));
}

/* zp_type - the type named by tok, or 0 */
static uint16_t zp_type(const char *tok)
{
	static const struct { const char *name; uint16_t type; } types[] = {
		{ "A", ESA_T_A }, { "AAAA", ESA_T_AAAA }, { "MX", ESA_T_MX },
		{ "PTR", ESA_T_PTR }, { "CNAME", ESA_T_CNAME },
		{ "TLSA", ESA_T_TLSA },
	};
	size_t i;

	for (i = 0; i < sizeof types / sizeof types[0]; i++)
		if (esa_ascii_streq(tok, types[i].name))
			return types[i].type;
	return 0;
}

/* zp_ttl_class - the optional TTL and class after the owner, either
 * order; *i moves past them */
static int zp_ttl_class(struct zparse *p, char **tok, size_t nt, size_t *i,
			uint32_t *ttl, bool *have_ttl)
{
	static const char *const other[] = { "CH", "CS", "HS", "ANY", "NONE" };
	bool have_class = false;
	char b[48];
	size_t k;

	for (; *i < nt; (*i)++) {
		const char *t = tok[*i];

		if (t[0] >= '0' && t[0] <= '9') {
			if (*have_ttl)
				return zp_error(p, "two TTLs");
			if (zp_ttl(p, t, ttl) != 0)
				return -1;
			*have_ttl = true;
			continue;
		}
		if (esa_ascii_streq(t, "IN")) {
			if (have_class)
				return zp_error(p, "two classes");
			have_class = true;
			continue;
		}
		for (k = 0; k < sizeof other / sizeof other[0]; k++)
			if (esa_ascii_streq(t, other[k]))
				return zp_error(p, "unsupported class '%s' "
						"(only IN)", shown(t, b));
		break;
	}
	return 0;
}

/* zp_owner - the owner of this line: tok (NULL for a blank start), an
 * address only for PTR */
static int zp_owner(struct zparse *p, const char *tok, uint16_t type,
		    char *out)
{
	unsigned char addr[16];
	size_t tl = tok != NULL ? strlen(tok) : 0;
	char b[48];
	int fam;

	if (tok == NULL) {
		if (!p->have_prev)
			return zp_error(p, "line starts with a blank but there "
					"is no previous owner");
		if (p->prev_ip && type != ESA_T_PTR)
			return zp_error(p, "an address as owner is allowed for "
					"PTR records only");
		memcpy(out, p->prev, ESA_NAME_MAX);
		return 0;
	}
	p->prev_ip = false;
	if (tl > 0 && tok[tl - 1] != '.' && strcmp(tok, "@") != 0 &&
	    esa_parse_ip(tok, &fam, addr) == 0) {
		if (type != ESA_T_PTR)
			return zp_error(p, "owner '%s' is an address: allowed for "
					"PTR records only", shown(tok, b));
		if (esa_reverse_name(fam, addr, out, ESA_NAME_MAX) != 0)
			return zp_error(p, "bad address '%s'", shown(tok, b));
		p->prev_ip = true;
	} else if (zp_name(p, tok, "owner", out) != 0) {
		return -1;
	}
	memcpy(p->prev, out, ESA_NAME_MAX);
	p->have_prev = true;
	return 0;
}

/* zp_octet - a decimal number 0..255 (a TLSA field) */
static int zp_octet(struct zparse *p, const char *tok, const char *what,
		    uint8_t *out)
{
	unsigned v = 0;
	char b[48];
	size_t i;

	for (i = 0; tok[i] >= '0' && tok[i] <= '9' && i < 4; i++)
		v = v * 10 + (unsigned)(tok[i] - '0');
	if (i == 0 || tok[i] != '\0' || v > 255)
		return zp_error(p, "bad TLSA %s '%s' (expected 0-255)", what,
				shown(tok, b));
	*out = (uint8_t)v;
	return 0;
}

/* zp_hexval - one hex digit's value, or -1 */
static int zp_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* zp_tlsa - USAGE SELECTOR MTYPE HEX... (RFC 6698 2.2) into rr */
static int zp_tlsa(struct zparse *p, char **tok, size_t nt, struct esa_rr *rr)
{
	size_t digits = 0;

	if (nt < 4)
		return zp_error(p, "missing rdata for TLSA (usage selector "
				"mtype hex)");
	if (zp_octet(p, tok[0], "usage", &rr->usage) != 0 ||
	    zp_octet(p, tok[1], "selector", &rr->selector) != 0 ||
	    zp_octet(p, tok[2], "matching type", &rr->mtype) != 0)
		return -1;
	for (size_t k = 3; k < nt; k++)
		for (const char *s = tok[k]; *s != '\0'; s++, digits++) {
			int v = zp_hexval(*s);

			if (v < 0)
				return zp_error(p, "bad hex digit in TLSA data");
			if (digits / 2 >= ESA_TLSA_DATA_MAX)
				return zp_error(p, "TLSA data longer than %d octets",
						ESA_TLSA_DATA_MAX);
			if (digits % 2 == 0)
				rr->data[digits / 2] = (unsigned char)(v << 4);
			else
				rr->data[digits / 2] |= (unsigned char)v;
		}
	if (digits % 2 != 0)
		return zp_error(p, "odd number of hex digits in TLSA data");
	rr->dlen = (uint16_t)(digits / 2);
	return 0;
}

/* zp_rdata - the RDATA fields of one record into rr */
static int zp_rdata(struct zparse *p, char **tok, size_t nt,
		    struct esa_rr *rr)
{
	size_t want = rr->type == ESA_T_MX ? 2 : 1;
	const char *tn = esa_rrtype_name(rr->type);
	unsigned long pref = 0;
	char b[48], *end;

	if (rr->type == ESA_T_TLSA)
		return zp_tlsa(p, tok, nt, rr);

	if (nt < want)
		return zp_error(p, "missing rdata for %s", tn);
	if (nt > want)
		return zp_error(p, "unexpected '%s' after the %s rdata",
				shown(tok[want], b), tn);
	switch (rr->type) {
	case ESA_T_A:
		if (inet_pton(AF_INET, tok[0], rr->addr) != 1)
			return zp_error(p, "bad IPv4 address '%s'", shown(tok[0], b));
		return 0;
	case ESA_T_AAAA:
		if (inet_pton(AF_INET6, tok[0], rr->addr) != 1)
			return zp_error(p, "bad IPv6 address '%s'", shown(tok[0], b));
		return 0;
	case ESA_T_MX:
		if (tok[0][0] < '0' || tok[0][0] > '9')
			return zp_error(p, "bad MX preference '%s'", shown(tok[0], b));
		errno = 0;
		pref = strtoul(tok[0], &end, 10);
		if (*end != '\0' || errno != 0 || pref > 65535)
			return zp_error(p, "bad MX preference '%s'", shown(tok[0], b));
		rr->pref = (uint16_t)pref;
		return zp_name(p, tok[1], "MX exchange", rr->name);
	case ESA_T_PTR:
		return zp_name(p, tok[0], "PTR target", rr->name);
	case ESA_T_CNAME:
		return zp_name(p, tok[0], "CNAME target", rr->name);
	}
	return zp_error(p, "internal error: type %u", (unsigned)rr->type);
}

/* zone_add - append a record (owner copied) */
static int zone_add(struct zparse *p, const char *owner,
		    const struct esa_rr *rr)
{
	struct esa_zone *z = p->zone;

	if (esa_grow((void **)&z->rec, &z->cap, z->n + 1, sizeof(*z->rec)) != 0)
		return zp_error(p, "out of memory");
	z->rec[z->n].owner = strdup(owner);
	if (z->rec[z->n].owner == NULL)
		return zp_error(p, "out of memory");
	z->rec[z->n].line = p->line;
	z->rec[z->n].rr = *rr;
	z->rec[z->n].mark = p->mark;
	z->n++;
	return 0;
}

/* zp_tokens - cut a comment off and split the line into fields */
static int zp_tokens(struct zparse *p, char *line, char **tok, size_t *nt)
{
	char *s, *semi = strchr(line, ';');

	if (semi != NULL)
		*semi = '\0';
	if (strpbrk(line, "()") != NULL)
		return zp_error(p, "parentheses (multi-line records) are not "
				"supported");
	if (strchr(line, '"') != NULL)
		return zp_error(p, "quoted strings are not supported");
	*nt = 0;
	for (s = strtok_r(line, " \t\r\v\f", &semi); s != NULL;
	     s = strtok_r(NULL, " \t\r\v\f", &semi)) {
		if (*nt == ZTOK_MAX)
			return zp_error(p, "too many fields");
		tok[(*nt)++] = s;
	}
	return 0;
}

/* zp_line - one line of the file (NUL-terminated, modified) */
static int zp_line(struct zparse *p, char *line)
{
	bool blank = line[0] == ' ' || line[0] == '\t';
	char *tok[ZTOK_MAX], owner[ESA_NAME_MAX], b[48];
	size_t nt = 0, i = blank ? 0 : 1;
	bool have_ttl = false;
	struct esa_rr rr;
	uint32_t ttl = 0;

	if (zp_tokens(p, line, tok, &nt) != 0)
		return -1;
	if (nt == 0)
		return 0;
	if (!blank && tok[0][0] == '$')
		return zp_directive(p, tok, nt);
	if (zp_ttl_class(p, tok, nt, &i, &ttl, &have_ttl) != 0)
		return -1;
	if (i >= nt)
		return zp_error(p, "missing type");
	memset(&rr, 0, sizeof rr);
	rr.type = zp_type(tok[i]);
	if (rr.type == 0)
		return zp_error(p, "unknown type '%s' (A, AAAA, MX, PTR, "
				"CNAME and TLSA are supported)", shown(tok[i], b));
	if (zp_owner(p, blank ? NULL : tok[0], rr.type, owner) != 0 ||
	    zp_rdata(p, tok + i + 1, nt - i - 1, &rr) != 0)
		return -1;
	if (have_ttl) {
		p->last_ttl = ttl;
		p->have_last_ttl = true;
	}
	rr.ttl = have_ttl ? ttl : p->have_dollar_ttl ? p->dollar_ttl :
		 p->have_last_ttl ? p->last_ttl : DEFAULT_TTL;
	return zone_add(p, owner, &rr);
}

/* zrec_cmp - order by owner, type, then file order */
static int zrec_cmp(const void *a, const void *b)
{
	const struct zrec *x = a, *y = b;
	int c = strcmp(x->owner, y->owner);

	if (c != 0)
		return c;
	if (x->rr.type != y->rr.type)
		return x->rr.type < y->rr.type ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* zone_finish - sort, and refuse a CNAME that shares its owner */
static int zone_finish(struct zparse *p)
{
	struct esa_zone *z = p->zone;
	size_t lo, hi, k;

	if (z->n > 1)
		qsort(z->rec, z->n, sizeof *z->rec, zrec_cmp);
	for (lo = 0; lo < z->n; lo = hi) {
		bool cname = false;
		unsigned last = 0;

		for (hi = lo; hi < z->n && strcmp(z->rec[hi].owner,
						  z->rec[lo].owner) == 0; hi++)
			cname |= z->rec[hi].rr.type == ESA_T_CNAME;
		if (!cname || hi - lo == 1)
			continue;
		for (k = lo; k < hi; k++)
			if (z->rec[k].line > last)
				last = z->rec[k].line;
		p->line = last;
		return zp_error(p, "%s has a CNAME and other records",
				z->rec[lo].owner[0] ? z->rec[lo].owner : ".");
	}
	return 0;
}

/* zone_free - release a zone */
static void zone_free(struct esa_zone *z)
{
	size_t i;

	if (z == NULL)
		return;
	for (i = 0; i < z->n; i++)
		free(z->rec[i].owner);
	free(z->rec);
	free(z);
}

/* zp_parse - every line of text */
static int zp_parse(struct zparse *p, const char *text, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char *line;
		int rc;

		p->line++;
		if (memchr(text + pos, '\0', ll) != NULL)
			return zp_error(p, "NUL byte in line");
		line = malloc(ll + 1);
		if (line == NULL)
			return zp_error(p, "out of memory");
		memcpy(line, text + pos, ll);
		line[ll] = '\0';
		rc = zp_line(p, line);
		free(line);
		if (rc != 0)
			return -1;
		pos += ll + 1;
	}
	return zone_finish(p);
}

/* ---- answering ----------------------------------------------------------- */

/* zone_find - the records owned by name: [first, *end) */
static size_t zone_find(const struct esa_zone *z, const char *name,
			size_t *end)
{
	size_t lo = 0, hi = z->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(z->rec[mid].owner, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (*end = lo; *end < z->n && strcmp(z->rec[*end].owner, name) == 0;)
		(*end)++;
	return lo;
}

/* static_query - the static backend (esa_backend_fn) */
static uint32_t static_query(esa_resolver *r, const char *name,
			     uint16_t type, uint64_t deadline_ms,
			     struct esa_answer *out)
{
	const struct esa_zone *z = r->zone;
	const char *cur = name;
	size_t lo, hi, i, hops;
	bool secure = true, bogus = false;

	(void)deadline_ms;	/* esa_lookup checked it; answers are instant */
	esa_resolver_count(r);
	out->rcode = 0;
	for (hops = 0;; hops++) {
		lo = zone_find(z, cur, &hi);
		if (lo == hi) {
			out->status = ESA_DNS_NXDOMAIN;
			out->rcode = 3;
			if (hops > 0)
				snprintf(out->reason, sizeof out->reason,
					 "NXDOMAIN (CNAME target %s)", cur);
			return 0;
		}
		if (z->rec[lo].rr.type != ESA_T_CNAME)
			break;	/* a CNAME owner has nothing else (zone_finish) */
		if (hops == ESA_CNAME_MAX) {
			out->status = ESA_DNS_MALFORMED;
			esa_strlcpy(out->reason, "CNAME chain longer than 8",
				    sizeof out->reason);
			return 0;
		}
		secure = secure && z->rec[lo].mark == ZM_SECURE;
		bogus = bogus || z->rec[lo].mark == ZM_BOGUS;
		cur = z->rec[lo].rr.name;
	}
	for (i = lo; i < hi; i++) {
		if (z->rec[i].rr.type != type)
			continue;
		secure = secure && z->rec[i].mark == ZM_SECURE;
		bogus = bogus || z->rec[i].mark == ZM_BOGUS;
		if (esa_answer_push(out, &z->rec[i].rr) < 0) {
			out->status = ESA_DNS_ERROR;
			esa_strlcpy(out->reason, "out of memory", sizeof out->reason);
			return 0;
		}
		if (out->count == 1 || z->rec[i].rr.ttl < out->ttl)
			out->ttl = z->rec[i].rr.ttl;
	}
	out->status = out->count > 0 ? ESA_DNS_OK : ESA_DNS_NODATA;
	for (i = lo; out->count == 0 && i < hi; i++)	/* NODATA: the name's */
		secure = secure && z->rec[i].mark == ZM_SECURE;
	out->ad = secure;
	if (bogus) {	/* what a validating resolver answers (RFC 4035 5.5) */
		esa_answer_free(out);
		out->status = ESA_DNS_SERVFAIL;
		out->rcode = 2;
		out->ad = false;
		esa_strlcpy(out->reason, "SERVFAIL (DNSSEC bogus)",
			    sizeof out->reason);
	}
	return 0;
}

/* static_destroy - free the zone of a static resolver */
static void static_destroy(esa_resolver *r)
{
	zone_free(r->zone);
	r->zone = NULL;
}

/* esa_resolver_static_text - a static resolver from master-file text */
esa_resolver *esa_resolver_static_text(const char *text, size_t len,
				       const char *label, char *err,
				       size_t errsz)
{
	struct zparse p;
	esa_resolver *r = NULL;

	memset(&p, 0, sizeof p);
	p.label = label != NULL ? label : "(text)";
	p.err = err;
	p.errsz = errsz;
	if (err != NULL && errsz > 0)
		err[0] = '\0';
	p.zone = calloc(1, sizeof *p.zone);
	if (p.zone == NULL) {
		zp_error(&p, "out of memory");
		goto out;
	}
	if ((text == NULL && len > 0) || zp_parse(&p, text, len) != 0) {
		if (text == NULL)
			zp_error(&p, "no text");
		goto out;
	}
	r = esa_resolver_alloc(ESA_RESOLVER_STATIC);
	if (r == NULL) {
		zp_error(&p, "out of memory");
		goto out;
	}
	r->query = static_query;
	r->destroy = static_destroy;
	r->ad_trusted = true;	/* the file's marks are the what-if's truth */
	r->zone = p.zone;
	p.zone = NULL;
	esa_strlcpy(r->ns_text, "static file", sizeof r->ns_text);
out:
	zone_free(p.zone);
	return r;
}

/* esa_resolver_static_file - a static resolver from a master file */
esa_resolver *esa_resolver_static_file(const char *path, char *err,
				       size_t errsz)
{
	esa_resolver *r = NULL;
	const char *problem;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (err != NULL && errsz > 0)
		err[0] = '\0';
	f = path != NULL ? fopen(path, "r") : NULL;
	if (f == NULL) {
		if (err != NULL)
			snprintf(err, errsz, "%.300s: cannot open: %s",
				 path ? path : "(null)",
				 path ? strerror(errno) : "no path");
		return NULL;
	}
	text = esa_read_stream(f, FILE_MAX, "file too large (more than 64 MiB)",
			       &len, &problem);
	if (text == NULL) {
		if (err != NULL)
			snprintf(err, errsz, "%.300s: cannot read: %s", path,
				 problem);
		goto out;
	}
	r = esa_resolver_static_text(text, len, path, err, errsz);
out:
	fclose(f);
	free(text);
	return r;
}
