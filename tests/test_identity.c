/*
 * test_identity.c - one test per rule of SPEC 4.1 (Verify) and 4.2 (Verify
 * Hosted Domains), plus the reference example of SPEC 7.
 *
 * Presented identifiers are built by hand and DNS comes from the static
 * master-file resolver, so every rule is tested alone and without network.
 * res->dns (the decision record's query log) shows which queries were sent.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <criterion/criterion.h>

#include "internal.h"
#include "spec7.h"

/* Lines for the other rules, after SPEC 7's DNS. */
static const char extra[] =
	/* 192.0.2.9 claims mx0a, whose A record is 192.0.2.1: not confirmed */
	"9.2.0.192.in-addr.arpa. PTR mx0a.emailhosted.not.\n"
	/* an IPv6 peer */
	"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. PTR mx6.emailhosted.not.\n"
	"mx6.emailhosted.not. AAAA 2001:db8::1\n"
	/* routes */
	"relay1.partner.net. A 192.0.2.50\n"
	"relay2.partner.net. A 192.0.2.1\n"
	/* a domain whose MX server is unreachable in DNS */
	"hosted.example. MX 10 mx.provider.net.\n";

static esa_resolver *resolver;
static struct esa_result *res;
static struct esa_target target;
static struct esa_route *routes;

/* setup - a fresh result, target example.com from 192.0.2.1 */
static void setup(void)
{
	resolver = spec7_resolver(extra);
	res = esa_result_new();
	cr_assert_not_null(res);
	memset(&target, 0, sizeof(target));
	strcpy(target.recipient, "example.com");
	target.have_peer = true;
	target.peer_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", target.peer);
}

static void teardown(void)
{
	esa_result_free(res);
	esa_resolver_free(resolver);
	free(routes);
	routes = NULL;
}

/* present - give the certificate these identifiers ("dns:x" / "cn:x") */
static void present(const char *const *ids)
{
	for (; *ids != NULL; ids++) {
		struct esa_idlist *l = &res->ids;
		struct esa_presented *p;
		const char *v = strchr(*ids, ':') + 1;

		l->ids = realloc(l->ids, (l->n + 1) * sizeof(*l->ids));
		p = &l->ids[l->n++];
		p->kind = strncmp(*ids, "dns:", 4) == 0 ? ESA_ID_DNS : ESA_ID_CN;
		p->raw = strdup(v);
		p->display = strdup(v);
		p->len = strlen(v);
		p->problem = esa_presented_problem(p->raw, p->len);
		if (p->kind == ESA_ID_DNS)
			l->ndns++;
		else
			l->ncn++;
	}
}

/* run - decide one mode; returns the verdict */
static const struct esa_verdict *run(enum esa_mode mode)
{
	cr_assert_eq(esa_identity_decide(res, mode, &target, resolver,
					 esa_now_ms() + 5000), 0);
	return &res->verdict[mode];
}

/* queried - how many queries of type were sent */
static size_t queried(uint16_t type)
{
	size_t n = 0;

	for (size_t i = 0; i < res->ndns; i++)
		n += res->dns[i].type == type;
	return n;
}

static const char *const reference_cert[] = {
	"dns:*.emailhosted.not", "dns:emailhosted.not", "cn:*.emailhosted.not",
	NULL };

TestSuite(verify, .init = setup, .fini = teardown);
TestSuite(hosted, .init = setup, .fini = teardown);
TestSuite(reference_example, .init = setup, .fini = teardown);

/* ---- SPEC 7 -------------------------------------------------------------- */

