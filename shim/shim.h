/*
 * shim.h - private interfaces between the files of esashim.so
 *
 * env.c reads the environment once (SPEC 8.3) into struct shim_conf;
 * log.c writes the SPEC 8.5 line and configuration errors to the chosen
 * channel; esashim.c holds the interposed functions.  Nothing here decides
 * anything about identities: that is libesaverify's job.
 */
#ifndef ESA_SHIM_H
#define ESA_SHIM_H

#include <stdbool.h>
#include "internal.h"

#define SHIM_MAX_PORTS 32

enum shim_log { SHIM_LOG_SYSLOG, SHIM_LOG_STDERR, SHIM_LOG_FILE };

struct shim_conf {
	esa_config *cfg;
	bool observe;			/* ESA_ENFORCE=observe */
	char recipient[ESA_NAME_MAX];	/* ESA_RECIPIENT_DOMAIN, "" if unset */
	enum shim_log log;
	char log_path[4096];
	int ports[SHIM_MAX_PORTS];	/* ESA_PORTS; nports 0 = all */
	size_t nports;
	char error[ESA_ERR_MAX];	/* first bad value; verification refuses */
	X509_STORE *store;		/* for programs that verify nothing */
};

/* The configuration, read on first use; never NULL. */
const struct shim_conf *shim_conf(void);
/* Is this a port whose connections the shim touches (ESA_PORTS)? */
bool shim_port_selected(const struct shim_conf *sc, int port);
/* The SMTP ports whose plain-text MAIL FROM is watched. */
bool shim_port_smtp(const struct shim_conf *sc, int port);

/* One JSON line (no newline) to the configured channel. */
void shim_log_line(const struct shim_conf *sc, const char *line);
/* The SPEC 8.5 line for a decided connection. */
void shim_log_decision(SSL *ssl, struct esa_conn *c);
/* A line for a plain-text MAIL FROM that was stopped. */
void shim_log_blocked(int fd, int port, const char *why);
/* A configuration error, once, to the channel and to stderr. */
void shim_log_error(const struct shim_conf *sc, const char *msg);

#endif
