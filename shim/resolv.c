/*
 * resolv.c - hooks on the program's own DNS work (issue 7)
 *
 * Every answer the program gets from libresolv's query functions, and every
 * address getaddrinfo() and gethostbyname*() give it, goes to learn.c, which
 * remembers which domain's MX named which host and which addresses the hosts
 * had.  The hooks change nothing: each calls the real function, passes its
 * result, errno and h_errno back untouched, and only reads the answer.
 *
 * Which symbols.  glibc 2.34 moved libresolv's functions into libc under
 * new versions: res_query, res_search, res_querydomain, res_send and their
 * res_n* forms are GLIBC_2.34 there (Postfix 3.7 on Debian 12 binds
 * res_nsearch@GLIBC_2.34 and res_nsend@GLIBC_2.34, with res_nmkquery), and
 * programs built before that bind __res_query and friends at glibc's base
 * version (<resolv.h> once renamed them with macros).  Both are hooked,
 * each under the version it stands in for, and both reach the same real
 * function.  getaddrinfo and gethostbyname* carry the base version.
 *
 * glibc's own getaddrinfo() queries DNS through internal calls, not through
 * these hooks, so nothing is seen twice.  Programs that speak DNS over their
 * own sockets (Perl's Net::DNS, Go, dnspython) are not seen: see
 * esashim(7).  While the shim itself runs (shim_busy: the library's PTR and
 * MX queries inside a verification) the hooks pass straight through.
 */
#include <errno.h>
#include <netdb.h>
#include <resolv.h>
#include <string.h>

#include "shim.h"

#ifdef SHIM_LIBC_VER

#define SHIM_RES_VER "GLIBC_2.34"

