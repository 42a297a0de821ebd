#!/usr/bin/env bash
# shim.sh - esashim.so end to end: real, unmodified Debian clients under
# LD_PRELOAD against real STARTTLS servers on loopback (SPEC 5, 8.3, 8.5)
#
# Servers (tests/lib/servers.sh): a test CA; unbound on 127.0.0.1 holding
# the reference example of SPEC 7 for the test's own loopback addresses;
# aiosmtpd with STARTTLS on
#   REF  cert CN=*.emailhosted.not, DNS:*.emailhosted.not, DNS:emailhosted.not
#        (PTR REF -> mx0a.emailhosted.not, A -> REF; example.com MX
#        mx01.subd.emailhosted.not): Verify passes, Verify Hosted fails
#   DOM  cert naming the recipient domain example.com: both pass
#   BAD  self-signed cert for example.com: stage I fails
# and without STARTTLS on PLAIN:2525 and PLAIN:PPORT (plain-text cases).
# The addresses are 127.A.B.x with A.B chosen at random, the ports free
# ones, so parallel runs do not meet.  DNS never goes to the system
# resolver: ESA_NAMESERVER points at the test's unbound, and no client is
# given a name it would have to resolve.
#
# This suite: the clients, 1-6c below.  Trust stores, routes, SPEC 5's
# settings, plain text, configuration errors, ESA_PORTS, log channels and
# levels, and scripts/esa-run are in tests/shim-settings.sh, which starts
# from the same servers and helpers (tests/lib/shim-suite.sh).
#
# Clients: openssl s_client, curl, swaks (Net::SSLeay), Python smtplib,
# s-nail, and build/progs/esa_client (tests/progs/esa_client.c: Postfix's
# way of deciding from SSL_get_verify_result, threads, fork, non-blocking,
# its own BIO, descriptors closed behind the shim's back).  Each check
# asserts the program's outcome, the mailbox, and the fields of the JSON
# log lines (parsed with /usr/bin/python3).
#
# Prints one line per check and "shim: N passed, M failed[, K skipped]";
# exits non-zero on any failure, also when a program it uses is missing
# (`make test` installs them all: scripts/deps.sh) or a server does not
# start.  Only the syslog check is skipped, where unshare -m is not allowed.
# KEEP=1 keeps the temporary directory.


set -u
SUITE=shim
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/shim-suite.sh
. "$ROOT/tests/lib/shim-suite.sh"

# ---- 1. openssl s_client ------------------------------------------------------

shimrun ESA_TLS=required-verify -- "$S_CLIENT" "$REF" "$PREF"
want_rc 0
want_delivered "$PREF"
want_line accept required-verify "$REF" "$PREF" esa
want_reference
want_err "depth=0 CN = *.emailhosted.not"	# its own callback still runs
want_log "h[0]['program'] == 'openssl' and h[0]['recipient_source'] == 'env'"
check "s_client: reference cert, required-verify: accepted, delivered (PTR), own callback called"

shimrun ESA_TLS=required-verify-hosted -- "$S_CLIENT" "$REF" "$PREF"
want_fail
want_not_delivered "$PREF"
want_line reject required-verify-hosted "$REF" "$PREF" esa
want_reference
want_err "certificate verify failed"
check "s_client: reference cert, required-verify-hosted: refused, not delivered"

plainrun "$S_CLIENT" "$REF" "$PREF" -CAfile "$CA" -verify_hostname example.com
shimrun ESA_TLS=6 ESA_ENFORCE=observe -- "$S_CLIENT" "$REF" "$PREF" -CAfile "$CA" -verify_hostname example.com
want_rc "$rc0"
want_same_stdout
cmp -s "$T/err0" "$T/err" || note "stderr differs from the run without the shim"
want_delivered "$PREF"
want_line reject required-verify-hosted "$REF" "$PREF" observe
want_log "h[0]['stock'] == {'host': 'example.com', 'ok': False} and h[0]['verify']['pass'] and not h[0]['hosted']['pass']"
check "s_client: observe: stdout and stderr as without the shim; log has both verdicts and stock"

shimrun ESA_TLS=6 -- "$S_CLIENT" "$DOM" "$PDOM"
want_rc 0
want_delivered "$PDOM"
want_line accept required-verify-hosted "$DOM" "$PDOM" esa
want_log "h[0]['verify']['pass'] and h[0]['hosted']['pass'] and h[0]['verify']['source'] == 'recipient-domain' and h[0]['hosted']['source'] == 'recipient-domain'"
check "s_client: cert naming the recipient domain: both pass, delivered"

