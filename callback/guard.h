/*
 * guard.h - one-line error paths, after s2n-tls's GUARD macros
 *
 * For a function with one exit: every resource it takes is released at a
 * label `out`, and the result it returns is set to "failed" before the
 * first guard and to "done" just before the label.  Then each step that
 * can fail is one line:
 *
 *   ENSURE_REF(ctx = X509_STORE_CTX_new());
 *   GUARD_OSSL(X509_STORE_CTX_set_default(ctx, "ssl_server"),
 *              why = "cannot set up verification");
 *
 * ENSURE(cond, ...)    unless cond holds, do the optional action, goto out
 * ENSURE_REF(p, ...)   the same for a pointer that must not be NULL
 * GUARD_OSSL(call, ...) the same for OpenSSL's 1-on-success calls: 0, -1
 *                      or anything but 1 fails
 *
 * The optional action (a statement expression list: an assignment, a
 * snprintf) says why, for the caller's error string.
 */
#ifndef ESA_GUARD_H
#define ESA_GUARD_H

#define ENSURE(cond, ...) \
	do { \
		if (!(cond)) { \
			__VA_ARGS__; \
			goto out; \
		} \
	} while (0)
#define ENSURE_REF(p, ...) ENSURE((p) != NULL, __VA_ARGS__)
#define GUARD_OSSL(call, ...) ENSURE((call) == 1, __VA_ARGS__)

#endif