/* real_res - the real function: the GLIBC_2.34 name, else the old one */
static void *real_res(const char *name, const char *old, void **slot,
		      void **slot_old)
{
	void *p = shim_real(name, SHIM_RES_VER, slot);

	return p ? p : shim_real(old, SHIM_LIBC_VER, slot_old);
}
#define REAL_RES(fn) ({ \
	static void *s1_, *s2_; \
	(__typeof__(&fn))real_res(#fn, "__" #fn, &s1_, &s2_); })

/* seen - the answer of a query function that returned n */
static void seen(const unsigned char *answer, int anslen, int n)
{
	int saved = errno;

	if (shim_busy || answer == NULL || n <= 0)
		return;
	shim_learn_dns(answer, n < anslen ? n : anslen);
	errno = saved;
}

/* nodata - an MX query for name that failed with NO_DATA (the domain
 * exists, without MX records): noted, for the answer is not at hand */
static void nodata(const char *name, int type, int herr)
{
	int saved = errno;

	if (!shim_busy && type == ns_t_mx && herr == NO_DATA)
		shim_learn_no_mx(name);
	errno = saved;
}

/* --- the query functions of the global resolver ------------------------
 * Each hook is exported twice: NAME@@GLIBC_2.34 and __NAME@base. */

/* query3 - res_query and res_search: the same shape */
static int query3(int (*real)(const char *, int, int, unsigned char *, int),
		  const char *dname, int class, int type, unsigned char *answer,
		  int anslen)
{
	int n, herr;

	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	n = real(dname, class, type, answer, anslen);
	herr = h_errno;
	seen(answer, anslen, n);
	if (n < 0)
		nodata(dname, type, herr);
	h_errno = herr;
	return n;
}

SHIM_EXPORT int shim_res_query(const char *d, int c, int t,
				unsigned char *a, int l)
{
	return query3(REAL_RES(res_query), d, c, t, a, l);
}
SHIM_EXPORT int shim___res_query(const char *d, int c, int t,
				unsigned char *a, int l)
{
	return query3(REAL_RES(res_query), d, c, t, a, l);
}
SHIM_SYMVER(shim_res_query, "res_query", SHIM_RES_VER);
SHIM_SYMVER(shim___res_query, "__res_query", SHIM_LIBC_VER);

SHIM_EXPORT int shim_res_search(const char *d, int c, int t,
				unsigned char *a, int l)
{
	return query3(REAL_RES(res_search), d, c, t, a, l);
}
SHIM_EXPORT int shim___res_search(const char *d, int c, int t,
				unsigned char *a, int l)
{
	return query3(REAL_RES(res_search), d, c, t, a, l);
}
SHIM_SYMVER(shim_res_search, "res_search", SHIM_RES_VER);
SHIM_SYMVER(shim___res_search, "__res_search", SHIM_LIBC_VER);

/* querydomain - res_querydomain: name.domain */
static int querydomain(int (*real)(const char *, const char *, int, int,
				   unsigned char *, int),
		       const char *name, const char *domain, int class,
		       int type, unsigned char *answer, int anslen)
{
	int n, herr;

	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	n = real(name, domain, class, type, answer, anslen);
	herr = h_errno;
	seen(answer, anslen, n);
	h_errno = herr;
	return n;
}

SHIM_EXPORT int shim_res_querydomain(const char *nm, const char *d, int c,
				     int t, unsigned char *a, int l)
{
	return querydomain(REAL_RES(res_querydomain), nm, d, c, t, a, l);
}
SHIM_EXPORT int shim___res_querydomain(const char *nm, const char *d, int c,
				       int t, unsigned char *a, int l)
{
	return querydomain(REAL_RES(res_querydomain), nm, d, c, t, a, l);
}
SHIM_SYMVER(shim_res_querydomain, "res_querydomain", SHIM_RES_VER);
SHIM_SYMVER(shim___res_querydomain, "__res_querydomain", SHIM_LIBC_VER);

/* send4 - res_send: a query the program made itself */
static int send4(int (*real)(const unsigned char *, int, unsigned char *, int),
		 const unsigned char *msg, int msglen, unsigned char *answer,
		 int anslen)
{
	int n, herr;

	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	n = real(msg, msglen, answer, anslen);
	herr = h_errno;
	seen(answer, anslen, n);
	h_errno = herr;
	return n;
}

SHIM_EXPORT int shim_res_send(const unsigned char *m, int ml,
				unsigned char *a, int l)
{
	return send4(REAL_RES(res_send), m, ml, a, l);
}
SHIM_EXPORT int shim___res_send(const unsigned char *m, int ml,
				unsigned char *a, int l)
{
	return send4(REAL_RES(res_send), m, ml, a, l);
}
SHIM_SYMVER(shim_res_send, "res_send", SHIM_RES_VER);
SHIM_SYMVER(shim___res_send, "__res_send", SHIM_LIBC_VER);

/* --- the same with a resolver state (res_n*) ---------------------------------- */

/* nquery3 - res_nquery and res_nsearch */
static int nquery3(int (*real)(res_state, const char *, int, int,
			       unsigned char *, int),
		   res_state st, const char *dname, int class, int type,
		   unsigned char *answer, int anslen)
{
	int n;

	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	n = real(st, dname, class, type, answer, anslen);
	seen(answer, anslen, n);
	if (n < 0 && st != NULL)
		nodata(dname, type, st->res_h_errno);
	return n;
}

SHIM_EXPORT int shim_res_nquery(res_state s, const char *d, int c, int t,
				unsigned char *a, int l)
{
	return nquery3(REAL_RES(res_nquery), s, d, c, t, a, l);
}
SHIM_EXPORT int shim___res_nquery(res_state s, const char *d, int c, int t,
				  unsigned char *a, int l)
{
	return nquery3(REAL_RES(res_nquery), s, d, c, t, a, l);
}
SHIM_SYMVER(shim_res_nquery, "res_nquery", SHIM_RES_VER);
SHIM_SYMVER(shim___res_nquery, "__res_nquery", SHIM_LIBC_VER);

SHIM_EXPORT int shim_res_nsearch(res_state s, const char *d, int c, int t,
				 unsigned char *a, int l)
{
	return nquery3(REAL_RES(res_nsearch), s, d, c, t, a, l);
}
SHIM_EXPORT int shim___res_nsearch(res_state s, const char *d, int c, int t,
				   unsigned char *a, int l)
{
	return nquery3(REAL_RES(res_nsearch), s, d, c, t, a, l);
}
SHIM_SYMVER(shim_res_nsearch, "res_nsearch", SHIM_RES_VER);
SHIM_SYMVER(shim___res_nsearch, "__res_nsearch", SHIM_LIBC_VER);

/* nquerydomain - res_nquerydomain */
static int nquerydomain(int (*real)(res_state, const char *, const char *, int,
				    int, unsigned char *, int),
			res_state st, const char *name, const char *domain,
			int class, int type, unsigned char *answer, int anslen)
{
	int n;

	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	n = real(st, name, domain, class, type, answer, anslen);
	seen(answer, anslen, n);
	return n;
}

SHIM_EXPORT int shim_res_nquerydomain(res_state s, const char *nm, const char *d,
				      int c, int t, unsigned char *a, int l)
{
	return nquerydomain(REAL_RES(res_nquerydomain), s, nm, d, c, t, a, l);
}
SHIM_EXPORT int shim___res_nquerydomain(res_state s, const char *nm,
					const char *d, int c, int t,
					unsigned char *a, int l)
{
	return nquerydomain(REAL_RES(res_nquerydomain), s, nm, d, c, t, a, l);
}
SHIM_SYMVER(shim_res_nquerydomain, "res_nquerydomain", SHIM_RES_VER);
SHIM_SYMVER(shim___res_nquerydomain, "__res_nquerydomain", SHIM_LIBC_VER);

/* nsend - res_nsend (Postfix: res_nmkquery, then this) */
static int nsend(int (*real)(res_state, const unsigned char *, int,
			     unsigned char *, int),
		 res_state st, const unsigned char *msg, int msglen,
		 unsigned char *answer, int anslen)
{
	int n;

	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	n = real(st, msg, msglen, answer, anslen);
	seen(answer, anslen, n);
	return n;
}

SHIM_EXPORT int shim_res_nsend(res_state s, const unsigned char *m, int ml,
			       unsigned char *a, int l)
{
	return nsend(REAL_RES(res_nsend), s, m, ml, a, l);
}
SHIM_EXPORT int shim___res_nsend(res_state s, const unsigned char *m, int ml,
				 unsigned char *a, int l)
{
	return nsend(REAL_RES(res_nsend), s, m, ml, a, l);
}
SHIM_SYMVER(shim_res_nsend, "res_nsend", SHIM_RES_VER);
SHIM_SYMVER(shim___res_nsend, "__res_nsend", SHIM_LIBC_VER);

/* --- addresses without TTLs: getaddrinfo, gethostbyname* ---------------------- */

/* getaddrinfo - Python, Perl's IO::Socket::IP, Postfix's "native" lookups */
SHIM_EXPORT int shim_getaddrinfo(const char *node, const char *service,
				 const struct addrinfo *hints,
				 struct addrinfo **res)
{
	int (*real)(const char *, const char *, const struct addrinfo *,
		    struct addrinfo **) = SHIM_REAL(getaddrinfo, NULL);
	int rc, saved;

	if (real == NULL)
		return EAI_SYSTEM;
	rc = real(node, service, hints, res);
	if (rc != 0 || shim_busy || node == NULL || res == NULL)
		return rc;
	saved = errno;
	for (const struct addrinfo *ai = *res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET)
			shim_learn_addr(node, AF_INET,
				&((const struct sockaddr_in *)ai->ai_addr)->sin_addr);
		else if (ai->ai_family == AF_INET6)
			shim_learn_addr(node, AF_INET6,
				&((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr);
	}
	errno = saved;
	return rc;
}
SHIM_SYMVER(shim_getaddrinfo, "getaddrinfo", SHIM_LIBC_VER);

/* hostent - the addresses of a hostent the program got for name */
static void hostent(const char *name, const struct hostent *h)
{
	int saved = errno;

	if (shim_busy || h == NULL || h->h_addr_list == NULL)
		return;
	for (char **a = h->h_addr_list; *a != NULL; a++)
		shim_learn_addr(name, h->h_addrtype, *a);
	errno = saved;
}

SHIM_EXPORT struct hostent *shim_gethostbyname(const char *name)
{
	struct hostent *(*real)(const char *) = SHIM_REAL(gethostbyname, NULL);
	struct hostent *h;
	int herr;

	if (real == NULL)
		return NULL;
	h = real(name);
	herr = h_errno;
	hostent(name, h);
	h_errno = herr;
	return h;
}
SHIM_SYMVER(shim_gethostbyname, "gethostbyname", SHIM_LIBC_VER);

SHIM_EXPORT struct hostent *shim_gethostbyname2(const char *name, int af)
{
	struct hostent *(*real)(const char *, int) =
		SHIM_REAL(gethostbyname2, NULL);
	struct hostent *h;
	int herr;

	if (real == NULL)
		return NULL;
	h = real(name, af);
	herr = h_errno;
	hostent(name, h);
	h_errno = herr;
	return h;
}
SHIM_SYMVER(shim_gethostbyname2, "gethostbyname2", SHIM_LIBC_VER);

SHIM_EXPORT int shim_gethostbyname_r(const char *name, struct hostent *ret,
				     char *buf, size_t buflen,
				     struct hostent **result, int *h_errnop)
{
	int (*real)(const char *, struct hostent *, char *, size_t,
		    struct hostent **, int *) = SHIM_REAL(gethostbyname_r, NULL);
	int rc;

	if (real == NULL)
		return ENOSYS;
	rc = real(name, ret, buf, buflen, result, h_errnop);
	if (rc == 0 && result != NULL)
		hostent(name, *result);
	return rc;
}
SHIM_SYMVER(shim_gethostbyname_r, "gethostbyname_r", SHIM_LIBC_VER);

SHIM_EXPORT int shim_gethostbyname2_r(const char *name, int af,
				      struct hostent *ret, char *buf,
				      size_t buflen, struct hostent **result,
				      int *h_errnop)
{
	int (*real)(const char *, int, struct hostent *, char *, size_t,
		    struct hostent **, int *) = SHIM_REAL(gethostbyname2_r, NULL);
	int rc;

	if (real == NULL)
		return ENOSYS;
	rc = real(name, af, ret, buf, buflen, result, h_errnop);
	if (rc == 0 && result != NULL)
		hostent(name, *result);
	return rc;
}
SHIM_SYMVER(shim_gethostbyname2_r, "gethostbyname2_r", SHIM_LIBC_VER);

#endif /* SHIM_LIBC_VER */
