/*
 * esa-check.c - check a server certificate the way the Cisco ESA would
 * (SPEC 8.2)
 *
 * Offline mode: the certificate comes from a PEM file (--cert: the leaf
 * first, then the intermediates the server sent), the peer address from
 * --peer; stage I (SPEC 2) runs against the configured trust store unless
 * --no-chain, stage II (SPEC 4) through the library's identity algorithms,
 * and the decision record is printed as text (the walk-through of SPEC 7)
 * or as one JSON object.
 *
 * Live mode (no --cert): the SMTP routes or MX hosts of the domain are
 * contacted in order over STARTTLS and each certificate checked the same
 * way (SPEC 4.3); see live.h.  This file only parses the command line,
 * builds the configuration and hands over to live_run().
 *
 * Exit status: 0 every requested mode passes and the chain is OK (or was
 * not checked), 1 at least one of them fails, 2 a usage, input or
 * configuration error, reported as exactly one line "esa-check: ..." on
 * stderr.  Everything taken is freed on the one exit path of run().
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "internal.h"
#include "esaverify.h"
#include "live.h"
#include "survey.h"

#define EXIT_PASS 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define SHOW_MAX 80		/* octets of user input quoted in a message */

#define MODE_BIT(m) (1u << (m))
#define MODES_BOTH (MODE_BIT(ESA_MODE_VERIFY) | MODE_BIT(ESA_MODE_HOSTED))
#define TIMEOUT_DEFAULT 10	/* seconds per network step (live mode) */
#define TIMEOUT_MAX 3600
#define DNS_BUDGET_MAX 60	/* seconds: the library's limit */

/* What the command line asked for. */
struct opts {
	unsigned modes;		/* MODE_BIT of each mode to report */
	const char *cert, *peer, *dns_file, *nameserver, *via, *config;
	const char *cafile, *capath, *crl;
	const char **routes;	/* every --route, in order */
	size_t nroutes;
	bool no_chain, json;
	unsigned chain_flags;	/* ESA_CHAIN_*: --strict, --partial-chain */
	long long at;		/* 0: now */
	int port;
	long long timeout;	/* --timeout seconds, 0: not given */
	const char *survey;	/* --survey FILE, or NULL */
	long long jobs;		/* --jobs, 0: not given */
	int progress;		/* --progress / --no-progress, -1: terminal */
	const char *domain_arg;
	const char *dane;	/* --dane: none, opportunistic, mandatory */
	bool secure_mx;		/* --secure-mx */
	char domain[ESA_NAME_MAX];	/* normalised recipient domain */
	char via_norm[ESA_NAME_MAX];
	int peer_family;
	unsigned char peer_addr[16];
};

/* Everything one run holds; freed in run(). */
struct run {
	struct opts o;
	esa_config *cfg;
	esa_resolver *resolver;	/* owned by cfg */
	X509 *leaf;
	STACK_OF(X509) *chain;
	struct esa_result *res;
	char err[ESA_ERR_MAX * 2];	/* the one-line message of exit 2 */
};

enum {
	OPT_MODE = 256, OPT_CERT, OPT_PEER, OPT_DNS_FILE, OPT_NAMESERVER,
	OPT_ROUTE, OPT_VIA, OPT_CONFIG, OPT_CAFILE, OPT_CAPATH, OPT_CRL,
	OPT_NO_CHAIN, OPT_AT, OPT_PORT, OPT_JSON, OPT_TIMEOUT, OPT_STRICT,
	OPT_PARTIAL_CHAIN, OPT_DANE, OPT_SECURE_MX, OPT_SURVEY, OPT_JOBS,
	OPT_PROGRESS, OPT_NO_PROGRESS,
};

static const struct option long_opts[] = {
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "peer", required_argument, NULL, OPT_PEER },
	{ "dns-file", required_argument, NULL, OPT_DNS_FILE },
	{ "nameserver", required_argument, NULL, OPT_NAMESERVER },
	{ "route", required_argument, NULL, OPT_ROUTE },
	{ "via", required_argument, NULL, OPT_VIA },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "cafile", required_argument, NULL, OPT_CAFILE },
	{ "capath", required_argument, NULL, OPT_CAPATH },
	{ "crl", required_argument, NULL, OPT_CRL },
	{ "no-chain", no_argument, NULL, OPT_NO_CHAIN },
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "partial-chain", no_argument, NULL, OPT_PARTIAL_CHAIN },
	{ "at", required_argument, NULL, OPT_AT },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "dane", required_argument, NULL, OPT_DANE },
	{ "secure-mx", no_argument, NULL, OPT_SECURE_MX },
	{ "survey", required_argument, NULL, OPT_SURVEY },
	{ "jobs", required_argument, NULL, OPT_JOBS },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* usage - the synopsis of SPEC 8.2 */
