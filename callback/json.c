/*
 * json.c - a small streaming JSON writer (see json.h for the contract)
 *
 * No OpenSSL, no I/O: text accumulates in a growable buffer owned by the
 * struct esa_json until esa_json_take hands it over.  Errors are sticky.
 * Escaping follows RFC 8259 section 7, with the extra rule that every byte
 * that is not part of well-formed UTF-8 (RFC 3629 section 4) is written as
 * \u00XX of the byte: certificate strings are hostile, and neither the
 * log nor the reader may see raw control or invalid octets.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* esa_json_init - an empty writer */
void esa_json_init(struct esa_json *j)
{
	memset(j, 0, sizeof(*j));
}

/* esa_json_free - drop the text and reset */
void esa_json_free(struct esa_json *j)
{
	free(j->buf);
	esa_json_init(j);
}

/* esa_json_ok - no error so far? */
bool esa_json_ok(const struct esa_json *j)
{
	return !j->failed;
}

/* esa_json_take - hand the finished text to the caller */
char *esa_json_take(struct esa_json *j)
{
	char *text = NULL;

	if (!j->failed && j->depth == 0 && !j->after_key && j->buf != NULL) {
		text = j->buf;
		j->buf = NULL;
	}
	esa_json_free(j);
	return text;
}

/* reserve - room for n more bytes plus the terminator */
static bool reserve(struct esa_json *j, size_t n)
{
	size_t want, cap;
	char *p;

	if (j->failed)
		return false;
	if (n > SIZE_MAX / 2 - j->len - 1)
		goto fail;
	want = j->len + n + 1;
	if (want <= j->cap)
		return true;
	cap = j->cap ? j->cap : 256;
	while (cap < want)
		cap *= 2;
	p = realloc(j->buf, cap);
	if (p == NULL)
		goto fail;
	j->buf = p;
	j->cap = cap;
	return true;
fail:
	j->failed = true;
	return false;
}

/* put - append n raw bytes */
static void put(struct esa_json *j, const char *s, size_t n)
{
	if (!reserve(j, n))
		return;
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

/* puts0 - append a C string verbatim (our own syntax only) */
static void puts0(struct esa_json *j, const char *s)
{
	put(j, s, strlen(s));
}

/* comma - the comma before an array element or an object member, if one
 * is due in the innermost container */
static void comma(struct esa_json *j)
{
	if (!j->first[j->depth - 1])
		put(j, ",", 1);
	j->first[j->depth - 1] = false;
}

/* value_due - may a value be written here?  After a key, or as an array
 * element (with its comma), or as the one top-level value.  Anywhere else
 * (a second top-level value, an object member without its key) the writer
 * fails: the text would not be JSON. */
static bool value_due(struct esa_json *j)
{
	if (j->failed)
		return false;
	if (j->after_key) {
		j->after_key = false;
		return true;
	}
	if (j->depth == 0 && !j->started) {
		j->started = true;
		return true;
	}
	if (j->depth > 0 && !j->object[j->depth - 1]) {
		comma(j);
		return true;
	}
	j->failed = true;
	return false;
}

/* begin - open a container */
static void begin(struct esa_json *j, const char *open, bool object)
{
	if (!value_due(j))
		return;
	if (j->depth >= ESA_JSON_MAX_DEPTH) {
		j->failed = true;
		return;
	}
	puts0(j, open);
	j->object[j->depth] = object;
	j->first[j->depth++] = true;
}

/* end - close a container; unbalanced, mismatched or a dangling key fails */
static void end(struct esa_json *j, const char *close, bool object)
{
	if (j->depth == 0 || j->after_key || j->object[j->depth - 1] != object) {
		j->failed = true;
		return;
	}
	j->depth--;
	puts0(j, close);
}

/* esa_json_begin_object - "{" */
void esa_json_begin_object(struct esa_json *j)
{
	begin(j, "{", true);
}

/* esa_json_end_object - "}" */
void esa_json_end_object(struct esa_json *j)
{
	end(j, "}", true);
}

/* esa_json_begin_array - "[" */
void esa_json_begin_array(struct esa_json *j)
{
	begin(j, "[", false);
}

/* esa_json_end_array - "]" */
void esa_json_end_array(struct esa_json *j)
{
	end(j, "]", false);
}

/* utf8_len - length of the well-formed UTF-8 sequence at s (RFC 3629
 * section 4 table), 0 if the bytes there are not one; *cp gets the code
 * point. */
static size_t utf8_len(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xBF;
	size_t len, i;

	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4;
	else
		return 0;	/* continuation byte, C0/C1 overlong, > F4 */
	if (len > n)
		return 0;
	/* the second byte's range excludes overlongs, surrogates, > U+10FFFF */
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (s[1] < lo || s[1] > hi)
		return 0;
	*cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
	for (i = 1; i < len; i++) {
		if (i > 1 && (s[i] < 0x80 || s[i] > 0xBF))
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3F);
	}
	return len;
}

/* put_u - a \uXXXX escape */
static void put_u(struct esa_json *j, uint32_t cp)
{
	char esc[8];

	snprintf(esc, sizeof(esc), "\\u%04" PRIx32, cp);
	put(j, esc, 6);
}

