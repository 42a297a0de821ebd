/*
 * chain.c - stage I (SPEC 2) outside a handshake, and the trust store
 *
 * Path validation is OpenSSL's job; this file only builds the X509_STORE
 * that a configuration names (CA file, CA directory, CRL file) and runs
 * X509_verify_cert() with the TLS-server purpose at a chosen time, for
 * esa-check's offline mode.  In a handshake the callback lets OpenSSL do
 * the same work and only reads its verdict.
 *
 * Every store made here verifies as a stock OpenSSL 3 client does (SPEC 2):
 * no flags of its own, CRL checking of the whole path only when CRLs are
 * configured, and X509_STRICT or PARTIAL_CHAIN only when the configuration
 * opts in (esa_config_set_chain_flags).  X509_STORE_CTX_init() ORs a
 * store's flags into each verification, so a handshake against this store
 * (the callback installs it when the configuration names a trust store, the
 * shim when the program set none) checks the same way as esa-check; a
 * handshake against the program's own store gets the program's flags.
 * Outside a handshake the purpose is TLS server and the security level
 * that of a stock client on this machine (or the program's own, in the
 * shim's observe mode), so the verdict is stock OpenSSL's;
 * tests/conformance.py compares both profiles with x509-limbo's cases.
 *
 * A chain that verified is remembered (cfg->memo) for as long as the
 * verdict cannot change: until the first notAfter of the path built, at
 * most ESA_MEMO_SECONDS, and never with CRLs configured (their next
 * update is not tracked) or at a chosen time.  The shim's observe mode
 * verifies every handshake's chain a second time, against ESA's store,
 * and a client connects to the same few servers over and over: the second
 * time the certificates are compared (X509_cmp: the signed part octet for
 * octet, and the whole certificate's SHA-1), not verified.  A chain that
 * failed is verified again every time.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "guard.h"
#include "internal.h"

/* With CRLs configured, every certificate of the path is checked, the CA
 * certificates as well as the leaf; a certificate whose issuer has no CRL
 * in the file fails ("unable to get certificate CRL"): fail closed. */
#define ESA_CRL_FLAGS (X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL)
/* Security level of stage I outside a handshake when no client context can
 * be made to read it from: level 2 (112 bits: RSA, DSA and DH keys of 2048
 * bits, ECC keys of 224), the default of Debian 12's OpenSSL 3.0 and of
 * upstream OpenSSL since 3.2. */
#define ESA_AUTH_LEVEL 2
/* The longest a chain's verdict is remembered, in seconds. */
#define ESA_MEMO_SECONDS 300

/* load_crls - add every CRL of a PEM file to store and switch checking on */
static int load_crls(X509_STORE *store, const char *path, char *err,
		     size_t errsz)
{
	X509_LOOKUP *lu;
	int rc = -1;

	ENSURE_REF(lu = X509_STORE_add_lookup(store, X509_LOOKUP_file()));
	ENSURE(X509_load_crl_file(lu, path, X509_FILETYPE_PEM) > 0);
	rc = 0;
out:
	if (rc != 0)
		snprintf(err, errsz, "cannot load CRL file %s", path);
	return rc;
}

/* esa_chain_profile_flags - the opt-in profiles as verification flags
 * (ESA_CHAIN_STRICT: X509_STRICT refuses what breaks RFC 5280's rules, a
 * CA without keyUsage or with a non-critical basicConstraints, a leaf
 * without authorityKeyIdentifier, explicit EC parameters, ...;
 * ESA_CHAIN_PARTIAL: PARTIAL_CHAIN makes every certificate of the store an
 * anchor, self-signed or not) */
unsigned long esa_chain_profile_flags(const esa_config *cfg)
{
	unsigned long flags = 0;

	if (cfg->chain_flags & ESA_CHAIN_STRICT)
		flags |= X509_V_FLAG_X509_STRICT;
	if (cfg->chain_flags & ESA_CHAIN_PARTIAL)
		flags |= X509_V_FLAG_PARTIAL_CHAIN;
	return flags;
}

/* esa_chain_store_flags - the flags of cfg's store: the profiles, and CRL
 * checking when CRLs are configured */
unsigned long esa_chain_store_flags(const esa_config *cfg)
{
	return esa_chain_profile_flags(cfg) |
	       (cfg->crlfile[0] != '\0' ? ESA_CRL_FLAGS : 0);
}

static int stock_level = ESA_AUTH_LEVEL;
static pthread_once_t stock_level_once = PTHREAD_ONCE_INIT;

/* read_stock_level - a fresh client context's security level: what
 * openssl.cnf (system_default) and the build make of it */
static void read_stock_level(void)
{
	SSL_CTX *ctx;

	ERR_set_mark();
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx != NULL)
		stock_level = SSL_CTX_get_security_level(ctx);
	SSL_CTX_free(ctx);
	ERR_pop_to_mark();
}

/* esa_chain_stock_auth_level - the security level of a stock client */
int esa_chain_stock_auth_level(void)
{
	pthread_once(&stock_level_once, read_stock_level);
	return stock_level;
}

