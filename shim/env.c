/*
 * env.c - the shim's configuration, read once from the environment
 *
 * SPEC 8.3: ESA_TLS, ESA_RECIPIENT_DOMAIN, ESA_ROUTES, ESA_CONFIG,
 * ESA_ENFORCE, ESA_LOG, ESA_NAMESERVER, ESA_DNS_FILE, ESA_CAFILE,
 * ESA_CAPATH, ESA_CRL, ESA_PORTS; ESA_LOG_LEVEL (how much a handshake
 * logs); ESA_DANE, ESA_SECURE_MX (docs/dane.md); and ESA_STRICT,
 * ESA_PARTIAL_CHAIN, the
 * opt-in profiles of stage I beyond a stock client's.  Read on first use (the first SSL_CTX,
 * client handshake or plain-text MAIL FROM), not in a constructor, so
 * programs that never use TLS pay nothing and hear nothing; only their
 * values are copied when the shim is loaded (env_copy, below).  Every bad
 * value is reported once, naming the variable; the first one is kept in
 * conf.error and from then on every verification refuses (and, under esa,
 * every plain-text MAIL FROM on an SMTP port): a mistyped setting must not
 * open the door.
 *
 * Files named by the environment are checked now (the DNS master file is
 * parsed, the CA file loaded), so a mistake is reported at once and not at
 * the first lookup.  The system trust store, needed only for programs that
 * verify nothing, is loaded on first use.
 *
 * Fork safety: the configuration's lock is taken around fork() so that a
 * child never inherits it held.  Everything else is read-only once made.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

static struct shim_conf conf;
static pthread_once_t conf_once = PTHREAD_ONCE_INIT;

static X509_STORE *store;		/* for programs that verify nothing */
static char store_err[ESA_ERR_MAX];
static pthread_once_t store_once = PTHREAD_ONCE_INIT;

/* fail - report a bad value once, naming the variable; keep the first */
static void fail(const char *var, const char *problem)
{
	char msg[ESA_ERR_MAX];

	snprintf(msg, sizeof(msg), "%s: %.400s", var, problem);
	if (conf.error[0] == '\0')
		esa_strlcpy(conf.error, msg, sizeof(conf.error));
	shim_log_error(&conf, msg);
}

/*
 * The ESA_* variables as the program was started with them.  Some programs
 * empty their environment before they first use TLS (sendmail keeps only a
 * few variables; Postfix's daemons keep import_environment): the values
 * are copied, not parsed, when the shim is loaded, and read from the copy
 * on first use.  A variable absent then is looked up at first use (a
 * program may set it itself).  ESA_LOG is made absolute against the
 * directory the program started in (sendmail moves to its queue).
 */
static const char *const env_names[] = {
	"ESA_TLS", "ESA_RECIPIENT_DOMAIN", "ESA_ROUTES", "ESA_CONFIG",
	"ESA_ENFORCE", "ESA_LOG", "ESA_NAMESERVER", "ESA_DNS_FILE",
	"ESA_CAFILE", "ESA_CAPATH", "ESA_CRL", "ESA_PORTS",
	"ESA_STRICT", "ESA_PARTIAL_CHAIN", "ESA_LOG_LEVEL", "ESA_DANE",
	"ESA_SECURE_MX",
};
#define ENV_N (sizeof(env_names) / sizeof(env_names[0]))
static char *env_copy[ENV_N];
static char start_cwd[2048];

/* snapshot_env - copy the ESA_* variables when the shim is loaded */
__attribute__((constructor)) static void snapshot_env(void)
{
	const char *v;

	for (size_t i = 0; i < ENV_N; i++)
		if ((v = getenv(env_names[i])) != NULL && *v != '\0')
			env_copy[i] = strdup(v);
	if (getcwd(start_cwd, sizeof(start_cwd)) == NULL)
		start_cwd[0] = '\0';
}

/* env - a variable's value, NULL when unset or empty */
static const char *env(const char *name)
{
	const char *v;

	for (size_t i = 0; i < ENV_N; i++)
		if (env_copy[i] != NULL && strcmp(env_names[i], name) == 0)
			return env_copy[i];
	v = getenv(name);
	return v && *v ? v : NULL;
}

/* read_ports - ESA_PORTS: "25,587,..." */
static void read_ports(const char *v)
{
	char *copy = strdup(v), *save = NULL, *tok, msg[ESA_ERR_MAX];

	if (copy == NULL)
		return fail("ESA_PORTS", "out of memory");
	for (tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		char *end;
		long p = strtol(tok, &end, 10);

		if (*end != '\0' || p < 1 || p > 65535 ||
		    conf.nports == SHIM_MAX_PORTS) {
			snprintf(msg, sizeof(msg), "bad port '%.64s' in '%.128s'"
				 " (want up to %d numbers 1-65535, comma-separated)",
				 tok, v, SHIM_MAX_PORTS);
			fail("ESA_PORTS", msg);
			conf.nports = 0;
			break;
		}
		conf.ports[conf.nports++] = (int)p;
	}
	if (conf.nports == 0 && conf.error[0] == '\0')
		fail("ESA_PORTS", "no port given");
	free(copy);
}

