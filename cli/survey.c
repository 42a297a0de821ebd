/*
 * survey.c - esa-check --survey: many recipient domains, live, at once
 * (issue 14; see survey.h for the contract)
 *
 * Concurrency: --jobs worker threads, each running one domain at a time
 * through live mode (live_check: blocking sockets bounded by poll, as in a
 * single check), sharing one esa_config (thread-safe once configured: its
 * resolver makes a fresh libresolv state per lookup and locks its cache),
 * and one SSL_CTX (set up once: loading the system CA bundle costs more
 * than a handshake).  Two locks: in_lock around reading the next line of
 * the input, out_lock around writing a line and the counters.  The main
 * thread only waits, and draws the progress line on a terminal.
 *
 * Per domain, every host is contacted in ESA's order (routes, else MX by
 * preference, else the implicit MX; live.c), so the output shows every
 * host's verdicts, not only the one a delivery would use.  The domain's
 * verdict under a mode is ESA's: pass when some host passes it (the first
 * such host is the one ESA would deliver to; the ones before it are
 * skipped).  "stock" is the same with OpenSSL's own check of the chain and
 * of the MX host name (Postfix's "verify" level).
 *
 * What a domain came to ("status"):
 *   checked      at least one host presented a certificate: the verdicts
 *                are the certificates' (pass / fail)
 *   no-tls       hosts answered, none completed a TLS handshake (no
 *                STARTTLS, a failed handshake): every verdict fails, as
 *                settings 3, 5 and 6 would not deliver
 *   unreachable  no host answered (refused, timed out, no address)
 *   tempfail     a DNS lookup timed out or failed (SERVFAIL, ...): nothing
 *                could be judged; never counted as a mismatch
 *   no-mail      the domain does not exist or has a null MX: n/a
 *   error        the check itself could not run (out of memory, ...)
 * The verdict words: pass, fail, tempfail (unreachable, tempfail), n/a.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "live.h"
#include "result_impl.h"
#include "survey.h"

#define PROGRESS_MS 250

enum survey_status {
	ST_CHECKED, ST_NO_TLS, ST_UNREACHABLE, ST_TEMPFAIL, ST_NO_MAIL,
	ST_ERROR,
};

enum verdict { V_PASS, V_FAIL, V_TEMPFAIL, V_NA };

/* One domain to check. */
struct job {
	size_t line;
	char domain[ESA_NAME_MAX];
};

/* The whole survey. */
struct survey {
	const struct survey_opts *o;
	esa_config *cfg;
	struct live_opts base;	/* each domain's live options but the domain */
	FILE *in;
	const char *in_name;
	pthread_mutex_t in_lock;	/* in, line, in_error */
	size_t line;
	bool in_done;
	int in_errno;
	pthread_mutex_t out_lock;	/* stdout, the counters, running */
	pthread_cond_t ended;
	unsigned running;
	bool write_failed;
	int write_errno;
	size_t done, passed, failed, tempfail, malformed;
	uint64_t t0;
	bool progress, progress_drawn;
};

static const char *const status_names[] = {
	"checked", "no-tls", "unreachable", "tempfail", "no-mail", "error",
};
static const char *const verdict_names[] = {
	"pass", "fail", "tempfail", "n/a",
};

/* survey_jobs_default - network-bound work: many per core, within reason */
unsigned survey_jobs_default(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	long jobs = (n > 0 ? n : 1) * 16;

	return (unsigned)(jobs < 4 ? 4 : jobs > 64 ? 64 : jobs);
}

/* ---- the input ----------------------------------------------------------- */

/* read_line - the next line of f into buf (at most bufsz - 1 octets kept,
 * the rest of a longer line read and dropped); false at end of input */
static bool read_line(FILE *f, char *buf, size_t bufsz, size_t *len,
		      bool *too_long, bool *nul)
{
	int c;
	size_t n = 0;
	bool any = false;

	*too_long = *nul = false;
	while ((c = getc(f)) != EOF) {
		any = true;
		if (c == '\n')
			break;
		if (c == '\0')
			*nul = true;
		if (n + 1 < bufsz)
			buf[n++] = (char)c;
		else
			*too_long = true;
	}
	buf[n] = '\0';
	*len = n;
	return any;
}

