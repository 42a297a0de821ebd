/*
 * json_check.h - a tiny strict JSON reader for the fuzz targets
 *
 * json_check(text, len, visit, arg) reads exactly one JSON value (RFC 8259)
 * with optional surrounding whitespace and nothing else, and checks that the
 * text is well-formed UTF-8 (RFC 3629) throughout.  Every string (member
 * names included) is decoded to code points (surrogate pairs joined; a lone
 * surrogate escape is an error) and handed to visit(arg, cps, n) in
 * document order, if visit is not NULL.  Returns true when the text is
 * valid.  Depth is limited to 64.  No allocation beyond one code point
 * buffer per string.
 */
#ifndef ESA_JSON_CHECK_H
#define ESA_JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef void (*json_visit_fn)(void *arg, const uint32_t *cps, size_t n);

struct jc {
	const unsigned char *s;
	size_t n, i;
	int depth;
	json_visit_fn visit;
	void *arg;
};

static bool jc_value(struct jc *c);

/* jc_ws - skip insignificant whitespace */
static void jc_ws(struct jc *c)
{
	while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\t' ||
			       c->s[c->i] == '\n' || c->s[c->i] == '\r'))
		c->i++;
}

/* jc_utf8 - one well-formed UTF-8 sequence at c->i: its code point */
static bool jc_utf8(struct jc *c, uint32_t *cp)
{
	const unsigned char *s = c->s + c->i;
	size_t left = c->n - c->i, len, k;
	unsigned char lo = 0x80, hi = 0xBF;

	if (s[0] < 0x80) {
		*cp = s[0];
		c->i++;
		return true;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		len = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		len = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		len = 4;
	else
		return false;
	if (len > left)
		return false;
	if (s[0] == 0xE0)
		lo = 0xA0;
	else if (s[0] == 0xED)
		hi = 0x9F;
	else if (s[0] == 0xF0)
		lo = 0x90;
	else if (s[0] == 0xF4)
		hi = 0x8F;
	if (s[1] < lo || s[1] > hi)
		return false;
	*cp = s[0] & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
	for (k = 1; k < len; k++) {
		if (s[k] < 0x80 || s[k] > 0xBF)
			return false;
		*cp = (*cp << 6) | (s[k] & 0x3F);
	}
	c->i += len;
	return true;
}

/* jc_hex4 - four hex digits */
static bool jc_hex4(struct jc *c, uint32_t *v)
{
	*v = 0;
	if (c->n - c->i < 4)
		return false;
	for (int k = 0; k < 4; k++) {
		unsigned char h = c->s[c->i++];

		*v <<= 4;
		if (h >= '0' && h <= '9')
			*v |= h - '0';
		else if (h >= 'a' && h <= 'f')
			*v |= h - 'a' + 10;
		else if (h >= 'A' && h <= 'F')
			*v |= h - 'A' + 10;
		else
			return false;
	}
	return true;
}

/* jc_escape - after a backslash */
static bool jc_escape(struct jc *c, uint32_t *cp)
{
	uint32_t lo;

	if (c->i >= c->n)
		return false;
	switch (c->s[c->i++]) {
	case '"': *cp = '"'; return true;
	case '\\': *cp = '\\'; return true;
	case '/': *cp = '/'; return true;
	case 'b': *cp = '\b'; return true;
	case 'f': *cp = '\f'; return true;
	case 'n': *cp = '\n'; return true;
	case 'r': *cp = '\r'; return true;
	case 't': *cp = '\t'; return true;
	case 'u': break;
	default: return false;
	}
	if (!jc_hex4(c, cp))
		return false;
	if (*cp >= 0xDC00 && *cp <= 0xDFFF)
		return false;	/* a lone low surrogate */
	if (*cp < 0xD800 || *cp > 0xDBFF)
		return true;
	if (c->n - c->i < 6 || c->s[c->i] != '\\' || c->s[c->i + 1] != 'u')
		return false;	/* a lone high surrogate */
	c->i += 2;
	if (!jc_hex4(c, &lo) || lo < 0xDC00 || lo > 0xDFFF)
		return false;
	*cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
	return true;
}

/* jc_string - a string at c->i (the opening quote) */
static bool jc_string(struct jc *c)
{
	uint32_t *cps = malloc((c->n + 1) * sizeof(*cps)), cp;
	size_t k = 0;
	bool ok = false;

	if (cps == NULL)
		abort();
	c->i++;
	while (c->i < c->n) {
		unsigned char ch = c->s[c->i];

		if (ch == '"') {
			c->i++;
			ok = true;
			break;
		}
		if (ch < 0x20)
			break;	/* control characters must be escaped */
		if (ch == '\\') {
			c->i++;
			if (!jc_escape(c, &cp))
				break;
		} else if (!jc_utf8(c, &cp)) {
			break;
		}
		cps[k++] = cp;
	}
	if (ok && c->visit != NULL)
		c->visit(c->arg, cps, k);
	free(cps);
	return ok;
}

/* jc_number - RFC 8259 section 6 */
static bool jc_number(struct jc *c)
{
	size_t start;

	if (c->i < c->n && c->s[c->i] == '-')
		c->i++;
	if (c->i >= c->n)
		return false;
	if (c->s[c->i] == '0') {
		c->i++;
	} else if (c->s[c->i] >= '1' && c->s[c->i] <= '9') {
		while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9')
			c->i++;
	} else {
		return false;
	}
	if (c->i < c->n && c->s[c->i] == '.') {
		start = ++c->i;
		while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9')
			c->i++;
		if (c->i == start)
			return false;
	}
	if (c->i < c->n && (c->s[c->i] == 'e' || c->s[c->i] == 'E')) {
		c->i++;
		if (c->i < c->n && (c->s[c->i] == '+' || c->s[c->i] == '-'))
			c->i++;
		start = c->i;
		while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9')
			c->i++;
		if (c->i == start)
			return false;
	}
	return true;
}

/* jc_word - true, false, null */
static bool jc_word(struct jc *c, const char *w)
{
	size_t l = strlen(w);

	if (c->n - c->i < l || memcmp(c->s + c->i, w, l) != 0)
		return false;
	c->i += l;
	return true;
}

/* jc_container - an object or an array at c->i */
static bool jc_container(struct jc *c, bool object)
{
	char close = object ? '}' : ']';

	if (++c->depth > 64)
		return false;
	c->i++;
	jc_ws(c);
	if (c->i < c->n && c->s[c->i] == close) {
		c->i++;
		c->depth--;
		return true;
	}
	for (;;) {
		if (object) {
			jc_ws(c);
			if (c->i >= c->n || c->s[c->i] != '"' || !jc_string(c))
				return false;
			jc_ws(c);
			if (c->i >= c->n || c->s[c->i++] != ':')
				return false;
		}
		if (!jc_value(c))
			return false;
		jc_ws(c);
		if (c->i >= c->n)
			return false;
		if (c->s[c->i] == ',') {
			c->i++;
			continue;
		}
		if (c->s[c->i] != close)
			return false;
		c->i++;
		c->depth--;
		return true;
	}
}

/* jc_value - any value, with whitespace around it */
static bool jc_value(struct jc *c)
{
	bool ok;

	jc_ws(c);
	if (c->i >= c->n)
		return false;
	switch (c->s[c->i]) {
	case '{': ok = jc_container(c, true); break;
	case '[': ok = jc_container(c, false); break;
	case '"': ok = jc_string(c); break;
	case 't': ok = jc_word(c, "true"); break;
	case 'f': ok = jc_word(c, "false"); break;
	case 'n': ok = jc_word(c, "null"); break;
	default: ok = jc_number(c); break;
	}
	jc_ws(c);
	return ok;
}

/* json_check - is text exactly one valid JSON value? */
static inline bool json_check(const char *text, size_t len,
			      json_visit_fn visit, void *arg)
{
	struct jc c = { (const unsigned char *)text, len, 0, 0, visit, arg };

	return jc_value(&c) && c.i == c.n;
}

#endif