/* read_log - ESA_LOG: syslog, stderr, or a file path (made absolute) */
static void read_log(const char *v)
{
	char cwd[2048], msg[ESA_ERR_MAX];
	int fd;

	conf.log = SHIM_LOG_SYSLOG;
	if (v == NULL || strcmp(v, "syslog") == 0)
		return;
	if (strcmp(v, "stderr") == 0) {
		conf.log = SHIM_LOG_STDERR;
		return;
	}
	if (v[0] == '/' ||
	    (start_cwd[0] == '\0' && getcwd(cwd, sizeof(cwd)) == NULL))
		snprintf(conf.log_path, sizeof(conf.log_path), "%s", v);
	else
		snprintf(conf.log_path, sizeof(conf.log_path), "%s/%s",
			 start_cwd[0] ? start_cwd : cwd, v);
	fd = open(conf.log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
		  O_NOCTTY, 0644);
	if (fd < 0) {	/* lines go to syslog instead */
		snprintf(msg, sizeof(msg), "cannot open log file '%.200s': %s",
			 conf.log_path, strerror(errno));
		fail("ESA_LOG", msg);
		return;
	}
	close(fd);
	conf.log = SHIM_LOG_FILE;
}

/* read_level - ESA_LOG_LEVEL (after ESA_ENFORCE): ab, summary or failures;
 * unset: ab under observe (the A/B picture is what observing is for),
 * summary under esa (production: one short line per connection) */
static void read_level(const char *v)
{
	conf.level = conf.observe ? SHIM_LEVEL_AB : SHIM_LEVEL_SUMMARY;
	if (v == NULL)
		return;
	if (esa_ascii_streq(v, "ab"))
		conf.level = SHIM_LEVEL_AB;
	else if (esa_ascii_streq(v, "summary"))
		conf.level = SHIM_LEVEL_SUMMARY;
	else if (esa_ascii_streq(v, "failures"))
		conf.level = SHIM_LEVEL_FAILURES;
	else
		fail("ESA_LOG_LEVEL", "expected 'ab', 'summary' or 'failures'");
}

/* read_dns - ESA_NAMESERVER, ESA_DNS_FILE; the resolver is made now */
static void read_dns(esa_config *cfg)
{
	const char *ns = env("ESA_NAMESERVER"), *file = env("ESA_DNS_FILE");

	if (ns && esa_config_set_nameserver(cfg, ns) < 0)
		return fail("ESA_NAMESERVER", esa_config_error(cfg));
	if (file && esa_config_set_dns_file(cfg, file) < 0)
		return fail("ESA_DNS_FILE", esa_config_error(cfg));
	if ((ns || file) && esa_config_resolver(cfg) == NULL)
		fail(file ? "ESA_DNS_FILE" : "ESA_NAMESERVER",
		     esa_config_error(cfg));
}

/* read_switch - a yes/no variable: 1, yes, on, true or 0, no, off, false;
 * anything else is a mistake (reported, and every verification refuses) */
static bool read_switch(const char *var)
{
	static const char *const on[] = { "1", "yes", "on", "true" };
	static const char *const off[] = { "0", "no", "off", "false" };
	const char *v = env(var);

	if (v == NULL)
		return false;
	for (size_t i = 0; i < 4; i++) {
		if (esa_ascii_streq(v, on[i]))
			return true;
		if (esa_ascii_streq(v, off[i]))
			return false;
	}
	fail(var, "expected 1 or 0 (yes/no, on/off, true/false)");
	return false;
}

/* read_chain - ESA_STRICT (X509_STRICT), ESA_PARTIAL_CHAIN: the stricter
 * and the looser profile of stage I, both off as in a stock client; on,
 * they apply to every handshake the shim enforces (against its own store or
 * the program's) and to observe mode's second verification */
static void read_chain(esa_config *cfg)
{
	unsigned flags = 0;

	if (read_switch("ESA_STRICT"))
		flags |= ESA_CHAIN_STRICT;
	if (read_switch("ESA_PARTIAL_CHAIN"))
		flags |= ESA_CHAIN_PARTIAL;
	if (esa_config_set_chain_flags(cfg, flags) < 0)
		fail("ESA_STRICT", esa_config_error(cfg));
}