/* show_input - a line made printable for a one-line message */
static void show_input(const char *s, size_t len, char *out, size_t outsz)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 8 < outsz; i++) {
		unsigned char u = (unsigned char)s[i];

		if (i == 80) {
			o += (size_t)snprintf(out + o, outsz - o, "...");
			break;
		}
		if (u < 0x20 || u >= 0x7f)
			o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", u);
		else
			out[o++] = (char)u;
	}
	out[o] = '\0';
}

/* emit - one line on stdout (out_lock held); a write error stops the
 * survey */
static void emit(struct survey *s, const char *text)
{
	if (s->write_failed)
		return;
	if (fputs(text, stdout) == EOF || fputc('\n', stdout) == EOF ||
	    fflush(stdout) == EOF) {
		s->write_failed = true;
		s->write_errno = errno;
	}
}

/* report_malformed - a bad input line: stderr, and a survey-error line */
static void report_malformed(struct survey *s, size_t line, const char *buf,
			     size_t len, const char *why)
{
	char shown[400];
	struct esa_json j;
	char *text;

	show_input(buf, len, shown, sizeof(shown));
	esa_json_init(&j);
	esa_json_begin_object(&j);
	esa_json_kstr(&j, "event", "survey-error");
	esa_json_kuint(&j, "line", line);
	esa_json_kstr(&j, "input", shown);
	esa_json_kstr(&j, "error", why);
	esa_json_end_object(&j);
	text = esa_json_take(&j);
	pthread_mutex_lock(&s->out_lock);
	if (s->progress_drawn)
		fputs("\r\033[K", stderr);
	fprintf(stderr, "esa-check: %s:%zu: %s; skipped\n", s->in_name, line,
		why);
	s->malformed++;
	if (text != NULL)
		emit(s, text);
	pthread_mutex_unlock(&s->out_lock);
	free(text);
}

/* next_job - the next domain of the input; false at its end (or when the
 * survey stops: unreadable input, stdout gone) */
static bool next_job(struct survey *s, struct job *job)
{
	char buf[SURVEY_LINE_MAX], why[ESA_ERR_MAX];
	bool got = false, too_long, nul, stop;
	size_t len;

	pthread_mutex_lock(&s->in_lock);
	while (!s->in_done) {
		pthread_mutex_lock(&s->out_lock);
		stop = s->write_failed;
		pthread_mutex_unlock(&s->out_lock);
		if (stop || !read_line(s->in, buf, sizeof(buf), &len, &too_long,
				       &nul)) {
			if (!stop && ferror(s->in))
				s->in_errno = errno ? errno : EIO;
			s->in_done = true;
			break;
		}
		job->line = ++s->line;
		int rc = survey_parse_line(buf, len, too_long, nul,
					   job->domain, why, sizeof(why));
		if (rc == 0) {
			got = true;
			break;
		}
		if (rc < 0)
			report_malformed(s, job->line, buf, len, why);
	}
	pthread_mutex_unlock(&s->in_lock);
	return got;
}

/* ---- one domain's verdicts ---------------------------------------------- */

/* transient - a DNS status that says "try later", not "no such thing" */
static bool transient(enum esa_dns_status st)
{
	return st == ESA_DNS_TIMEOUT || st == ESA_DNS_SERVFAIL ||
	       st == ESA_DNS_REFUSED || st == ESA_DNS_MALFORMED ||
	       st == ESA_DNS_ERROR;
}