shimrun ESA_TLS=5 -- "$S_CLIENT" "$BAD" "$PBAD"
want_fail
want_not_delivered "$PBAD"
want_line reject required-verify "$BAD" "$PBAD" esa
want_log "not h[0]['chain']['ok'] and h[0]['chain']['error']"
check "s_client: untrusted cert: refused (stage I), not delivered"

# ---- 2. curl -----------------------------------------------------------------

if have curl; then
	shimrun ESA_TLS=required-verify -- curl --ssl-reqd -sS -k "${CURL_SEND[@]}" "smtp://$REF:$PREF"
	want_rc 0
	want_delivered "$PREF"
	want_line accept required-verify "$REF" "$PREF" esa
	want_reference
	want_log "h[0]['program'] == 'curl'"
	check "curl -k: reference cert, required-verify: accepted, delivered; peer and port from curl's own BIO"

	shimrun ESA_TLS=required-verify-hosted -- curl --ssl-reqd -sS -k "${CURL_SEND[@]}" "smtp://$REF:$PREF"
	want_rc 60
	want_not_delivered "$PREF"
	want_line reject required-verify-hosted "$REF" "$PREF" esa
	check "curl -k: reference cert, required-verify-hosted: refused (exit 60), not delivered"

	W=(-w '%{ssl_verify_result} %{exitcode}\n')
	plainrun curl --ssl-reqd -sS -k "${W[@]}" "${CURL_SEND[@]}" "smtp://$REF:$PREF"
	shimrun ESA_TLS=6 ESA_ENFORCE=observe -- curl --ssl-reqd -sS -k "${W[@]}" "${CURL_SEND[@]}" "smtp://$REF:$PREF"
	want_rc "$rc0"
	want_same_stdout
	want_delivered "$PREF"
	want_line reject required-verify-hosted "$REF" "$PREF" observe
	check "curl: observe: same stdout and exit as without the shim, delivered; log says ESA would refuse"

	# no ESA_RECIPIENT_DOMAIN: the SNI curl sends is the recipient domain
	shimrun ESA_TLS=6 ESA_RECIPIENT_DOMAIN= -- curl --ssl-reqd -sS --cacert "$CA" \
		--resolve "example.com:$PDOM:$DOM" "${CURL_SEND[@]}" "smtp://example.com:$PDOM"
	want_rc 0
	want_delivered "$PDOM"
	want_line accept required-verify-hosted "$DOM" "$PDOM" esa
	want_log "h[0]['recipient_source'] == 'sni' and h[0]['sni'] == 'example.com' and h[0]['hosted']['pass']"
	check "curl --cacert, name via SNI: recipient domain from SNI, both pass, delivered"

	shimrun ESA_TLS=5 -- curl --ssl-reqd -sS -k "${CURL_SEND[@]}" "smtp://$BAD:$PBAD"
	want_fail
	want_not_delivered "$PBAD"
	want_line reject required-verify "$BAD" "$PBAD" esa
	want_log "not h[0]['chain']['ok']"
	check "curl -k: untrusted cert, required-verify: refused, not delivered"

	shimrun ESA_TLS=preferred-verify -- curl --ssl-reqd -sS -k "${CURL_SEND[@]}" "smtp://$BAD:$PBAD"
	want_rc 0
	want_delivered "$PBAD"
	want_line accept preferred-verify "$BAD" "$PBAD" esa
	want_log "not h[0]['chain']['ok']"
	check "curl -k: untrusted cert, preferred-verify: delivered encrypted, failure logged"
else
	skip "curl" "curl is not installed"
fi

# ---- 3. swaks (Net::SSLeay, libssl dlopen'ed by Perl) -------------------------