static void usage(FILE *out)
{
	fprintf(out, "usage: esa-check [OPTIONS] RECIPIENT-DOMAIN\n"
	      "       esa-check [OPTIONS] --survey FILE [--jobs N]\n"
	      "  --mode verify|hosted|both   identity algorithm(s) to report (default both)\n"
	      "  --cert FILE        offline: PEM, the leaf first, then any intermediates\n"
	      "  --peer IP          offline: the address that certificate came from\n"
	      "  --dns-file FILE    answer every DNS query from this master file\n"
	      "  --nameserver IP[:PORT]   use this DNS server\n"
	      "  --route HOST[:PORT][/pri=N]   an SMTP route for the domain (repeatable)\n"
	      "  --via HOST         offline: the route or MX host connected to\n"
	      "  --config FILE      destinations and routes file\n"
	      "  --cafile FILE, --capath DIR, --crl FILE   trust store (default: system)\n"
	      "  --no-chain         skip certificate chain validation (identity only)\n"
	      "  --strict           chain: X509_STRICT, RFC 5280's profile (default: as\n"
	      "                     a stock OpenSSL client, without it)\n"
	      "  --partial-chain    chain: any certificate of the trust store is an anchor\n"
	      "  --at UNIX-TIME     verification time for the chain\n"
	      "  --port N           live mode: SMTP port (default 25)\n"
	      "  --timeout SECONDS  live mode: limit of each network step (default 10);\n"
	      "                     also the DNS budget (default 5, at most 60)\n"
	      "  --json             one JSON object instead of the explanation\n"
	      "  --dane none|opportunistic|mandatory   DANE (docs/dane.md); when it\n"
	      "                     applies its verdict decides (--port: the TLSA port)\n"
	      "  --secure-mx        Hosted uses DNSSEC-secure MX names only\n"
	      "  --survey FILE      live, every domain of FILE (one a line, - for\n"
	      "                     stdin): one JSON line per domain on stdout\n"
	      "  --jobs N           survey: domains in flight (default %u here)\n"
	      "  --progress, --no-progress   survey: the progress line on stderr\n"
	      "                     (default: when stderr is a terminal)\n"
	      "  --help, --version\n"
	      "Without --cert: live mode, STARTTLS to the routes or MX hosts in turn.\n"
	      "Exit status: 0 every requested mode passes, 1 one fails, 2 error.\n",
	      survey_jobs_default());
}

/* show - user input made printable and short enough for a one-line message */
static const char *show(const char *s, char *buf, size_t bufsz)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; u[i] != '\0' && off + 8 < bufsz; i++) {
		if (i == SHOW_MAX) {
			off += (size_t)snprintf(buf + off, bufsz - off, "...");
			break;
		}
		if (u[i] < 0x20 || u[i] >= 0x7F)
			off += (size_t)snprintf(buf + off, bufsz - off, "\\x%02x",
						u[i]);
		else
			buf[off++] = (char)u[i];
		buf[off] = '\0';
	}
	return buf;
}