/* classify - what the domain came to (see the file header), and why */
static enum survey_status classify(const struct live *l, char *why,
				   size_t whysz)
{
	bool answered = false, dns_trouble = false;

	for (size_t k = 0; k < l->nlookups; k++)
		if (transient(l->lookups[k].status))
			dns_trouble = true;
	if (l->natt == 0) {
		snprintf(why, whysz, "%s", l->hosts_error[0] ? l->hosts_error
							     : "no host to try");
		return dns_trouble ? ST_TEMPFAIL : ST_NO_MAIL;
	}
	for (size_t i = 0; i < l->natt; i++)
		if (l->att[i].res != NULL) {
			snprintf(why, whysz, "%zu host(s) tried", l->natt);
			return ST_CHECKED;
		}
	for (size_t i = 0; i < l->natt && !answered; i++) {
		const struct live_attempt *a = &l->att[i];

		if (a->outcome == LIVE_NO_STARTTLS ||
		    a->outcome == LIVE_TLS_FAILED ||
		    a->outcome == LIVE_SMTP_ERROR) {
			answered = true;
			snprintf(why, whysz, "%s: %s", l->hosts[a->host].name,
				 a->reason);
		}
	}
	if (answered)
		return ST_NO_TLS;
	snprintf(why, whysz, "%s: %s", l->hosts[l->att[0].host].name,
		 l->att[0].reason);
	return dns_trouble ? ST_TEMPFAIL : ST_UNREACHABLE;
}

/* stock_ok - did OpenSSL's own check pass on attempt a? */
static bool stock_ok(const struct live_attempt *a)
{
	return a->res != NULL && a->res->stock_ok;
}

/* first_stock - the first attempt whose stock verdict passes, or -1 */
static long first_stock(const struct live *l)
{
	for (size_t i = 0; i < l->natt; i++)
		if (stock_ok(&l->att[i]))
			return (long)i;
	return -1;
}

/* verdict_of - a mode's (or stock's, pass >= 0) word under the status */
static enum verdict verdict_of(enum survey_status st, long first)
{
	switch (st) {
	case ST_CHECKED: return first >= 0 ? V_PASS : V_FAIL;
	case ST_NO_TLS: return V_FAIL;
	case ST_UNREACHABLE: case ST_TEMPFAIL: return V_TEMPFAIL;
	default: return V_NA;
	}
}

/* index_or_null - an attempt index, or null */
static void index_or_null(struct esa_json *j, const char *key, long i)
{
	if (i < 0)
		esa_json_knull(j, key);
	else
		esa_json_kint(j, key, i);
}

/* json_short_mode - {pass, source, reference, reason} of one host */
static void json_short_mode(struct esa_json *j, const char *key,
			    const struct esa_result *res, enum esa_mode m)
{
	const struct esa_verdict *v = &res->verdict[m];

	esa_json_key(j, key);
	if (!v->computed) {
		esa_json_null(j);
		return;
	}
	esa_json_begin_object(j);
	esa_json_kbool(j, "pass", v->pass);
	esa_json_kstr(j, "source", v->pass && v->source != ESA_SOURCE_NONE ?
		      esa_source_name(v->source) : NULL);
	esa_json_kopt(j, "reference", v->pass ? v->reference : NULL);
	esa_json_kstr(j, "reason", v->reason);
	esa_json_end_object(j);
}

/* json_host - one attempt: where, how it ended, its verdicts */
static void json_host(const struct live *l, const struct live_attempt *a,
		      struct esa_json *j)
{
	esa_json_begin_object(j);
	live_json_where(l, a, j);
	esa_json_kstr(j, "outcome", live_outcome_name(a->outcome));
	esa_json_kstr(j, "reason", a->reason);
	esa_json_kopt(j, "protocol", a->tls_done ? a->protocol : NULL);
	esa_json_kuint(j, "ms", a->ms);
	if (a->res == NULL) {
		esa_json_knull(j, "chain");
		esa_json_knull(j, "stock");
		esa_json_knull(j, "verify");
		esa_json_knull(j, "hosted");
	} else {
		esa_json_key(j, "chain");
		esa_result_json_chain(a->res, j);
		esa_json_key(j, "stock");
		esa_json_begin_object(j);
		esa_json_kopt(j, "host", a->res->stock_host);
		esa_json_kbool(j, "ok", a->res->stock_ok);
		esa_json_end_object(j);
		json_short_mode(j, "verify", a->res, ESA_MODE_VERIFY);
		json_short_mode(j, "hosted", a->res, ESA_MODE_HOSTED);
	}
	esa_json_end_object(j);
}