if have swaks; then
	# shellcheck disable=SC2046
	shimrun ESA_TLS=required-verify -- swaks --tls --tls-verify --tls-ca-path "$CA" $(swaks_args "$REF" "$PREF")
	want_rc 0
	want_delivered "$PREF"
	want_line accept required-verify "$REF" "$PREF" esa
	want_reference
	check "swaks --tls-verify: reference cert, required-verify: accepted, delivered"

	# swaks' own check (the chain only) passes; ESA's Hosted rule does not
	# shellcheck disable=SC2046
	shimrun ESA_TLS=required-verify-hosted -- swaks --tls --tls-verify --tls-ca-path "$CA" $(swaks_args "$REF" "$PREF")
	want_fail
	want_sane
	want_not_delivered "$PREF"
	want_line reject required-verify-hosted "$REF" "$PREF" esa
	want_err "TLS startup failed"
	check "swaks --tls-verify: reference cert, required-verify-hosted: refused, not delivered"

	# shellcheck disable=SC2046
	plainrun swaks --tls $(swaks_args "$REF" "$PREF")
	# shellcheck disable=SC2046
	shimrun ESA_TLS=6 ESA_ENFORCE=observe -- swaks --tls $(swaks_args "$REF" "$PREF")
	want_rc "$rc0"
	want_same_stdout
	want_delivered "$PREF"
	want_line reject required-verify-hosted "$REF" "$PREF" observe
	check "swaks (verifies nothing): observe: same stdout as without the shim, delivered"

	# shellcheck disable=SC2046
	shimrun ESA_TLS=5 -- swaks --tls $(swaks_args "$BAD" "$PBAD")
	want_fail
	want_not_delivered "$PBAD"
	want_line reject required-verify "$BAD" "$PBAD" esa
	want_log "not h[0]['chain']['ok']"
	check "swaks (verifies nothing): untrusted cert: stage I with ESA_CAFILE refuses it"
else
	skip "swaks" "swaks is not installed"
fi

# ---- 4. Python smtplib (_ssl dlopen'ed) ---------------------------------------

shimrun ESA_TLS=required-verify ESA_RECIPIENT_DOMAIN= -- "$PYSMTP" "$REF" "$PREF" tls example.com "$CA"
want_rc 0
want_out sent
want_delivered "$PREF"
want_line accept required-verify "$REF" "$PREF" esa
want_reference
want_log "h[0]['recipient_source'] == 'host' and h[0]['stock'] == {'host': 'example.com', 'ok': False}"
check "python: cert fails Python's own name check, passes ESA: accepted; recipient from its host name"

shimrun ESA_TLS=required-verify-hosted -- "$PYSMTP" "$REF" "$PREF" tls example.com "$CA"
want_rc 3
want_not_delivered "$PREF"
want_line reject required-verify-hosted "$REF" "$PREF" esa
check "python: reference cert, required-verify-hosted: refused, not delivered"

plainrun "$PYSMTP" "$REF" "$PREF" tls example.com "$CA"
shimrun ESA_TLS=5 ESA_ENFORCE=observe -- "$PYSMTP" "$REF" "$PREF" tls example.com "$CA"
want_rc "$rc0"
want_same_stdout
want_not_delivered "$PREF"
want_line accept required-verify "$REF" "$PREF" observe
want_log "h[0]['stock']['ok'] is False"
check "python: observe: Python still refuses as without the shim; log says ESA would accept"

shimrun ESA_TLS=6 -- "$PYSMTP" "$DOM" "$PDOM" tls example.com "$CA"
want_rc 0
want_delivered "$PDOM"
want_line accept required-verify-hosted "$DOM" "$PDOM" esa
want_log "h[0]['stock'] == {'host': 'example.com', 'ok': True} and h[0]['hosted']['pass'] and h[0]['verify']['pass']"
check "python: cert naming the recipient domain: both pass, stock passes too, delivered"

shimrun ESA_TLS=5 -- "$PYSMTP" "$BAD" "$PBAD" tls-none example.com
want_rc 3
want_not_delivered "$PBAD"
want_line reject required-verify "$BAD" "$PBAD" esa
check "python CERT_NONE: untrusted cert: refused"

# ---- 5. s-nail ---------------------------------------------------------------

if have s-nail; then
	shimrun ESA_TLS=required-verify -- "$SNAIL" "$REF" "$PREF"
	want_rc 0
	want_delivered "$PREF"
	want_line accept required-verify "$REF" "$PREF" esa
	want_reference
	check "s-nail: reference cert, required-verify: accepted, delivered"

	shimrun ESA_TLS=required-verify-hosted -- "$SNAIL" "$REF" "$PREF"
	want_fail
	want_sane
	want_not_delivered "$PREF"
	want_line reject required-verify-hosted "$REF" "$PREF" esa
	[ ! -e "$T/home/dead.letter" ] || note "s-nail left dead.letter"
	check "s-nail: reference cert, required-verify-hosted: refused, not delivered"
