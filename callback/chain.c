/*
 * chain.c - stage I (SPEC 2) outside a handshake, and the trust store
 *
 * Path validation is OpenSSL's job; this file only builds the X509_STORE
 * that a configuration names (CA file, CA directory, CRL file) and runs
 * X509_verify_cert() with the TLS-server purpose at a chosen time, for
 * esa-check's offline mode.  In a handshake the callback lets OpenSSL do
 * the same work and only reads its verdict.
 *
 * Every store made here carries ESA_STORE_FLAGS, and CRL checking of the
 * whole path when CRLs are configured.  X509_STORE_CTX_init() ORs a store's
 * flags into each verification, so a handshake against this store (the
 * callback installs it when the configuration names a trust store) checks
 * the same way as esa-check; a handshake against the program's own store
 * gets the program's flags.  With these flags, and the TLS-server purpose,
 * the verdict is stock OpenSSL's as x509-limbo's harness runs it
 * (tests/conformance.py holds the cases where it deliberately is not).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "internal.h"

/*
 * ESA_STORE_FLAGS - how every store of ours verifies (SPEC 2):
 * X509_STRICT: refuse certificates that break RFC 5280's rules (a CA
 *   whose basicConstraints is not critical or that has no
 *   subjectKeyIdentifier, a certificate without authorityKeyIdentifier, an
 *   empty subject with a non-critical SAN, explicit EC parameters, ...):
 *   a malformed certificate fails, it is not guessed at (fail closed);
 * PARTIAL_CHAIN: every certificate in the trust store is a trust anchor,
 *   self-signed or not, which is what putting an intermediate (or a pinned
 *   server certificate) in the CA file means.
 */
#define ESA_STORE_FLAGS (X509_V_FLAG_X509_STRICT | X509_V_FLAG_PARTIAL_CHAIN)
/* With CRLs configured, every certificate of the path is checked, the CA
 * certificates as well as the leaf; a certificate whose issuer has no CRL
 * in the file fails ("unable to get certificate CRL"): fail closed. */
#define ESA_CRL_FLAGS (X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL)
/* Security level of stage I outside a handshake: level 2 (112 bits: RSA,
 * DSA and DH keys of 2048 bits, ECC keys of 224), the default of Debian 12's
 * OpenSSL 3.0 and of upstream OpenSSL since 3.2.  In a handshake OpenSSL
 * uses the SSL's own security level instead. */
#define ESA_AUTH_LEVEL 2

/* load_crls - add every CRL of a PEM file to store and switch checking on */
static int load_crls(X509_STORE *store, const char *path, char *err,
		     size_t errsz)
{
	X509_LOOKUP *lu = X509_STORE_add_lookup(store, X509_LOOKUP_file());

	if (lu == NULL || X509_load_crl_file(lu, path, X509_FILETYPE_PEM) <= 0) {
		snprintf(err, errsz, "cannot load CRL file %s", path);
		return -1;
	}
	X509_STORE_set_flags(store, ESA_CRL_FLAGS);
	return 0;
}

/* warm_store - fill the extension cache of every certificate in store now,
 * while one thread holds it: OpenSSL 3.0 fills it lazily without a lock
 * when several threads verify against one shared store
 * (ossl_x509v3_cache_extensions, openssl/openssl#32609) */
static void warm_store(X509_STORE *store)
{
	STACK_OF(X509) *certs = X509_STORE_get1_all_certs(store);

	for (int i = 0; i < sk_X509_num(certs); i++)
		(void)X509_get_extension_flags(sk_X509_value(certs, i));
	sk_X509_pop_free(certs, X509_free);
}

/* esa_config_store - the trust store a configuration names */
struct x509_store_st *esa_config_store(const esa_config *cfg, char *err,
				       size_t errsz)
{
	X509_STORE *store;
	const char *file = cfg->cafile[0] ? cfg->cafile : NULL;
	const char *dir = cfg->capath[0] ? cfg->capath : NULL;

	ERR_set_mark();	/* the caller's queue (a program's, in the shim) stays */
	store = X509_STORE_new();
	if (store == NULL) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	X509_STORE_set_flags(store, ESA_STORE_FLAGS);
	if (file == NULL && dir == NULL) {
		if (X509_STORE_set_default_paths(store) != 1) {
			snprintf(err, errsz, "cannot load the system trust store");
			goto fail;
		}
	} else if ((file && X509_STORE_load_file(store, file) != 1) ||
		   (dir && X509_STORE_load_path(store, dir) != 1)) {
		snprintf(err, errsz, "cannot load CA certificates from %s",
			 file ? file : dir);
		goto fail;
	}
	if (cfg->crlfile[0] && load_crls(store, cfg->crlfile, err, errsz) < 0)
		goto fail;
	warm_store(store);
	ERR_pop_to_mark();
	return store;
fail:
	ERR_pop_to_mark();
	X509_STORE_free(store);
	return NULL;
}

/* esa_config_shared_store - cfg's store, loaded once and shared: the
 * system bundle takes milliseconds to parse, a verification microseconds */
struct x509_store_st *esa_config_shared_store(esa_config *cfg, char *err,
					      size_t errsz)
{
	X509_STORE *store;

	pthread_mutex_lock(&cfg->lock);
	if (cfg->store == NULL)
		cfg->store = esa_config_store(cfg, err, errsz);
	store = cfg->store;
	if (store != NULL && X509_STORE_up_ref(store) != 1) {
		snprintf(err, errsz, "out of memory");
		store = NULL;
	}
	pthread_mutex_unlock(&cfg->lock);
	return store;
}

/* esa_chain_check - verify leaf and intermediates for TLS server use */
int esa_chain_check(esa_config *cfg, struct x509_st *leaf,
		    struct stack_st_X509 *untrusted, long long at,
		    struct esa_result *res)
{
	X509_STORE *store;
	X509_STORE_CTX *ctx = NULL;
	int ok = 0;

	res->chain.checked = true;
	res->chain.ok = false;
	res->chain.depth = 0;
	ERR_set_mark();
	store = esa_config_shared_store(cfg, res->chain.text,
					sizeof(res->chain.text));
	if (store == NULL) {
		res->chain.error = X509_V_ERR_UNSPECIFIED;
		ERR_pop_to_mark();
		return -1;
	}
	ctx = X509_STORE_CTX_new();
	if (ctx == NULL || X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
		res->chain.error = X509_V_ERR_UNSPECIFIED;
		esa_strlcpy(res->chain.text, "cannot set up verification",
			    sizeof(res->chain.text));
		goto out;
	}
	X509_STORE_CTX_set_default(ctx, "ssl_server");
	X509_VERIFY_PARAM_set_auth_level(X509_STORE_CTX_get0_param(ctx),
					 ESA_AUTH_LEVEL);
	if (at != 0)
		X509_STORE_CTX_set_time(ctx, 0, (time_t)at);
	ok = X509_verify_cert(ctx) == 1;
	res->chain.error = X509_STORE_CTX_get_error(ctx);
	res->chain.depth = ok ? 0 : X509_STORE_CTX_get_error_depth(ctx);
	esa_strlcpy(res->chain.text,
		    ok ? "verified to a trusted CA"
		       : X509_verify_cert_error_string(res->chain.error),
		    sizeof(res->chain.text));
	res->chain.ok = ok;
out:
	ERR_pop_to_mark();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok ? 0 : -1;
}
