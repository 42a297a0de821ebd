/*
 * test_routes.c - SMTP routes (SPEC 8.2 --route, 8.3 ESA_ROUTES, 8.4
 * [routes]): callback/config_routes.c.  The route syntax as a table, IP
 * literals, ordering, caps and errors.  No test needs the network.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <criterion/criterion.h>

#include "internal.h"

struct want_route {
	const char *host;
	bool is_ip;
	int family;
	int port, pri;
};

static const struct {
	const char *text;
	int ok;
	size_t n;
	struct want_route r[4];
	const char *err;	/* a piece of the reason when ok is -1 */
} route_rows[] = {
	/* FQDN hosts, normalised */
	{ "mx1.example.net", 0, 1, { { "mx1.example.net", false, 0, 0, 0 } }, NULL },
	{ "MX1.Example.NET.", 0, 1, { { "mx1.example.net", false, 0, 0, 0 } }, NULL },
	{ "mx1.example.net:25", 0, 1, { { "mx1.example.net", false, 0, 25, 0 } }, NULL },
	{ "mx1.example.net:587/pri=3", 0, 1,
	  { { "mx1.example.net", false, 0, 587, 3 } }, NULL },
	{ "mx1.example.net/pri=65535", 0, 1,
	  { { "mx1.example.net", false, 0, 0, 65535 } }, NULL },
	{ "mx1.example.net/PRI=7", 0, 1, { { "mx1.example.net", false, 0, 0, 7 } }, NULL },
	{ "b\xc3\xbc" "cher.example", 0, 1,
	  { { "xn--bcher-kva.example", false, 0, 0, 0 } }, NULL },
	/* IPv4 literals */
	{ "192.0.2.7", 0, 1, { { "192.0.2.7", true, AF_INET, 0, 0 } }, NULL },
	{ "192.0.2.7:2525", 0, 1, { { "192.0.2.7", true, AF_INET, 2525, 0 } }, NULL },
	{ "[192.0.2.7]:25", 0, 1, { { "192.0.2.7", true, AF_INET, 25, 0 } }, NULL },
	{ "192.0.2.7/pri=1", 0, 1, { { "192.0.2.7", true, AF_INET, 0, 1 } }, NULL },
	/* IPv6 literals: bracketed when a port follows, bare without */
	{ "[2001:db8::1]:25", 0, 1, { { "2001:db8::1", true, AF_INET6, 25, 0 } }, NULL },
	{ "[2001:DB8:0:0::1]", 0, 1, { { "2001:db8::1", true, AF_INET6, 0, 0 } }, NULL },
	{ "2001:db8::1", 0, 1, { { "2001:db8::1", true, AF_INET6, 0, 0 } }, NULL },
	{ "2001:db8::1/pri=4", 0, 1, { { "2001:db8::1", true, AF_INET6, 0, 4 } }, NULL },
	{ "[2001:db8::1]:2525/pri=9", 0, 1,
	  { { "2001:db8::1", true, AF_INET6, 2525, 9 } }, NULL },
	/* lists, white space around items, sorted by priority */
	{ "a.example.net,b.example.net", 0, 2,
	  { { "a.example.net", false, 0, 0, 0 }, { "b.example.net", false, 0, 0, 0 } },
	  NULL },
	{ "  a.example.net ,\tb.example.net:26/pri=2 , [::1]:25/pri=1  ", 0, 3,
	  { { "a.example.net", false, 0, 0, 0 }, { "::1", true, AF_INET6, 25, 1 },
	    { "b.example.net", false, 0, 26, 2 } }, NULL },
	{ "mx1.example.net:25/pri=0, mx2.example.net/pri=10, 192.0.2.7", 0, 3,
	  { { "mx1.example.net", false, 0, 25, 0 }, { "192.0.2.7", true, AF_INET, 0, 0 },
	    { "mx2.example.net", false, 0, 0, 10 } }, NULL },
	/* ports */
	{ "mx1.example.net:1", 0, 1, { { "mx1.example.net", false, 0, 1, 0 } }, NULL },
	{ "mx1.example.net:65535", 0, 1, { { "mx1.example.net", false, 0, 65535, 0 } }, NULL },
	{ "mx1.example.net:0", -1, 0, { { 0 } },
	  "bad route 'mx1.example.net:0': port out of range" },
	{ "mx1.example.net:99999", -1, 0, { { 0 } },
	  "bad route 'mx1.example.net:99999': port out of range" },
	{ "mx1.example.net:", -1, 0, { { 0 } }, "missing port" },
	{ "mx1.example.net:smtp", -1, 0, { { 0 } }, "port is not a number" },
	{ "mx1.example.net:+25", -1, 0, { { 0 } }, "port is not a number" },
	{ "[2001:db8::1]:99999", -1, 0, { { 0 } }, "port out of range" },
	{ "[2001:db8::1]25", -1, 0, { { 0 } }, "text after ']'" },
	{ "[2001:db8::1", -1, 0, { { 0 } }, "missing ']'" },
	/* priorities */
	{ "mx1.example.net/pri=65536", -1, 0, { { 0 } }, "priority out of range" },
	{ "mx1.example.net/pri=-1", -1, 0, { { 0 } }, "priority is not a number" },
	{ "mx1.example.net/pri=", -1, 0, { { 0 } }, "priority is not a number" },
	{ "mx1.example.net/weight=5", -1, 0, { { 0 } }, "unknown option" },
	{ "mx1.example.net/pri=1/pri=2", -1, 0, { { 0 } }, "priority is not a number" },
	{ "mx1.example.net/", -1, 0, { { 0 } }, "unknown option" },
	/* hosts */
	{ "", -1, 0, { { 0 } }, "route 1 of 1 is empty" },
	{ "   ", -1, 0, { { 0 } }, "route 1 of 1 is empty" },
	{ "a.example.net,,b.example.net", -1, 0, { { 0 } }, "route 2 of 3 is empty" },
	{ "a.example.net,", -1, 0, { { 0 } }, "route 2 of 2 is empty" },
	{ ":25", -1, 0, { { 0 } }, "missing host" },
	{ "/pri=1", -1, 0, { { 0 } }, "missing host" },
	{ "mx1", -1, 0, { { 0 } }, "bad route 'mx1': invalid domain" },
	{ "a..example.net", -1, 0, { { 0 } }, "bad route 'a..example.net': invalid domain" },
	{ "*.example.net", -1, 0, { { 0 } }, "invalid domain" },
	{ "mx1.example.net mx2.example.net", -1, 0, { { 0 } }, "white space" },
	{ "mx1.example.net :25", -1, 0, { { 0 } }, "white space" },
	{ "192.0.2.300", -1, 0, { { 0 } }, "not a valid IPv4 address" },
	{ "192.0.2", -1, 0, { { 0 } }, "not a valid IPv4 address" },
	{ "[mx1.example.net]:25", -1, 0, { { 0 } }, "only IP addresses go in brackets" },
	{ "2001:db8::1:25:99999", -1, 0, { { 0 } }, "not a valid IPv6 address" },
	{ "mx1.example.net:25:26", -1, 0, { { 0 } }, "not a valid IPv6 address" },
	{ "a.example.net, b..example.net:25", -1, 0, { { 0 } },
	  "bad route 'b..example.net:25'" },
};