/* parse_number - a whole decimal number in [min, max] */
static int parse_number(const char *text, long long min, long long max,
			long long *out)
{
	char *end;
	long long v;

	if (text[0] < '0' || text[0] > '9')
		return -1;	/* no sign, no leading space */
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* parse_mode - "verify", "hosted" or "both" */
static int parse_mode(const char *text, unsigned *modes)
{
	if (strcmp(text, "verify") == 0)
		*modes = MODE_BIT(ESA_MODE_VERIFY);
	else if (strcmp(text, "hosted") == 0)
		*modes = MODE_BIT(ESA_MODE_HOSTED);
	else if (strcmp(text, "both") == 0)
		*modes = MODES_BOTH;
	else
		return -1;
	return 0;
}

/* parse_value - one option with a value that can be checked on its own */
static int parse_value(struct run *r, int c, const char *arg)
{
	struct opts *o = &r->o;
	char q[SHOW_MAX * 4 + 8];
	long long v;

	switch (c) {
	case OPT_MODE:
		if (parse_mode(arg, &o->modes) == 0)
			return 0;
		snprintf(r->err, sizeof(r->err), "--mode '%s': expected verify, "
			 "hosted or both", show(arg, q, sizeof(q)));
		return -1;
	case OPT_PEER:
		o->peer = arg;
		if (esa_parse_ip(arg, &o->peer_family, o->peer_addr) == 0)
			return 0;
		snprintf(r->err, sizeof(r->err), "--peer '%s': not an IPv4 or "
			 "IPv6 address", show(arg, q, sizeof(q)));
		return -1;
	case OPT_AT:
		/* 0 would mean "now" to esa_chain_check: require a real time */
		if (parse_number(arg, 1, (long long)1 << 40, &o->at) == 0)
			return 0;
		snprintf(r->err, sizeof(r->err), "--at '%s': expected a UNIX "
			 "time in seconds", show(arg, q, sizeof(q)));
		return -1;
	case OPT_PORT:
		if (parse_number(arg, 1, 65535, &v) == 0) {
			o->port = (int)v;
			return 0;
		}
		snprintf(r->err, sizeof(r->err), "--port '%s': expected a "
			 "number from 1 to 65535", show(arg, q, sizeof(q)));
		return -1;
	case OPT_TIMEOUT:
		if (parse_number(arg, 1, TIMEOUT_MAX, &o->timeout) == 0)
			return 0;
		snprintf(r->err, sizeof(r->err), "--timeout '%s': expected "
			 "seconds from 1 to %d", show(arg, q, sizeof(q)),
			 TIMEOUT_MAX);
		return -1;
	case OPT_JOBS:
		if (parse_number(arg, 1, SURVEY_JOBS_MAX, &o->jobs) == 0)
			return 0;
		snprintf(r->err, sizeof(r->err), "--jobs '%s': expected a "
			 "number from 1 to %d", show(arg, q, sizeof(q)),
			 SURVEY_JOBS_MAX);
		return -1;
	}
	return 0;
}

/* parse_option - store one option; -1 with r->err on a bad value */
static int parse_option(struct run *r, int c, const char *arg)
{
	struct opts *o = &r->o;

	switch (c) {
	case OPT_CERT: o->cert = arg; break;
	case OPT_DNS_FILE: o->dns_file = arg; break;
	case OPT_NAMESERVER: o->nameserver = arg; break;
	case OPT_ROUTE: o->routes[o->nroutes++] = arg; break;
	case OPT_VIA: o->via = arg; break;
	case OPT_CONFIG: o->config = arg; break;
	case OPT_CAFILE: o->cafile = arg; break;
	case OPT_CAPATH: o->capath = arg; break;
	case OPT_CRL: o->crl = arg; break;
	case OPT_NO_CHAIN: o->no_chain = true; break;
	case OPT_STRICT: o->chain_flags |= ESA_CHAIN_STRICT; break;
	case OPT_PARTIAL_CHAIN: o->chain_flags |= ESA_CHAIN_PARTIAL; break;
	case OPT_JSON: o->json = true; break;
	case OPT_DANE: o->dane = arg; break;
	case OPT_SECURE_MX: o->secure_mx = true; break;
	case OPT_SURVEY: o->survey = arg; break;
	case OPT_PROGRESS: o->progress = 1; break;
	case OPT_NO_PROGRESS: o->progress = 0; break;
	default: return parse_value(r, c, arg);
	}
	return 0;
}

/* survey_args - what --survey does not take: a domain argument, offline
 * mode, routes without a domain (they belong in --config), DANE (its
 * verdict is not in the survey's lines yet) */
static int survey_args(struct run *r, int argc, char **argv)
{
	char q[SHOW_MAX * 4 + 8];
	const struct opts *o = &r->o;
	const char *bad = o->cert ? "--cert" : o->peer ? "--peer" :
			  o->via ? "--via" : o->nroutes ? "--route" :
			  o->dane ? "--dane" : NULL;	/* not in the survey yet */

	if (optind < argc) {
		snprintf(r->err, sizeof(r->err), "unexpected argument '%s': "
			 "--survey reads the domains from its file",
			 show(argv[optind], q, sizeof(q)));
		return -1;
	}
	if (bad != NULL) {
		snprintf(r->err, sizeof(r->err), "%s cannot be used with "
			 "--survey%s", bad, o->nroutes ? " (give the routes in "
			 "--config's [routes])" : "");
		return -1;
	}
	return 0;
}

/* parse_args - the command line into r->o.  0 go on, 1 done (--help,
 * --version), -1 usage error with r->err set */
static int parse_args(struct run *r, int argc, char **argv)
{
	char q[SHOW_MAX * 4 + 8];
	int c;

	r->o.modes = MODES_BOTH;
	r->o.port = 25;
	r->o.progress = -1;
	r->o.routes = calloc((size_t)argc, sizeof(*r->o.routes));
	if (r->o.routes == NULL) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		return -1;
	}
	opterr = 0;	/* one message, ours, naming the tool as "esa-check" */
	while ((c = getopt_long(argc, argv, ":hV", long_opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 1;
		}
		if (c == 'V') {
			printf("esa-check %s\n", ESAVERIFY_VERSION);
			return 1;
		}
		if (c == '?' || c == ':') {
			snprintf(r->err, sizeof(r->err), "%s option '%s' (see "
				 "esa-check --help)", c == '?' ?
				 "unknown or ambiguous" : "missing value for",
				 show(argv[optind - 1], q, sizeof(q)));
			return -1;
		}
		if (parse_option(r, c, optarg) < 0)
			return -1;
	}
	if (r->o.survey != NULL)
		return survey_args(r, argc, argv);
	if (r->o.jobs > 0) {
		snprintf(r->err, sizeof(r->err), "--jobs is for --survey");
		return -1;
	}
	if (optind >= argc) {
		snprintf(r->err, sizeof(r->err),
			 "missing RECIPIENT-DOMAIN (see esa-check --help)");
		return -1;
	}
	if (optind < argc - 1) {
		snprintf(r->err, sizeof(r->err), "unexpected argument '%s' "
			 "(see esa-check --help)",
			 show(argv[optind + 1], q, sizeof(q)));
		return -1;
	}
	r->o.domain_arg = argv[optind];
	return 0;
}

/* check_names - normalise the recipient domain and --via (Unicode to
 * A-labels, SPEC 3.6); --peer and --via belong to offline mode */
static int check_names(struct run *r)
{
	struct opts *o = &r->o;
	char why[ESA_ERR_MAX];
	int family;
	unsigned char addr[16];

	if (esa_domain_normalize(o->domain_arg, o->domain, sizeof(o->domain),
				 why, sizeof(why)) != 0) {
		snprintf(r->err, sizeof(r->err), "%s", why);
		return -1;
	}
	if (o->via != NULL) {
		if (esa_parse_ip(o->via, &family, addr) == 0) {
			esa_strlcpy(o->via_norm, o->via, sizeof(o->via_norm));
		} else if (esa_domain_normalize(o->via, o->via_norm,
						sizeof(o->via_norm), why,
						sizeof(why)) != 0) {
			snprintf(r->err, sizeof(r->err), "--via: %s", why);
			return -1;
		}
	}
	if (o->cert == NULL && (o->peer != NULL || o->via != NULL)) {
		snprintf(r->err, sizeof(r->err), "%s is for offline mode, with "
			 "--cert (live mode learns it from the connection)",
			 o->peer != NULL ? "--peer" : "--via");
		return -1;
	}
	return 0;
}

/* config_error - r->err from the config's last error */
static int config_error(struct run *r)
{
	snprintf(r->err, sizeof(r->err), "%s", esa_config_error(r->cfg));
	return -1;
}

/* build_config - config file, DNS, trust store and routes, all checked
 * now so that every configuration error is reported before any work */
static int build_config(struct run *r)
{
	struct opts *o = &r->o;
	X509_STORE *store;
	size_t i;

	r->cfg = esa_config_new();
	if (r->cfg == NULL) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		return -1;
	}
	if ((o->config && esa_config_load_file(r->cfg, o->config) != 0) ||
	    (o->dns_file && esa_config_set_dns_file(r->cfg, o->dns_file) != 0) ||
	    (o->nameserver &&
	     esa_config_set_nameserver(r->cfg, o->nameserver) != 0) ||
	    esa_config_set_chain_flags(r->cfg, o->chain_flags) != 0 ||
	    (o->dane && esa_config_set_dane(r->cfg, o->dane) != 0) ||
	    esa_config_set_secure_mx(r->cfg, o->secure_mx) != 0 ||
	    ((o->cafile || o->capath || o->crl) &&
	     esa_config_set_trust(r->cfg, o->cafile, o->capath, o->crl) != 0) ||
	    (o->timeout > 0 &&
	     esa_config_set_dns_budget_ms(r->cfg, (unsigned)(o->timeout >
		DNS_BUDGET_MAX ? DNS_BUDGET_MAX : o->timeout) * 1000u)))
		return config_error(r);
	/* --route adds to the routes the config file gives the domain */
	for (i = 0; i < o->nroutes; i++)
		if (esa_config_add_routes(r->cfg, o->domain, o->routes[i]) != 0)
			return config_error(r);
	r->resolver = esa_config_resolver(r->cfg);
	if (r->resolver == NULL)
		return config_error(r);
	if (!o->no_chain) {
		store = esa_config_store(r->cfg, r->err, sizeof(r->err));
		if (store == NULL)
			return -1;
		X509_STORE_free(store);
	}
	return 0;
}

