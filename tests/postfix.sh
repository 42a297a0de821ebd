#!/usr/bin/env bash
# postfix.sh - Debian's Postfix retrofitted with the shim (issue 7), in the lab
#
# Brings up a lab of its own (scripts/lab, name esalab-pPID) and, inside it, a
# private Postfix (scripts/lab postfix: the package's own binaries, a
# configuration and queue of its own under the lab's state directory, its
# master in the lab's client namespace; the system's Postfix is never
# touched and nothing leaves the lab).  Its smtp(8) client runs under
# build/esashim.so through import_environment (LD_PRELOAD and the ESA_*
# variables), with smtp_tls_security_level = may and no setting anywhere that
# names example.com: the shim learns the recipient domain from Postfix's own
# MX lookup.  One message to user@example.com:
#   - under Verify (required-verify): delivered over TLS to mx01, the log line
#     saying why (PTR name mx0a.emailhosted.not), Postfix's own log saying
#     "Trusted TLS connection";
#   - under Verify Hosted Domains (required-verify-hosted): both MX hosts
#     refused, the message deferred (in the queue, postqueue -p; not bounced,
#     not delivered), the log lines saying why;
#   - Postfix's own plain-text retry after a failed STARTTLS (opportunistic
#     TLS, once the message is older than minimal_backoff_time): the shim
#     stops its MAIL FROM, the message stays deferred;
#   - then under Verify again, postqueue -f: the deferred message is delivered.
# The shim's log file is written by smtp(8) after it dropped privileges (the
# mail user), checked too.
#
# Then the same for a second mailer that links OpenSSL and does its own MX
# lookups: Debian's sendmail (scripts/lab sendmail: fetched with apt-get
# download and unpacked, since sendmail-bin conflicts with postfix; a
# sendmail.cf and queue of its own): deferred under Verify Hosted Domains (in
# its queue, sendmail -bp), delivered by a queue run under Verify.  Where it
# cannot be fetched those two checks are skipped, saying why.
#
# Prints one line per check and "postfix: N passed, M failed"; exits non-zero
# on a failure (also when Postfix is not installed: scripts/deps.sh installs
# it), 77 (skipped) when not root or where network namespaces cannot be
# made.  KEEP=1 keeps the logs.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/lab.sh
. "$ROOT/tests/lib/lab.sh"
lab_suite postfix

lab_clean_env
lab_skip_unless_possible
if [[ ! -x /usr/lib/postfix/sbin/master || ! -x /usr/sbin/postfix ]]; then
	echo "postfix: Postfix is missing (scripts/deps.sh --check names its package)"
	exit 1
fi
lab_need_built "$SHIM"

lab_tmp postfix
chmod 755 "$T"	# smtp(8), as the mail user, writes the shim's log here
lab_open esalab-p$$
lab_start
PF=$(lab postfix dir)

# ---- helpers (more in tests/lib/lab.sh) ----------------------------------------------

# begin - a new check (in place of the library's: each check here names its
# own log, and the commands append their output to $T/out)
begin() {
	why=
	: >"$T/out"
}

# failure_details - what a failed check shows (done_check): the commands'
# output, the maillog, the shim's log
failure_details() {
	sed 's/^/    out: /' "$T/out" 2>/dev/null | tail -n 8
	sed 's/^/    maillog: /' "$PF/maillog" 2>/dev/null | cut -c1-300 | tail -n 6
	[[ ! -f $LOG ]] || sed 's/^/    log: /' "$LOG" | cut -c1-400 | tail -n 2
}

# postfix_start TLS [PARAM=VALUE...] - the lab's Postfix, smtp(8) under the
# shim with setting TLS and the shim's log in $LOG
postfix_start() {
	local tls=$1
	shift
	lab postfix stop
	lab postfix start --shim "$SHIM" --env ESA_TLS="$tls" --env ESA_LOG="$LOG" --env ESA_LOG_LEVEL=ab \
		--env ESA_CAFILE="$ESALAB_CA" --env ESA_NAMESERVER=127.0.0.1 "$@" \
		>>"$T/out" 2>&1 || note "postfix start failed"
}

