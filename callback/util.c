/*
 * util.c - small helpers shared by the modules: address parsing and
 * formatting, bounded string copies, clocks, waiting on a socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "internal.h"

/* esa_parse_ip - an IPv4 or IPv6 literal into family and octets */
int esa_parse_ip(const char *text, int *family, unsigned char addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, text, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, addr) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -1;
}

/* format_ipv4 - dotted decimal without stdio: inet_ntop goes through
 * sprintf, about a thousand instructions, and a decision formats the peer
 * several times; "" when out is too small, as inet_ntop */
static void format_ipv4(const unsigned char *a, char *out, size_t outsz)
{
	char buf[16];
	size_t n = 0;

	for (int i = 0; i < 4; i++) {
		if (i > 0)
			buf[n++] = '.';
		if (a[i] >= 100)
			buf[n++] = (char)('0' + a[i] / 100);
		if (a[i] >= 10)
			buf[n++] = (char)('0' + a[i] / 10 % 10);
		buf[n++] = (char)('0' + a[i] % 10);
	}
	buf[n] = '\0';
	if (n < outsz)
		memcpy(out, buf, n + 1);
}

/* esa_format_ip - the text form of an address; "" for an unknown family */
void esa_format_ip(int family, const unsigned char *addr, char *out,
		   size_t outsz)
{
	if (outsz == 0)
		return;
	out[0] = '\0';
	if (family == AF_INET)
		format_ipv4(addr, out, outsz);
	else if (family == AF_INET6)
		if (inet_ntop(family, addr, out, (socklen_t)outsz) == NULL)
			out[0] = '\0';
}

/* esa_strlcpy - copy with truncation, always NUL-terminated */
void esa_strlcpy(char *dst, const char *src, size_t dstsz)
{
	size_t n;

	if (dstsz == 0)
		return;
	n = strnlen(src, dstsz - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* esa_cat - the strings given, up to a NULL, one after the other into
 * dst, truncated to fit and always NUL-terminated; the length written.
 * The decision record's notes are made with it: snprintf costs about a
 * thousand instructions a call, more than the rest of a decision step. */
size_t esa_cat(char *dst, size_t dstsz, ...)
{
	const char *s;
	size_t n = 0;
	va_list ap;

	if (dstsz == 0)
		return 0;
	va_start(ap, dstsz);
	while ((s = va_arg(ap, const char *)) != NULL && n + 1 < dstsz) {
		size_t len = strnlen(s, dstsz - 1 - n);

		memcpy(dst + n, s, len);
		n += len;
	}
	va_end(ap);
	dst[n] = '\0';
	return n;
}

/* esa_grow - room for at least want entries of sz bytes in *arr, whose
 * capacity is *cap: the capacity doubles (from 4) until it is enough, so
 * appending is not a realloc each time.  The one growth helper of the
 * library (and of esa-check).  *cap may be below the entries *arr holds
 * (an array sized exactly): it is then grown to at least want.  0, or -1
 * with nothing changed. */
int esa_grow(void **arr, size_t *cap, size_t want, size_t sz)
{
	size_t n = *cap ? *cap : 4;
	void *p;

	if (want <= *cap)
		return 0;
	while (n < want) {
		if (n > SIZE_MAX / 2 / sz)
			return -1;
		n *= 2;
	}
	if (n > SIZE_MAX / sz || (p = realloc(*arr, n * sz)) == NULL)
		return -1;
	*arr = p;
	*cap = n;
	return 0;
}

#define READ_CHUNK 8192	/* octets read at a time by esa_read_stream */

/* esa_read_stream - all of f, at most max octets, into a malloc'd buffer
 * with a NUL after the len octets; NULL with *problem set: too_large when
 * there is more, strerror() on a read error, "out of memory" */
char *esa_read_stream(FILE *f, size_t max, const char *too_large, size_t *len,
		      const char **problem)
{
	char *buf = NULL;
	size_t n = 0, cap = 0, want, got;

	*problem = NULL;
	for (;;) {
		want = max - n > READ_CHUNK ? n + READ_CHUNK : max;
		if (esa_grow((void **)&buf, &cap, want + 1, 1) != 0) {
			*problem = "out of memory";
			break;
		}
		if (n == max) {		/* full: is there more? */
			if (fgetc(f) != EOF)
				*problem = too_large;
			else if (ferror(f))
				*problem = strerror(errno);
			break;
		}
		got = fread(buf + n, 1, want - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f))
				*problem = strerror(errno);
			break;
		}
	}
	if (*problem != NULL) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* esa_utoa - v in decimal into out (at least 21 bytes); out */
char *esa_utoa(unsigned long long v, char *out)
{
	char num[24];
	size_t n = sizeof(num);

	num[--n] = '\0';
	do {
		num[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	memcpy(out, num + n, sizeof(num) - n);
	return out;
}

/* esa_now_us - monotonic microseconds */
uint64_t esa_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* esa_wait_fd - poll fd for events until deadline; 0, or -1 with errno */
int esa_wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		uint64_t now = esa_now_ms();
		int n;

		if (now >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = poll(&p, 1, deadline - now > INT_MAX ? INT_MAX :
			 (int)(deadline - now));
		if (n > 0)
			return 0;	/* errors surface in the next call */
		if (n == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR)
			return -1;
	}
}
