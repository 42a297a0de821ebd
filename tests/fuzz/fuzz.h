/*
 * fuzz.h - shared helpers of the libFuzzer targets in tests/fuzz/
 *
 * Each fuzz_<name>.c defines LLVMFuzzerTestOneInput and checks, besides
 * "no crash, no leak, no undefined behaviour" (the sanitizers' job), the
 * invariants its module promises: FUZZ_CHECK aborts with the broken rule, so
 * libFuzzer saves the input as a crash like any other.
 *
 * Built by mk/hardening.mk (`make fuzz`) with
 * -fsanitize=fuzzer,address,undefined against a copy of the library built
 * with -fsanitize=fuzzer-no-link.  Seeds live in tests/fuzz/corpus/<name>/;
 * `make test-sanitize` replays every one of them.
 */
#ifndef ESA_FUZZ_H
#define ESA_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz invariant broken at %s:%d: %s: ", \
				__FILE__, __LINE__, #cond);		\
			fprintf(stderr, __VA_ARGS__);			\
			fputc('\n', stderr);				\
			abort();					\
		}							\
	} while (0)

/* fuzz_cstr - a NUL-terminated copy of data (which may hold NULs); the
 * caller frees it */
static inline char *fuzz_cstr(const uint8_t *data, size_t len)
{
	char *s = malloc(len + 1);

	if (s == NULL)
		abort();
	if (len > 0)
		memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

/* fuzz_one_line - a reason or error string is one printable-enough line:
 * terminated within its buffer, no newline */
static inline bool fuzz_one_line(const char *s, size_t bufsz)
{
	size_t n = strnlen(s, bufsz);

	return n < bufsz && memchr(s, '\n', n) == NULL &&
	       memchr(s, '\r', n) == NULL;
}

#endif