Test(reference_example, verify_passes_via_forward_confirmed_ptr)
{
	const struct esa_verdict *v;

	present(reference_cert);
	v = run(ESA_MODE_VERIFY);
	cr_assert(v->pass, "reason: %s", v->reason);
	cr_assert_eq(v->source, ESA_SOURCE_PTR);
	cr_assert_str_eq(v->reference, "mx0a.emailhosted.not");
	cr_assert_str_eq(res->ids.ids[v->matched].raw, "*.emailhosted.not");
	cr_assert_eq(res->ids.ids[v->matched].kind, ESA_ID_CN);
	/* the walk: DNS-IDs vs domain, CN vs domain, CN vs PTR name */
	cr_assert_eq(v->ntries, 3);
	cr_assert_eq(v->tries[0].against, ESA_ID_DNS);
	cr_assert_eq(v->tries[0].outcome, ESA_TRY_NOMATCH);
	cr_assert_eq(v->tries[1].against, ESA_ID_CN);
	cr_assert_eq(v->tries[1].outcome, ESA_TRY_NOMATCH);
	cr_assert_eq(v->tries[2].outcome, ESA_TRY_MATCH);
	/* exactly PTR and A were needed */
	cr_assert_eq(res->ndns, 2);
	cr_assert_eq(queried(ESA_T_PTR), 1);
	cr_assert_eq(queried(ESA_T_A), 1);
}

Test(reference_example, hosted_fails_on_mx_names)
{
	const struct esa_verdict *v;

	present(reference_cert);
	v = run(ESA_MODE_HOSTED);
	cr_assert_not(v->pass);
	cr_assert_eq(v->ntries, 3, "recipient + two MX names, got %zu", v->ntries);
	cr_assert_eq(v->tries[0].source, ESA_SOURCE_RECIPIENT);
	cr_assert_str_eq(v->tries[1].reference, "mx01.subd.emailhosted.not");
	cr_assert_eq(v->tries[1].source, ESA_SOURCE_MX);
	cr_assert_str_eq(v->tries[2].reference, "mx02.subd.emailhosted.not");
	for (size_t i = 0; i < v->ntries; i++)
		cr_assert_eq(v->tries[i].against, ESA_ID_DNS,
			     "CN is not used when DNS-IDs exist");
	cr_assert_eq(queried(ESA_T_PTR), 0, "the PTR name is never used");
	cr_assert_eq(queried(ESA_T_MX), 1);
	cr_assert(strstr(v->reason, "MX") != NULL, "reason: %s", v->reason);
}

/* ---- SPEC 4.1 Verify ----------------------------------------------------- */

Test(verify, rule_1_dns_id_matching_recipient_passes_without_dns)
{
	const char *const ids[] = { "dns:example.com", "cn:other.example", NULL };
	const struct esa_verdict *v;

	present(ids);
	v = run(ESA_MODE_VERIFY);
	cr_assert(v->pass);
	cr_assert_eq(v->source, ESA_SOURCE_RECIPIENT);
	cr_assert_eq(res->ndns, 0, "lazy DNS: nothing to ask");
}

Test(verify, rule_1_wildcard_dns_id_matches_recipient)
{
	const char *const ids[] = { "dns:*.example.com", NULL };

	strcpy(target.recipient, "mail.example.com");
	present(ids);
	cr_assert(run(ESA_MODE_VERIFY)->pass);
}

Test(verify, rule_1_dns_ids_never_compared_with_ptr_names)
{
	/* the DNS-ID equals the FCrDNS name, the CN matches nothing */
	const char *const ids[] = { "dns:mx0a.emailhosted.not", "cn:unrelated.example", NULL };
	const struct esa_verdict *v;

	present(ids);
	v = run(ESA_MODE_VERIFY);
	cr_assert_not(v->pass);
	for (size_t i = 0; i < v->ntries; i++)
		cr_assert(v->tries[i].source != ESA_SOURCE_PTR ||
			  v->tries[i].against == ESA_ID_CN);
}

Test(verify, rule_2_cn_checked_even_when_dns_ids_exist)
{
	const char *const ids[] = { "dns:other.example", "cn:example.com", NULL };
	const struct esa_verdict *v;

	present(ids);
	v = run(ESA_MODE_VERIFY);
	cr_assert(v->pass);
	cr_assert_eq(v->source, ESA_SOURCE_RECIPIENT);
	cr_assert_eq(res->ids.ids[v->matched].kind, ESA_ID_CN);
	cr_assert_eq(res->ndns, 0);
}

