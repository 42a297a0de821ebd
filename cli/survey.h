/*
 * survey.h - esa-check --survey: the live check of many recipient domains
 * at once, one JSON line per domain (issue 14)
 *
 * The input names one recipient domain a line ('#' starts a comment, blank
 * lines are skipped; "-" is standard input).  Worker threads (--jobs) take
 * the next line each, run live mode's check on it (live.h) with every host
 * contacted, both identity algorithms and OpenSSL's own host-name verdict
 * beside them, and write one JSON object on one line to stdout as each
 * domain finishes (so the lines come in the order the domains end, each with
 * its input line number).  A malformed line is reported on stderr with its
 * number, and as a line {"event":"survey-error",...}, and skipped.  Every
 * network step is bounded by the per-step timeout and every lookup by the
 * DNS budget, so the survey ends.  Memory does not grow with the number of
 * domains: a domain's state is freed once its line is written.
 *
 * Ownership: the esa_config is the caller's; survey_run frees all else.
 */
#ifndef ESA_CLI_SURVEY_H
#define ESA_CLI_SURVEY_H

#include <stdbool.h>
#include <stddef.h>

#include "internal.h"

#define SURVEY_JOBS_MAX 1024
#define SURVEY_LINE_MAX 1024	/* octets kept of an input line, with NUL */

/* What the command line asked of the survey. */
struct survey_opts {
	const char *input;	/* file of domains, "-" for standard input */
	unsigned jobs;		/* domains in flight; 0: sized for the machine */
	unsigned modes;		/* 1 << enum esa_mode: what the exit status asks */
	int port;		/* SMTP port of hosts without their own */
	unsigned timeout_ms;	/* each network step */
	bool no_chain;
	long long at;
	int progress;		/* 1 on, 0 off, -1: when stderr is a terminal */
};

/* survey_jobs_default - the default --jobs for this machine */
unsigned survey_jobs_default(void);

/* survey_parse_line - one input line (buf, len octets; too_long: octets
 * beyond SURVEY_LINE_MAX - 1 were dropped; nul: it held a NUL octet).
 * 0: a recipient domain, normalised into domain (ESA_NAME_MAX); 1: nothing
 * to check (blank, a comment); -1: malformed, with one line in why.  May
 * write into buf (survey_input.c). */
int survey_parse_line(char *buf, size_t len, bool too_long, bool nul,
		      char *domain, char *why, size_t whysz);

/* survey_run - the whole survey.  Returns the exit status: 0 every domain
 * passed every requested mode, 1 some domain did not (it failed, could
 * not be checked, or its line was malformed), 2 the survey could not run
 * (err holds one line, without the "esa-check: " prefix). */
int survey_run(esa_config *cfg, const struct survey_opts *o, char *err,
	       size_t errsz);

#endif
