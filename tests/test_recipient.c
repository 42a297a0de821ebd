/*
 * test_recipient.c - recipient.c: which recipient domain(s) a connection
 * is judged for when no setter gave one (SPEC 8.3), and how several
 * candidates fold into one decision.  One test per rule of the order:
 * config-route, mx-lookup (narrowed by the name asked for), host, sni.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>

#include "internal.h"

static esa_config *cfg;

static void setup(void)
{
	static const char file[] =
		"[destinations]\n"
		"default tls=preferred\n"
		"secure.example tls=required-verify\n"
		"plain.example tls=preferred\n"
		"[routes]\n"
		"routed.example mx.routes.example, 192.0.2.7\n";

	cfg = esa_config_new();
	cr_assert_not_null(cfg);
	cr_assert_eq(esa_config_load_text(cfg, file, sizeof(file) - 1, "t"), 0,
		     "%s", esa_config_error(cfg));
}

static void teardown(void)
{
	esa_config_free(cfg);
}

TestSuite(recipient, .init = setup, .fini = teardown);

/* facts - a peer at 198.51.100.1 (or addr), the name asked for, learned */
static struct esa_peer_facts facts(const char *name, bool sni,
				   struct esa_learned *l, size_t n)
{
	struct esa_peer_facts p = { .name = name, .name_is_sni = sni,
				    .family = AF_INET, .learned = l,
				    .nlearned = n };

	inet_pton(AF_INET, "198.51.100.1", p.addr);
	return p;
}

/* SPEC 8.3 "config-route": the route the program asked for names its domain */
Test(recipient, config_route_by_the_name_asked_for)
{
	struct esa_peer_facts p = facts("MX.routes.example", false, NULL, 0);
	struct esa_choice ch;

	cr_assert(esa_recipient_choose(cfg, &p, &ch));
	cr_expect_eq(ch.source, ESA_RCPT_CONFIG_ROUTE);
	cr_expect_eq(ch.n, 1);
	cr_expect_str_eq(ch.cands[0].domain, "routed.example");
	cr_expect_str_eq(ch.cands[0].via, "MX.routes.example");
	cr_expect_str_eq(esa_recipient_source_name(ch.source), "config-route");
}

/* "config-route": a route host the program resolved to the peer */
Test(recipient, config_route_by_a_learned_host)
{
	struct esa_learned l[] = { { "", "mx.routes.example" } };
	struct esa_peer_facts p = facts("other.example", false, l, 1);
	struct esa_choice ch;

	cr_assert(esa_recipient_choose(cfg, &p, &ch));
	cr_expect_eq(ch.source, ESA_RCPT_CONFIG_ROUTE);
	cr_expect_str_eq(ch.cands[0].domain, "routed.example");
	cr_expect_str_eq(ch.cands[0].via, "mx.routes.example");
}

/* "config-route": an IP-literal route to the peer's address */
Test(recipient, config_route_by_the_peer_address)
{
	struct esa_peer_facts p = facts(NULL, false, NULL, 0);
	struct esa_choice ch;

	inet_pton(AF_INET, "192.0.2.7", p.addr);
	cr_assert(esa_recipient_choose(cfg, &p, &ch));
	cr_expect_eq(ch.source, ESA_RCPT_CONFIG_ROUTE);
	cr_expect_str_eq(ch.cands[0].domain, "routed.example");
	cr_expect_str_eq(ch.cands[0].via, "192.0.2.7");
}

/* "mx-lookup": every domain whose MX led to the peer, duplicates once */
Test(recipient, mx_lookup_all_when_the_name_does_not_tell)
{
	struct esa_learned l[] = {
		{ "a.example", "mx.hosting.example" },
		{ "b.example", "mx.hosting.example" },
		{ "A.example.", "MX.hosting.example" },	/* the same pair */
		{ "", "unrelated.example" },
	};
	struct esa_peer_facts p = facts(NULL, false, l, 4);
	struct esa_choice ch;

	cr_assert(esa_recipient_choose(cfg, &p, &ch));
	cr_expect_eq(ch.source, ESA_RCPT_MX_LOOKUP);
	cr_assert_eq(ch.n, 2);
	cr_expect_str_eq(ch.cands[0].domain, "a.example");
	cr_expect_str_eq(ch.cands[1].domain, "b.example");
	cr_expect_str_eq(ch.cands[1].via, "mx.hosting.example");
}

/* "mx-lookup" narrowed: to the domain asked for, else to its MX host */
Test(recipient, mx_lookup_narrowed_by_the_name_asked_for)
{
	struct esa_learned l[] = {
		{ "a.example", "mx1.hosting.example" },
		{ "b.example", "mx2.hosting.example" },
	};
	struct esa_peer_facts p = facts("B.example", false, l, 2);
	struct esa_choice ch;

	cr_assert(esa_recipient_choose(cfg, &p, &ch));
	cr_assert_eq(ch.n, 1);
	cr_expect_str_eq(ch.cands[0].domain, "b.example");
	p.name = "mx1.hosting.example.";
	cr_assert(esa_recipient_choose(cfg, &p, &ch));
	cr_assert_eq(ch.n, 1);
	cr_expect_str_eq(ch.cands[0].domain, "a.example");
}

