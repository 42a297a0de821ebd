/*
 * json.h - a small streaming JSON writer with a growable buffer
 *
 * Used by esa_result_json (SPEC 8.2) and the shim's log line (SPEC 8.5).
 * The caller owns the struct (usually on the stack): esa_json_init, then
 * a sequence of begin/end, key and value calls, then esa_json_take to get
 * the malloc'd text (the caller frees it) or esa_json_free to drop it.
 * Commas are inserted automatically.
 *
 * Errors are sticky (BearSSL style): an allocation failure, nesting deeper
 * than ESA_JSON_MAX_DEPTH, an unbalanced or mismatched end, a key outside an
 * object, a member value without its key, or a second top-level value marks
 * the writer failed; every later call does nothing and esa_json_take
 * returns NULL.  So the text taken is always exactly one JSON value.
 *
 * Strings are treated as hostile (certificate contents): quote, backslash
 * and every control character (C0, DEL, C1) are escaped, U+2028/U+2029 too;
 * well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF) is
 * copied; every byte that is not part of well-formed UTF-8 is written as
 * \u00XX of that byte, so the output is always valid JSON and valid UTF-8
 * and no octet is lost.  Length-counted strings may contain NUL (\u0000).
 */
#ifndef ESA_JSON_H
#define ESA_JSON_H

#include <stdbool.h>
#include <stddef.h>

#define ESA_JSON_MAX_DEPTH 16

struct esa_json {
	char *buf;		/* text so far, malloc'd (NUL only from take) */
	size_t len;
	size_t cap;
	bool failed;		/* sticky */
	bool after_key;		/* a key was written, its value is due */
	int depth;		/* open containers */
	bool first[ESA_JSON_MAX_DEPTH];	/* container still empty, per level */
	bool object[ESA_JSON_MAX_DEPTH];	/* an object (else an array), per level */
	bool started;		/* the one top-level value has begun */
};

void esa_json_init(struct esa_json *j);
void esa_json_free(struct esa_json *j);
/* esa_json_ok - no error so far? */
bool esa_json_ok(const struct esa_json *j);
/* esa_json_take - the text (malloc'd, caller frees) and reset j; NULL when
 * the writer failed or a container is still open (j is freed either way). */
char *esa_json_take(struct esa_json *j);

void esa_json_begin_object(struct esa_json *j);
void esa_json_end_object(struct esa_json *j);
void esa_json_begin_array(struct esa_json *j);
void esa_json_end_array(struct esa_json *j);

/* A member name inside an object; the next call writes its value. */
void esa_json_key(struct esa_json *j, const char *key);

/* Values.  esa_json_str(NULL) writes null. */
void esa_json_str(struct esa_json *j, const char *s);
void esa_json_strn(struct esa_json *j, const char *s, size_t n);
void esa_json_int(struct esa_json *j, long long v);
void esa_json_uint(struct esa_json *j, unsigned long long v);
void esa_json_bool(struct esa_json *j, bool v);
void esa_json_null(struct esa_json *j);

/* Members: key then value.  esa_json_kopt writes null for NULL or "". */
void esa_json_kstr(struct esa_json *j, const char *key, const char *s);
void esa_json_kopt(struct esa_json *j, const char *key, const char *s);
void esa_json_kint(struct esa_json *j, const char *key, long long v);
void esa_json_kuint(struct esa_json *j, const char *key, unsigned long long v);
void esa_json_kbool(struct esa_json *j, const char *key, bool v);
void esa_json_knull(struct esa_json *j, const char *key);

#endif
