/*
 * live_report.c - what esa-check's live mode prints (SPEC 8.2)
 *
 * Text, as the search goes: the host list and where it came from, then per
 * host its address lookups and per address each step of the session
 * (connect, greeting, EHLO and whether STARTTLS was offered, the STARTTLS
 * reply, protocol and cipher, the chain the server sent), the decision
 * record as esa_result_explain writes it (indented), and what the attempt
 * came to; at the end the host used, or why none.  The model is what ESA's
 * tlsverify and Postfix's posttls-finger show.
 *
 * JSON, at the end: one object whose top level holds the SPEC 8.2 members
 * (esa_result_json_fields) of the host used, else of the first host that
 * presented a certificate, else of a record saying why none did; then
 * "mode", "hosts_from", "hosts_error", "ehlo", "lookups", "attempts" (one
 * per address contacted, each with its own SPEC 8.2 "result"), "used" and
 * "first_pass".
 *
 * Everything the server or the certificate said is escaped: put_safe in
 * text, the JSON writer's escaping in JSON.
 */
#include <stdlib.h>
#include <string.h>

#include "live.h"
#include "result_impl.h"

/* put_safe - s with every non-printable octet as \xNN */
static void put_safe(FILE *out, const char *s)
{
	for (const unsigned char *u = (const unsigned char *)(s ? s : "");
	     *u != '\0'; u++) {
		if (*u < 0x20 || *u >= 0x7F)
			fprintf(out, "\\x%02x", *u);
		else
			fputc(*u, out);
	}
}

/* modes_text - "verify", "hosted" or "both" */
static const char *modes_text(unsigned modes)
{
	if (modes == (1u << ESA_MODE_VERIFY))
		return "verify";
	if (modes == (1u << ESA_MODE_HOSTED))
		return "hosted";
	return "both";
}

/* mode_title - a mode as the offline explanation names it */
static const char *mode_title(int m)
{
	return m == ESA_MODE_VERIFY ? "Verify (settings 4, 5)"
				    : "Verify Hosted Domains (setting 6)";
}

/* host_label - "name (MX 10)", "name (route, priority 0)", ... */
static void host_label(const struct live_host *h, FILE *out)
{
	put_safe(out, h->name);
	if (h->source == LIVE_SRC_MX)
		fprintf(out, " (MX %d)", h->pri);
	else if (h->source == LIVE_SRC_ROUTE)
		fprintf(out, " (route, priority %d%s)", h->pri,
			h->is_ip ? ", IP literal" : "");
	else
		fputs(" (implicit MX: the domain has no MX record)", out);
}

/* addr_label - "[192.0.2.1]:25" */
static void addr_label(const struct live_attempt *a, FILE *out)
{
	fprintf(out, "[%s]:%d", a->addr_text, a->port);
}

/* lookup_line - one DNS query to find hosts or addresses */
static void lookup_line(const struct live_lookup *k, FILE *out)
{
	if (k->status == ESA_DNS_OK || k->reason[0] == '\0') {
		fprintf(out, "%s ", esa_rrtype_name(k->type));
		put_safe(out, k->name);
		fprintf(out, ": %s, %zu answer%s", esa_dns_status_name(k->status),
			k->count, k->count == 1 ? "" : "s");
	} else {
		put_safe(out, k->reason);	/* "TYPE name: why" */
	}
	fprintf(out, " (%u ms)\n", k->ms);
}

/* live_report_start - what is checked, and the host list */
void live_report_start(const struct live *l, FILE *out)
{
	fputs("live check of ", out);
	put_safe(out, l->o->domain);
	fprintf(out, " (mode %s; destination setting %s (%d); EHLO %s; "
		"timeout %g s per step)\n", modes_text(l->o->modes),
		esa_tls_name(l->tls), (int)l->tls, l->ehlo,
		l->o->timeout_ms / 1000.0);
	for (size_t k = 0; k < l->nlookups; k++) {
		fputs("dns: ", out);
		lookup_line(&l->lookups[k], out);
	}
	if (l->hosts_error[0] != '\0') {
		fputs("hosts: none: ", out);
		put_safe(out, l->hosts_error);
		fputc('\n', out);
		return;
	}
	fprintf(out, "hosts, from %s, in order:\n",
		l->from == LIVE_SRC_ROUTE ? "the SMTP routes of the domain" :
		l->from == LIVE_SRC_MX ? "its MX records" :
		"no MX record: the domain itself (RFC 5321 5.1)");
	for (size_t h = 0; h < l->nhosts; h++) {
		fprintf(out, "  %zu. ", h + 1);
		host_label(&l->hosts[h], out);
		fputc('\n', out);
	}
}

/* live_report_host - a host reached: its address lookups */
void live_report_host(const struct live *l, size_t host, size_t lookup0,
		      FILE *out)
{
	fputs("\n== ", out);
	host_label(&l->hosts[host], out);
	fputc('\n', out);
	if (l->hosts[host].is_ip)
		fputs("   an IP address: no lookup\n", out);
	for (size_t k = lookup0; k < l->nlookups; k++) {
		fputs("   dns: ", out);
		lookup_line(&l->lookups[k], out);
	}
}