/* "host" and "sni": the name asked for, when nothing else knows */
Test(recipient, host_then_sni_then_nothing)
{
	struct esa_peer_facts p = facts("mail.example", false, NULL, 0);
	struct esa_choice ch;

	cr_assert(esa_recipient_choose(cfg, &p, &ch));
	cr_expect_eq(ch.source, ESA_RCPT_HOST);
	cr_expect_str_eq(ch.cands[0].domain, "mail.example");
	cr_expect_str_eq(ch.cands[0].via, "");
	p.name_is_sni = true;
	cr_assert(esa_recipient_choose(cfg, &p, &ch));
	cr_expect_eq(ch.source, ESA_RCPT_SNI);
	cr_expect_str_eq(esa_recipient_source_name(ESA_RCPT_SNI), "sni");
	p.name = NULL;
	cr_expect_not(esa_recipient_choose(cfg, &p, &ch));
}

/* one candidate whose setting refuses failures makes a failed chain final */
Test(recipient, one_refusing_candidate_refuses)
{
	struct esa_candidate c[] = { { "plain.example", "" },
				     { "secure.example", "" } };

	cr_expect_not(esa_recipient_refuses_failure(cfg, "plain.example", c, 1));
	cr_expect(esa_recipient_refuses_failure(cfg, "secure.example", NULL, 0));
	cr_expect(esa_recipient_refuses_failure(cfg, "plain.example", c, 2));
	/* an invalid domain: the configuration's own default (5) */
	cr_expect(esa_recipient_refuses_failure(cfg, "bad..name", NULL, 0));
}

/* SPEC 5: a MAIL FROM in clear is refused when the setting requires TLS;
 * of several candidates the first requiring TLS judges */
Test(recipient, plaintext_judged_by_the_first_requiring_tls)
{
	struct esa_learned l[] = {
		{ "plain.example", "mx.hosting.example" },
		{ "secure.example", "mx.hosting.example" },
	};
	struct esa_peer_facts p = facts(NULL, false, l, 2);
	struct esa_plaintext pt;

	esa_plaintext_judge(cfg, NULL, &p, "", &pt);
	cr_expect(pt.reject);
	cr_expect_eq(pt.tls, ESA_TLS_REQUIRED_VERIFY);
	cr_expect_str_eq(pt.domain, "secure.example");
	cr_expect_not_null(strstr(pt.why, "requires one"), "%s", pt.why);

	p.nlearned = 1;
	esa_plaintext_judge(cfg, NULL, &p, "", &pt);
	cr_expect_not(pt.reject);
	cr_expect_str_eq(pt.domain, "plain.example");
	cr_expect_not_null(strstr(pt.why, "allows it"), "%s", pt.why);

	esa_plaintext_judge(cfg, "secure.example", &p, NULL, &pt);
	cr_expect(pt.reject, "the recipient given wins");
	cr_expect_str_eq(pt.domain, "secure.example");

	p.nlearned = 0;
	esa_plaintext_judge(cfg, NULL, &p, NULL, &pt);
	cr_expect_eq(pt.tls, ESA_TLS_PREFERRED, "nothing known: the default");
	cr_expect_str_eq(pt.domain, "");

	esa_plaintext_judge(cfg, NULL, &p, "ESA_TLS: bad", &pt);
	cr_expect(pt.reject, "a configuration error fails closed");
	cr_expect_str_eq(pt.why, "configuration error (ESA_TLS: bad)");
}

/* several candidates: a mode passes, and the connection is accepted, only
 * if it does for each; the failing reason names the candidate */
Test(recipient, merge_takes_the_failing_verdict)
{
	struct esa_candidate c[] = { { "a.example", "mx" }, { "b.example", "mx" } };
	struct esa_result *res = esa_result_new(), *other = esa_result_new();

	cr_assert(res && other);
	res->verdict[ESA_MODE_VERIFY].computed = true;
	res->verdict[ESA_MODE_VERIFY].pass = true;
	res->accept = true;
	other->verdict[ESA_MODE_VERIFY].computed = true;
	esa_strlcpy(other->verdict[ESA_MODE_VERIFY].reason, "no match",
		    sizeof(other->verdict[0].reason));
	esa_strlcpy(other->recipient, "b.example", sizeof(other->recipient));
	other->tls = ESA_TLS_REQUIRED_VERIFY_HOSTED;
	cr_assert_eq(esa_candidates_set(res, c, 2), 0);
	esa_candidates_note(res, 0, res);
	esa_candidates_note(res, 1, other);
	esa_candidates_merge(res, other);
	cr_expect_not(esa_result_pass(res, ESA_MODE_VERIFY));
	cr_expect_str_eq(esa_result_reason(res, ESA_MODE_VERIFY),
			 "recipient candidate b.example: no match");
	cr_expect_not(res->accept);
	cr_expect_eq(res->tls, ESA_TLS_REQUIRED_VERIFY_HOSTED,
		     "the setting that refused");
	cr_expect(res->candidates[0].verify_pass);
	cr_expect_not(res->candidates[1].verify_pass);
	cr_expect_str_eq(res->candidates[1].domain, "b.example");
	cr_expect_not(esa_candidates_accept(res));
	esa_result_free(other);
	esa_result_free(res);
}
