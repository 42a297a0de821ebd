/*
 * test_nameserver.c - the nameserver grammar (SPEC 6, 8.2), parsed once by
 * esa_nameserver_parse (config.c): "IP", "IP:PORT", "[IPv6]:PORT",
 * "[IPv6]" or a bare IPv6 address.  One table: what each input parses to
 * (the canonical text esa_config_set_nameserver stores) or the problem its
 * error names, and what the libresolv backend, which takes the same parser,
 * makes of it.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "dns_impl.h"

#define EXPECTED "(expected IP[:PORT], [IPv6]:PORT or a bare IPv6 address)"

/* What accepted texts parse to, by canonical form. */
static const struct good {
	const char *text;	/* canonical, as the setter stores it */
	int family;
	int port;		/* 0: none given */
	const char *lr;		/* the libresolv backend's ns_text (it
				 * refuses an IPv4 address in brackets) */
	const char *in[4];	/* up to a NULL */
} good[] = {
	{ "127.0.0.1", AF_INET, 0, "127.0.0.1:53", { "127.0.0.1" } },
	{ "127.0.0.1:53", AF_INET, 53, "127.0.0.1:53",
	  { "127.0.0.1:53", "127.0.0.1:0053" } },
	{ "192.0.2.53:5353", AF_INET, 5353, "192.0.2.53:5353",
	  { "192.0.2.53:5353" } },
	{ "127.0.0.1:65535", AF_INET, 65535, "127.0.0.1:65535",
	  { "127.0.0.1:65535" } },
	{ "127.0.0.1:1", AF_INET, 1, "127.0.0.1:1", { "127.0.0.1:1" } },
	/* IPv4 in brackets: the setter drops them */
	{ "192.0.2.53:53", AF_INET, 53, "192.0.2.53:53",
	  { "192.0.2.53:53", "[192.0.2.53]:53" } },
	{ "192.0.2.53", AF_INET, 0, "192.0.2.53:53", { "[192.0.2.53]" } },
	/* IPv6: bare (never a port), in brackets with or without one */
	{ "::1", AF_INET6, 0, "[::1]:53", { "::1", "[::1]", "0:0::1" } },
	{ "[::1]:5353", AF_INET6, 5353, "[::1]:5353", { "[::1]:5353" } },
	{ "2001:db8::1:53", AF_INET6, 0, "[2001:db8::1:53]:53",
	  { "2001:db8::1:53" } },
	{ "2001:db8::53", AF_INET6, 0, "[2001:db8::53]:53",
	  { "2001:DB8::53", "2001:db8:0::53", "[2001:db8::53]" } },
	{ "::ffff:192.0.2.1", AF_INET6, 0, "[::ffff:192.0.2.1]:53",
	  { "::ffff:192.0.2.1" } },
	{ "[2001:db8::53]:53", AF_INET6, 53, "[2001:db8::53]:53",
	  { "[2001:db8:0::53]:53", "[2001:DB8::53]:053" } },
};

/* What a refused text's error names, by problem. */
static const struct bad {
	const char *problem;
	const char *in[8];	/* up to a NULL */
} bad[] = {
	{ "missing host", { "", ":53", "[]:53" } },
	{ "missing port", { "127.0.0.1:", "[::1]:" } },
	{ "port out of range (1-65535)",
	  { "127.0.0.1:0", "127.0.0.1:65536",
	    "127.0.0.1:99999999999999999999" } },
	{ "port is not a number",
	  { "127.0.0.1:-1", "127.0.0.1:5x", "127.0.0.1: 53", "[::1]:53]" } },
	{ "missing ']'", { "[::1" } },
	{ "text after ']'", { "[::1]53", "[::1]]" } },
	{ "not an IPv4 or IPv6 address",
	  { "ns1.example.net", "ns1.example.net:53", "[ns1.example.net]:53",
	    "256.1.1.1", "127.1", " 127.0.0.1", "1.2.3.4 ", "fe80::1%eth0" } },
	{ "not an IPv4 or IPv6 address",
	  { "1:2:3:4:5:6:7:8:9", "::1:53:zz",
	    /* 64 octets in the brackets: longer than any address */
	    "[0000:0000:0000:0000:0000:0000:0000:0000:"
	    "0000:0000:0000:0000:0001]" } },
};

/* every input of a table, under its row r */
#define FOR_EACH(table, r, in)						\
	for (const __typeof__(table[0]) *r = table;			\
	     r < table + sizeof(table) / sizeof(table[0]); r++)		\
		for (const char *const *in = r->in;			\
		     in < r->in + sizeof(r->in) / sizeof(r->in[0]) &&	\
		     *in != NULL; in++)

/* the parser: each accepted text's canonical form and parts */
Test(nameserver_parse, accepted)
{
	struct esa_nameserver ns;
	char err[ESA_ERR_MAX];

	FOR_EACH(good, g, in) {
		strcpy(err, "untouched");
		cr_expect_eq(esa_nameserver_parse(*in, &ns, err, sizeof(err)),
			     0, "'%s': %s", *in, err);
		cr_expect_str_eq(ns.text, g->text, "'%s'", *in);
		cr_expect_eq(ns.family, g->family, "'%s'", *in);
		cr_expect_eq(ns.port, g->port, "'%s'", *in);
		cr_expect_eq(ns.bracketed, (*in)[0] == '[', "'%s'", *in);
		cr_expect_str_eq(err, "untouched", "'%s': err written", *in);
	}
}

