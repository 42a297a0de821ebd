/*
 * survey_input.c - one line of esa-check --survey's input (survey.h)
 *
 * The input is outside text: a line is at most SURVEY_LINE_MAX - 1 octets
 * (the reader drops the rest and says so), may hold a NUL, a comment from
 * '#' to its end, blanks around the domain.  What remains must be one word,
 * a valid recipient domain (esa_domain_normalize: ASCII or Unicode, made
 * A-labels).  Its own fuzz target: tests/fuzz/fuzz_survey_line.c.
 */
#include <stdio.h>
#include <string.h>

#include "survey.h"

/* survey_parse_line - see survey.h */
int survey_parse_line(char *buf, size_t len, bool too_long, bool nul,
		      char *domain, char *why, size_t whysz)
{
	char *p = buf, *end, *hash;

	if (too_long) {
		snprintf(why, whysz, "a line longer than %d octets",
			 SURVEY_LINE_MAX - 1);
		return -1;
	}
	if (nul || strlen(buf) != len) {
		snprintf(why, whysz, "a NUL octet in the line");
		return -1;
	}
	hash = strchr(p, '#');		/* a comment runs to the line's end */
	if (hash != NULL)
		*hash = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	if (*p == '\0')
		return 1;
	if (strpbrk(p, " \t") != NULL) {
		snprintf(why, whysz, "more than one word (one recipient domain "
			 "a line)");
		return -1;
	}
	return esa_domain_normalize(p, domain, ESA_NAME_MAX, why, whysz) == 0
		       ? 0 : -1;
}

