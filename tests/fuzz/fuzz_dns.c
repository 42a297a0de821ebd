/*
 * fuzz_dns.c - the libresolv backend's answer parser (dns_libresolv.c,
 * ans_parse via esa_dns_parse_answer): question check, RCODE, AD bit,
 * CNAME chain with loops and limits, record data, name decompression,
 * negative TTL.
 *
 * Input: one control byte, then a whole DNS message as it would come back
 * from a server.  Control bits 0-1 choose the type asked (A, AAAA, MX,
 * PTR); bit 2 takes the query name from the message's own question (so the
 * fuzzer gets past the question check easily), else it is "example.com".
 * The message's ID is taken as the query's.
 *
 * Invariants (internal.h, "dns.c, dns_libresolv.c, dnsfile.c"):
 *  - status OK exactly when at least one record was kept; at most
 *    ESA_DNS_MAX_RR records; each of the type asked;
 *  - MX/PTR names are canonical (esa_dns_canon leaves them unchanged) and
 *    never the root; MX sorted by preference;
 *  - TTLs never have the top bit set (RFC 2181 8), the lifetime is capped
 *    at 3600 s and is 0 for anything that is not an answer;
 *  - a CNAME target to chase is canonical, and only comes with NODATA;
 *  - the reason is one line.
 */
#include <arpa/nameser.h>
#include <resolv.h>

#include "fuzz.h"
#include "dns_impl.h"

static const uint16_t types[4] = { ESA_T_A, ESA_T_AAAA, ESA_T_MX, ESA_T_PTR };

/* question_name - the canonical name of the message's question, or "" */
static void question_name(const uint8_t *msg, size_t len, char *out)
{
	char text[NS_MAXDNAME];
	ns_msg m;
	ns_rr q;

	out[0] = '\0';
	if (ns_initparse(msg, (int)len, &m) < 0 ||
	    ns_msg_count(m, ns_s_qd) < 1 || ns_parserr(&m, ns_s_qd, 0, &q) < 0)
		return;
	strncpy(text, ns_rr_name(q), sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	if (esa_dns_canon(text, out, ESA_NAME_MAX, NULL) != 0)
		out[0] = '\0';
}

/* check_name - canonical and not the root */
static void check_name(const char *name)
{
	char again[ESA_NAME_MAX];

	FUZZ_CHECK(name[0] != '\0', "an empty name kept");
	FUZZ_CHECK(esa_dns_canon(name, again, sizeof(again), NULL) == 0 &&
		   strcmp(name, again) == 0, "'%s' not canonical", name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char qname[ESA_NAME_MAX], next[ESA_NAME_MAX];
	struct esa_answer out;
	uint16_t type;
	uint32_t life;

	if (size < 1)
		return 0;
	type = types[data[0] & 3];
	strcpy(qname, "example.com");
	if (data[0] & 4) {
		question_name(data + 1, size - 1, qname);
		if (qname[0] == '\0')
			strcpy(qname, "example.com");
	}
	life = esa_dns_parse_answer(data + 1, size - 1, qname, type, &out, next);

	FUZZ_CHECK((out.status == ESA_DNS_OK) == (out.count > 0),
		   "status %d with %zu records", (int)out.status, out.count);
	FUZZ_CHECK(out.count <= ESA_DNS_MAX_RR, "%zu records", out.count);
	FUZZ_CHECK(life <= 3600, "lifetime %u", life);
	FUZZ_CHECK(out.status == ESA_DNS_OK || out.status == ESA_DNS_NODATA ||
		   out.status == ESA_DNS_NXDOMAIN || life == 0,
		   "a failure (%d) would be cached for %u s", (int)out.status,
		   life);
	FUZZ_CHECK(fuzz_one_line(out.reason, sizeof(out.reason)), "reason");
	for (size_t i = 0; i < out.count; i++) {
		const struct esa_rr *rr = &out.rr[i];

		FUZZ_CHECK(rr->type == type, "type %u kept for %u", rr->type,
			   type);
		FUZZ_CHECK(rr->ttl <= 0x7fffffffu, "ttl %u", rr->ttl);
		if (type == ESA_T_MX || type == ESA_T_PTR)
			check_name(rr->name);
		if (type == ESA_T_MX && i > 0)
			FUZZ_CHECK(out.rr[i - 1].pref <= rr->pref, "MX unsorted");
	}
	if (next[0] != '\0') {
		check_name(next);
		FUZZ_CHECK(out.status == ESA_DNS_NODATA, "chase after %d",
			   (int)out.status);
	}
	esa_answer_free(&out);
	return 0;
}
