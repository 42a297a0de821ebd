/*
 * json.c - a small streaming JSON writer (see json.h for the contract)
 *
 * No OpenSSL, no I/O: text accumulates in a growable buffer owned by the
 * struct esa_json until esa_json_take hands it over.  Errors are sticky.
 * Escaping follows RFC 8259 section 7, with the extra rule that every byte
 * that is not part of well-formed UTF-8 (RFC 3629 section 4) is written as
 * \u00XX of the byte: certificate strings are hostile, and neither the
 * log nor the reader may see raw control or invalid octets.
 *
 * Cost: the shim writes a line of about 2 KB per handshake, so each call
 * checks for room once and then writes straight into the buffer (a member
 * helper reserves for the comma, the name and the value together).  The
 * buffer always keeps one spare byte, and the terminating NUL goes there
 * only in esa_json_take: nothing reads j->buf as a C string before.  A
 * string reserves its worst case (ESCAPED_MAX bytes out per byte in) once,
 * per CHUNK for long ones, and is then escaped byte by byte.  (A path that
 * checked and copied plain ASCII sixteen bytes at a time, SSE2 or two
 * words, saved about 16,000 instructions and 0.7 us of a 2.5 KB line: 0.3
 * % of a handshake's instructions, so the plain loop stays; BENCHMARKS.md.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define INITIAL_CAP	4096	/* a log line never reallocs */
#define CHUNK		1024	/* input bytes of a long string per reserve */
#define ESCAPED_MAX	6	/* output bytes per input byte, at most */

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

/* esa_json_take - hand the finished text to the caller; the NUL goes in
 * the spare byte every reserve keeps */
char *esa_json_take(struct esa_json *j)
{
	char *text = NULL;

	if (!j->failed && j->depth == 0 && !j->after_key && j->buf != NULL) {
		j->buf[j->len] = '\0';
		text = j->buf;
		j->buf = NULL;
	}
	esa_json_free(j);
	return text;
}

/* grow - make room for n more bytes plus the terminator: the slow path of
 * room, kept out of line so that its callers stay small */
static __attribute__((noinline)) bool grow(struct esa_json *j, size_t n)
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
	cap = j->cap ? j->cap : INITIAL_CAP;
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

/* room - may n more bytes be written at j->buf + j->len?  Keeps a spare
 * byte for the terminator; false once the writer has failed. */
static inline bool room(struct esa_json *j, size_t n)
{
	if (n < j->cap - j->len && !j->failed)
		return true;
	return grow(j, n);
}

/* put1 - append one byte of our own syntax */
static inline void put1(struct esa_json *j, char c)
{
	if (room(j, 1))
		j->buf[j->len++] = c;
}

/* comma - the comma before an array element or an object member, if one
 * is due in the innermost container */
