/*
 * env.c - the shim's configuration, read once from the environment
 *
 * SPEC 8.3: ESA_TLS, ESA_RECIPIENT_DOMAIN, ESA_ROUTES, ESA_CONFIG,
 * ESA_ENFORCE, ESA_LOG, ESA_NAMESERVER, ESA_DNS_FILE, ESA_CAFILE,
 * ESA_CAPATH, ESA_CRL, ESA_PORTS.  The first bad value is kept in
 * conf.error, reported once (naming the variable), and from then on every
 * verification refuses: a mistyped setting must not open the door.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shim.h"

static struct shim_conf conf;
static pthread_once_t conf_once = PTHREAD_ONCE_INIT;

/* fail - remember the first configuration error */
static void fail(const char *var, const char *problem)
{
	if (conf.error[0] == '\0')
		snprintf(conf.error, sizeof(conf.error), "%s: %.400s", var, problem);
}

/* env - a variable's value, NULL when unset or empty */
static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* read_ports - ESA_PORTS: "25,587,..." */
static void read_ports(const char *v)
{
	char *copy = strdup(v), *save = NULL, *tok;

	if (copy == NULL)
		return fail("ESA_PORTS", "out of memory");
	for (tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		char *end;
		long p = strtol(tok, &end, 10);

		if (*end != '\0' || p < 1 || p > 65535 ||
		    conf.nports == SHIM_MAX_PORTS) {
			char msg[ESA_ERR_MAX];

			snprintf(msg, sizeof(msg), "bad port '%.64s' in '%.128s'",
				 tok, v);
			fail("ESA_PORTS", msg);
			break;
		}
		conf.ports[conf.nports++] = (int)p;
	}
	free(copy);
}

/* read_log - ESA_LOG: syslog, stderr, or a file path */
static void read_log(const char *v)
{
	if (v == NULL || strcmp(v, "syslog") == 0) {
		conf.log = SHIM_LOG_SYSLOG;
	} else if (strcmp(v, "stderr") == 0) {
		conf.log = SHIM_LOG_STDERR;
	} else {
		conf.log = SHIM_LOG_FILE;
		esa_strlcpy(conf.log_path, v, sizeof(conf.log_path));
	}
}

/* read_library - the settings that go into the esa_config */
static void read_library(esa_config *cfg)
{
	const char *v;

	if ((v = env("ESA_CONFIG")) && esa_config_load_file(cfg, v) < 0)
		fail("ESA_CONFIG", esa_config_error(cfg));
	if ((v = env("ESA_TLS")) && esa_config_set_tls(cfg, v) < 0)
		fail("ESA_TLS", esa_config_error(cfg));
	if ((v = env("ESA_NAMESERVER")) && esa_config_set_nameserver(cfg, v) < 0)
		fail("ESA_NAMESERVER", esa_config_error(cfg));
	if ((v = env("ESA_DNS_FILE")) && esa_config_set_dns_file(cfg, v) < 0)
		fail("ESA_DNS_FILE", esa_config_error(cfg));
	if ((env("ESA_CAFILE") || env("ESA_CAPATH") || env("ESA_CRL")) &&
	    esa_config_set_trust(cfg, env("ESA_CAFILE"), env("ESA_CAPATH"),
				 env("ESA_CRL")) < 0)
		fail("ESA_CAFILE/ESA_CAPATH/ESA_CRL", esa_config_error(cfg));
	if ((v = env("ESA_ROUTES")) != NULL) {
		if (conf.recipient[0] == '\0')
			fail("ESA_ROUTES", "needs ESA_RECIPIENT_DOMAIN (routes belong to one domain)");
		else if (esa_config_add_routes(cfg, conf.recipient, v) < 0)
			fail("ESA_ROUTES", esa_config_error(cfg));
	}
}

/* read_conf - everything, once */
static void read_conf(void)
{
	const char *v;
	char why[ESA_ERR_MAX], err[ESA_ERR_MAX];

	read_log(env("ESA_LOG"));
	conf.cfg = esa_config_new();
	if (conf.cfg == NULL) {
		fail("esashim", "out of memory");
		return;
	}
	if ((v = env("ESA_RECIPIENT_DOMAIN")) &&
	    esa_domain_normalize(v, conf.recipient, sizeof(conf.recipient),
				 why, sizeof(why)) < 0)
		fail("ESA_RECIPIENT_DOMAIN", why);
	v = env("ESA_ENFORCE");
	if (v == NULL || strcasecmp(v, "esa") == 0)
		conf.observe = false;
	else if (strcasecmp(v, "observe") == 0)
		conf.observe = true;
	else
		fail("ESA_ENFORCE", "expected 'esa' or 'observe'");
	read_library(conf.cfg);
	if ((v = env("ESA_PORTS")) != NULL)
		read_ports(v);
	conf.store = esa_config_store(conf.cfg, err, sizeof(err));
	if (conf.store == NULL)
		fail("trust store", err);
	if (conf.error[0] != '\0')
		shim_log_error(&conf, conf.error);
}

/* shim_conf - the configuration, read on first use */
const struct shim_conf *shim_conf(void)
{
	pthread_once(&conf_once, read_conf);
	return &conf;
}

/* shim_port_selected - ESA_PORTS filter (all ports when unset) */
bool shim_port_selected(const struct shim_conf *sc, int port)
{
	if (sc->nports == 0)
		return true;
	for (size_t i = 0; i < sc->nports; i++)
		if (sc->ports[i] == port)
			return true;
	return false;
}

/* shim_port_smtp - 25, 587, 2525, and ESA_PORTS */
bool shim_port_smtp(const struct shim_conf *sc, int port)
{
	if (port == 25 || port == 587 || port == 2525)
		return true;
	return sc->nports > 0 && shim_port_selected(sc, port);
}