/* read_trust - ESA_CAFILE, ESA_CAPATH, ESA_CRL; the store is loaded now */
static void read_trust(esa_config *cfg)
{
	const char *ca = env("ESA_CAFILE"), *cp = env("ESA_CAPATH");
	const char *crl = env("ESA_CRL");

	if (!ca && !cp && !crl)
		return;
	if (esa_config_set_trust(cfg, ca, cp, crl) < 0)
		return fail(ca ? "ESA_CAFILE" : cp ? "ESA_CAPATH" : "ESA_CRL",
			    esa_config_error(cfg));
	store = esa_config_shared_store(cfg, store_err, sizeof(store_err));
	if (store == NULL)
		fail(crl && strstr(store_err, "CRL") ? "ESA_CRL" :
		     ca ? "ESA_CAFILE" : "ESA_CAPATH", store_err);
}

/* read_library - the settings that go into the esa_config */
static void read_library(esa_config *cfg)
{
	const char *v;

	if ((v = env("ESA_CONFIG")) && esa_config_load_file(cfg, v) < 0)
		fail("ESA_CONFIG", esa_config_error(cfg));
	if ((v = env("ESA_TLS")) && esa_config_set_tls(cfg, v) < 0)
		fail("ESA_TLS", esa_config_error(cfg));
	read_dns(cfg);
	read_chain(cfg);
	read_trust(cfg);
	if ((v = env("ESA_DANE")) && esa_config_set_dane(cfg, v) < 0)
		fail("ESA_DANE", esa_config_error(cfg));	/* docs/dane.md */
	if (read_switch("ESA_SECURE_MX"))
		esa_config_set_secure_mx(cfg, true);
	if ((v = env("ESA_ROUTES")) != NULL) {
		if (conf.recipient[0] == '\0')
			fail("ESA_ROUTES", "needs ESA_RECIPIENT_DOMAIN (routes belong to one domain)");
		else if (esa_config_add_routes(cfg, conf.recipient, v) < 0)
			fail("ESA_ROUTES", esa_config_error(cfg));
	}
}

/* fork_prepare - never fork with a lock of the library held by another
 * thread: the config's (resolver creation) and the resolver's cache */
static void fork_prepare(void)
{
	esa_config_fork_lock(conf.cfg, true);
}

/* fork_release - after fork(), in parent and child */
static void fork_release(void)
{
	esa_config_fork_lock(conf.cfg, false);
}

/* read_conf - everything, once */
static void read_conf(void)
{
	const char *v;
	char why[ESA_ERR_MAX];

	shim_busy++;
	read_log(env("ESA_LOG"));
	conf.cfg = esa_config_new();
	if (conf.cfg == NULL) {
		fail("esashim", "out of memory");
		goto out;
	}
	if ((v = env("ESA_RECIPIENT_DOMAIN")) &&
	    esa_domain_normalize(v, conf.recipient, sizeof(conf.recipient),
				 why, sizeof(why)) < 0) {
		conf.recipient[0] = '\0';
		fail("ESA_RECIPIENT_DOMAIN", why);
	}
	v = env("ESA_ENFORCE");
	if (v == NULL || esa_ascii_streq(v, "esa"))
		conf.observe = false;
	else if (esa_ascii_streq(v, "observe"))
		conf.observe = true;
	else
		fail("ESA_ENFORCE", "expected 'esa' or 'observe'");
	read_level(env("ESA_LOG_LEVEL"));
	read_library(conf.cfg);
	if ((v = env("ESA_PORTS")) != NULL)
		read_ports(v);
	pthread_atfork(fork_prepare, fork_release, fork_release);
out:
	shim_busy--;
}

/* shim_conf - the configuration, read on first use */
const struct shim_conf *shim_conf(void)
{
	pthread_once(&conf_once, read_conf);
	return &conf;
}

/* load_store - the system store, when no ESA_CAFILE/ESA_CAPATH was given */
static void load_store(void)
{
	const struct shim_conf *sc = shim_conf();

	if (store != NULL || store_err[0] != '\0' || sc->cfg == NULL)
		return;
	shim_busy++;
	store = esa_config_shared_store(sc->cfg, store_err, sizeof(store_err));
	shim_busy--;
}

/* shim_store - the trust store for programs that verify nothing */
X509_STORE *shim_store(char *why, size_t whysz)
{
	pthread_once(&store_once, load_store);
	if (store == NULL)
		esa_strlcpy(why, store_err[0] ? store_err :
			    "no trust store", whysz);
	return store;
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

/* shim_port_smtp - the ESA_PORTS when set, else 25, 587 and 2525 */
bool shim_port_smtp(const struct shim_conf *sc, int port)
{
	if (sc->nports > 0)
		return shim_port_selected(sc, port);
	return port == 25 || port == 587 || port == 2525;
}