static void comma(struct esa_json *j)
{
	if (!j->first[j->depth - 1])
		put1(j, ',');
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
static void begin(struct esa_json *j, char open, bool object)
{
	if (!value_due(j))
		return;
	if (j->depth >= ESA_JSON_MAX_DEPTH) {
		j->failed = true;
		return;
	}
	put1(j, open);
	j->object[j->depth] = object;
	j->first[j->depth++] = true;
}

/* end - close a container; unbalanced, mismatched or a dangling key fails */
static void end(struct esa_json *j, char close, bool object)
{
	if (j->depth == 0 || j->after_key || j->object[j->depth - 1] != object) {
		j->failed = true;
		return;
	}
	j->depth--;
	put1(j, close);
}

/* esa_json_begin_object - "{" */
void esa_json_begin_object(struct esa_json *j)
{
	begin(j, '{', true);
}

/* esa_json_end_object - "}" */
void esa_json_end_object(struct esa_json *j)
{
	end(j, '}', true);
}

/* esa_json_begin_array - "[" */
void esa_json_begin_array(struct esa_json *j)
{
	begin(j, '[', false);
}

/* esa_json_end_array - "]" */
void esa_json_end_array(struct esa_json *j)
{
	end(j, ']', false);
}

/* What escape does with each byte: PLAIN copies it, HEX writes \u00XX,
 * UTF8 decodes a sequence first, and anything else is the letter after a
 * backslash (RFC 8259 section 7's two-character escapes). */
enum { PLAIN = 0, HEX = 1, UTF8 = 2 };

static const unsigned char byte_kind[256] = {
	/* 0x00: C0 controls; \b \t \n \f \r have short forms */
	HEX, HEX, HEX, HEX, HEX, HEX, HEX, HEX,
	'b', 't', 'n', HEX, 'f', 'r', HEX, HEX,
	HEX, HEX, HEX, HEX, HEX, HEX, HEX, HEX,
	HEX, HEX, HEX, HEX, HEX, HEX, HEX, HEX,
	/* 0x20: printable ASCII but for the quote and the backslash */
	0, 0, '"', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\\', 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, HEX,	/* DEL */
	/* 0x80-0xFF: UTF-8 lead and continuation bytes, or not UTF-8 */
#define UTF8_ROW UTF8, UTF8, UTF8, UTF8, UTF8, UTF8, UTF8, UTF8, \
		 UTF8, UTF8, UTF8, UTF8, UTF8, UTF8, UTF8, UTF8
	UTF8_ROW, UTF8_ROW, UTF8_ROW, UTF8_ROW,
	UTF8_ROW, UTF8_ROW, UTF8_ROW, UTF8_ROW,
#undef UTF8_ROW
};

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

/* hex_escape - \uXXXX of cp (at most U+FFFF here) at p; returns the end */
static char *hex_escape(char *p, uint32_t cp)
{
	static const char hex[] = "0123456789abcdef";

	p[0] = '\\';
	p[1] = 'u';
	p[2] = hex[(cp >> 12) & 0xF];
	p[3] = hex[(cp >> 8) & 0xF];
	p[4] = hex[(cp >> 4) & 0xF];
	p[5] = hex[cp & 0xF];
	return p + 6;
}

/* special - the one byte or UTF-8 sequence at s[*ip] that is not PLAIN,
 * escaped at p (at most ESCAPED_MAX bytes); returns the end */
static char *special(char *p, const unsigned char *s, size_t n, size_t *ip)
{
	unsigned char c = s[*ip], kind = byte_kind[c];
	uint32_t cp;
	size_t len;

	if (kind == HEX) {		/* other C0 controls and DEL */
		(*ip)++;
		return hex_escape(p, c);
	}
	if (kind != UTF8) {		/* a two-character escape */
		(*ip)++;
		p[0] = '\\';
		p[1] = (char)kind;
		return p + 2;
	}
	len = utf8_len(s + *ip, n - *ip, &cp);
	if (len == 0) {			/* not UTF-8: the byte itself */
		(*ip)++;
		return hex_escape(p, c);
	}
	if (cp <= 0x9F || cp == 0x2028 || cp == 0x2029) {
		*ip += len;		/* C1 controls, JS line breaks */
		return hex_escape(p, cp);
	}
	memcpy(p, s + *ip, len);
	*ip += len;
	return p + len;
}

/* escape - s[*ip..limit) escaped at p, byte by byte, reading on to n when
 * a UTF-8 sequence starts before limit; *ip advances.  Writes at most
 * ESCAPED_MAX bytes per byte in; returns the end. */
static char *escape(char *p, const unsigned char *s, size_t n, size_t *ip,
		    size_t limit)
{
	size_t i = *ip;

	while (i < limit) {
		if (byte_kind[s[i]] == PLAIN)
			*p++ = (char)s[i++];
		else
			p = special(p, s, n, &i);
	}
	*ip = i;
	return p;
}

/* quoted - s (n <= CHUNK bytes) quoted and escaped at p, which has room
 * for ESCAPED_MAX * n + 2 bytes; returns the end */
static char *quoted(char *p, const unsigned char *s, size_t n)
{
	size_t i = 0;

	*p++ = '"';
	p = escape(p, s, n, &i, n);
	*p++ = '"';
	return p;
}

/* put_long - a string of more than CHUNK bytes, quoted and escaped: one
 * reserve per CHUNK bytes in, so the worst case is never reserved whole */
static void put_long(struct esa_json *j, const unsigned char *s, size_t n)
{
	size_t i = 0, limit;

	put1(j, '"');
	while (i < n && room(j, ESCAPED_MAX * CHUNK)) {
		limit = n - i > CHUNK ? i + CHUNK : n;
		j->len = (size_t)(escape(j->buf + j->len, s, n, &i, limit) -
				  j->buf);
	}
	put1(j, '"');
}

/* put_string - a quoted, escaped string of n bytes */
static void put_string(struct esa_json *j, const char *s, size_t n)
{
	if (n > CHUNK)
		put_long(j, (const unsigned char *)s, n);
	else if (room(j, ESCAPED_MAX * n + 2))
		j->len = (size_t)(quoted(j->buf + j->len,
					 (const unsigned char *)s, n) - j->buf);
}

/* key_ok - may a key be written here?  Only inside an object, and not
 * right after another key; anywhere else the writer fails.  False too once
 * the writer has failed. */
static inline bool key_ok(struct esa_json *j)
{
	if (j->depth == 0 || j->after_key || !j->object[j->depth - 1]) {
		j->failed = true;
		return false;
	}
	return !j->failed;
}

/* key_long - a member name of more than CHUNK bytes (not one of ours):
 * the long way, without the worst case reserved whole */
static void key_long(struct esa_json *j, const char *name, size_t n)
{
	if (!key_ok(j))
		return;
	comma(j);
	put_long(j, (const unsigned char *)name, n);
	put1(j, ':');
	j->after_key = true;
}

/* member - the comma if due, "name": and room for a value of up to vmax
 * bytes after it, all in one reserve; returns where the value goes (the
 * caller moves j->len past it), or NULL when the writer has failed.  As a
 * key followed by its value, so after_key is left false.  Inlined into
 * each member helper, like quoted: a call would cost as much again. */
static inline __attribute__((always_inline)) char *
member(struct esa_json *j, const char *name, size_t vmax)
{
	size_t n = strlen(name);
	bool *first;
	char *p;

	if (n > CHUNK) {
		key_long(j, name, n);
		j->after_key = false;
		return room(j, vmax) ? j->buf + j->len : NULL;
	}
	if (!key_ok(j) || !room(j, ESCAPED_MAX * n + 4 + vmax))
		return NULL;
	first = &j->first[j->depth - 1];
	p = j->buf + j->len;
	if (!*first)
		*p++ = ',';
	*first = false;
	p = quoted(p, (const unsigned char *)name, n);
	*p++ = ':';
	return p;
}

/* finish - the text now ends at p */
static inline void finish(struct esa_json *j, char *p)
{
	j->len = (size_t)(p - j->buf);
}

#define DECIMAL_MAX	21	/* "-9223372036854775808", 20 digits of ULL */

/* decimal - v in decimal at p (room for DECIMAL_MAX bytes), after a '-'
 * when negative; returns the end.  Counts the digits, then writes them
 * from the last; without stdio, whose snprintf costs a thousand
 * instructions a number. */
static char *decimal(char *p, unsigned long long v, bool negative)
{
	unsigned long long t;
	char *end;

	if (negative)
		*p++ = '-';
	for (end = p + 1, t = v; t >= 10; t /= 10)
		end++;
	p = end;
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return end;
}

/* magnitude - |v| as unsigned, without overflow for LLONG_MIN */
static inline unsigned long long magnitude(long long v)
{
	return v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
}

/* literal - "true", "false" or "null" at p; returns the end */
static inline char *literal(char *p, const char *word, size_t n)
{
	memcpy(p, word, n);
	return p + n;
}

/* value_at - a value may be written here (value_due) with room for n
 * bytes: where it goes, or NULL */
static inline char *value_at(struct esa_json *j, size_t n)
{
	if (!value_due(j) || !room(j, n))
		return NULL;
	return j->buf + j->len;
}

/* esa_json_key - a member name; its value comes next */
void esa_json_key(struct esa_json *j, const char *name)
{
	char *p = member(j, name, 0);

	if (p != NULL) {
		finish(j, p);
		j->after_key = true;
	}
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

/* esa_json_int - a signed integer value */
void esa_json_int(struct esa_json *j, long long v)
{
	char *p = value_at(j, DECIMAL_MAX);

	if (p != NULL)
		finish(j, decimal(p, magnitude(v), v < 0));
}

/* esa_json_uint - an unsigned integer value */
void esa_json_uint(struct esa_json *j, unsigned long long v)
{
	char *p = value_at(j, DECIMAL_MAX);

	if (p != NULL)
		finish(j, decimal(p, v, false));
}

/* esa_json_bool - true or false */
void esa_json_bool(struct esa_json *j, bool v)
{
	char *p = value_at(j, 5);

	if (p != NULL)
		finish(j, v ? literal(p, "true", 4) : literal(p, "false", 5));
}

/* esa_json_null - null */
void esa_json_null(struct esa_json *j)
{
	char *p = value_at(j, 4);

	if (p != NULL)
		finish(j, literal(p, "null", 4));
}

/* esa_json_kstr - "key": string (NULL gives null) */
void esa_json_kstr(struct esa_json *j, const char *name, const char *s)
{
	size_t n;
	char *p;

	if (s == NULL) {
		esa_json_knull(j, name);
		return;
	}
	n = strlen(s);
	if (n > CHUNK) {		/* the long way: no worst case reserve */
		esa_json_key(j, name);
		esa_json_strn(j, s, n);
		return;
	}
	p = member(j, name, ESCAPED_MAX * n + 2);
	if (p != NULL)
		finish(j, quoted(p, (const unsigned char *)s, n));
}

/* esa_json_kopt - "key": string, or null when s is NULL or empty */
void esa_json_kopt(struct esa_json *j, const char *name, const char *s)
{
	esa_json_kstr(j, name, s != NULL && s[0] != '\0' ? s : NULL);
}

/* kdecimal - "key": integer, for kint and kuint */
static void kdecimal(struct esa_json *j, const char *name,
		     unsigned long long v, bool negative)
{
	char *p = member(j, name, DECIMAL_MAX);

	if (p != NULL)
		finish(j, decimal(p, v, negative));
}

/* esa_json_kint - "key": integer */
void esa_json_kint(struct esa_json *j, const char *name, long long v)
{
	kdecimal(j, name, magnitude(v), v < 0);
}

/* esa_json_kuint - "key": unsigned integer */
void esa_json_kuint(struct esa_json *j, const char *name,
		    unsigned long long v)
{
	kdecimal(j, name, v, false);
}

/* esa_json_kbool - "key": true/false */
void esa_json_kbool(struct esa_json *j, const char *name, bool v)
{
	char *p = member(j, name, 5);

	if (p != NULL)
		finish(j, v ? literal(p, "true", 4) : literal(p, "false", 5));
}

/* esa_json_knull - "key": null */
void esa_json_knull(struct esa_json *j, const char *name)
{
	char *p = member(j, name, 4);

	if (p != NULL)
		finish(j, literal(p, "null", 4));
}