else
	skip "s-nail" "s-nail is not installed"
fi

cat >"$T/aio.py" <<'PY'
import asyncio, ssl, sys
async def main():
    r, w = await asyncio.open_connection(sys.argv[1], int(sys.argv[2]))
    await r.readline()
    w.write(b"EHLO client.test\r\n")
    while (await r.readline())[3:4] != b" ":
        pass
    w.write(b"STARTTLS\r\n")
    await r.readline()
    try:
        await w.start_tls(ssl._create_unverified_context(), server_hostname="example.com")
        print("tls ok")
    except ssl.SSLError as e:
        print("tls failed")
        sys.exit(3)
asyncio.run(main())
PY
shimrun ESA_TLS=required-verify -- "$PY" "$T/aio.py" "$REF" "$PREF"
want_rc 0
want_out "tls ok"
want_line accept required-verify "$REF" "$PREF" esa
want_reference
check "python asyncio (memory BIOs): peer found by its ClientHello, PTR step passes"

# ---- 6. esa_client: Postfix's way, threads, fork, non-blocking ---------------

plainrun "$CLIENT" --verify --cafile "$CA" --cb --host example.com --mail "$REF" "$PREF"
shimrun ESA_TLS=5 -- "$CLIENT" --verify --cafile "$CA" --cb --host example.com --mail "$REF" "$PREF"
[ "$rc0" -ne 0 ] && grep -q 'verify=62' "$T/out0" || note "without the shim: $(cat "$T/out0")"
want_rc 0
want_out "handshake ok verify=0 cb=3 mail=ok"
want_delivered "$PREF"
want_line accept required-verify "$REF" "$PREF" esa
want_log "h[0]['stock'] == {'host': 'example.com', 'ok': False}"
check "SSL_get_verify_result (Postfix style): X509_V_OK under ESA, own callback called, delivered"

shimrun ESA_TLS=6 -- "$CLIENT" --verify --cafile "$CA" --cb --host example.com --mail "$REF" "$PREF"
want_rc 1
want_out "handshake failed verify=62"
want_not_delivered "$PREF"
check "SSL_get_verify_result (Postfix style): required-verify-hosted: refused"

shimrun ESA_TLS=5 -- "$CLIENT" --nonblock --no-fd --late-verify --cb --mail "$REF" "$PREF"
want_rc 0
want_out "handshake ok verify=0 cb=2 mail=ok"
want_line accept required-verify "$REF" "$PREF" esa
want_reference
check "non-blocking, own BIO (no fd), SSL_set_verify after connect state: one line, peer learned"

shimrun ESA_TLS=5 -- "$CLIENT" --threads 8 --cb --mail "$REF" "$PREF"
want_rc 0
[ "$(grep -c 'handshake ok verify=0 cb=2 mail=ok' "$T/out")" -eq 8 ] || note "not 8 good connections"
want_delivered "$PREF" 8
want_log "len(h) == 8 and all(x['decision'] == 'accept' and x['verify']['pass'] for x in h)"
check "8 threads at once: 8 accepted, 8 delivered, 8 log lines"

shimrun ESA_TLS=6 -- "$CLIENT" --fork 3 --cb "$REF" "$PREF"
want_rc 1
[ "$(grep -c 'handshake failed' "$T/out")" -eq 4 ] || note "not 4 refused connections"
want_log "len(h) == 4 and len({x['pid'] for x in h}) == 4 and all(x['decision'] == 'reject' for x in h)"
check "fork: parent and 3 children each refused and logged under their own pid"

# ---- 6a. the log file, kept open: rotation, descriptors taken back ----------

