/*
 * esaverify.h - ESA-style TLS server identity verification for OpenSSL clients
 *
 * libesaverify replaces OpenSSL's browser-style hostname check with the two
 * identity algorithms of the Cisco Email Security Appliance ("Required -
 * Verify" and "Required - Verify Hosted Domains"); chain validation stays
 * OpenSSL's own job.  See esaverify(3) and SPEC sections 2-6.
 *
 * Ownership: every *_new has a matching *_free.  An esa_config may be shared
 * by many SSL_CTX and SSL objects and threads once configured; it must
 * outlive them (esa_ctx_install takes a reference and drops it when the
 * SSL_CTX is freed).  Setters return 0 on success and -1 on error, with the
 * reason readable through esa_config_error().  Results belong to the SSL
 * they describe and are freed with it.
 */
#ifndef ESAVERIFY_H
#define ESAVERIFY_H

#include <stdbool.h>
#include <stdio.h>
#include <openssl/ssl.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ESAVERIFY_VERSION "0.1.0"

/* The six TLS settings of ESA destconfig (SPEC 5); values are the numbers. */
enum esa_tls {
	ESA_TLS_NO = 1,
	ESA_TLS_PREFERRED = 2,
	ESA_TLS_REQUIRED = 3,
	ESA_TLS_PREFERRED_VERIFY = 4,
	ESA_TLS_REQUIRED_VERIFY = 5,
	ESA_TLS_REQUIRED_VERIFY_HOSTED = 6,
};

/* The two identity algorithms (SPEC 4.1, 4.2). */
enum esa_mode {
	ESA_MODE_VERIFY = 0,
	ESA_MODE_HOSTED = 1,
};

/* Where a reference identifier came from (SPEC 8.2 "source"). */
enum esa_source {
	ESA_SOURCE_NONE = 0,
	ESA_SOURCE_RECIPIENT,	/* "recipient-domain" */
	ESA_SOURCE_PTR,		/* "ptr": forward-confirmed PTR name */
	ESA_SOURCE_MX,		/* "mx" */
	ESA_SOURCE_ROUTE,	/* "route" */
};

/* DANE support of a destination (docs/dane.md 1, ESA AsyncOS 12). */
enum esa_dane {
	ESA_DANE_NONE = 0,
	ESA_DANE_OPPORTUNISTIC = 1,
	ESA_DANE_MANDATORY = 2,
};

typedef struct esa_config esa_config;
typedef struct esa_result esa_result;

/* Names of the enums ("required-verify", "verify", "ptr", ...). */
const char *esa_tls_name(enum esa_tls tls);
const char *esa_mode_name(enum esa_mode mode);
const char *esa_source_name(enum esa_source source);
/* Parse a TLS setting: a name of SPEC 5 or its number 1..6; -1 if unknown. */
int esa_tls_parse(const char *text, enum esa_tls *out);
/* Does this setting check identity (settings 4, 5, 6)? */
bool esa_tls_verifies(enum esa_tls tls);
/* "none", "opportunistic", "mandatory"; parse: -1 if unknown. */
const char *esa_dane_name(enum esa_dane dane);
int esa_dane_parse(const char *text, enum esa_dane *out);

/* --- configuration ------------------------------------------------------ */

esa_config *esa_config_new(void);
void esa_config_free(esa_config *cfg);
/* The last error of a setter, or "" when there was none. */
const char *esa_config_error(const esa_config *cfg);

/* Default TLS setting, used when no destination entry matches (default 5). */
int esa_config_set_tls(esa_config *cfg, const char *setting);
/* DNS: a nameserver "IP[:PORT]" (IPv6 as "[::1]:53" or bare "::1"). */
int esa_config_set_nameserver(esa_config *cfg, const char *ipport);
/* DNS: answer every query from this RFC 1035 master file instead (SPEC 6). */
int esa_config_set_dns_file(esa_config *cfg, const char *path);
/* Total DNS time budget of one verification, in milliseconds (default 5000). */
int esa_config_set_dns_budget_ms(esa_config *cfg, unsigned ms);
/* Trust store for stage I; any may be NULL.  Without any, the system store. */
int esa_config_set_trust(esa_config *cfg, const char *cafile,
			 const char *capath, const char *crlfile);