/* json_lookups - the queries made to find the hosts and their addresses */
static void json_lookups(const struct live *l, struct esa_json *j)
{
	esa_json_key(j, "lookups");
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

/* record_of - the record a mode's top-level verdict comes from: the first
 * host passing it, else the report's top record */
static const struct esa_result *record_of(const struct live *l, long first)
{
	return first >= 0 ? l->att[first].res : live_top_result(l);
}

/* json_verdicts - {"stock", "verify", "hosted"} words */
static void json_verdicts(struct esa_json *j, const enum verdict v[3])
{
	esa_json_key(j, "verdict");
	esa_json_begin_object(j);
	esa_json_kstr(j, "stock", verdict_names[v[0]]);
	esa_json_kstr(j, "verify", verdict_names[v[1]]);
	esa_json_kstr(j, "hosted", verdict_names[v[2]]);
	esa_json_end_object(j);
}

/* json_domain - the survey line of one checked domain (SPEC 8.2 and 8.5
 * words: recipient_domain, tls, chain, stock, verify, hosted, ...) */
static void json_domain(const struct survey *s, const struct job *job,
			const struct live *l, enum survey_status st,
			const char *why, const enum verdict v[3],
			uint64_t ms, struct esa_json *j)
{
	long fs = first_stock(l), fv = l->first_pass[ESA_MODE_VERIFY],
	     fh = l->first_pass[ESA_MODE_HOSTED];
	const struct esa_result *top = live_top_result(l), *rs;

	esa_json_kstr(j, "event", "survey");
	esa_json_kuint(j, "line", job->line);
	esa_json_kstr(j, "recipient_domain", job->domain);
	esa_json_kstr(j, "tls", esa_tls_name(esa_config_tls_for(s->cfg,
								 job->domain)));
	esa_json_kstr(j, "status", status_names[st]);
	esa_json_kstr(j, "status_reason", why);
	json_verdicts(j, v);
	rs = record_of(l, fs);
	esa_json_key(j, "stock");
	esa_json_begin_object(j);
	esa_json_kopt(j, "host", rs ? rs->stock_host : NULL);
	esa_json_kbool(j, "ok", fs >= 0);
	esa_json_end_object(j);
	esa_json_key(j, "chain");
	esa_result_json_chain(top, j);
	esa_json_key(j, "presented");
	esa_result_json_presented(top, j);
	esa_json_key(j, "verify");
	esa_result_json_mode(record_of(l, fv), ESA_MODE_VERIFY, j);
	esa_json_key(j, "hosted");
	esa_result_json_mode(record_of(l, fh), ESA_MODE_HOSTED, j);
	esa_json_key(j, "used");
	esa_json_begin_object(j);
	index_or_null(j, "stock", fs);
	index_or_null(j, "verify", fv);
	index_or_null(j, "hosted", fh);
	esa_json_end_object(j);
	esa_json_kstr(j, "hosts_from", live_source_name(l->from));
	esa_json_kopt(j, "hosts_error", l->hosts_error);
	esa_json_key(j, "hosts");
	esa_json_begin_array(j);
	for (size_t i = 0; i < l->natt; i++)
		json_host(l, &l->att[i], j);
	esa_json_end_array(j);
	json_lookups(l, j);
	esa_json_kuint(j, "elapsed_ms", ms);
}

/* json_failed - the survey line of a domain whose check could not run */
static void json_failed(const struct survey *s, const struct job *job,
			const char *why, struct esa_json *j)
{
	static const enum verdict na[3] = { V_NA, V_NA, V_NA };

	esa_json_kstr(j, "event", "survey");
	esa_json_kuint(j, "line", job->line);
	esa_json_kstr(j, "recipient_domain", job->domain);
	esa_json_kstr(j, "tls", esa_tls_name(esa_config_tls_for(s->cfg,
								 job->domain)));
	esa_json_kstr(j, "status", status_names[ST_ERROR]);
	esa_json_kstr(j, "status_reason", why);
	json_verdicts(j, na);
	esa_json_kstr(j, "error", why);
}

/* count - the counters and the exit status's view of one domain */
static void count(struct survey *s, const enum verdict v[3])
{
	bool pass = true, temp = false;

	for (int m = ESA_MODE_VERIFY; m <= ESA_MODE_HOSTED; m++) {
		if (!(s->o->modes & (1u << m)))
			continue;
		pass = pass && v[1 + m] == V_PASS;
		temp = temp || v[1 + m] == V_TEMPFAIL || v[1 + m] == V_NA;
	}
	s->done++;
	if (pass)
		s->passed++;
	else if (temp)
		s->tempfail++;
	else
		s->failed++;
}

/* check_one - one domain, live, and its line */
static void check_one(struct survey *s, const struct job *job)
{
	struct live_opts lo = s->base;
	struct live *l = calloc(1, sizeof(*l));
	char err[ESA_ERR_MAX] = "", why[ESA_ERR_MAX * 2];
	enum verdict v[3] = { V_NA, V_NA, V_NA };
	uint64_t t0 = esa_now_ms();
	struct esa_json j;
	char *text;

	lo.domain = job->domain;
	esa_json_init(&j);
	esa_json_begin_object(&j);
	if (l == NULL || live_check(s->cfg, &lo, l, err, sizeof(err)) < 0) {
		json_failed(s, job, l == NULL ? "out of memory" : err, &j);
	} else {
		enum survey_status st = classify(l, why, sizeof(why));

		v[0] = verdict_of(st, first_stock(l));
		v[1] = verdict_of(st, l->first_pass[ESA_MODE_VERIFY]);
		v[2] = verdict_of(st, l->first_pass[ESA_MODE_HOSTED]);
		json_domain(s, job, l, st, why, v, esa_now_ms() - t0, &j);
	}
	esa_json_end_object(&j);
	text = esa_json_take(&j);
	if (l != NULL)
		live_release(l);
	free(l);
	pthread_mutex_lock(&s->out_lock);
	count(s, v);
	if (text != NULL)
		emit(s, text);
	else if (!s->write_failed) {
		s->write_failed = true;
		s->write_errno = ENOMEM;
	}
	pthread_mutex_unlock(&s->out_lock);
	free(text);
}

/* worker - domains until the input ends */
static void *worker(void *arg)
{
	struct survey *s = arg;
	struct job job;

	while (next_job(s, &job))
		check_one(s, &job);
	pthread_mutex_lock(&s->out_lock);
	s->running--;
	pthread_cond_signal(&s->ended);
	pthread_mutex_unlock(&s->out_lock);
	return NULL;
}

/* ---- the run ------------------------------------------------------------ */

/* draw_progress - one line on stderr, redrawn (out_lock held) */
static void draw_progress(struct survey *s, bool last)
{
	double secs = (double)(esa_now_ms() - s->t0) / 1000.0;

	fprintf(stderr, "\r\033[Ksurvey: %zu done (%.1f/s), %u jobs running; "
		"pass %zu, fail %zu, tempfail/n-a %zu, bad lines %zu%s",
		s->done, secs > 0 ? (double)s->done / secs : 0.0, s->running,
		s->passed, s->failed, s->tempfail, s->malformed,
		last ? "\n" : "");
	fflush(stderr);
	s->progress_drawn = !last;
}

/* wait_all - until every worker has ended, drawing the progress line */
static void wait_all(struct survey *s)
{
	pthread_mutex_lock(&s->out_lock);
	while (s->running > 0) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += PROGRESS_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->ended, &s->out_lock, &ts);
		if (s->progress)
			draw_progress(s, false);
	}
	if (s->progress)
		draw_progress(s, true);
	pthread_mutex_unlock(&s->out_lock);
}