# lines FILE N - wait (up to 10 s) until FILE has N lines; false if not
lines() {
	local i
	for i in $(seq 200); do
		[ "$(grep -c . "$1" 2>/dev/null)" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

# Rotation: after each connection the log is renamed away (logrotate), then
# removed; more than a second later the next line must go to a new file at
# the path, not to the old one.  The client waits for a line on stdin
# before each connection but the first (written in a subshell: a client
# gone early must not take this script down with SIGPIPE).
rm -f "$T/log" "$T/log.1" "$T/log.2" "$T/go"
mkfifo "$T/go"
env "${BASE[@]}" ESA_TLS=5 HOME="$T/home" LD_PRELOAD="$SHIM" timeout 30 \
	"$CLIENT" --serial 3 --between wait "$REF" "$PREF" <"$T/go" >"$T/out" 2>"$T/err" &
bg=$!
exec 8>"$T/go"
lines "$T/log" 1 || note "no first line"
mv "$T/log" "$T/log.1"
sleep 1.2
(echo go >&8) 2>/dev/null
lines "$T/log" 1 || note "no line in a new file after the rename"
cp "$T/log" "$T/log.2"
rm "$T/log"
sleep 1.2
(echo go >&8) 2>/dev/null
exec 8>&-
wait "$bg"
rc=$?
want_rc 0
[ "$(grep -c 'handshake ok' "$T/out")" -eq 3 ] || note "not 3 good connections: $(tr '\n' ' ' <"$T/out")"
want_log "len(h) == 1" "$T/log.1"
want_log "len(h) == 1" "$T/log.2"
want_log "len(h) == 1"
cat "$T/log.1" "$T/log.2" "$T/log" >"$T/log.all" 2>/dev/null
want_log "len(h) == 3 and len({x['pid'] for x in h}) == 1 and all(x['decision'] == 'accept' for x in h)" "$T/log.all"
check "log rotation: renamed, then removed: each later line in the new file at the path"

# A daemon closes every descriptor above 2 and opens files of its own on
# the freed numbers, the log's among them: with close() (the hook sees it)
# and with close_range() (only the fstat check can tell); the lines must
# keep going to the log and never into the program's file.
for how in close close-range; do
	rm -f "$T/own"
	shimrun ESA_TLS=5 -- "$CLIENT" --serial 3 --between "$how:$T/own" "$REF" "$PREF"
	want_rc 0
	[ "$(grep -c 'handshake ok' "$T/out")" -eq 3 ] || note "not 3 good connections: $(tr '\n' ' ' <"$T/out")"
	want_out "own file: clean"
	[ -s "$T/own" ] || note "the program's file is empty: no number was taken back"
	grep -q '{' "$T/own" 2>/dev/null && note "a log line in the program's own file"
	want_log "len(h) == 3 and len({x['pid'] for x in h}) == 1 and all(x['decision'] == 'accept' for x in h)"
	check "program closes all descriptors ($how) and reuses the numbers: lines stay in the log, none in its file"
done

# A program started with descriptors 0-2 closed: the log must not keep one
# of those numbers, or the program's own output (stdout) goes into it.
: >"$T/log"
env "${BASE[@]}" ESA_TLS=5 HOME="$T/home" LD_PRELOAD="$SHIM" timeout 30 \
	"$CLIENT" "$REF" "$PREF" <&- >&- 2>&-
rc=$?
want_rc 0
want_log "len(L) == 1 and len(h) == 1 and h[0]['decision'] == 'accept'"
check "stdin, stdout and stderr closed: the log file does not take their numbers"

# A program with a file size limit (RLIMIT_FSIZE; ulimit -f counts KiB
# here): a line that would cross it must not be written (the kernel would
# send SIGXFSZ, which kills the program); one that fits is.
# fsize_run ERR VAR=VALUE... - the client once under `ulimit -f 8`:
# stdout to $T/out, stderr appended to ERR; rc
fsize_run() {
	local err=$1
	shift
	(ulimit -f 8 && exec env "${BASE[@]}" ESA_TLS=5 "$@" HOME="$T/home" \
		LD_PRELOAD="$SHIM" timeout 30 "$CLIENT" "$REF" "$PREF") \
		>"$T/out" 2>>"$err"
	rc=$?
}
# fill FILE - 8000 bytes, a little under the limit
fill() { head -c 8000 /dev/zero | tr '\0' '#' >"$1"; }

fill "$T/log"
: >"$T/err"
fsize_run "$T/err"
want_rc 0
want_out "handshake ok"
[ "$(stat -c %s "$T/log")" -eq 8000 ] || note "the log file grew past the limit: $(stat -c %s "$T/log") bytes"
: >"$T/log"
fsize_run "$T/err"
want_rc 0
want_log "len(h) == 1 and h[0]['decision'] == 'accept'"
fill "$T/errlog"
fsize_run "$T/errlog" ESA_LOG=stderr
want_rc 0
want_out "handshake ok"
[ "$(stat -c %s "$T/errlog")" -eq 8000 ] || note "stderr (a file) grew past the limit"
check "file size limit: a line that would cross it is not written, to the log file or to stderr (no SIGXFSZ); one that fits is"

# ---- 6b. Postfix's TLS client (posttls-finger shares smtp(8)'s tls_client.c) --

if [ -x /usr/sbin/posttls-finger ]; then
	mkdir -p "$T/pf"
	: >"$T/pf/main.cf"
	PTF=(env MAIL_CONFIG="$T/pf" /usr/sbin/posttls-finger -c -l secure -F "$CA" "[$REF]:$PREF" example.com)
	plainrun "${PTF[@]}"
	# it drops privileges after reading its CA file: log to stderr
	shimrun ESA_TLS=required-verify ESA_LOG=stderr -- "${PTF[@]}"
	grep -q 'Untrusted TLS connection established' "$T/out0" "$T/err0" || note "without the shim: not 'Untrusted'"
	grep -q 'Verified TLS connection established' "$T/out" "$T/err" || note "under the shim: not 'Verified'"
	grep -q '^esashim:' "$T/err" && note "a configuration error: $(grep '^esashim:' "$T/err")"
	grep '^{' "$T/err" >"$T/log"
	want_line accept required-verify "$REF" "$PREF" esa
	want_reference
	check "posttls-finger (Postfix's TLS client): untrusted by its own name check, Verified under ESA"

	shimrun ESA_TLS=required-verify-hosted ESA_LOG=stderr -- "${PTF[@]}"
	grep -q 'TLS connection established' "$T/out" "$T/err" && note "a TLS connection was established"
	grep '^{' "$T/err" >"$T/log"
	want_line reject required-verify-hosted "$REF" "$PREF" esa
	check "posttls-finger (Postfix's TLS client): required-verify-hosted: refused"
else
	skip "posttls-finger" "postfix is not installed"
fi

# ---- 6c. session resumption: under esa every handshake is verified -----------

RECON=(openssl s_client -tls1_2 -reconnect -starttls smtp -connect "$REF:$PREF")
plainrun "${RECON[@]}"
shimrun ESA_TLS=5 -- "${RECON[@]}"
[ "$(grep -c '^Reused,' "$T/out0")" -ge 1 ] || note "no resumption without the shim, nothing to test"
[ "$(grep -c '^New,' "$T/out")" -eq 6 ] && ! grep -q '^Reused,' "$T/out" || note "a session was resumed under esa"
want_log "len(h) == 6 and all(x['decision'] == 'accept' for x in h)"
check "s_client -reconnect: under esa no resumption, 6 verified handshakes, 6 lines"

shimrun ESA_TLS=5 ESA_ENFORCE=observe -- "${RECON[@]}"
[ "$(grep -cE '^(New|Reused),' "$T/out0")" = "$(grep -cE '^(New|Reused),' "$T/out")" ] &&
	[ "$(grep -c '^Reused,' "$T/out0")" = "$(grep -c '^Reused,' "$T/out")" ] || note "resumption differs from the run without the shim"
want_log "len(h) == 1"
check "s_client -reconnect: under observe resumption as without the shim, one line"

cat >"$T/resume.py" <<'PY'
import smtplib, ssl, sys
ctx = ssl._create_unverified_context()
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
sess = None
for i in range(3):
    s = smtplib.SMTP(local_hostname="client.test")
    s.connect(sys.argv[1], int(sys.argv[2]))
    s.ehlo()
    s.putcmd("STARTTLS")
    s.getreply()
    s.sock = ctx.wrap_socket(s.sock, server_hostname="example.com", session=sess)
    s.file = None
    s.ehlo()
    print(i, "reused" if s.sock.session_reused else "new")
    sess = s.sock.session
    s.quit()
PY
plainrun "$PY" "$T/resume.py" "$REF" "$PREF"
shimrun ESA_TLS=5 -- "$PY" "$T/resume.py" "$REF" "$PREF"
grep -q reused "$T/out0" || note "no resumption without the shim, nothing to test"
want_rc 0
[ "$(grep -c new "$T/out")" -eq 3 ] || note "a session was resumed under esa: $(tr '\n' ' ' <"$T/out")"
want_log "len(h) == 3"
check "python session= (SSL_set_session): under esa the offer is dropped, 3 verified handshakes"

# ---- summary -------------------------------------------------------------------

shim_suite_end