# send RCPT - submit one message, wait for the delivery attempt to end
send() {
	lab postfix send "$1" >>"$T/out" 2>&1 || note "submission failed"
	lab postfix wait 20 >>"$T/out" 2>&1 || note "Postfix still delivering after 20 s"
}

# queue - postqueue -p of the lab's Postfix, in $T/queue
queue() { lab postfix queue >"$T/queue" 2>&1; }

want_maillog() { grep -qE -- "$1" "$PF/maillog" || note "maillog lacks /$1/"; }
want_no_maillog() { ! grep -qE -- "$1" "$PF/maillog" || note "maillog has /$1/"; }

# want_log EXPR - Python over L (every line of $LOG), h (handshake lines),
# p (plain-text lines)
want_log() { log_check "$LOG" "$1"; }

MX01=mx01.subd.emailhosted.not
MX02=mx02.subd.emailhosted.not

# ---- Verify: delivered --------------------------------------------------------------------

begin
LOG=$T/verify.log
postfix_start required-verify
grep -q 'example\.com' "$PF/etc/main.cf" "$PF/etc/master.cf" && note "the configuration names example.com"
grep -q '^smtp_tls_security_level = may$' "$PF/etc/main.cf" || note "not smtp_tls_security_level = may"
grep -q "^import_environment = .*LD_PRELOAD=$SHIM .*ESA_TLS=required-verify" "$PF/etc/main.cf" ||
	note "import_environment does not carry LD_PRELOAD and ESA_TLS"
b1=$(mail_count mx01) b2=$(mail_count mx02)
send user@example.com
(($(mail_count mx01) == b1 + 1 && $(mail_count mx02) == b2)) || note "mx01 did not get exactly one message"
f=$(newest_mail mx01)
[[ -n $f ]] && grep -q '^X-Lab-TLS: TLSv1' "$f" || note "the message did not come over TLS"
grep -q 'hello from the lab' "$f" 2>/dev/null || note "the message body is not the one sent"
want_maillog "Trusted TLS connection established to $MX01\[192\.0\.2\.1\]"
want_maillog "to=<user@example.com>, relay=$MX01\[192\.0\.2\.1\]:25, .*status=sent"
queue
grep -q 'Mail queue is empty' "$T/queue" || note "the queue is not empty"
want_log "len(h) == 1 and h[0]['program'] == 'smtp' and h[0]['peer'] == '192.0.2.1' \
and h[0]['recipient_domain'] == 'example.com' and h[0]['recipient_source'] == 'mx-lookup' \
and h[0]['via'] == '$MX01' and h[0]['recipient_candidates'] == ['example.com'] \
and h[0]['tls'] == 'required-verify' and h[0]['verify']['pass'] \
and h[0]['verify']['source'] == 'ptr' and h[0]['verify']['reference'] == 'mx0a.emailhosted.not' \
and h[0]['decision'] == 'accept' and not h[0]['stock']['host']"
done_check "Verify: Postfix delivers user@example.com over TLS; the shim learned example.com from its MX lookup"

begin
[[ $(stat -c %U "$LOG" 2>/dev/null) == postfix ]] || note "the log file is not the mail user's"
pid=$("$PY" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["pid"])' "$LOG" 2>/dev/null)
grep -q "postfix/smtp\[$pid\]:" "$PF/maillog" || note "the log line's pid $pid is not an smtp(8) of this Postfix"
want_log "all(x['program'] == 'smtp' for x in L)"
done_check "the line was written by smtp(8) after it dropped privileges (the log file stays writable)"

# ---- Verify Hosted Domains: deferred -----------------------------------------------------------

