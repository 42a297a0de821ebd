/*
 * fuzz_routes.c - the SMTP route syntax "HOST[:PORT][/pri=N], ..."
 * (config_routes.c: esa_routes_parse, esa_config_add_routes)
 *
 * Input: the route list as text (cut at the first NUL, as a C caller
 * would pass it).
 *
 * Invariants:
 *  - on success: 1..1000 routes, sorted by priority; each host an IP
 *    literal that parses (kept in canonical text form) or a valid
 *    reference identifier in lower case; port 0..65535, priority
 *    0..65535;
 *  - on failure: a one-line reason;
 *  - esa_config_add_routes agrees with esa_routes_parse, and appending the
 *    same list twice gives twice the routes, still sorted.
 */
#include <sys/socket.h>

#include "fuzz.h"
#include "internal.h"

/* check_list - the invariants of a parsed list */
static void check_list(const struct esa_route *r, size_t n)
{
	unsigned char ip[16];
	char text[64];
	int fam;

	FUZZ_CHECK(n >= 1 && n <= 2000, "%zu routes", n);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(r[i].port >= 0 && r[i].port <= 65535, "port");
		FUZZ_CHECK(r[i].pri >= 0 && r[i].pri <= 65535, "pri");
		FUZZ_CHECK(i == 0 || r[i - 1].pri <= r[i].pri, "unsorted");
		if (r[i].is_ip) {
			FUZZ_CHECK(esa_parse_ip(r[i].host, &fam, ip) == 0 &&
				   fam == r[i].family &&
				   memcmp(ip, r[i].ip, 16) == 0,
				   "IP route '%s'", r[i].host);
			esa_format_ip(fam, ip, text, sizeof(text));
			FUZZ_CHECK(strcmp(text, r[i].host) == 0, "'%s' vs '%s'",
				   text, r[i].host);
		} else {
			FUZZ_CHECK(esa_reference_problem(r[i].host,
					strlen(r[i].host)) == NULL,
				   "route host '%s': %s", r[i].host,
				   esa_reference_problem(r[i].host,
							 strlen(r[i].host)));
			for (const char *c = r[i].host; *c; c++)
				FUZZ_CHECK(!(*c >= 'A' && *c <= 'Z'), "upper");
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size), why[ESA_ERR_MAX];
	const struct esa_domain_routes *dr;
	struct esa_route *routes = NULL;
	esa_config *cfg;
	size_t n = 0;
	int rc;

	why[0] = '\0';
	rc = esa_routes_parse(text, &routes, &n, why, sizeof(why));
	if (rc == 0)
		check_list(routes, n);
	else
		FUZZ_CHECK(why[0] != '\0' && fuzz_one_line(why, sizeof(why)),
			   "reason '%s'", why);

	cfg = esa_config_new();
	FUZZ_CHECK(cfg != NULL, "esa_config_new");
	FUZZ_CHECK((esa_config_add_routes(cfg, "Example.COM.", text) == 0) ==
		   (rc == 0), "add_routes disagrees with routes_parse");
	if (rc == 0) {
		dr = esa_config_routes_for(cfg, "example.com");
		FUZZ_CHECK(dr != NULL && dr->n == n, "routes_for");
		if (esa_config_add_routes(cfg, "example.com", text) == 0) {
			dr = esa_config_routes_for(cfg, "example.com");
			FUZZ_CHECK(dr != NULL && dr->n == 2 * n, "appended");
			check_list(dr->routes, dr->n);
		} else {
			FUZZ_CHECK(2 * n > 1000, "%s", esa_config_error(cfg));
		}
	} else {
		FUZZ_CHECK(fuzz_one_line(esa_config_error(cfg), ESA_ERR_MAX),
			   "config error");
	}
	esa_config_free(cfg);
	free(routes);
	free(text);
	return 0;
}
