/*
 * fuzz_config.c - the destinations and routes file (config_file.c:
 * esa_config_load_text, SPEC 8.4) and the lookups that use it
 *
 * Input: the text of a file.  It is loaded into a config that already holds
 * a small base file, so "all or nothing" and "same key replaces" can be
 * checked.
 *
 * Invariants:
 *  - a refused file leaves the config exactly as it was, with one error
 *    line "fuzz.conf:LINE: problem";
 *  - an accepted one keeps every setting in 1..6; each exact destination
 *    decides its own domain, each ".suffix" a fresh name under it; each
 *    route list is found by its domain, sorted, with valid hosts.
 */
#include "fuzz.h"
#include "internal.h"

static const char base[] =
	"[destinations]\n"
	"default tls=preferred\n"
	"example.com tls=required-verify\n"
	".example.org tls=6\n"
	"[routes]\n"
	"example.com mx1.example.net:25/pri=0, 192.0.2.7\n";

/* snapshot - what a config holds, to compare before and after */
struct snap {
	size_t ndests, nroutes;
	struct esa_dest dests[8];
	size_t nr[8];
};

static void take(const esa_config *cfg, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	s->ndests = cfg->ndests;
	s->nroutes = cfg->nroutes;
	for (size_t i = 0; i < cfg->ndests && i < 8; i++)
		s->dests[i] = cfg->dests[i];
	for (size_t i = 0; i < cfg->nroutes && i < 8; i++)
		s->nr[i] = cfg->routes[i].n;
}

/* has_exact - is there an exact destination for name? */
static bool has_exact(const esa_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->ndests; i++)
		if (strcmp(cfg->dests[i].domain, name) == 0)
			return true;
	return false;
}

/* check_accepted - the invariants of a config that took the file */
static void check_accepted(const esa_config *cfg)
{
	char probe[ESA_NAME_MAX + 32];

	for (size_t i = 0; i < cfg->ndests; i++) {
		const struct esa_dest *d = &cfg->dests[i];

		FUZZ_CHECK(d->tls >= ESA_TLS_NO &&
			   d->tls <= ESA_TLS_REQUIRED_VERIFY_HOSTED, "tls");
		if (strcmp(d->domain, "default") == 0)
			continue;
		if (d->domain[0] != '.') {
			FUZZ_CHECK(esa_config_tls_for(cfg, d->domain) == d->tls,
				   "exact '%s' not decisive", d->domain);
			continue;
		}
		snprintf(probe, sizeof(probe), "zz9-probe%s", d->domain);
		if (strlen(probe) > 253 || has_exact(cfg, probe))
			continue;
		/* a longer suffix entry may win; it must then be one */
		if (esa_config_tls_for(cfg, probe) != d->tls) {
			bool longer = false;

			for (size_t k = 0; k < cfg->ndests; k++) {
				const char *o = cfg->dests[k].domain;
				size_t ol = strlen(o), pl = strlen(probe);

				if (o[0] == '.' && ol > strlen(d->domain) &&
				    ol < pl && strcmp(probe + pl - ol, o) == 0)
					longer = true;
			}
			FUZZ_CHECK(longer, "suffix '%s' not applied to '%s'",
				   d->domain, probe);
		}
	}
	for (size_t i = 0; i < cfg->nroutes; i++) {
		const struct esa_domain_routes *r = &cfg->routes[i];

		FUZZ_CHECK(esa_config_routes_for(cfg, r->domain) == r,
			   "routes of '%s' not found", r->domain);
		FUZZ_CHECK(r->n >= 1 && r->n <= 1000, "%zu routes", r->n);
		for (size_t k = 0; k < r->n; k++) {
			FUZZ_CHECK(k == 0 || r->routes[k - 1].pri <=
				   r->routes[k].pri, "unsorted");
			FUZZ_CHECK(r->routes[k].is_ip ||
				   esa_reference_problem(r->routes[k].host,
					strlen(r->routes[k].host)) == NULL,
				   "host '%s'", r->routes[k].host);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	esa_config *cfg = esa_config_new();
	struct snap before, after;

	FUZZ_CHECK(cfg != NULL, "esa_config_new");
	FUZZ_CHECK(esa_config_load_text(cfg, base, strlen(base), "base") == 0,
		   "%s", esa_config_error(cfg));
	take(cfg, &before);
	if (esa_config_load_text(cfg, (const char *)data, size,
				 "fuzz.conf") != 0) {
		const char *e = esa_config_error(cfg);

		take(cfg, &after);
		FUZZ_CHECK(memcmp(&before, &after, sizeof(before)) == 0,
			   "a refused file changed the config");
		FUZZ_CHECK(strncmp(e, "fuzz.conf:", 10) == 0 &&
			   fuzz_one_line(e, ESA_ERR_MAX), "error '%s'", e);
	} else {
		check_accepted(cfg);
	}
	esa_config_free(cfg);
	return 0;
}
