/*
 * test_json.c - the JSON writer (callback/json.c): structure, commas,
 * sticky errors, and the escaping of hostile strings (RFC 8259 section 7,
 * RFC 3629 section 4; bytes outside well-formed UTF-8 become \u00XX).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "json.h"

/* one_string - the JSON text of a single string value of n bytes */
static char *one_string(const char *s, size_t n)
{
	struct esa_json j;

	esa_json_init(&j);
	esa_json_strn(&j, s, n);
	return esa_json_take(&j);
}

struct esc_row {
	const char *name;
	const char *in;
	size_t len;
	const char *out;
};

#define ROW(name, lit, out) { name, lit, sizeof(lit) - 1, out }

static const struct esc_row esc_rows[] = {
	ROW("plain ASCII", "mx.example.com", "\"mx.example.com\""),
	ROW("empty", "", "\"\""),
	ROW("quote", "a\"b", "\"a\\\"b\""),
	ROW("backslash", "a\\b", "\"a\\\\b\""),
	ROW("slash is left alone", "a/b", "\"a/b\""),
	ROW("short escapes", "\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\""),
	ROW("other C0 controls", "\x01\x1f", "\"\\u0001\\u001f\""),
	ROW("embedded NUL", "a\0b", "\"a\\u0000b\""),
	ROW("DEL", "\x7f", "\"\\u007f\""),
	ROW("UTF-8 2 bytes kept", "b\xc3\xbc" "cher", "\"b\xc3\xbc" "cher\""),
	ROW("UTF-8 3 bytes kept", "\xe2\x82\xac", "\"\xe2\x82\xac\""),
	ROW("UTF-8 4 bytes kept", "\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""),
	ROW("C1 control escaped", "\xc2\x85", "\"\\u0085\""),
	ROW("U+2028 escaped", "\xe2\x80\xa8", "\"\\u2028\""),
	ROW("U+2029 escaped", "\xe2\x80\xa9", "\"\\u2029\""),
	ROW("lone continuation byte", "\x80", "\"\\u0080\""),
	ROW("Latin-1 byte", "caf\xe9", "\"caf\\u00e9\""),
	ROW("0xff", "\xff", "\"\\u00ff\""),
	ROW("overlong slash", "\xc0\xaf", "\"\\u00c0\\u00af\""),
	ROW("overlong 3 bytes", "\xe0\x80\xaf", "\"\\u00e0\\u0080\\u00af\""),
	ROW("surrogate", "\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\""),
	ROW("above U+10FFFF", "\xf4\x90\x80\x80",
	    "\"\\u00f4\\u0090\\u0080\\u0080\""),
	ROW("truncated sequence", "\xe2\x82", "\"\\u00e2\\u0082\""),
	ROW("truncated then ASCII", "\xc3" "a", "\"\\u00c3a\""),
	ROW("bad third byte", "\xe2\x82" "a", "\"\\u00e2\\u0082a\""),
};

/* every row of the escaping table */
Test(json, escaping_table)
{
	size_t i;

	for (i = 0; i < sizeof(esc_rows) / sizeof(esc_rows[0]); i++) {
		const struct esc_row *row = &esc_rows[i];
		char *out = one_string(row->in, row->len);

		cr_assert_not_null(out, "%s", row->name);
		cr_expect_str_eq(out, row->out, "%s", row->name);
		free(out);
	}
}

/* esa_json_str(NULL) is null; kopt turns NULL and "" into null */
Test(json, null_values)
{
	struct esa_json j;
	char *out;

	esa_json_init(&j);
	esa_json_begin_object(&j);
	esa_json_kstr(&j, "a", NULL);
	esa_json_kopt(&j, "b", "");
	esa_json_kopt(&j, "c", NULL);
	esa_json_kopt(&j, "d", "x");
	esa_json_knull(&j, "e");
	esa_json_end_object(&j);
	out = esa_json_take(&j);
	cr_assert_not_null(out);
	cr_expect_str_eq(out,
		"{\"a\":null,\"b\":null,\"c\":null,\"d\":\"x\",\"e\":null}");
	free(out);
}

/* commas between members and elements, none after keys or openers */
Test(json, nesting_and_commas)
{
	struct esa_json j;
	char *out;

	esa_json_init(&j);
	esa_json_begin_object(&j);
	esa_json_kint(&j, "n", -5);
	esa_json_key(&j, "list");
	esa_json_begin_array(&j);
	esa_json_int(&j, 1);
	esa_json_begin_object(&j);
	esa_json_end_object(&j);
	esa_json_begin_array(&j);
	esa_json_end_array(&j);
	esa_json_bool(&j, true);
	esa_json_null(&j);
	esa_json_end_array(&j);
	esa_json_kbool(&j, "f", false);
	esa_json_kuint(&j, "u", 7);
	esa_json_end_object(&j);
	out = esa_json_take(&j);
	cr_assert_not_null(out);
	cr_expect_str_eq(out, "{\"n\":-5,\"list\":[1,{},[],true,null],"
			      "\"f\":false,\"u\":7}");
	free(out);
}

/* integer extremes print in full */
Test(json, integer_extremes)
{
	struct esa_json j;
	char *out;

	esa_json_init(&j);
	esa_json_begin_array(&j);
	esa_json_int(&j, LLONG_MIN);
	esa_json_uint(&j, ULLONG_MAX);
	esa_json_end_array(&j);
	out = esa_json_take(&j);
	cr_assert_not_null(out);
	cr_expect_str_eq(out, "[-9223372036854775808,18446744073709551615]");
	free(out);
}

/* keys are escaped like values */
Test(json, keys_escaped)
{
	struct esa_json j;
	char *out;

	esa_json_init(&j);
	esa_json_begin_object(&j);
	esa_json_kint(&j, "a\"\n", 1);
	esa_json_end_object(&j);
	out = esa_json_take(&j);
	cr_assert_not_null(out);
	cr_expect_str_eq(out, "{\"a\\\"\\n\":1}");
	free(out);
}

/* an end without a begin fails, and stays failed */
Test(json, unbalanced_end_is_sticky)
{
	struct esa_json j;

	esa_json_init(&j);
	esa_json_begin_array(&j);
	esa_json_end_array(&j);
	esa_json_end_array(&j);
	cr_expect_not(esa_json_ok(&j));
	esa_json_begin_array(&j);
	esa_json_end_array(&j);
	cr_expect_not(esa_json_ok(&j));
	cr_expect_null(esa_json_take(&j));
}

/* a container left open gives no text */
Test(json, open_container_gives_null)
{
	struct esa_json j;

	esa_json_init(&j);
	esa_json_begin_object(&j);
	cr_expect(esa_json_ok(&j));
	cr_expect_null(esa_json_take(&j));
}

/* a key outside an object, a key after a key, or a dangling key fail */
Test(json, misplaced_keys_fail)
{
	struct esa_json j;

	esa_json_init(&j);
	esa_json_key(&j, "top");
	cr_expect_not(esa_json_ok(&j));
	esa_json_free(&j);

	esa_json_begin_object(&j);
	esa_json_key(&j, "a");
	esa_json_key(&j, "b");
	cr_expect_not(esa_json_ok(&j));
	esa_json_free(&j);

	esa_json_begin_object(&j);
	esa_json_key(&j, "a");
	esa_json_end_object(&j);
	cr_expect_not(esa_json_ok(&j));
	cr_expect_null(esa_json_take(&j));
}

/* nesting deeper than ESA_JSON_MAX_DEPTH fails instead of overflowing */
Test(json, depth_limit)
{
	struct esa_json j;
	int i;

	esa_json_init(&j);
	for (i = 0; i < ESA_JSON_MAX_DEPTH; i++)
		esa_json_begin_array(&j);
	cr_expect(esa_json_ok(&j));
	esa_json_begin_array(&j);
	cr_expect_not(esa_json_ok(&j));
	esa_json_free(&j);
}

/* the buffer grows past its first size, octets intact */
Test(json, long_string_grows)
{
	size_t n = 100000, i;
	char *in = malloc(n), *out;

	cr_assert_not_null(in);
	for (i = 0; i < n; i++)
		in[i] = (char)('a' + i % 26);
	out = one_string(in, n);
	cr_assert_not_null(out);
	cr_expect_eq(strlen(out), n + 2);
	cr_expect_eq(memcmp(out + 1, in, n), 0);
	free(in);
	free(out);
}

/* take resets the writer: it can be used again */
Test(json, reuse_after_take)
{
	struct esa_json j;
	char *a, *b;

	esa_json_init(&j);
	esa_json_str(&j, "one");
	a = esa_json_take(&j);
	esa_json_str(&j, "two");
	b = esa_json_take(&j);
	cr_assert_not_null(a);
	cr_assert_not_null(b);
	cr_expect_str_eq(a, "\"one\"");
	cr_expect_str_eq(b, "\"two\"");
	free(a);
	free(b);
}