/* pem_error - r->err from OpenSSL's reason, or "no certificate in FILE" */
static int pem_error(struct run *r, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	const char *reason = ERR_reason_error_string(e);
	char q[SHOW_MAX * 4 + 8];

	show(r->o.cert, q, sizeof(q));
	if (e == 0 || ERR_GET_REASON(e) == PEM_R_NO_START_LINE || !reason)
		snprintf(r->err, sizeof(r->err), "no certificate in %s", q);
	else
		snprintf(r->err, sizeof(r->err), "%s: %s: %s", q, what, reason);
	ERR_clear_error();
	return -1;
}

/* load_pem - the leaf, then every further certificate as intermediates */
static int load_pem(struct run *r)
{
	char q[SHOW_MAX * 4 + 8];
	FILE *f = fopen(r->o.cert, "r");
	X509 *x;
	int rc = -1;

	if (f == NULL) {
		snprintf(r->err, sizeof(r->err), "cannot read %s: %s",
			 show(r->o.cert, q, sizeof(q)), strerror(errno));
		return -1;
	}
	ERR_clear_error();
	r->leaf = PEM_read_X509(f, NULL, NULL, NULL);
	if (r->leaf == NULL) {
		pem_error(r, "bad certificate");
		goto out;
	}
	r->chain = sk_X509_new_null();
	if (r->chain == NULL)
		goto out;
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		if (sk_X509_push(r->chain, x) <= 0) {
			X509_free(x);
			goto out;
		}
	}
	/* the loop ends at end of file (no further BEGIN line) or bad PEM */
	if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE) {
		snprintf(r->err, sizeof(r->err), "%s: bad certificate after "
			 "the first: %s", show(r->o.cert, q, sizeof(q)),
			 ERR_reason_error_string(ERR_peek_last_error()) ?
			 ERR_reason_error_string(ERR_peek_last_error()) :
			 "unreadable");
		goto out;
	}
	rc = 0;