begin
LOG=$T/hosted.log
postfix_start required-verify-hosted
: >"$PF/maillog"
b1=$(mail_count mx01) b2=$(mail_count mx02)
send user@example.com
(($(mail_count mx01) == b1 && $(mail_count mx02) == b2)) || note "a message was delivered"
want_maillog "SSL_connect error to $MX01\[192\.0\.2\.1\]"
want_maillog "SSL_connect error to $MX02\[192\.0\.2\.2\]"
want_maillog "to=<user@example.com>, .*dsn=4\.7\.5, status=deferred \(Cannot start TLS: handshake failure\)"
want_no_maillog "status=(bounced|sent)"
queue
grep -q 'Cannot start TLS: handshake failure' "$T/queue" || note "postqueue -p does not show the deferral"
grep -q 'user@example.com' "$T/queue" || note "postqueue -p does not show user@example.com"
[[ -n $(find "$PF/spool/deferred" -type f) ]] || note "nothing in the deferred queue"
want_log "len(h) == 2 and [x['peer'] for x in h] == ['192.0.2.1', '192.0.2.2'] \
and [x['via'] for x in h] == ['$MX01', '$MX02'] \
and all(x['recipient_domain'] == 'example.com' and x['recipient_source'] == 'mx-lookup' \
and x['tls'] == 'required-verify-hosted' and x['decision'] == 'reject' and not x['hosted']['pass'] \
and x['verify']['pass'] and x['hosted']['reason'] == 'no DNS-ID matches the recipient domain or an MX name' \
and [t['reference'] for t in x['hosted']['tried'] if t['source'] == 'mx'] == ['$MX01', '$MX02'] for x in h)"
done_check "Verify Hosted Domains: both MX refused, the message deferred in Postfix's queue, the lines say why"

# ---- Postfix's own plain-text retry ---------------------------------------------------------------

begin
LOG=$T/fallback.log
postfix_start required-verify-hosted minimal_backoff_time=1s maximal_backoff_time=2s
: >"$PF/maillog"
sleep 1.1	# the message is now older than minimal_backoff_time
b1=$(mail_count mx01) b2=$(mail_count mx02)
lab postfix flush >>"$T/out" 2>&1
sleep 0.5
lab postfix wait 20 >>"$T/out" 2>&1 || note "Postfix still delivering"
(($(mail_count mx01) == b1 && $(mail_count mx02) == b2)) || note "a message was delivered"
want_maillog "lost connection with $MX01\[192\.0\.2\.1\] while sending MAIL FROM"
want_maillog "status=deferred"
want_no_maillog "status=(bounced|sent)"
want_log "len(p) >= 1 and all(x['recipient_domain'] == 'example.com' and x['decision'] == 'reject' \
and x['tls'] == 'required-verify-hosted' and 'requires one' in x['reason'] for x in p) \
and {x['peer'] for x in p} <= {'192.0.2.1', '192.0.2.2'} and all(x['decision'] == 'reject' for x in h)"
queue
grep -q 'user@example.com' "$T/queue" || note "the message left the queue"
done_check "Postfix retries in plain text after the failed STARTTLS: the shim stops its MAIL FROM; still deferred"

# ---- Verify again: the deferred message goes out ---------------------------------------------------

begin
LOG=$T/flush.log
postfix_start required-verify
b1=$(mail_count mx01)
lab postfix flush >>"$T/out" 2>&1
# the flush moves the message out of the deferred queue asynchronously:
# wait (bounded) for it to arrive rather than for the queues to look idle
for _ in $(seq 100); do
	(($(mail_count mx01) == b1 + 1)) && break
	sleep 0.2
done
lab postfix wait 20 >>"$T/out" 2>&1 || note "Postfix still delivering"
(($(mail_count mx01) == b1 + 1)) || note "the deferred message did not reach mx01"
want_maillog "to=<user@example.com>, relay=$MX01\[192\.0\.2\.1\]:25, .*status=sent"
queue
grep -q 'Mail queue is empty' "$T/queue" || note "the queue is not empty"
want_log "len(h) >= 1 and h[-1]['decision'] == 'accept' and h[-1]['recipient_source'] == 'mx-lookup'"
done_check "under Verify again, postqueue -f delivers the deferred message: nothing was lost"