/* the parser: each refused text's problem, worded as the one message */
Test(nameserver_parse, refused)
{
	struct esa_nameserver ns;
	char err[ESA_ERR_MAX], want[ESA_ERR_MAX];

	FOR_EACH(bad, b, in) {
		snprintf(want, sizeof(want),
			 "bad nameserver '%s': %s " EXPECTED, *in, b->problem);
		cr_expect_eq(esa_nameserver_parse(*in, &ns, err, sizeof(err)),
			     -1, "'%s' accepted", *in);
		cr_expect_str_eq(err, want, "'%s'", *in);
	}
}

/* the canonical text is a fixed point: it parses to the same address and
 * port, and to itself */
Test(nameserver_parse, canonical_text_parses_to_itself)
{
	struct esa_nameserver a, b;

	FOR_EACH(good, g, in) {
		cr_assert_eq(esa_nameserver_parse(*in, &a, NULL, 0), 0);
		cr_assert_eq(esa_nameserver_parse(a.text, &b, NULL, 0), 0,
			     "'%s'", a.text);
		cr_expect_str_eq(b.text, a.text);
		cr_expect_eq(b.family, a.family, "'%s'", a.text);
		cr_expect_eq(b.port, a.port, "'%s'", a.text);
		cr_expect_eq(memcmp(b.addr, a.addr, sizeof(a.addr)), 0,
			     "'%s'", a.text);
	}
}

/* esa_config_set_nameserver stores the parser's text, or keeps the old
 * one and reports the parser's message; "" is the system's list */
Test(nameserver_parse, the_setter_stores_what_the_parser_gives)
{
	esa_config *cfg = esa_config_new();
	struct esa_nameserver ns;
	char err[ESA_ERR_MAX];

	cr_assert_not_null(cfg);
	FOR_EACH(good, g, in) {
		cr_expect_eq(esa_config_set_nameserver(cfg, *in), 0, "'%s'",
			     *in);
		cr_expect_str_eq(cfg->nameserver, g->text, "'%s'", *in);
	}
	FOR_EACH(bad, b, in) {
		if (**in == '\0')
			continue;
		cr_assert_eq(esa_config_set_nameserver(cfg, "192.0.2.1"), 0);
		cr_expect_eq(esa_config_set_nameserver(cfg, *in), -1, "'%s'",
			     *in);
		cr_expect_str_eq(cfg->nameserver, "192.0.2.1", "'%s'", *in);
		esa_nameserver_parse(*in, &ns, err, sizeof(err));
		cr_expect_str_eq(esa_config_error(cfg), err);
	}
	cr_expect_eq(esa_config_set_nameserver(cfg, ""), 0);
	cr_expect_str_eq(cfg->nameserver, "");
	esa_config_free(cfg);
}

/* the libresolv backend takes the same grammar: the address it will ask
 * and how its reasons name it, or "bad nameserver" */
Test(nameserver_parse, the_resolver_takes_the_same_grammar)
{
	char err[ESA_ERR_MAX];
	esa_resolver *res;

	FOR_EACH(good, g, in) {
		res = esa_resolver_libresolv(*in, err, sizeof(err));
		if ((*in)[0] == '[' && g->family == AF_INET) {
			cr_expect_null(res, "'%s' accepted", *in);
			cr_expect(strncmp(err, "bad nameserver '", 16) == 0,
				  "'%s': %s", *in, err);
		} else {
			cr_assert_not_null(res, "'%s': %s", *in, err);
			cr_expect(res->have_ns);
			cr_expect_str_eq(res->ns_text, g->lr, "'%s'", *in);
			cr_expect_eq(res->ns.ss_family, g->family, "'%s'", *in);
		}
		esa_resolver_free(res);
	}
	FOR_EACH(bad, b, in) {
		if (**in == '\0')
			continue;	/* the system's list */
		res = esa_resolver_libresolv(*in, err, sizeof(err));
		cr_expect_null(res, "'%s' accepted", *in);
		cr_expect(strncmp(err, "bad nameserver '", 16) == 0,
			  "'%s': %s", *in, err);
		esa_resolver_free(res);
	}
}

/* hostile text: the message stays one line, control octets escaped, long
 * input cut; no err buffer is fine */
Test(nameserver_parse, hostile_text_is_quoted)
{
	struct esa_nameserver ns;
	char err[ESA_ERR_MAX], longin[300];

	cr_expect_eq(esa_nameserver_parse("127.0.0.1\n:53", &ns, err,
					  sizeof(err)), -1);
	cr_expect_null(strchr(err, '\n'), "%s", err);
	cr_expect_not_null(strstr(err, "'127.0.0.1\\x0a:53'"), "%s", err);

	memset(longin, '1', sizeof(longin) - 1);
	longin[sizeof(longin) - 1] = '\0';
	cr_expect_eq(esa_nameserver_parse(longin, &ns, err, sizeof(err)), -1);
	cr_expect_not_null(strstr(err, "...': not an IPv4 or IPv6 address"),
			   "%s", err);

	cr_expect_eq(esa_nameserver_parse("x", &ns, NULL, 0), -1);
	cr_expect_eq(esa_nameserver_parse(NULL, &ns, err, sizeof(err)), -1);
	cr_expect_str_eq(err, "bad nameserver '': missing host " EXPECTED);
	cr_expect_eq(esa_nameserver_parse("[::1]:53", &ns, err, 8), 0);
	cr_expect_eq(esa_nameserver_parse("[::1", &ns, err, 8), -1);
	cr_expect_str_eq(err, "bad nam", "cut to the buffer, terminated");
}