/* Stage I stricter than a stock OpenSSL client (SPEC 2), each opt-in:
 * ESA_CHAIN_STRICT is X509_V_FLAG_X509_STRICT (RFC 5280's profile: a CA
 * without keyUsage, a non-critical basicConstraints, ... fail);
 * ESA_CHAIN_PARTIAL is X509_V_FLAG_PARTIAL_CHAIN (every certificate of the
 * trust store is an anchor, an intermediate or a pinned leaf too).  They
 * apply to the configuration's own store, used outside a handshake and in
 * handshakes of programs that set none; default 0, a stock client's. */
#define ESA_CHAIN_STRICT  0x1u
#define ESA_CHAIN_PARTIAL 0x2u
int esa_config_set_chain_flags(esa_config *cfg, unsigned flags);
/* DANE (docs/dane.md): "none" (default), "opportunistic" or "mandatory". */
int esa_config_set_dane(esa_config *cfg, const char *setting);
/* Hosted (SPEC 4.2 step 3) uses only DNSSEC-secure MX names (default off). */
int esa_config_set_secure_mx(esa_config *cfg, bool on);
/* Add SMTP routes for a domain: "HOST[:PORT][/pri=N], ..." (SPEC 8.4). */
int esa_config_add_routes(esa_config *cfg, const char *domain,
			  const char *routes);
/* Read a destinations and routes file (SPEC 8.4). */
int esa_config_load_file(esa_config *cfg, const char *path);
/* The TLS setting for a recipient domain: most specific destination wins. */
enum esa_tls esa_config_tls_for(const esa_config *cfg, const char *domain);

/* --- the callback ------------------------------------------------------- */

/*
 * esa_ctx_install - verify every connection made from ctx the ESA way.
 * Sets SSL_VERIFY_PEER and a verify callback that chains to the callback
 * installed before (still called, its answer ignored where ESA decides).
 * Each SSL then needs at least its recipient domain (esa_ssl_set_recipient).
 */
int esa_ctx_install(SSL_CTX *ctx, esa_config *cfg);
/* esa_ssl_install - the same for one SSL only. */
int esa_ssl_install(SSL *ssl, esa_config *cfg);

/* Per-connection facts; call after SSL_new and before the handshake. */
int esa_ssl_set_recipient(SSL *ssl, const char *domain);
/* The route or MX host the connection was made to (SPEC 4.2). */
int esa_ssl_set_via(SSL *ssl, const char *host);
/* The peer address; default getpeername() on SSL_get_fd(). */
int esa_ssl_set_peer(SSL *ssl, const char *ip);
/* The TLS setting for this connection (default: the config's for the domain). */
int esa_ssl_set_tls(SSL *ssl, enum esa_tls tls);

/* After the handshake: the result, or NULL if none was computed. */
const esa_result *esa_ssl_result(const SSL *ssl);

/* --- results ------------------------------------------------------------ */

bool esa_result_chain_ok(const esa_result *res);
bool esa_result_pass(const esa_result *res, enum esa_mode mode);
enum esa_source esa_result_source(const esa_result *res, enum esa_mode mode);
/* One line saying why the mode passed or failed. */
const char *esa_result_reason(const esa_result *res, enum esa_mode mode);
/* Would ESA deliver (accept the handshake) under this setting? */
bool esa_result_accept(const esa_result *res, enum esa_tls tls);
/* DANE: did it apply (secure usable TLSA), pass; its RFC 8460 result
 * type ("" when none), and its one-line reason ("" when DANE is none). */
bool esa_result_dane_applies(const esa_result *res);
bool esa_result_dane_pass(const esa_result *res);
const char *esa_result_dane_result(const esa_result *res);
const char *esa_result_dane_reason(const esa_result *res);
/* The explanation of SPEC 7's walk-through, as text. */
int esa_result_explain(const esa_result *res, FILE *out);
/* The JSON object of SPEC 8.2; *json is malloc'd, the caller frees it. */
int esa_result_json(const esa_result *res, char **json);

#ifdef __cplusplus
}
#endif
#endif
