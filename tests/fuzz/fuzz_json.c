/*
 * fuzz_json.c - the JSON writer (json.c) with hostile strings and any
 * sequence of calls
 *
 * Input: a program.  Each op byte selects a call (op % 16): begin/end of
 * objects and arrays, a key, string values (C strings and length-counted
 * ones with NULs), numbers, booleans, nulls and the k* member helpers.  A
 * string operand is a length byte and that many octets.
 *
 * Invariants (json.h): esa_json_take returns NULL, or text that is exactly
 * one valid JSON value (json_check.h), valid UTF-8, without raw DEL, C1
 * controls, U+2028 or U+2029; and every string written comes back, in
 * order, as the code points of its well-formed UTF-8 with every other octet
 * standing for itself (\u00XX): nothing lost, nothing added.
 */
#include "fuzz.h"
#include "json.h"
#include "json_check.h"

#define MAX_STRINGS 4096

/* The strings written so far, as the code points a reader must see. */
struct expect {
	uint32_t *cps[MAX_STRINGS];
	size_t n[MAX_STRINGS];
	size_t count;		/* strings written */
	size_t seen;		/* strings read back by the checker */
	bool overflow;
};

/* utf8_or_byte - the code point at s: a well-formed UTF-8 sequence, or
 * the octet itself; *len gets the octets used */
static uint32_t utf8_or_byte(const unsigned char *s, size_t n, size_t *len)
{
	struct jc c = { s, n, 0, 0, NULL, NULL };
	uint32_t cp;

	if (jc_utf8(&c, &cp)) {
		*len = c.i;
		return cp;
	}
	*len = 1;
	return s[0];
}

/* expect_add - note a string about to be written */
static void expect_add(struct expect *e, const char *s, size_t n)
{
	uint32_t *cps;
	size_t i = 0, k = 0, l;

	if (e->count == MAX_STRINGS) {
		e->overflow = true;
		return;
	}
	cps = malloc((n + 1) * sizeof(*cps));
	if (cps == NULL)
		abort();
	while (i < n) {
		cps[k++] = utf8_or_byte((const unsigned char *)s + i, n - i, &l);
		i += l;
	}
	e->cps[e->count] = cps;
	e->n[e->count++] = k;
}

/* visit - a string read back: compare with the next one written */
static void visit(void *arg, const uint32_t *cps, size_t n)
{
	struct expect *e = arg;
	size_t i = e->seen++;

	if (e->overflow)
		return;
	FUZZ_CHECK(i < e->count, "more strings read (%zu) than written", i + 1);
	FUZZ_CHECK(n == e->n[i] &&
		   memcmp(cps, e->cps[i], n * sizeof(*cps)) == 0,
		   "string %zu changed: %zu code points, %zu written", i, n,
		   e->n[i]);
}

/* no_raw_specials - no DEL, C1, U+2028, U+2029 left unescaped */
static void no_raw_specials(const char *t, size_t n)
{
	const unsigned char *u = (const unsigned char *)t;

	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(u[i] != 0x7F, "raw DEL at %zu", i);
		FUZZ_CHECK(!(u[i] == 0xC2 && i + 1 < n && u[i + 1] >= 0x80 &&
			     u[i + 1] <= 0x9F), "raw C1 at %zu", i);
		FUZZ_CHECK(!(u[i] == 0xE2 && i + 2 < n && u[i + 1] == 0x80 &&
			     (u[i + 2] == 0xA8 || u[i + 2] == 0xA9)),
			   "raw U+2028/9 at %zu", i);
	}
}

/* operand - a length byte and that many octets from the program */
static const char *operand(const uint8_t **p, const uint8_t *end, size_t *n)
{
	const char *s;

	if (*p >= end) {
		*n = 0;
		return "";
	}
	*n = **p;
	(*p)++;
	if (*n > (size_t)(end - *p))
		*n = (size_t)(end - *p);
	s = (const char *)*p;
	*p += *n;
	return s;
}

/* number - eight octets (fewer at the end) as a 64-bit value */
static uint64_t number(const uint8_t **p, const uint8_t *end)
{
	uint64_t v = 0;

	for (int k = 0; k < 8 && *p < end; k++)
		v = v << 8 | *(*p)++;
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct expect e;
	const uint8_t *p = data, *end = data + size;
	struct esa_json j;
	char *text, *a, *b;
	size_t an, bn;

	memset(&e, 0, sizeof(e));
	esa_json_init(&j);
	while (p < end) {
		unsigned op = *p++ % 16;

		a = b = NULL;
		switch (op) {
		case 0: esa_json_begin_object(&j); break;
		case 1: esa_json_end_object(&j); break;
		case 2: esa_json_begin_array(&j); break;
		case 3: esa_json_end_array(&j); break;
		case 4:		/* a key: a C string */
			a = fuzz_cstr((const uint8_t *)operand(&p, end, &an), an);
			expect_add(&e, a, strlen(a));
			esa_json_key(&j, a);
			break;
		case 5:		/* a length-counted value, NULs and all */
			a = fuzz_cstr((const uint8_t *)operand(&p, end, &an), an);
			expect_add(&e, a, an);
			esa_json_strn(&j, a, an);
			break;
		case 6:		/* a C string value; length 0 means NULL */
			a = fuzz_cstr((const uint8_t *)operand(&p, end, &an), an);
			if (an > 0)
				expect_add(&e, a, strlen(a));
			esa_json_str(&j, an > 0 ? a : NULL);
			break;
		case 7: esa_json_int(&j, (long long)number(&p, end)); break;
		case 8: esa_json_uint(&j, number(&p, end)); break;
		case 9: esa_json_bool(&j, p < end && (*p++ & 1)); break;
		case 10: esa_json_null(&j); break;
		case 11:	/* "key": string */
		case 12:	/* "key": string or null when empty */
			a = fuzz_cstr((const uint8_t *)operand(&p, end, &an), an);
			b = fuzz_cstr((const uint8_t *)operand(&p, end, &bn), bn);
			expect_add(&e, a, strlen(a));
			if (op == 11 || b[0] != '\0')
				expect_add(&e, b, strlen(b));
			if (op == 11)
				esa_json_kstr(&j, a, b);
			else
				esa_json_kopt(&j, a, b);
			break;
		case 13:
		case 14:
		case 15:
			a = fuzz_cstr((const uint8_t *)operand(&p, end, &an), an);
			expect_add(&e, a, strlen(a));
			if (op == 13)
				esa_json_kint(&j, a, (long long)number(&p, end));
			else if (op == 14)
				esa_json_kbool(&j, a, p < end && (*p++ & 1));
			else
				esa_json_knull(&j, a);
			break;
		}
		free(a);
		free(b);
	}
	text = esa_json_take(&j);
	if (text != NULL) {
		size_t n = strlen(text);

		FUZZ_CHECK(json_check(text, n, visit, &e),
			   "invalid JSON: %.300s", text);
		FUZZ_CHECK(e.overflow || e.seen == e.count,
			   "%zu strings written, %zu read back", e.count, e.seen);
		no_raw_specials(text, n);
		free(text);
	}
	for (size_t i = 0; i < e.count; i++)
		free(e.cps[i]);
	return 0;
}
