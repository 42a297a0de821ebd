/*
 * util.c - small helpers shared by the modules: address parsing and
 * formatting, bounded string copies, clocks, waiting on a socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
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