Test(routes, syntax_table)
{
	struct esa_route *r;
	char why[ESA_ERR_MAX];
	size_t i, j, n;
	int rc;

	for (i = 0; i < sizeof(route_rows) / sizeof(route_rows[0]); i++) {
		r = NULL;
		n = 99;
		why[0] = '\0';
		rc = esa_routes_parse(route_rows[i].text, &r, &n, why, sizeof(why));
		cr_expect_eq(rc, route_rows[i].ok, "'%s': %s", route_rows[i].text, why);
		if (rc != 0 || route_rows[i].ok != 0) {
			if (route_rows[i].err != NULL)
				cr_expect_not_null(strstr(why, route_rows[i].err),
						   "'%s': got '%s', want '%s'",
						   route_rows[i].text, why, route_rows[i].err);
			free(r);
			continue;
		}
		cr_expect_eq(n, route_rows[i].n, "'%s'", route_rows[i].text);
		for (j = 0; j < n && j < 4; j++) {
			const struct want_route *w = &route_rows[i].r[j];

			cr_expect_str_eq(r[j].host, w->host, "'%s' #%zu", route_rows[i].text, j);
			cr_expect_eq(r[j].is_ip, w->is_ip, "'%s' #%zu", route_rows[i].text, j);
			if (w->is_ip)
				cr_expect_eq(r[j].family, w->family, "'%s' #%zu",
					     route_rows[i].text, j);
			cr_expect_eq(r[j].port, w->port, "'%s' #%zu", route_rows[i].text, j);
			cr_expect_eq(r[j].pri, w->pri, "'%s' #%zu", route_rows[i].text, j);
		}
		free(r);
	}
}

Test(routes, ip_octets_filled)
{
	static const unsigned char v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	struct esa_route *r = NULL;
	char why[ESA_ERR_MAX];
	size_t n = 0;

	cr_assert_eq(esa_routes_parse("192.0.2.7, [2001:db8::1]:25", &r, &n, why,
				      sizeof(why)), 0, "%s", why);
	cr_assert_eq(n, 2);
	cr_expect_eq(memcmp(r[0].ip, "\xc0\x00\x02\x07", 4), 0);
	cr_expect_eq(memcmp(r[1].ip, v6, 16), 0);
	free(r);
}

/* SPEC 4.3: priority order, ties in configured order */
Test(routes, sort_is_stable)
{
	static const char *const want[] = {
		"b.example.net", "e.example.net", "d.example.net", "f.example.net",
		"a.example.net", "c.example.net", "g.example.net",
	};
	struct esa_route *r = NULL;
	char why[ESA_ERR_MAX];
	size_t n = 0, i;

	cr_assert_eq(esa_routes_parse("a.example.net/pri=5, b.example.net, "
				      "c.example.net/pri=5, d.example.net/pri=1, "
				      "e.example.net/pri=0, f.example.net/pri=1, "
				      "g.example.net/pri=5", &r, &n, why, sizeof(why)), 0,
		     "%s", why);
	cr_assert_eq(n, 7);
	for (i = 0; i < n; i++)
		cr_expect_str_eq(r[i].host, want[i], "position %zu", i);
	free(r);
}