/* The verification flags the log names, in this order. */
static const struct {
	unsigned long flag;
	const char *name;
} flag_names[] = {
	{ X509_V_FLAG_CRL_CHECK, "crl_check" },
	{ X509_V_FLAG_CRL_CHECK_ALL, "crl_check_all" },
	{ X509_V_FLAG_X509_STRICT, "x509_strict" },
	{ X509_V_FLAG_PARTIAL_CHAIN, "partial_chain" },
	{ X509_V_FLAG_IGNORE_CRITICAL, "ignore_critical" },
	{ X509_V_FLAG_ALLOW_PROXY_CERTS, "allow_proxy_certs" },
	{ X509_V_FLAG_POLICY_CHECK, "policy_check" },
	{ X509_V_FLAG_EXPLICIT_POLICY, "explicit_policy" },
	{ X509_V_FLAG_INHIBIT_ANY, "inhibit_any" },
	{ X509_V_FLAG_INHIBIT_MAP, "inhibit_map" },
	{ X509_V_FLAG_USE_DELTAS, "use_deltas" },
	{ X509_V_FLAG_CHECK_SS_SIGNATURE, "check_ss_signature" },
	{ X509_V_FLAG_TRUSTED_FIRST, "trusted_first" },
	{ X509_V_FLAG_NO_ALT_CHAINS, "no_alt_chains" },
	{ X509_V_FLAG_NO_CHECK_TIME, "no_check_time" },
	{ X509_V_FLAG_USE_CHECK_TIME, "use_check_time" },
};

/* esa_chain_flag_names - the names of the known bits of flags */
size_t esa_chain_flag_names(unsigned long flags, const char **out,
			    size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]) &&
			   n < max; i++)
		if (flags & flag_names[i].flag)
			out[n++] = flag_names[i].name;
	return n;
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
	X509_STORE *store = NULL;
	const char *file = cfg->cafile[0] ? cfg->cafile : NULL;
	const char *dir = cfg->capath[0] ? cfg->capath : NULL;
	bool done = false;

	ERR_set_mark();	/* the caller's queue (a program's, in the shim) stays */
	ENSURE_REF(store = X509_STORE_new(), snprintf(err, errsz, "out of memory"));
	if (file == NULL && dir == NULL)
		GUARD_OSSL(X509_STORE_set_default_paths(store),
			   snprintf(err, errsz, "cannot load the system trust store"));
	if (file != NULL)
		GUARD_OSSL(X509_STORE_load_file(store, file),
			   snprintf(err, errsz, "cannot load CA certificates from %s",
				    file));
	if (dir != NULL)
		GUARD_OSSL(X509_STORE_load_path(store, dir),
			   snprintf(err, errsz, "cannot load CA certificates from %s",
				    dir));
	if (cfg->crlfile[0])
		ENSURE(load_crls(store, cfg->crlfile, err, errsz) == 0);
	/* a store without its flags would verify with fewer checks */
	GUARD_OSSL(X509_STORE_set_flags(store, esa_chain_store_flags(cfg)),
		   snprintf(err, errsz, "cannot set the trust store's flags"));
	warm_store(store);
	done = true;
out:
	ERR_pop_to_mark();
	if (!done) {
		X509_STORE_free(store);
		store = NULL;
	}
	return store;
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

/* memo_free - release one remembered chain */
static void memo_free(struct esa_chain_memo *m)
{
	for (int i = 0; i < m->ncerts; i++)
		X509_free(m->certs[i]);
	free(m->certs);
	memset(m, 0, sizeof(*m));
}

/* esa_chain_memo_flush - forget every chain (cfg->lock held) */
void esa_chain_memo_flush(esa_config *cfg)
{
	for (int i = 0; i < ESA_CHAIN_MEMO; i++)
		memo_free(&cfg->memo[i]);
	cfg->memo_next = 0;
}

/* same_chain - m holds exactly leaf followed by untrusted (each equal by
 * X509_cmp), or leaf alone when untrusted is NULL */
static bool same_chain(const struct esa_chain_memo *m, X509 *leaf,
		       STACK_OF(X509) *untrusted)
{
	int n = untrusted != NULL ? sk_X509_num(untrusted) : 0;

	if (m->certs == NULL || m->ncerts != n + 1 ||
	    X509_cmp(m->certs[0], leaf) != 0)
		return false;
	for (int i = 0; i < n; i++)
		if (X509_cmp(m->certs[i + 1], sk_X509_value(untrusted, i)) != 0)
			return false;
	return true;
}

/* memo_find - did this chain verify at this level, the verdict standing? */
static bool memo_find(esa_config *cfg, X509 *leaf, STACK_OF(X509) *untrusted,
		      int level, long long now)
{
	bool found = false;

	pthread_mutex_lock(&cfg->lock);
	for (int i = 0; i < ESA_CHAIN_MEMO && !found; i++) {
		struct esa_chain_memo *m = &cfg->memo[i];

		if (m->certs != NULL && (now < m->from || now >= m->until))
			memo_free(m);	/* expired, or the clock went back */
		else
			found = m->level == level &&
				same_chain(m, leaf, untrusted);
	}
	pthread_mutex_unlock(&cfg->lock);
	return found;
}