out:
	if (rc != 0 && r->err[0] == '\0')
		snprintf(r->err, sizeof(r->err), "out of memory");
	ERR_clear_error();
	fclose(f);
	return rc;
}

/* target - what the connection is known to be (SPEC 4) */
static void target(const struct run *r, struct esa_target *t)
{
	const struct esa_domain_routes *dr;

	memset(t, 0, sizeof(*t));
	esa_strlcpy(t->recipient, r->o.domain, sizeof(t->recipient));
	if (r->o.peer != NULL) {
		t->have_peer = true;
		t->peer_family = r->o.peer_family;
		memcpy(t->peer, r->o.peer_addr, sizeof(t->peer));
	}
	esa_strlcpy(t->via, r->o.via_norm, sizeof(t->via));
	dr = esa_config_routes_for(r->cfg, r->o.domain);
	if (dr != NULL) {
		t->routes = dr->routes;
		t->nroutes = dr->n;
	}
	t->port = r->o.port;
	t->secure_mx = r->cfg->secure_mx;
}

/* check - stage I, then stage II for the modes asked for only (so the
 * record, its DNS log included, holds nothing of the others) */
static int check(struct run *r)
{
	struct esa_target t;

	r->res = esa_result_new();
	if (r->res == NULL) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		return -1;
	}
	if (!r->o.no_chain)
		esa_chain_check(r->cfg, r->leaf, r->chain, r->o.at, -1, r->res);
	target(r, &t);
	/* -1 is an allocation failure: the verdicts then fail (exit 1) */
	esa_identity_check_modes(r->res, r->leaf, &t, r->resolver,
				 r->cfg->dns_budget_ms, r->o.modes);
	if (esa_dane_check(r->res, r->cfg->dane, &t, r->leaf, r->chain,
			   r->resolver, esa_now_ms() + r->cfg->dns_budget_ms) != 0) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		return -1;
	}
	r->res->tls = esa_config_tls_for(r->cfg, r->o.domain);
	return 0;
}

