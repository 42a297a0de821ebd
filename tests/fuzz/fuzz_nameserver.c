/*
 * fuzz_nameserver.c - the nameserver grammar "IP", "IP:PORT",
 * "[IPv6]:PORT", "[IPv6]", bare IPv6 (config.c: esa_nameserver_parse),
 * which ESA_NAMESERVER, esa-check --nameserver and the configuration feed
 * to esa_config_set_nameserver and the libresolv backend.
 *
 * Input: the text (cut at the first NUL, as a C caller would pass it).
 *
 * Invariants:
 *  - on success: an IPv4 or IPv6 address, port 0..65535; the canonical
 *    text parses again to the same address and port and to itself; the
 *    setter stores exactly that text; the libresolv backend takes it
 *    unless it is an IPv4 address in brackets;
 *  - on failure: one line starting "bad nameserver '", the setter fails
 *    with the same message and keeps what it had, the backend refuses.
 */
#include <sys/socket.h>

#include "fuzz.h"
#include "internal.h"

/* check_good - the invariants of a parsed nameserver */
static void check_good(const char *text, const struct esa_nameserver *ns)
{
	struct esa_nameserver again;

	FUZZ_CHECK(ns->family == AF_INET || ns->family == AF_INET6,
		   "family %d", ns->family);
	FUZZ_CHECK(ns->port >= 0 && ns->port <= 65535, "port %d", ns->port);
	FUZZ_CHECK(esa_nameserver_parse(ns->text, &again, NULL, 0) == 0,
		   "'%s' from '%s' does not parse", ns->text, text);
	FUZZ_CHECK(strcmp(again.text, ns->text) == 0 &&
		   again.family == ns->family && again.port == ns->port &&
		   memcmp(again.addr, ns->addr, sizeof(ns->addr)) == 0,
		   "'%s' is not a fixed point", ns->text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size), err[ESA_ERR_MAX];
	struct esa_nameserver ns;
	esa_resolver *r;
	esa_config *cfg;
	int rc;

	err[0] = '\0';
	rc = esa_nameserver_parse(text, &ns, err, sizeof(err));
	if (rc == 0)
		check_good(text, &ns);
	else
		FUZZ_CHECK(strncmp(err, "bad nameserver '", 16) == 0 &&
			   fuzz_one_line(err, sizeof(err)), "reason '%s'", err);

	cfg = esa_config_new();
	FUZZ_CHECK(cfg != NULL, "esa_config_new");
	if (text[0] != '\0') {	/* "" is the system's list */
		FUZZ_CHECK(esa_config_set_nameserver(cfg, "192.0.2.1") == 0,
			   "setter");
		FUZZ_CHECK(esa_config_set_nameserver(cfg, text) == rc,
			   "the setter disagrees with the parser");
		FUZZ_CHECK(strcmp(cfg->nameserver, rc == 0 ? ns.text :
				  "192.0.2.1") == 0, "stored '%s'",
			   cfg->nameserver);
		FUZZ_CHECK(rc == 0 || strcmp(esa_config_error(cfg), err) == 0,
			   "'%s' vs '%s'", esa_config_error(cfg), err);

		r = esa_resolver_libresolv(text, err, sizeof(err));
		FUZZ_CHECK((r != NULL) == (rc == 0 && !(ns.bracketed &&
							ns.family == AF_INET)),
			   "the resolver disagrees with the parser: %s", err);
		esa_resolver_free(r);
	}
	esa_config_free(cfg);
	free(text);
	return 0;
}