/* memo_until - when the verdict on ctx's verified path lapses: its first
 * notAfter, capped; now when that cannot be read */
static long long memo_until(X509_STORE_CTX *ctx, long long now)
{
	STACK_OF(X509) *path = X509_STORE_CTX_get0_chain(ctx);
	long long until = now + ESA_MEMO_SECONDS;

	for (int i = 0; i < sk_X509_num(path); i++) {
		int days, secs;

		if (ASN1_TIME_diff(&days, &secs, NULL,
				   X509_get0_notAfter(sk_X509_value(path, i))) != 1)
			return now;
		if (now + days * 86400LL + secs < until)
			until = now + days * 86400LL + secs;
	}
	return until;
}

/* memo_add - remember a chain that verified (in the oldest slot) */
static void memo_add(esa_config *cfg, X509_STORE_CTX *ctx, X509 *leaf,
		     STACK_OF(X509) *untrusted, int level, long long now)
{
	int n = untrusted != NULL ? sk_X509_num(untrusted) : 0;
	long long until = memo_until(ctx, now);
	struct esa_chain_memo m = { .from = now, .until = until,
				    .level = level };

	if (until <= now || (m.certs = calloc((size_t)n + 1,
					      sizeof(*m.certs))) == NULL)
		return;
	for (int i = 0; i <= n; i++) {
		X509 *c = i == 0 ? leaf : sk_X509_value(untrusted, i - 1);

		if (X509_up_ref(c) != 1) {
			memo_free(&m);
			return;
		}
		m.certs[m.ncerts++] = c;
	}
	pthread_mutex_lock(&cfg->lock);
	memo_free(&cfg->memo[cfg->memo_next]);
	cfg->memo[cfg->memo_next] = m;
	cfg->memo_next = (cfg->memo_next + 1) % ESA_CHAIN_MEMO;
	pthread_mutex_unlock(&cfg->lock);
}

/* esa_chain_check - verify leaf and intermediates for TLS server use */
int esa_chain_check(esa_config *cfg, struct x509_st *leaf,
		    struct stack_st_X509 *untrusted, long long at, int level,
		    struct esa_result *res)
{
	X509_STORE *store;
	X509_STORE_CTX *ctx = NULL;
	X509_VERIFY_PARAM *param;
	long long now = (long long)time(NULL);
	bool memo = at == 0 && cfg->crlfile[0] == '\0';
	int ok = 0;

	if (level < 0)
		level = esa_chain_stock_auth_level();
	res->chain.checked = true;
	res->chain.ok = false;
	res->chain.memo = false;
	res->chain.depth = 0;
	res->chain.flags = esa_chain_store_flags(cfg);
	res->chain.auth_level = level;
	ERR_set_mark();
	if (memo && memo_find(cfg, leaf, untrusted, level, now)) {
		res->chain.ok = res->chain.memo = true;
		res->chain.error = X509_V_OK;
		esa_strlcpy(res->chain.text, "verified to a trusted CA",
			    sizeof(res->chain.text));
		ERR_pop_to_mark();
		return 0;
	}
	store = esa_config_shared_store(cfg, res->chain.text,
					sizeof(res->chain.text));
	if (store == NULL) {
		res->chain.error = X509_V_ERR_UNSPECIFIED;
		ERR_pop_to_mark();
		return -1;
	}
	/* each step is checked: a context without the TLS-server purpose
	 * would verify a chain for any use */
	res->chain.error = X509_V_ERR_UNSPECIFIED;
	esa_strlcpy(res->chain.text, "cannot set up verification",
		    sizeof(res->chain.text));
	ENSURE_REF(ctx = X509_STORE_CTX_new());
	GUARD_OSSL(X509_STORE_CTX_init(ctx, store, leaf, untrusted));
	GUARD_OSSL(X509_STORE_CTX_set_default(ctx, "ssl_server"));
	ENSURE_REF(param = X509_STORE_CTX_get0_param(ctx));
	X509_VERIFY_PARAM_set_auth_level(param, level);
	if (at != 0)
		X509_STORE_CTX_set_time(ctx, 0, (time_t)at);
	res->chain.flags = X509_VERIFY_PARAM_get_flags(param);
	ok = X509_verify_cert(ctx) == 1;
	res->chain.error = X509_STORE_CTX_get_error(ctx);
	res->chain.depth = ok ? 0 : X509_STORE_CTX_get_error_depth(ctx);
	esa_strlcpy(res->chain.text,
		    ok ? "verified to a trusted CA"
		       : X509_verify_cert_error_string(res->chain.error),
		    sizeof(res->chain.text));
	res->chain.ok = ok;
	if (ok && memo)
		memo_add(cfg, ctx, leaf, untrusted, level, now);
out:
	ERR_pop_to_mark();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok ? 0 : -1;
}