Test(verify, rule_2_cn_only_certificate_matches_recipient)
{
	const char *const ids[] = { "cn:example.com", NULL };

	present(ids);
	cr_assert(run(ESA_MODE_VERIFY)->pass);
}

Test(verify, rule_3_cn_matches_fcrdns_name)
{
	const char *const ids[] = { "cn:mx0a.emailhosted.not", NULL };
	const struct esa_verdict *v;

	present(ids);
	v = run(ESA_MODE_VERIFY);
	cr_assert(v->pass);
	cr_assert_eq(v->source, ESA_SOURCE_PTR);
}

Test(verify, rule_3_ptr_name_not_forward_confirmed_fails)
{
	const char *const ids[] = { "cn:mx0a.emailhosted.not", NULL };
	const struct esa_verdict *v;

	inet_pton(AF_INET, "192.0.2.9", target.peer);
	present(ids);
	v = run(ESA_MODE_VERIFY);
	cr_assert_not(v->pass);
	cr_assert_eq(v->tries[v->ntries - 1].outcome, ESA_TRY_NOT_CONFIRMED);
	cr_assert(strstr(v->tries[v->ntries - 1].note, "192.0.2.1") != NULL,
		  "note: %s", v->tries[v->ntries - 1].note);
}

Test(verify, rule_3_ipv6_peer_confirmed_by_aaaa)
{
	const char *const ids[] = { "cn:mx6.emailhosted.not", NULL };
	const struct esa_verdict *v;

	target.peer_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::1", target.peer);
	present(ids);
	v = run(ESA_MODE_VERIFY);
	cr_assert(v->pass, "reason: %s", v->reason);
	cr_assert_eq(queried(ESA_T_AAAA), 1);
	cr_assert_eq(queried(ESA_T_A), 0);
}

Test(verify, rule_3_mx_names_are_never_reference_identifiers)
{
	const char *const ids[] = { "cn:mx01.subd.emailhosted.not", NULL };
	const struct esa_verdict *v;

	present(ids);
	v = run(ESA_MODE_VERIFY);
	cr_assert_not(v->pass);
	cr_assert_eq(queried(ESA_T_MX), 0);
}

Test(verify, rule_3_no_ptr_query_without_a_usable_cn)
{
	const char *const ids[] = { "dns:other.example", NULL };

	present(ids);
	cr_assert_not(run(ESA_MODE_VERIFY)->pass);
	cr_assert_eq(res->ndns, 0);
}

Test(verify, rule_3_failed_ptr_lookup_fails_closed)
{
	const char *const ids[] = { "cn:mx0a.emailhosted.not", NULL };
	const struct esa_verdict *v;

	inet_pton(AF_INET, "192.0.2.77", target.peer);	/* no PTR: NXDOMAIN */
	present(ids);
	v = run(ESA_MODE_VERIFY);
	cr_assert_not(v->pass);
	cr_assert_eq(v->tries[v->ntries - 1].outcome, ESA_TRY_LOOKUP_FAILED);
	cr_assert_eq(res->dns[0].status, ESA_DNS_NXDOMAIN);
}

Test(verify, rule_3_unknown_peer_fails_without_queries)
{
	const char *const ids[] = { "cn:mx0a.emailhosted.not", NULL };

	target.have_peer = false;
	present(ids);
	cr_assert_not(run(ESA_MODE_VERIFY)->pass);
	cr_assert_eq(res->ndns, 0);
}

