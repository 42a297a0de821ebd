/*
 * test_util.c - the small helpers of util.c that other modules build on:
 * the one array-growth helper and the bounded whole-stream read.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* esa_grow: the capacity doubles from 4 until want fits; a want that fits
 * changes nothing; an impossible size changes nothing and fails */
Test(grow, doubles_from_four)
{
	int *a = NULL;
	size_t cap = 0;

	cr_assert_eq(esa_grow((void **)&a, &cap, 1, sizeof(*a)), 0);
	cr_expect_eq(cap, 4);
	a[3] = 3;
	cr_assert_eq(esa_grow((void **)&a, &cap, 4, sizeof(*a)), 0);
	cr_expect_eq(cap, 4, "want <= cap: nothing to do");
	cr_assert_eq(esa_grow((void **)&a, &cap, 5, sizeof(*a)), 0);
	cr_expect_eq(cap, 8);
	cr_expect_eq(a[3], 3, "the entries stay");
	cr_assert_eq(esa_grow((void **)&a, &cap, 33, sizeof(*a)), 0);
	cr_expect_eq(cap, 64);
	cr_expect_eq(esa_grow((void **)&a, &cap, SIZE_MAX / 2, sizeof(*a)), -1);
	cr_expect_eq(cap, 64, "a failure changes nothing");
	cr_expect_eq(a[3], 3);
	free(a);
}

/* an array sized exactly (cap 0 or below its count) grows past its count */
Test(grow, exact_array_grows_past_its_count)
{
	size_t n = 10, cap = 10;
	char *a = malloc(n);

	cr_assert_not_null(a);
	memset(a, 'x', n);
	cr_assert_eq(esa_grow((void **)&a, &cap, n + 3, 1), 0);
	cr_expect_geq(cap, n + 3);
	cr_expect_eq(a[9], 'x');
	free(a);
}

/* esa_read_stream: up to max octets exactly, NUL-terminated; one more is
 * too large */
Test(read_stream, limit_is_inclusive)
{
	char text[20000];
	const char *problem;
	size_t len = 0;
	char *buf;
	FILE *f;

	memset(text, 'a', sizeof(text));
	f = fmemopen(text, sizeof(text), "r");
	cr_assert_not_null(f);
	buf = esa_read_stream(f, sizeof(text), "too big", &len, &problem);
	cr_assert_not_null(buf, "%s", problem);
	cr_expect_eq(len, sizeof(text));
	cr_expect_eq(buf[len], '\0');
	cr_expect_eq(memcmp(buf, text, len), 0);
	free(buf);
	fclose(f);

	f = fmemopen(text, sizeof(text), "r");
	cr_assert_not_null(f);
	buf = esa_read_stream(f, sizeof(text) - 1, "too big", &len, &problem);
	cr_expect_null(buf);
	cr_expect_str_eq(problem, "too big");
	fclose(f);
}

Test(read_stream, empty_stream)
{
	const char *problem;
	size_t len = 7;
	char *buf;
	FILE *f = fopen("/dev/null", "r");

	cr_assert_not_null(f);
	buf = esa_read_stream(f, 100, "too big", &len, &problem);
	cr_assert_not_null(buf);
	cr_expect_eq(len, 0);
	cr_expect_str_eq(buf, "");
	free(buf);
	fclose(f);
}
