/*
 * fuzz_dnsfile.c - the static resolver's master-file parser (dnsfile.c)
 * and lookups in what it parsed
 *
 * Input: the text of a master file (NULs, CRs, long lines and all).  When it
 * parses, the first field of each of the first 32 lines and the last field
 * (an MX/PTR/CNAME target) are looked up for A, AAAA, MX and PTR, and so is
 * SPEC 7's reverse name.
 *
 * Invariants:
 *  - a refused file gives NULL and one line "LABEL:LINE: problem";
 *  - a lookup gives OK with records of the type asked, or no records;
 *    MX/PTR names are canonical; MX sorted; the reason is one line;
 *  - the static resolver never caches and never claims AD.
 */
#include "fuzz.h"
#include "dns_impl.h"

#define NAMES_MAX 64

static const uint16_t types[4] = { ESA_T_A, ESA_T_AAAA, ESA_T_MX, ESA_T_PTR };

/* look - one name for every type */
static void look(esa_resolver *r, const char *name)
{
	char again[ESA_NAME_MAX];
	struct esa_answer a;

	for (int t = 0; t < 4; t++) {
		int rc = esa_lookup(r, name, types[t], esa_now_ms() + 1000, &a);

		FUZZ_CHECK((rc == 0) == (a.status == ESA_DNS_OK), "rc %d", rc);
		FUZZ_CHECK((a.status == ESA_DNS_OK) == (a.count > 0), "count");
		FUZZ_CHECK(!a.ad && !a.cached, "AD or cached from a file");
		FUZZ_CHECK(fuzz_one_line(a.reason, sizeof(a.reason)), "reason");
		for (size_t i = 0; i < a.count; i++) {
			FUZZ_CHECK(a.rr[i].type == types[t], "type");
			if (types[t] == ESA_T_MX || types[t] == ESA_T_PTR) {
				FUZZ_CHECK(a.rr[i].name[0] != '\0' &&
					   esa_dns_canon(a.rr[i].name, again,
							 sizeof(again), NULL) == 0 &&
					   strcmp(again, a.rr[i].name) == 0,
					   "name '%s'", a.rr[i].name);
			}
			if (types[t] == ESA_T_MX && i > 0)
				FUZZ_CHECK(a.rr[i - 1].pref <= a.rr[i].pref,
					   "MX unsorted");
		}
		esa_answer_free(&a);
	}
}

/* field - a copy of the whitespace-delimited field at s (max ESA_NAME_MAX) */
static size_t field(const char *s, const char *end, char *out)
{
	size_t n = 0;

	while (s + n < end && n < ESA_NAME_MAX - 1 && s[n] != ' ' &&
	       s[n] != '\t' && s[n] != '\n' && s[n] != '\r' && s[n] != '\0')
		n++;
	memcpy(out, s, n);
	out[n] = '\0';
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[ESA_ERR_MAX], name[ESA_NAME_MAX];
	const char *s = (const char *)data, *end = s + size, *line, *eol;
	char *text = fuzz_cstr(data, size);
	esa_resolver *r;
	int lines = 0;

	err[0] = 'x';
	r = esa_resolver_static_text(text, size, "fuzz.zone", err, sizeof(err));
	if (r == NULL) {
		FUZZ_CHECK(strncmp(err, "fuzz.zone:", 10) == 0, "'%s'", err);
		FUZZ_CHECK(fuzz_one_line(err, sizeof(err)), "'%s'", err);
		free(text);
		return 0;
	}
	for (line = s; line < end && lines < 32; line = eol + 1, lines++) {
		const char *last = NULL, *q;

		eol = memchr(line, '\n', (size_t)(end - line));
		if (eol == NULL)
			eol = end;
		if (field(line, eol, name) > 0 && name[0] != '$' &&
		    name[0] != ';')
			look(r, name);
		for (q = line; q < eol; q++)	/* the last field */
			if ((q == line || q[-1] == ' ' || q[-1] == '\t') &&
			    *q != ' ' && *q != '\t' && *q != '\r')
				last = q;
		if (last != NULL && field(last, eol, name) > 0)
			look(r, name);
		if (eol == end)
			break;
	}
	look(r, "1.2.0.192.in-addr.arpa");
	FUZZ_CHECK(esa_resolver_queries(r) > 0 || lines == 0, "not counted");
	esa_resolver_free(r);
	free(text);
	return 0;
}
