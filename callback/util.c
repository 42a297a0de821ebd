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

/* esa_grow - room for at least one more than n entries of sz bytes in
 * *arr, whose capacity is *cap: the array doubles (from 4) when full, so
 * appending is not a realloc each time; 0, or -1 (nothing changed) */
int esa_grow(void **arr, size_t n, size_t *cap, size_t sz)
{
	size_t want = *cap ? *cap : 4;
	void *p;

	if (n < *cap)
		return 0;
	while (want <= n) {
		if (want > SIZE_MAX / 2 / sz)
			return -1;
		want *= 2;
	}
	if ((p = realloc(*arr, want * sz)) == NULL)
		return -1;
	*arr = p;
	*cap = want;
	return 0;
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