/* report - print the record; the exit status it earns */
static int report(struct run *r)
{
	char *json = NULL;
	int m, status = EXIT_PASS;

	if (r->o.json) {
		if (esa_result_json(r->res, &json) != 0) {
			snprintf(r->err, sizeof(r->err), "out of memory");
			return EXIT_USAGE;
		}
		printf("%s\n", json);
		free(json);
	} else {
		esa_result_explain(r->res, stdout);
	}
	if (!esa_result_chain_ok(r->res))
		status = EXIT_FAIL;
	for (m = ESA_MODE_VERIFY; m <= ESA_MODE_HOSTED; m++)
		if ((r->o.modes & MODE_BIT(m)) &&
		    !esa_result_pass(r->res, (enum esa_mode)m))
			status = EXIT_FAIL;
	if (esa_dane_decides(r->res->dane))	/* docs/dane.md 5: DANE decides */
		status = r->res->dane->pass ? EXIT_PASS : EXIT_FAIL;
	if (fflush(stdout) != 0) {
		snprintf(r->err, sizeof(r->err), "cannot write the output: %s",
			 strerror(errno));
		return EXIT_USAGE;
	}
	return status;
}

/* live - live mode (live.c); the exit status */
static int live(struct run *r)
{
	struct live_opts lo = {
		.domain = r->o.domain, .modes = r->o.modes, .port = r->o.port,
		.timeout_ms = (unsigned)(r->o.timeout > 0 ? r->o.timeout
							  : TIMEOUT_DEFAULT) * 1000u,
		.json = r->o.json, .no_chain = r->o.no_chain, .at = r->o.at,
	};
	int status = live_run(r->cfg, &lo, r->err, sizeof(r->err));

	if (status != EXIT_USAGE && fflush(stdout) != 0) {
		snprintf(r->err, sizeof(r->err), "cannot write the output: %s",
			 strerror(errno));
		return EXIT_USAGE;
	}
	return status;
}

/* survey - esa-check --survey (survey.c); the exit status */
static int survey(struct run *r)
{
	struct survey_opts so = {
		.input = r->o.survey, .jobs = (unsigned)r->o.jobs,
		.modes = r->o.modes, .port = r->o.port,
		.timeout_ms = (unsigned)(r->o.timeout > 0 ? r->o.timeout
							  : TIMEOUT_DEFAULT) * 1000u,
		.no_chain = r->o.no_chain, .at = r->o.at,
		.progress = r->o.progress,
	};

	return survey_run(r->cfg, &so, r->err, sizeof(r->err));
}

/* run - the whole tool; one exit path frees everything */
static int run(int argc, char **argv)
{
	struct run r;
	int status = EXIT_USAGE, rc;

	memset(&r, 0, sizeof(r));
	rc = parse_args(&r, argc, argv);
	if (rc != 0) {
		if (rc > 0)
			status = EXIT_PASS;
		goto out;
	}
	if ((r.o.survey == NULL && check_names(&r) < 0) || build_config(&r) < 0)
		goto out;
	if (r.o.survey != NULL) {
		status = survey(&r);
		goto out;
	}
	if (r.o.cert == NULL) {
		status = live(&r);
		goto out;
	}
	if (load_pem(&r) < 0 || check(&r) < 0)
		goto out;
	status = report(&r);
out:
	if (r.err[0] != '\0')
		fprintf(stderr, "esa-check: %s\n", r.err);
	esa_result_free(r.res);
	sk_X509_pop_free(r.chain, X509_free);
	X509_free(r.leaf);
	esa_config_free(r.cfg);
	free(r.o.routes);
	return status;
}

/* main - see the file header */
int main(int argc, char **argv)
{
	return run(argc, argv);
}