# ---- the second mailer: Debian's sendmail -------------------------------------------------------------

# sendmail_run SUB TLS [RCPT] - the lab's private sendmail under the shim
sendmail_run() {
	local sub=$1 tls=$2
	shift 2
	lab sendmail "$sub" "$@" --shim "$SHIM" --env ESA_TLS="$tls" --env ESA_LOG="$LOG" --env ESA_LOG_LEVEL=ab \
		--env ESA_CAFILE="$ESALAB_CA" --env ESA_NAMESERVER=127.0.0.1 >>"$T/out" 2>&1
}

if ! lab sendmail prepare >"$T/prepare" 2>&1; then
	for c in "sendmail, Verify Hosted Domains: deferred in its queue" \
		"sendmail, Verify: the queue run delivers"; do
		skip_check "$c" "$(tail -n 1 "$T/prepare")"
	done
else
	begin
	LOG=$T/sendmail-hosted.log
	b1=$(mail_count mx01) b2=$(mail_count mx02)
	sendmail_run send required-verify-hosted user@example.com
	(($(mail_count mx01) == b1 && $(mail_count mx02) == b2)) || note "a message was delivered"
	grep -q 'user@example.com... Deferred: 454 4.7.0 TLS handshake failed' "$T/out" ||
		note "sendmail did not defer on the failed handshake"
	lab sendmail queue >"$T/queue" 2>&1
	grep -q 'TLS handshake failed' "$T/queue" && grep -q 'user@example.com' "$T/queue" ||
		note "the message is not in sendmail's queue (sendmail -bp)"
	want_log "len(h) == 2 and [x['peer'] for x in h] == ['192.0.2.1', '192.0.2.2'] \
and all(x['program'] == 'sendmail' and x['recipient_domain'] == 'example.com' \
and x['recipient_source'] == 'mx-lookup' and x['decision'] == 'reject' \
and not x['hosted']['pass'] for x in h) and [x['via'] for x in h] == ['$MX01', '$MX02']"
	done_check "sendmail, Verify Hosted Domains: the recipient domain from its own MX lookup; deferred in its queue"

	begin
	LOG=$T/sendmail-verify.log
	b1=$(mail_count mx01)
	sendmail_run flush required-verify
	(($(mail_count mx01) == b1 + 1)) || note "the queued message did not reach mx01"
	grep -q 'user@example.com... Sent' "$T/out" || note "sendmail did not say Sent"
	lab sendmail queue >"$T/queue" 2>&1
	grep -q 'queue is empty' "$T/queue" || note "sendmail's queue is not empty"
	want_log "len(h) == 1 and h[0]['program'] == 'sendmail' and h[0]['recipient_source'] == 'mx-lookup' \
and h[0]['via'] == '$MX01' and h[0]['verify']['pass'] and h[0]['decision'] == 'accept'"
	done_check "sendmail, Verify: the queue run delivers the deferred message over TLS"
fi

# ---- stop and teardown --------------------------------------------------------------------------------

begin
LOG=/dev/null
pid=$(cat "$ESALAB_DIR/pids/postfix.pid" 2>/dev/null)
kids=$(pgrep -P "${pid:-0}" 2>/dev/null)
lab postfix stop >>"$T/out" 2>&1 || note "postfix stop failed"
# shellcheck disable=SC2086 # one word a pid
want_gone $pid $kids
[[ ! -e $ESALAB_DIR/pids/postfix.pid ]] || note "the pid file is still there"
done_check "postfix stop: the master and its children are gone"

begin
lab down >>"$T/out" 2>&1 || note "lab down failed"
lab_up=0
[[ ! -e $ESALAB_DIR ]] || note "$ESALAB_DIR (with the private Postfix) is still there"
done_check "teardown: the lab and its Postfix's files are gone"

lab_finish