/* live_report_duplicate - an address already tried is not tried again */
void live_report_duplicate(const struct live *l, size_t att, FILE *out)
{
	const struct live_attempt *a = &l->att[att];

	fputs("-- ", out);
	addr_label(a, out);
	fprintf(out, ": already tried (attempt %zu, through ", att + 1);
	put_safe(out, l->hosts[a->host].name);
	fputs("): one connection per address, not contacted again\n", out);
}

/* explain_indented - the decision record, each line indented */
static void explain_indented(const struct esa_result *res, FILE *out)
{
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	if (mem == NULL)
		return;
	esa_result_explain(res, mem);
	fclose(mem);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save))
		fprintf(out, "   | %s\n", line);
	free(text);
}

/* session_steps - connect, greeting, EHLO, STARTTLS, TLS, chain */
static void session_steps(const struct live *l, const struct live_attempt *a,
			  FILE *out)
{
	if (!a->connected)
		return;
	fputs("   connect: ok\n", out);
	if (a->banner[0] != '\0') {
		fputs("   greeting: ", out);
		put_safe(out, a->banner);
		fputc('\n', out);
	}
	if (a->ehlo_ok)
		fprintf(out, "   EHLO %s: STARTTLS %s\n", l->ehlo,
			a->starttls ? "offered" : "NOT offered");
	if (a->starttls_reply[0] != '\0') {
		fputs("   STARTTLS: ", out);
		put_safe(out, a->starttls_reply);
		fputc('\n', out);
	}
	if (!a->tls_done)
		return;
	fprintf(out, "   TLS: %s, cipher %s (%d bits)\n", a->protocol,
		a->cipher, a->bits);
	fprintf(out, "   chain sent by the server (%zu certificate%s):\n",
		a->nchain, a->nchain == 1 ? "" : "s");
	for (size_t k = 0; k < a->nchain; k++) {
		fprintf(out, "     %zu subject: ", k);
		put_safe(out, a->chain[k].subject);
		fputs("\n       issuer:  ", out);
		put_safe(out, a->chain[k].issuer);
		fputc('\n', out);
	}
}

/* live_report_attempt - one address contacted, step by step */
void live_report_attempt(const struct live *l, size_t att, FILE *out)
{
	const struct live_attempt *a = &l->att[att];

	fprintf(out, "-- attempt %zu: ", att + 1);
	if (a->have_addr)
		addr_label(a, out);
	else
		put_safe(out, l->hosts[a->host].name);
	if (a->have_addr)
		fprintf(out, " (%u ms)", a->ms);
	fputc('\n', out);
	session_steps(l, a, out);
	if (a->res != NULL)
		explain_indented(a->res, out);
	if (a->outcome == LIVE_PASSED)
		fputs("   => PASS: ", out);
	else
		fprintf(out, "   => FAIL (%s): ", live_outcome_name(a->outcome));
	put_safe(out, a->reason);
	fputs(a->outcome == LIVE_PASSED ? "; this host is used\n" : "\n", out);
}

/* attempt_label - "attempt 1, name [addr]:port" */
static void attempt_label(const struct live *l, long i, FILE *out)
{
	const struct live_attempt *a = &l->att[i];

	fprintf(out, "attempt %ld, ", i + 1);
	put_safe(out, l->hosts[a->host].name);
	fputc(' ', out);
	addr_label(a, out);
}

/* live_report_end - the host used, or why none; per mode the first host
 * that passed it, which is the one ESA would use under its setting */
void live_report_end(const struct live *l, FILE *out)
{
	fputs("\nresult: ", out);
	if (l->used >= 0) {
		attempt_label(l, l->used, out);
		fputs(" passes; the hosts after it are not contacted\n", out);
	} else if (l->natt == 0 && l->hosts_error[0] != '\0') {
		fputs("no host to check: ", out);
		put_safe(out, l->hosts_error);
		fputc('\n', out);
	} else {
		fprintf(out, "no host passes %s (%zu attempt%s)\n",
			l->o->no_chain ? "every requested mode" :
			"the chain and every requested mode", l->natt,
			l->natt == 1 ? "" : "s");
	}
	for (int m = ESA_MODE_VERIFY; m <= ESA_MODE_HOSTED; m++) {
		if (!(l->o->modes & (1u << m)))
			continue;
		fprintf(out, "  %s: ", mode_title(m));
		if (l->first_pass[m] >= 0) {
			fputs("PASS on ", out);
			attempt_label(l, l->first_pass[m], out);
		} else {
			fputs("FAIL on every host tried", out);
		}
		fputc('\n', out);
	}
}

/* ---- JSON --------------------------------------------------------------- */