/* start - the workers; how many started */
static unsigned start(struct survey *s, pthread_t *tids, unsigned jobs)
{
	unsigned n = 0;

	pthread_mutex_lock(&s->out_lock);
	for (; n < jobs; n++) {
		if (pthread_create(&tids[n], NULL, worker, s) != 0)
			break;
		s->running++;
	}
	pthread_mutex_unlock(&s->out_lock);
	return n;
}

/* open_input - the file, or standard input for "-" */
static int open_input(struct survey *s, char *err, size_t errsz)
{
	char shown[400];

	if (strcmp(s->o->input, "-") == 0) {
		s->in = stdin;
		s->in_name = "stdin";
		return 0;
	}
	s->in_name = s->o->input;
	s->in = fopen(s->o->input, "r");
	if (s->in != NULL)
		return 0;
	show_input(s->o->input, strlen(s->o->input), shown, sizeof(shown));
	snprintf(err, errsz, "--survey: cannot read %s: %s", shown,
		 strerror(errno));
	return -1;
}

/* shared_ctx - the one client context every connection is made from */
static SSL_CTX *shared_ctx(char *err, size_t errsz)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL || SSL_CTX_set_default_verify_paths(ctx) != 1) {
		SSL_CTX_free(ctx);
		snprintf(err, errsz, "cannot set up TLS (OpenSSL)");
		return NULL;
	}
	return ctx;
}

