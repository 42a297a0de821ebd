/*
 * fuzz_names.c - presented identifiers from a DER certificate (names.c),
 * then both identity algorithms on them (identity.c) and the decision record
 * as JSON and text (result.c)
 *
 * Input: a DER certificate (d2i_X509; most mutations do not parse, the
 * seeds do).  The connection is SPEC 7's: recipient example.com, peer
 * 192.0.2.1, DNS from a static zone where 192.0.2.1 has three PTR names
 * that forward-confirm, one route by name and one by address.
 *
 * Invariants:
 *  - esa_presented_collect fails only with an empty list; otherwise n ==
 *    ndns + ncn, DNS-IDs come first, every raw copy is terminated at len,
 *    every display form is printable ASCII, and an identifier is usable
 *    exactly when the matcher finds it usable (problem NULL iff
 *    esa_presented_problem is), so one names.c refuses can never match;
 *  - a passing verdict names a usable presented identifier that matches
 *    its reference; a failing one has a reason;
 *  - the JSON of the record is one valid JSON value; the text explanation
 *    is written without error.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include <openssl/x509.h>

#include "fuzz.h"
#include "internal.h"
#include "json_check.h"

static const char zone[] =
	"$TTL 300\n"
	"example.com. MX 10 mx01.subd.emailhosted.not.\n"
	"example.com. MX 20 mx02.subd.emailhosted.not.\n"
	"mx01.subd.emailhosted.not. A 192.0.2.1\n"
	"mx02.subd.emailhosted.not. A 192.0.2.2\n"
	"192.0.2.1 PTR mx0a.emailhosted.not.\n"
	"192.0.2.1 PTR mail.example.com.\n"
	"192.0.2.1 PTR xn--bcher-kva.example.\n"
	"mx0a.emailhosted.not. A 192.0.2.1\n"
	"mail.example.com. A 192.0.2.1\n"
	"xn--bcher-kva.example. A 192.0.2.1\n"
	"relay.partner.net. A 192.0.2.1\n";

static esa_resolver *resolver;
static struct esa_route *routes;
static size_t nroutes;
static FILE *devnull;

/* setup - the resolver, routes and sink, once */
static void setup(void)
{
	char err[ESA_ERR_MAX];

	resolver = esa_resolver_static_text(zone, strlen(zone), "fuzz", err,
					    sizeof(err));
	FUZZ_CHECK(resolver != NULL, "%s", err);
	FUZZ_CHECK(esa_routes_parse("relay.partner.net:25, 192.0.2.7/pri=5",
				    &routes, &nroutes, err, sizeof(err)) == 0,
		   "%s", err);
	devnull = fopen("/dev/null", "w");
	FUZZ_CHECK(devnull != NULL, "/dev/null");
}

/* check_ids - the presented-identifier invariants */
static void check_ids(const struct esa_idlist *l)
{
	FUZZ_CHECK(l->n == l->ndns + l->ncn, "%zu != %zu + %zu", l->n,
		   l->ndns, l->ncn);
	for (size_t i = 0; i < l->n; i++) {
		const struct esa_presented *p = &l->ids[i];

		FUZZ_CHECK((p->kind == ESA_ID_DNS) == (i < l->ndns),
			   "DNS-IDs are not first");
		FUZZ_CHECK(p->raw != NULL && p->raw[p->len] == '\0', "raw");
		FUZZ_CHECK(p->display != NULL, "display");
		for (const char *d = p->display; *d != '\0'; d++)
			FUZZ_CHECK(*d >= 0x20 && *d < 0x7f, "unprintable display");
		/* usable exactly when the matcher finds it usable: an id
		 * names.c refuses must never match anything */
		if (p->problem == NULL)
			FUZZ_CHECK(esa_presented_problem(p->raw, p->len) == NULL,
				   "usable id the matcher refuses");
		else
			FUZZ_CHECK(esa_presented_problem(p->raw, p->len) != NULL,
				   "unusable id '%s' (%s) the matcher accepts",
				   p->display, p->problem);
		if (p->problem != NULL)
			FUZZ_CHECK(fuzz_one_line(p->problem, ESA_ERR_MAX),
				   "problem text");
	}
}

/* check_verdict - a pass names a matching usable identifier */
static void check_verdict(const struct esa_result *res, enum esa_mode m)
{
	const struct esa_verdict *v = &res->verdict[m];
	const struct esa_presented *p;

	FUZZ_CHECK(v->computed, "mode %d not computed", (int)m);
	if (!v->pass) {
		FUZZ_CHECK(v->reason[0] != '\0', "a failure without a reason");
		FUZZ_CHECK(v->matched == -1, "a failure with a match");
		return;
	}
	FUZZ_CHECK(v->matched >= 0 && (size_t)v->matched < res->ids.n,
		   "matched %d", v->matched);
	p = &res->ids.ids[v->matched];
	FUZZ_CHECK(p->problem == NULL, "passed on an unusable identifier");
	FUZZ_CHECK(esa_match(p->raw, p->len, v->reference,
			     strlen(v->reference)) == ESA_MATCH_YES,
		   "'%s' does not match '%s'", p->display, v->reference);
	if (m == ESA_MODE_HOSTED && res->ids.ndns > 0)
		FUZZ_CHECK(p->kind == ESA_ID_DNS, "hosted used a CN-ID");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *p = data;
	struct esa_target t;
	struct esa_result *res;
	struct esa_idlist l;
	char *json = NULL;
	X509 *x;

	if (resolver == NULL)
		setup();
	x = d2i_X509(NULL, &p, (long)size);
	if (x == NULL)
		return 0;
	if (esa_presented_collect(x, &l) == 0)
		check_ids(&l);
	else
		FUZZ_CHECK(l.n == 0 && l.ids == NULL, "list left on failure");
	esa_idlist_free(&l);

	memset(&t, 0, sizeof(t));
	strcpy(t.recipient, "example.com");
	t.have_peer = true;
	t.peer_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", t.peer);
	strcpy(t.via, "relay.partner.net");
	t.routes = (data[size - 1] & 1) ? routes : NULL;
	t.nroutes = t.routes ? nroutes : 0;
	res = esa_result_new();
	FUZZ_CHECK(res != NULL, "esa_result_new");
	FUZZ_CHECK(esa_identity_check(res, x, &t, resolver, 5000) == 0,
		   "identity check failed");
	if (res->error[0] == '\0')
		check_ids(&res->ids);
	check_verdict(res, ESA_MODE_VERIFY);
	check_verdict(res, ESA_MODE_HOSTED);
	FUZZ_CHECK(esa_result_json(res, &json) == 0 && json != NULL, "json");
	FUZZ_CHECK(json_check(json, strlen(json), NULL, NULL),
		   "invalid JSON: %.300s", json);
	FUZZ_CHECK(esa_result_explain(res, devnull) == 0, "explain");
	free(json);
	esa_result_free(res);
	X509_free(x);
	return 0;
}