/* put_ascii - one ASCII byte, escaped as RFC 8259 section 7 requires */
static void put_ascii(struct esa_json *j, unsigned char c)
{
	switch (c) {
	case '"': put(j, "\\\"", 2); return;
	case '\\': put(j, "\\\\", 2); return;
	case '\b': put(j, "\\b", 2); return;
	case '\f': put(j, "\\f", 2); return;
	case '\n': put(j, "\\n", 2); return;
	case '\r': put(j, "\\r", 2); return;
	case '\t': put(j, "\\t", 2); return;
	}
	if (c < 0x20 || c == 0x7F)	/* other C0 controls and DEL */
		put_u(j, c);
	else
		put(j, (const char *)&c, 1);
}

/* put_string - a quoted, escaped string of n bytes */
static void put_string(struct esa_json *j, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, len;
	uint32_t cp;

	put(j, "\"", 1);
	while (i < n && !j->failed) {
		size_t run = i;

		/* bytes put_ascii would write as they are: one put for all */
		while (run < n && u[run] >= 0x20 && u[run] < 0x7F &&
		       u[run] != '"' && u[run] != '\\')
			run++;
		if (run > i) {
			put(j, s + i, run - i);
			i = run;
			continue;
		}
		if (u[i] < 0x80) {
			put_ascii(j, u[i++]);
			continue;
		}
		len = utf8_len(u + i, n - i, &cp);
		if (len == 0) {
			put_u(j, u[i++]);	/* not UTF-8: the byte itself */
			continue;
		}
		if (cp <= 0x9F || cp == 0x2028 || cp == 0x2029)
			put_u(j, cp);	/* C1 controls, JS line breaks */
		else
			put(j, s + i, len);
		i += len;
	}
	put(j, "\"", 1);
}

/* esa_json_key - a member name; its value comes next */
void esa_json_key(struct esa_json *j, const char *key)
{
	if (j->depth == 0 || j->after_key || !j->object[j->depth - 1]) {
		j->failed = true;
		return;
	}
	comma(j);
	put_string(j, key, strlen(key));
	put(j, ":", 1);
	j->after_key = true;
}

/* esa_json_strn - a string value of n bytes (may hold NUL) */
void esa_json_strn(struct esa_json *j, const char *s, size_t n)
{
	if (value_due(j))
		put_string(j, s, n);
}

/* esa_json_str - a string value; NULL writes null */
void esa_json_str(struct esa_json *j, const char *s)
{
	if (s == NULL)
		esa_json_null(j);
	else
		esa_json_strn(j, s, strlen(s));
}

/* put_decimal - v in decimal, after a '-' when negative; without stdio,
 * whose snprintf costs a thousand instructions a number */
static void put_decimal(struct esa_json *j, unsigned long long v,
			bool negative)
{
	char num[24];
	size_t n = sizeof(num);

	do {
		num[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	if (negative)
		num[--n] = '-';
	put(j, num + n, sizeof(num) - n);
}

/* esa_json_int - a signed integer value */
void esa_json_int(struct esa_json *j, long long v)
{
	if (value_due(j))
		put_decimal(j, v < 0 ? 0ULL - (unsigned long long)v
				     : (unsigned long long)v, v < 0);
}

/* esa_json_uint - an unsigned integer value */
void esa_json_uint(struct esa_json *j, unsigned long long v)
{
	if (value_due(j))
		put_decimal(j, v, false);
}

/* esa_json_bool - true or false */
void esa_json_bool(struct esa_json *j, bool v)
{
	if (value_due(j))
		puts0(j, v ? "true" : "false");
}

/* esa_json_null - null */
void esa_json_null(struct esa_json *j)
{
	if (value_due(j))
		puts0(j, "null");
}

/* esa_json_kstr - "key": string (NULL gives null) */
void esa_json_kstr(struct esa_json *j, const char *key, const char *s)
{
	esa_json_key(j, key);
	esa_json_str(j, s);
}

/* esa_json_kopt - "key": string, or null when s is NULL or empty */
void esa_json_kopt(struct esa_json *j, const char *key, const char *s)
{
	esa_json_key(j, key);
	esa_json_str(j, s != NULL && s[0] != '\0' ? s : NULL);
}

/* esa_json_kint - "key": integer */
void esa_json_kint(struct esa_json *j, const char *key, long long v)
{
	esa_json_key(j, key);
	esa_json_int(j, v);
}

/* esa_json_kuint - "key": unsigned integer */
void esa_json_kuint(struct esa_json *j, const char *key, unsigned long long v)
{
	esa_json_key(j, key);
	esa_json_uint(j, v);
}

/* esa_json_kbool - "key": true/false */
void esa_json_kbool(struct esa_json *j, const char *key, bool v)
{
	esa_json_key(j, key);
	esa_json_bool(j, v);
}

/* esa_json_knull - "key": null */
void esa_json_knull(struct esa_json *j, const char *key)
{
	esa_json_key(j, key);
	esa_json_null(j);
}