/* finish_status - the exit status once every worker has ended */
static int finish_status(struct survey *s, char *err, size_t errsz)
{
	if (s->write_failed) {
		snprintf(err, errsz, "cannot write the output: %s",
			 strerror(s->write_errno));
		return 2;
	}
	if (s->in_errno != 0) {
		snprintf(err, errsz, "--survey: reading %s: %s", s->in_name,
			 strerror(s->in_errno));
		return 2;
	}
	return s->failed || s->tempfail || s->malformed ? 1 : 0;
}

/* survey_run - see survey.h */
int survey_run(esa_config *cfg, const struct survey_opts *o, char *err,
	       size_t errsz)
{
	struct survey s;
	pthread_t *tids = NULL;
	unsigned jobs = o->jobs ? o->jobs : survey_jobs_default(), n = 0;
	int status = 2;

	memset(&s, 0, sizeof(s));
	s.o = o;
	s.cfg = cfg;
	s.progress = o->progress < 0 ? isatty(STDERR_FILENO) : o->progress;
	s.base = (struct live_opts){
		.modes = o->modes, .port = o->port, .timeout_ms = o->timeout_ms,
		.json = true, .no_chain = o->no_chain, .at = o->at,
		.all_hosts = true, .stock = true,
	};
	pthread_mutex_init(&s.in_lock, NULL);
	pthread_mutex_init(&s.out_lock, NULL);
	pthread_cond_init(&s.ended, NULL);
	signal(SIGPIPE, SIG_IGN);	/* a closed pipe is a write error */
	if (esa_config_resolver(cfg) == NULL) {
		snprintf(err, errsz, "%s", esa_config_error(cfg));
		goto out;
	}
	if (open_input(&s, err, errsz) < 0)
		goto out;
	s.base.ctx = shared_ctx(err, errsz);
	tids = calloc(jobs, sizeof(*tids));
	if (s.base.ctx == NULL || tids == NULL) {
		if (tids == NULL)
			snprintf(err, errsz, "out of memory");
		goto out;
	}
	s.t0 = esa_now_ms();
	n = start(&s, tids, jobs);
	if (n == 0) {
		snprintf(err, errsz, "cannot start a thread: %s",
			 strerror(errno));
		goto out;
	}
	wait_all(&s);
	for (unsigned i = 0; i < n; i++)
		pthread_join(tids[i], NULL);
	status = finish_status(&s, err, errsz);
out:
	if (s.in != NULL && s.in != stdin)
		fclose(s.in);
	SSL_CTX_free(s.base.ctx);
	free(tids);
	pthread_cond_destroy(&s.ended);
	pthread_mutex_destroy(&s.out_lock);
	pthread_mutex_destroy(&s.in_lock);
	return status;
}