Test(verify, rule_3_at_most_eight_ptr_names)
{
	static const char many[] =
		"5.2.0.192.in-addr.arpa. PTR n1.example.net.\n"
		"5.2.0.192.in-addr.arpa. PTR n2.example.net.\n"
		"5.2.0.192.in-addr.arpa. PTR n3.example.net.\n"
		"5.2.0.192.in-addr.arpa. PTR n4.example.net.\n"
		"5.2.0.192.in-addr.arpa. PTR n5.example.net.\n"
		"5.2.0.192.in-addr.arpa. PTR n6.example.net.\n"
		"5.2.0.192.in-addr.arpa. PTR n7.example.net.\n"
		"5.2.0.192.in-addr.arpa. PTR n8.example.net.\n"
		"5.2.0.192.in-addr.arpa. PTR n9.example.net.\n"
		"n9.example.net. A 192.0.2.5\n";
	const char *const ids[] = { "cn:n9.example.net", NULL };
	char err[ESA_ERR_MAX];

	esa_resolver_free(resolver);
	resolver = esa_resolver_static_text(many, strlen(many), "many", err,
					    sizeof(err));
	cr_assert_not_null(resolver, "%s", err);
	inet_pton(AF_INET, "192.0.2.5", target.peer);
	present(ids);
	cr_assert_not(run(ESA_MODE_VERIFY)->pass, "the 9th name is not used");
	cr_assert_eq(queried(ESA_T_A), 0);
}

Test(verify, no_recipient_domain_fails_closed)
{
	const char *const ids[] = { "cn:mx0a.emailhosted.not", NULL };
	const struct esa_verdict *v;

	target.recipient[0] = '\0';
	present(ids);
	v = run(ESA_MODE_VERIFY);
	cr_assert_not(v->pass);
	cr_assert_str_eq(v->reason, "no recipient domain");
	cr_assert_eq(res->ndns, 0);
}

Test(verify, no_resolver_fails_closed)
{
	const char *const ids[] = { "cn:mx0a.emailhosted.not", NULL };

	present(ids);
	cr_assert_eq(esa_identity_decide(res, ESA_MODE_VERIFY, &target, NULL,
					 esa_now_ms() + 1000), 0);
	cr_assert_not(res->verdict[ESA_MODE_VERIFY].pass);
}

/* ---- SPEC 4.2 Verify Hosted Domains -------------------------------------- */

/* set_routes - give the recipient domain these routes */
static void set_routes(const char *text)
{
	size_t n;
	char why[ESA_ERR_MAX];

	free(routes);
	cr_assert_eq(esa_routes_parse(text, &routes, &n, why, sizeof(why)), 0,
		     "%s", why);
	target.routes = routes;
	target.nroutes = n;
}

Test(hosted, presented_is_dns_ids_when_any_cn_ignored)
{
	const char *const ids[] = { "dns:other.example", "cn:example.com", NULL };
	const struct esa_verdict *v;

	present(ids);
	v = run(ESA_MODE_HOSTED);
	cr_assert_not(v->pass, "no fallback to the CN");
	for (size_t i = 0; i < v->ntries; i++)
		cr_assert_eq(v->tries[i].against, ESA_ID_DNS);
}

Test(hosted, presented_is_cn_when_no_dns_id)
{
	const char *const ids[] = { "cn:example.com", NULL };
	const struct esa_verdict *v;

	present(ids);
	v = run(ESA_MODE_HOSTED);
	cr_assert(v->pass);
	cr_assert_eq(res->ids.ids[v->matched].kind, ESA_ID_CN);
}

Test(hosted, rule_1_recipient_domain_first_without_dns)
{
	const char *const ids[] = { "dns:example.com", NULL };
	const struct esa_verdict *v;

	present(ids);
	v = run(ESA_MODE_HOSTED);
	cr_assert(v->pass);
	cr_assert_eq(v->source, ESA_SOURCE_RECIPIENT);
	cr_assert_eq(res->ndns, 0);
}

Test(hosted, rule_2_route_connected_through_matches)
{
	const char *const ids[] = { "dns:relay1.partner.net", NULL };
	const struct esa_verdict *v;

	set_routes("relay1.partner.net:25/pri=0, relay2.partner.net/pri=10");
	strcpy(target.via, "relay1.partner.net");
	present(ids);
	v = run(ESA_MODE_HOSTED);
	cr_assert(v->pass, "%s", v->reason);
	cr_assert_eq(v->source, ESA_SOURCE_ROUTE);
	cr_assert_eq(res->ndns, 0, "the route used needs no lookup");
}

