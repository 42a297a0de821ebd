/*
 * dnswire.h - DNS wire-format answers built by hand, and a scripted UDP DNS
 * server, for the tests (test_dns.c, test_hostile_dns.c) and the fuzz seeds
 * (fuzz/mkseeds.c)
 *
 * No Criterion here: mkseeds links this file too.
 */
#ifndef ESA_TESTS_DNSWIRE_H
#define ESA_TESTS_DNSWIRE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* A message being built: octets, length, answer and authority counts (the
 * caller writes the counts into the header). */
struct dw_pkt {
	unsigned char b[32768];
	size_t n;
	unsigned an, ns;
};

void dw_put8(struct dw_pkt *p, unsigned v);
void dw_put16(struct dw_pkt *p, unsigned v);
void dw_put32(struct dw_pkt *p, uint32_t v);
/* dw_put_name - a dotted name as uncompressed labels; "" is the root; the
 * octets are raw */
void dw_put_name(struct dw_pkt *p, const char *name);
/* dw_rr_begin - owner (NULL: a pointer to the question name), type, class
 * IN, ttl; counts an answer; returns where rdlength goes (rdata follows) */
size_t dw_rr_begin(struct dw_pkt *p, const char *owner, unsigned type,
		   uint32_t ttl);
/* dw_rr_end - fill in the rdlength of the record begun at at */
void dw_rr_end(struct dw_pkt *p, size_t at);

/* A UDP server thread answering each query with reply(): 0 sends nothing.
 * The caller binds fd, starts dw_server_main(srv) in th, and stops it by
 * setting stop (__atomic) and joining. */
typedef size_t (*dw_reply_fn)(const unsigned char *q, size_t qlen,
			      struct dw_pkt *p);

struct dw_server {
	int fd, port;
	pthread_t th;
	dw_reply_fn reply;
	int stop;			/* __atomic */
	int queries;			/* __atomic */
	unsigned char last_query[512];	/* for checks on what was sent */
	size_t last_len;		/* __atomic */
};

/* dw_server_main - answer until told to stop (a pthread start routine) */
void *dw_server_main(void *arg);

/* dw_udp_socket - a UDP socket bound to 127.0.0.1 at a free port, stored in
 * *port; -1 on failure */
int dw_udp_socket(int *port);

/* dw_server_start - zero s, bind it a socket and start its thread answering
 * with reply; 0, or -1 with nothing left running.  "127.0.0.1:PORT" into
 * ns (at least 32 octets) for esa_resolver_libresolv. */
int dw_server_start(struct dw_server *s, dw_reply_fn reply, char *ns,
		    size_t nslen);

/* dw_server_stop - stop the thread and close the socket */
void dw_server_stop(struct dw_server *s);

#endif
