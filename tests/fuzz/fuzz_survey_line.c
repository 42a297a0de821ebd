/*
 * fuzz_survey_line.c - one line of esa-check --survey's input
 * (cli/survey_input.c: survey_parse_line)
 *
 * Input: the line's octets (NULs included: the reader passes them on and
 * says so), cut at SURVEY_LINE_MAX - 1 as the reader cuts them.
 *
 * Invariants:
 *  - a domain: non-empty, no blank, no '#', lower case, and a fixed point
 *    (the domain as a line gives itself back);
 *  - nothing (1): what is left after the comment is blanks only;
 *  - malformed (-1): one line of reason, not empty.
 */
#include "fuzz.h"
#include "../../cli/survey_input.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[SURVEY_LINE_MAX], domain[ESA_NAME_MAX], again[ESA_NAME_MAX];
	char why[ESA_ERR_MAX], copy[ESA_NAME_MAX];
	size_t len = size < sizeof(buf) - 1 ? size : sizeof(buf) - 1;
	bool nul = memchr(data, '\0', len) != NULL;
	int rc;

	memcpy(buf, data, len);
	buf[len] = '\0';
	why[0] = '\0';
	rc = survey_parse_line(buf, len, size > len, nul, domain, why,
			       sizeof(why));
	FUZZ_CHECK(rc >= -1 && rc <= 1, "rc %d", rc);
	if (rc == 0) {
		FUZZ_CHECK(domain[0] != '\0' && strpbrk(domain, " \t#") == NULL,
			   "domain '%s'", domain);
		for (const char *p = domain; *p; p++)
			FUZZ_CHECK(!(*p >= 'A' && *p <= 'Z'), "upper case in '%s'",
				   domain);
		esa_strlcpy(copy, domain, sizeof(copy));
		FUZZ_CHECK(survey_parse_line(copy, strlen(copy), false, false,
					     again, why, sizeof(why)) == 0 &&
			   strcmp(again, domain) == 0,
			   "'%s' is not a fixed point", domain);
	} else if (rc == -1) {
		FUZZ_CHECK(why[0] != '\0' && strchr(why, '\n') == NULL,
			   "reason '%s'", why);
	} else {
		FUZZ_CHECK(!nul && size <= len, "nothing from a NUL or long line");
	}
	return 0;
}
