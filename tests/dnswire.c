/*
 * dnswire.c - DNS wire-format answers built by hand, and a scripted UDP DNS
 * server, for the tests and the fuzz seeds (see dnswire.h)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dnswire.h"

void dw_put8(struct dw_pkt *p, unsigned v) { p->b[p->n++] = (unsigned char)v; }
void dw_put16(struct dw_pkt *p, unsigned v) { dw_put8(p, v >> 8); dw_put8(p, v & 0xff); }
void dw_put32(struct dw_pkt *p, uint32_t v) { dw_put16(p, v >> 16); dw_put16(p, v & 0xffff); }

void dw_put_name(struct dw_pkt *p, const char *name)
{
	while (*name != '\0') {
		size_t l = strcspn(name, ".");

		dw_put8(p, (unsigned)l);
		memcpy(p->b + p->n, name, l);
		p->n += l;
		name += l;
		if (*name == '.')
			name++;
	}
	dw_put8(p, 0);
}

size_t dw_rr_begin(struct dw_pkt *p, const char *owner, unsigned type,
		   uint32_t ttl)
{
	size_t at;

	if (owner == NULL)
		dw_put16(p, 0xc00c);
	else
		dw_put_name(p, owner);
	dw_put16(p, type);
	dw_put16(p, 1);
	dw_put32(p, ttl);
	at = p->n;
	dw_put16(p, 0);
	p->an++;
	return at;
}

void dw_rr_end(struct dw_pkt *p, size_t at)
{
	size_t len = p->n - at - 2;

	p->b[at] = (unsigned char)(len >> 8);
	p->b[at + 1] = (unsigned char)len;
}

void *dw_server_main(void *arg)
{
	struct dw_server *f = arg;
	struct dw_pkt *p = malloc(sizeof(*p));
	unsigned char q[512];

	while (p != NULL && !__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd pfd = { .fd = f->fd, .events = POLLIN };
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n;
		size_t len;

		if (poll(&pfd, 1, 50) != 1)
			continue;
		n = recvfrom(f->fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
		if (n <= 0)
			continue;
		memcpy(f->last_query, q, (size_t)n);
		__atomic_store_n(&f->last_len, (size_t)n, __ATOMIC_RELEASE);
		__atomic_add_fetch(&f->queries, 1, __ATOMIC_RELAXED);
		len = f->reply(q, (size_t)n, p);
		if (len > 0)
			sendto(f->fd, p->b, len, 0, (struct sockaddr *)&from, fl);
	}
	free(p);
	return NULL;
}

int dw_udp_socket(int *port)
{
	struct sockaddr_in s;
	socklen_t sl = sizeof(s);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&s, sizeof(s)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&s, &sl) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(s.sin_port);
	return fd;
}

int dw_server_start(struct dw_server *s, dw_reply_fn reply, char *ns,
		    size_t nslen)
{
	memset(s, 0, sizeof(*s));
	s->fd = dw_udp_socket(&s->port);
	if (s->fd < 0)
		return -1;
	s->reply = reply;
	if (pthread_create(&s->th, NULL, dw_server_main, s) != 0) {
		close(s->fd);
		return -1;
	}
	snprintf(ns, nslen, "127.0.0.1:%d", s->port);
	return 0;
}

void dw_server_stop(struct dw_server *s)
{
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	pthread_join(s->th, NULL);
	close(s->fd);
}