Test(hosted, rule_2_other_route_resolving_to_peer_matches)
{
	/* connected through relay1 (192.0.2.50?) but the peer is 192.0.2.1,
	 * which relay2 also resolves to: one connection, both names count */
	const char *const ids[] = { "dns:relay2.partner.net", NULL };
	const struct esa_verdict *v;

	set_routes("relay1.partner.net, relay2.partner.net");
	strcpy(target.via, "relay1.partner.net");
	present(ids);
	v = run(ESA_MODE_HOSTED);
	cr_assert(v->pass, "%s", v->reason);
	cr_assert_str_eq(v->reference, "relay2.partner.net");
	cr_assert_eq(queried(ESA_T_A), 1);
}

Test(hosted, rule_2_route_not_leading_to_peer_fails)
{
	const char *const ids[] = { "dns:relay1.partner.net", NULL };
	const struct esa_verdict *v;

	set_routes("relay2.partner.net, relay1.partner.net");
	strcpy(target.via, "relay2.partner.net");	/* peer 192.0.2.1 */
	present(ids);
	v = run(ESA_MODE_HOSTED);
	cr_assert_not(v->pass);
	cr_assert_eq(v->tries[v->ntries - 1].outcome, ESA_TRY_NOT_PEER);
}

Test(hosted, rule_2_with_fqdn_routes_mx_names_are_not_used)
{
	const char *const ids[] = { "dns:mx01.subd.emailhosted.not", NULL };
	const struct esa_verdict *v;

	set_routes("relay1.partner.net");
	strcpy(target.via, "relay1.partner.net");
	present(ids);
	v = run(ESA_MODE_HOSTED);
	cr_assert_not(v->pass);
	cr_assert_eq(queried(ESA_T_MX), 0);
	cr_assert(strstr(v->reason, "route") != NULL, "%s", v->reason);
}

Test(hosted, rule_3_ip_literal_routes_fall_back_to_mx)
{
	const char *const ids[] = { "dns:mx01.subd.emailhosted.not", NULL };
	const struct esa_verdict *v;

	set_routes("192.0.2.1, [2001:db8::25]:2525");
	present(ids);
	v = run(ESA_MODE_HOSTED);
	cr_assert(v->pass, "%s", v->reason);
	cr_assert_eq(v->source, ESA_SOURCE_MX);
}

Test(hosted, rule_3_mx_name_matches)
{
	const char *const ids[] = { "dns:mx02.subd.emailhosted.not", NULL };
	const struct esa_verdict *v;

	present(ids);
	v = run(ESA_MODE_HOSTED);
	cr_assert(v->pass);
	cr_assert_eq(v->source, ESA_SOURCE_MX);
	cr_assert_str_eq(v->reference, "mx02.subd.emailhosted.not");
}

Test(hosted, rule_3_wildcard_covers_one_label_of_mx_name)
{
	const char *const ids[] = { "dns:*.subd.emailhosted.not", NULL };

	present(ids);
	cr_assert(run(ESA_MODE_HOSTED)->pass);
}

Test(hosted, rule_3_ptr_name_is_never_used)
{
	const char *const ids[] = { "dns:mx0a.emailhosted.not", NULL };

	present(ids);
	cr_assert_not(run(ESA_MODE_HOSTED)->pass);
	cr_assert_eq(queried(ESA_T_PTR), 0);
}

Test(hosted, rule_4_failed_mx_lookup_fails_closed)
{
	const char *const ids[] = { "dns:mx.provider.net", NULL };
	const struct esa_verdict *v;

	strcpy(target.recipient, "nowhere.example");	/* NXDOMAIN */
	present(ids);
	v = run(ESA_MODE_HOSTED);
	cr_assert_not(v->pass);
	cr_assert_eq(v->tries[v->ntries - 1].outcome, ESA_TRY_LOOKUP_FAILED);
}

Test(hosted, malformed_certificate_fails_closed)
{
	const struct esa_verdict *v;

	strcpy(res->error, "malformed certificate");
	v = run(ESA_MODE_HOSTED);
	cr_assert_not(v->pass);
	cr_assert_str_eq(v->reason, "malformed certificate");
}