Test(routes, many_and_too_many)
{
	char *text = malloc(1001 * 24 + 1), why[ESA_ERR_MAX];
	struct esa_route *r = NULL;
	size_t n = 0, i, o = 0;

	for (i = 0; i < 1000; i++)
		o += (size_t)sprintf(text + o, "%sh%zu.example/pri=%zu", i ? "," : "", i,
				     (1000 - i) % 7);
	cr_assert_eq(esa_routes_parse(text, &r, &n, why, sizeof(why)), 0, "%s", why);
	cr_expect_eq(n, 1000);
	for (i = 1; i < n; i++)
		cr_expect_leq(r[i - 1].pri, r[i].pri);
	free(r);
	r = NULL;
	sprintf(text + o, ",h.example");
	cr_expect_eq(esa_routes_parse(text, &r, &n, why, sizeof(why)), -1);
	cr_expect_not_null(strstr(why, "too many routes"), "%s", why);
	cr_expect_null(r);
	free(text);
}

Test(routes, null_arguments)
{
	struct esa_route *r = NULL;
	char why[ESA_ERR_MAX];
	size_t n = 0;

	cr_expect_eq(esa_routes_parse(NULL, &r, &n, why, sizeof(why)), -1);
	cr_expect_eq(esa_routes_parse("a.example", &r, &n, NULL, 0), 0);
	free(r);
	cr_expect_eq(esa_routes_parse("a", &r, &n, NULL, 0), -1, "no reason buffer");
}

Test(routes, reason_is_one_bounded_line)
{
	char text[4096], why[ESA_ERR_MAX];
	struct esa_route *r = NULL;
	size_t n;

	memset(text, 'a', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	text[100] = '\t';
	text[200] = '\x1b';
	cr_expect_eq(esa_routes_parse(text, &r, &n, why, sizeof(why)), -1);
	cr_expect_lt(strlen(why), 300, "%s", why);
	cr_expect_null(strchr(why, '\t'));
	cr_expect_null(strchr(why, '\x1b'));
	cr_expect_not_null(strstr(why, "..."), "%s", why);
}

Test(routes, add_routes_appends_and_normalises)
{
	esa_config *cfg = esa_config_new();
	const struct esa_domain_routes *e;

	cr_assert_eq(esa_config_add_routes(cfg, "Example.COM.", "b.example.net/pri=5"), 0,
		     "%s", cfg->err);
	cr_assert_eq(esa_config_add_routes(cfg, "example.com",
					   "a.example.net/pri=5, c.example.net"), 0,
		     "%s", cfg->err);
	e = esa_config_routes_for(cfg, "EXAMPLE.com.");
	cr_assert_not_null(e);
	cr_expect_str_eq(e->domain, "example.com");
	cr_assert_eq(e->n, 3);
	cr_expect_str_eq(e->routes[0].host, "c.example.net");
	cr_expect_str_eq(e->routes[1].host, "b.example.net", "earlier addition first");
	cr_expect_str_eq(e->routes[2].host, "a.example.net");
	cr_expect_null(esa_config_routes_for(cfg, "sub.example.com"), "exact domain only");
	cr_expect_null(esa_config_routes_for(cfg, "example.org"));
	cr_expect_null(esa_config_routes_for(cfg, NULL));
	cr_expect_null(esa_config_routes_for(cfg, "not a domain"));
	esa_config_free(cfg);
}

Test(routes, add_routes_errors)
{
	esa_config *cfg = esa_config_new();

	cr_expect_eq(esa_config_add_routes(cfg, "example.com", "mx1.example.net:99999"), -1);
	cr_expect_str_eq(cfg->err, "routes for example.com: bad route "
			 "'mx1.example.net:99999': port out of range (1-65535)");
	cr_expect_eq(esa_config_add_routes(cfg, "a..b", "mx1.example.net"), -1);
	cr_expect_not_null(strstr(cfg->err, "invalid domain 'a..b'"), "%s", cfg->err);
	cr_expect_eq(esa_config_add_routes(cfg, NULL, "mx1.example.net"), -1);
	cr_expect_eq(esa_config_add_routes(cfg, "example.com", NULL), -1);
	cr_expect_null(esa_config_routes_for(cfg, "example.com"), "nothing added");
	esa_config_free(cfg);
}

Test(routes, unicode_domain)
{
	esa_config *cfg = esa_config_new();

	cr_assert_eq(esa_config_add_routes(cfg, "b\xc3\xbc" "cher.example", "192.0.2.1"), 0,
		     "%s", cfg->err);
	cr_expect_not_null(esa_config_routes_for(cfg, "xn--bcher-kva.example"));
	cr_expect_not_null(esa_config_routes_for(cfg, "B\xc3\x9c" "CHER.example"));
	esa_config_free(cfg);
}