/* json_index - an attempt index, or null */
static void json_index(struct esa_json *j, const char *key, long i)
{
	if (i < 0)
		esa_json_knull(j, key);
	else
		esa_json_kint(j, key, i);
}

/* json_lookups - the DNS queries made to find hosts and addresses */
static void json_lookups(const struct live *l, struct esa_json *j)
{
	esa_json_begin_array(j);
	for (size_t k = 0; k < l->nlookups; k++) {
		const struct live_lookup *q = &l->lookups[k];

		esa_json_begin_object(j);
		esa_result_json_query(j, q->name, q->type, q->status, q->rcode,
				      q->count);
		esa_json_kuint(j, "ms", q->ms);
		esa_json_kopt(j, "reason", q->reason);
		esa_json_end_object(j);
	}
	esa_json_end_array(j);
}

/* json_tls - {protocol, cipher, bits, chain: [{subject, issuer}]} or null */
static void json_tls(const struct live_attempt *a, struct esa_json *j)
{
	esa_json_key(j, "tls");
	if (!a->tls_done) {
		esa_json_null(j);
		return;
	}
	esa_json_begin_object(j);
	esa_json_kstr(j, "protocol", a->protocol);
	esa_json_kstr(j, "cipher", a->cipher);
	esa_json_kint(j, "bits", a->bits);
	esa_json_key(j, "chain");
	esa_json_begin_array(j);
	for (size_t k = 0; k < a->nchain; k++) {
		esa_json_begin_object(j);
		esa_json_kstr(j, "subject", a->chain[k].subject);
		esa_json_kstr(j, "issuer", a->chain[k].issuer);
		esa_json_end_object(j);
	}
	esa_json_end_array(j);
	esa_json_end_object(j);
}

void live_json_where(const struct live *l, const struct live_attempt *a,
		     struct esa_json *j)
{
	const struct live_host *h = &l->hosts[a->host];

	esa_json_kstr(j, "host", h->name);
	esa_json_key(j, "also");
	esa_json_begin_array(j);
	for (size_t k = 0; k < a->nalso; k++)
		esa_json_str(j, l->hosts[a->also[k]].name);
	esa_json_end_array(j);
	esa_json_kstr(j, "source", live_source_name(h->source));
	esa_json_kint(j, "priority", h->pri);
	esa_json_kstr(j, "address", a->have_addr ? a->addr_text : NULL);
	esa_json_kint(j, "port", a->port);
}

/* json_attempt - one attempt with its own SPEC 8.2 record */
static void json_attempt(const struct live *l, const struct live_attempt *a,
			 struct esa_json *j)
{
	esa_json_begin_object(j);
	live_json_where(l, a, j);
	esa_json_kbool(j, "connected", a->connected);
	esa_json_kopt(j, "banner", a->banner);
	if (a->ehlo_ok)		/* offered or not; null when EHLO was not answered */
		esa_json_kbool(j, "starttls", a->starttls);
	else
		esa_json_knull(j, "starttls");
	json_tls(a, j);
	esa_json_kstr(j, "outcome", live_outcome_name(a->outcome));
	esa_json_kbool(j, "pass", a->outcome == LIVE_PASSED);
	esa_json_kstr(j, "reason", a->reason);
	esa_json_kuint(j, "ms", a->ms);
	esa_json_key(j, "result");
	if (a->res == NULL) {
		esa_json_null(j);
	} else {
		esa_json_begin_object(j);
		esa_result_json_fields(a->res, j);
		esa_json_end_object(j);
	}
	esa_json_end_object(j);
}

/* live_report_json_members - the members of live mode's JSON object */
void live_report_json_members(const struct live *l, struct esa_json *j)
{
	esa_result_json_fields(live_top_result(l), j);
	esa_json_kstr(j, "mode", modes_text(l->o->modes));
	esa_json_kstr(j, "hosts_from", live_source_name(l->from));
	esa_json_kopt(j, "hosts_error", l->hosts_error);
	esa_json_kstr(j, "ehlo", l->ehlo);
	esa_json_key(j, "lookups");
	json_lookups(l, j);
	esa_json_key(j, "attempts");
	esa_json_begin_array(j);
	for (size_t i = 0; i < l->natt; i++)
		json_attempt(l, &l->att[i], j);
	esa_json_end_array(j);
	json_index(j, "used", l->used);
	esa_json_key(j, "first_pass");
	esa_json_begin_object(j);
	json_index(j, "verify", l->first_pass[ESA_MODE_VERIFY]);
	json_index(j, "hosted", l->first_pass[ESA_MODE_HOSTED]);
	esa_json_end_object(j);
}

/* live_report_json - the one JSON object of live mode */
int live_report_json(const struct live *l, FILE *out)
{
	struct esa_json j;
	char *text;

	esa_json_init(&j);
	esa_json_begin_object(&j);
	live_report_json_members(l, &j);
	esa_json_end_object(&j);
	text = esa_json_take(&j);
	if (text == NULL)
		return -1;
	fprintf(out, "%s\n", text);
	free(text);
	return 0;
}
