/*
 * shim.h - private interfaces between the files of esashim.so
 *
 * env.c reads the environment once (SPEC 8.3) into struct shim_conf;
 * log.c writes the SPEC 8.5 line and configuration errors to the chosen
 * channel; esashim.c holds the interposed libssl functions and the
 * per-connection glue; net.c the interposed socket functions that stop a
 * plain-text MAIL FROM (SPEC 5) and learn which socket a handshake uses;
 * resolv.c the interposed resolver functions, whose answers learn.c
 * remembers (which domain's MX led to which address: the recipient domain
 * of a mailer that never names it); real.c finds the real functions behind
 * the hooks.  Nothing here decides anything about identities: that is
 * libesaverify's job.
 *
 * Re-entrancy: shim_busy is non-zero while the shim's own code (or the
 * library's, e.g. a DNS query inside the verify callback) runs on this
 * thread; every hook then passes the call straight through.
 */
#ifndef ESA_SHIM_H
#define ESA_SHIM_H

#include <stdbool.h>
#include "internal.h"

#define SHIM_MAX_PORTS 32
#define SHIM_MAX_FDS 65536	/* sockets tracked by number below this */

/* Exported hooks carry the version of the library they stand in for, so a
 * program linked against another OpenSSL (1.1, LibreSSL) is never handed
 * OpenSSL 3's functions.  The nodes are defined in esashim.map. */
#define SHIM_EXPORT __attribute__((visibility("default")))
#define SHIM_SYMVER(local, name, ver) \
	__asm__(".symver " #local ", " name "@@" ver)
#define SHIM_OPENSSL_VER "OPENSSL_3.0.0"
/* glibc's base version, which its socket functions carry, per architecture
 * (Debian's release architectures); elsewhere the socket hooks are left
 * out and only the TLS side works. */
#if defined(__x86_64__) && defined(__LP64__)
#define SHIM_LIBC_VER "GLIBC_2.2.5"
#elif defined(__i386__)
#define SHIM_LIBC_VER "GLIBC_2.0"
#elif defined(__aarch64__) || (defined(__powerpc64__) && \
	__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
#define SHIM_LIBC_VER "GLIBC_2.17"
#elif defined(__s390x__)
#define SHIM_LIBC_VER "GLIBC_2.2"
#elif defined(__arm__)
#define SHIM_LIBC_VER "GLIBC_2.4"
#elif defined(__riscv) && __riscv_xlen == 64
#define SHIM_LIBC_VER "GLIBC_2.27"
#endif

enum shim_log { SHIM_LOG_SYSLOG, SHIM_LOG_STDERR, SHIM_LOG_FILE };

/* ESA_LOG_LEVEL: what a handshake logs (log.c says what each line holds) */
enum shim_level {
	SHIM_LEVEL_AB,		/* "ab": the full A/B line, every handshake */
	SHIM_LEVEL_SUMMARY,	/* "summary": one short line, every handshake */
	SHIM_LEVEL_FAILURES,	/* "failures": the full line, failures only */
};

struct shim_conf {
	esa_config *cfg;		/* NULL only when out of memory */
	bool observe;			/* ESA_ENFORCE=observe */
	char recipient[ESA_NAME_MAX];	/* ESA_RECIPIENT_DOMAIN, "" if unset */
	enum shim_log log;
	enum shim_level level;		/* ESA_LOG_LEVEL */
	char log_path[4096];		/* absolute */
	int ports[SHIM_MAX_PORTS];	/* ESA_PORTS; nports 0 = all */
	size_t nports;
	char error[ESA_ERR_MAX];	/* first bad value; verification refuses */
};

/* --- env.c ---------------------------------------------------------------- */

/* The configuration, read on first use; never NULL. */
const struct shim_conf *shim_conf(void);
/* The trust store for programs that verify nothing: ESA_CAFILE/ESA_CAPATH
 * or the system store, loaded on first use; NULL if it cannot be loaded
 * (the reason in why).  Shared; callers take their own reference. */
X509_STORE *shim_store(char *why, size_t whysz);
/* Are TLS connections to this port verified (ESA_PORTS, all if unset)? */
bool shim_port_selected(const struct shim_conf *sc, int port);
/* Is this an SMTP port whose plain-text MAIL FROM is watched: 25, 587 and
 * 2525, or the ESA_PORTS when set? */
bool shim_port_smtp(const struct shim_conf *sc, int port);

/* --- esashim.c / net.c ---------------------------------------------------- */

extern __thread int shim_busy __attribute__((tls_model("initial-exec")));
/* The SSL whose SSL_connect/SSL_do_handshake runs on this thread, or NULL. */
extern __thread SSL *shim_handshake __attribute__((tls_model("initial-exec")));

/* A socket write during ssl's handshake: learn its peer when the SSL has
 * no file descriptor of its own (curl's BIO). */
void shim_learn_socket(SSL *ssl, int fd);
/* A write on fd outside a handshake call: the ClientHello of a handshake
 * whose SSL has no socket (memory BIOs) names its socket. */
void shim_match_hello(int fd, const unsigned char *buf, size_t len);
/* A TLS session is up on fd: its MAIL FROM is not plain text. */
void shim_mark_tls(int fd);
/* The peer address and port of a connected TCP socket; false otherwise. */
bool shim_peer_of(int fd, int *family, unsigned char addr[16], int *port);

/* --- learn.c, resolv.c: the program's own DNS work (issue 7) --------------- */

/* A DNS message the program received in answer to its own query: MX and
 * A/AAAA answers are remembered for their TTL. */
void shim_learn_dns(const unsigned char *msg, int len);
/* The program's MX query for name found the name without MX records. */
void shim_learn_no_mx(const char *name);
/* The program resolved host to addr (no TTL known: getaddrinfo). */
void shim_learn_addr(const char *host, int family, const void *addr);
/* What leads to the peer address family/addr: (recipient domain, MX host)
 * pairs, the most recently learned first, then hosts no MX named (domain
 * ""); at most max.  Thread-safe. */
size_t shim_learned(int family, const unsigned char *addr,
		    struct esa_learned *out, size_t max);

/* --- real.c --------------------------------------------------------------- */

/* The next definition of name after the shim (libssl's when version is
 * given, also when libssl sits in a local dlopen scope); cached in *slot.
 * NULL if there is none. */
void *shim_real(const char *name, const char *version, void **slot);
#define SHIM_REAL(fn, ver) ({ \
	static void *slot_; \
	(__typeof__(&fn))shim_real(#fn, ver, &slot_); })

/* --- log.c ---------------------------------------------------------------- */

/* One JSON line (no newline) to the configured channel. */
void shim_log_line(const struct shim_conf *sc, const char *line);
/* The SPEC 8.5 line for a decided connection; port 0 if unknown. */
void shim_log_decision(SSL *ssl, const struct esa_result *res, int port);
/* A line for a plain-text MAIL FROM on an SMTP port: the recipient domain
 * judged for, ESA's decision (carried out under esa, only noted under
 * observe) and why. */
void shim_log_plaintext(int fd, const char *peer, int port,
			const char *recipient, enum esa_tls tls, bool reject,
			const char *why);
/* The program closes fd: if it is the log file's, the shim forgets it. */
void shim_log_closing(int fd);
/* A configuration error: to stderr (unless it is a network socket) and,
 * when the channel is another one, there too. */
void shim_log_error(const struct shim_conf *sc, const char *msg);

#endif
