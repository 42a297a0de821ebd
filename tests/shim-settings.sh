#!/usr/bin/env bash
# shim-settings.sh - esashim.so end to end, the second half of tests/shim.sh:
# trust stores, routes, the destinations file and SPEC 5's six settings;
# stage I as a stock client's (a CA without keyUsage); plain text on SMTP
# ports; configuration errors; ESA_PORTS, the log channels and programs
# without TLS; ESA_LOG_LEVEL; scripts/esa-run.  Real, unmodified Debian
# clients under LD_PRELOAD against real STARTTLS servers on loopback, with
# DNS from the test's own unbound: the servers and helpers of
# tests/lib/shim-suite.sh (see tests/shim.sh for what they are).
#
# Prints one line per check and "shim-settings: N passed, M failed[, K
# skipped]"; exits non-zero on any failure.  Only the syslog check is
# skipped, where unshare -m is not allowed.  KEEP=1 keeps the temporary
# directory.

set -u
SUITE=shim-settings
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/shim-suite.sh
. "$ROOT/tests/lib/shim-suite.sh"

# ---- 7. trust stores, routes, destinations, SPEC 5's settings ---------------

if have curl; then
	shimrun ESA_TLS=5 ESA_CAFILE= -- curl --ssl-reqd -sS -k "${CURL_SEND[@]}" "smtp://$DOM:$PDOM"
	want_rc 60
	want_not_delivered "$PDOM"
	want_line reject required-verify "$DOM" "$PDOM" esa
	want_log "h[0]['chain']['error'] == 'unable to get local issuer certificate' and h[0]['verify']['pass']"
	check "curl -k without ESA_CAFILE: stage I against the system store (test CA unknown there): refused"

	mkdir -p "$T/capath"
	cp "$CA" "$T/capath/"
	openssl rehash "$T/capath" 2>/dev/null || c_rehash "$T/capath" >/dev/null 2>&1
	shimrun ESA_TLS=6 ESA_CAFILE= ESA_CAPATH="$T/capath" -- curl --ssl-reqd -sS -k "${CURL_SEND[@]}" "smtp://$DOM:$PDOM"
	want_rc 0
	want_delivered "$PDOM"
	want_line accept required-verify-hosted "$DOM" "$PDOM" esa
	check "curl -k with ESA_CAPATH: stage I against that directory: accepted"

	shimrun ESA_TLS=5 ESA_RECIPIENT_DOMAIN= -- curl --ssl-reqd -sS -k "${CURL_SEND[@]}" "smtp://$REF:$PREF"
	want_rc 60
	want_not_delivered "$PREF"
	want_log "len(h) == 1 and h[0]['decision'] == 'reject' and h[0]['recipient_domain'] is None \
and 'no recipient domain' in h[0]['verify']['reason']"
	check "no recipient domain at all (IP URL, no SNI): fails closed, says why"

	shimrun ESA_TLS=6 ESA_ROUTES=mx0a.emailhosted.not -- curl --ssl-reqd -sS -k "${CURL_SEND[@]}" "smtp://$REF:$PREF"
	want_rc 0
	want_delivered "$PREF"
	want_line accept required-verify-hosted "$REF" "$PREF" esa
	want_log "h[0]['hosted']['pass'] and h[0]['hosted']['source'] == 'route' and h[0]['hosted']['reference'] == 'mx0a.emailhosted.not'"
	check "ESA_ROUTES: Hosted passes through the route that leads to the peer (SPEC 4.2 step 2)"

	printf '[destinations]\ndefault tls=preferred\nexample.com tls=required-verify-hosted\n[routes]\nexample.com mx0a.emailhosted.not\n' >"$T/dest.conf"
	shimrun ESA_RECIPIENT_DOMAIN= ESA_CONFIG="$T/dest.conf" -- curl --ssl-reqd -sS -k \
		--resolve "mx0a.emailhosted.not:$PREF:$REF" "${CURL_SEND[@]}" "smtp://mx0a.emailhosted.not:$PREF"
	want_rc 0
	want_delivered "$PREF"
	want_line accept required-verify-hosted "$REF" "$PREF" esa
	want_log "h[0]['recipient_source'] == 'config-route' and h[0]['via'] == 'mx0a.emailhosted.not' and h[0]['hosted']['source'] == 'route'"
	check "ESA_CONFIG: the route host curl asked for maps to its domain and setting; accepted"
fi

shimrun ESA_TLS=required -- "$CLIENT" --cb --mail "$BAD" "$PBAD"
want_rc 0
want_out "handshake ok verify=0"
want_delivered "$PBAD"
want_line accept required "$BAD" "$PBAD" esa
check "required (3): untrusted cert delivered encrypted, SSL_get_verify_result X509_V_OK (SPEC 5)"

shimrun ESA_TLS=preferred-verify -- "$CLIENT" --cb --mail "$BAD" "$PBAD"
want_rc 1
grep -qE 'handshake ok verify=[1-9]' "$T/out" || note "verify result not kept: $(cat "$T/out")"
want_line accept preferred-verify "$BAD" "$PBAD" esa
check "preferred-verify (4): handshake accepted, SSL_get_verify_result keeps the failure (SPEC 5)"

# ---- 7a. stage I is a stock client's: a CA without keyUsage (SPEC 2) ---------

openssl x509 -in "$KUCA" -noout -ext keyUsage 2>/dev/null | grep -q 'Key Usage' &&
	note "the plain CA has a keyUsage extension"
openssl verify -purpose sslserver -CAfile "$KUCA" "$SRV_DIR/ku.pem" >/dev/null 2>&1 ||
	note "stock openssl verify refuses the plain CA's certificate"
check "fixture: a CA without keyUsage, its certificate accepted by openssl verify"

# $T/bin/ku NAME ADDR PORT - one client delivering one message; the ones
# that verify on their own are given the plain CA as their trust store
cat >"$T/bin/ku" <<SH
#!/bin/sh
a=\$2 p=\$3
send="--mail-from a@client.test --mail-rcpt c@example.com -T $T/msg"
sw="--server \$a --port \$p --to c@example.com --from a@client.test --helo client.test"
case \$1 in
s_client) exec "$S_CLIENT" "\$a" "\$p" ;;
s_client-verify) exec "$S_CLIENT" "\$a" "\$p" -verify_return_error -CAfile "$KUCA" ;;
curl-k) exec curl --ssl-reqd -sS -k \$send "smtp://\$a:\$p" ;;
curl-cacert) exec curl --ssl-reqd -sS --cacert "$KUCA" \\
	--resolve "mx.example.com:\$p:\$a" \$send "smtp://mx.example.com:\$p" ;;
swaks) exec swaks --tls \$sw ;;
swaks-verify) exec swaks --tls --tls-verify --tls-ca-path "$KUCA" \$sw ;;
python-none) exec "$PYSMTP" "\$a" "\$p" tls-none example.com ;;
python-verify) exec "$PYSMTP" "\$a" "\$p" tls mx.example.com "$KUCA" ;;
s-nail) exec "$SNAIL" "\$a" "\$p" ;;
esa_client) exec "$CLIENT" --verify --cafile "$KUCA" --host mx.example.com --mail "\$a" "\$p" ;;
esac
exit 99
SH
chmod +x "$T/bin/ku"
KU_CLIENTS="s_client s_client-verify curl-k curl-cacert swaks swaks-verify python-none python-verify s-nail esa_client"

for c in $KU_CLIENTS; do
	plainrun "$T/bin/ku" "$c" "$KU" "$PKU"
	[ "$rc0" -eq 0 ] || note "without the shim: exit $rc0"
	shimrun ESA_TLS=6 ESA_CAFILE="$KUCA" -- "$T/bin/ku" "$c" "$KU" "$PKU"
	want_rc 0
	want_delivered "$PKU"
	want_line accept required-verify-hosted "$KU" "$PKU" esa
	want_log "h[0]['chain']['ok'] and 'x509_strict' not in h[0]['chain']['flags'] \
and h[0]['chain']['auth_level'] is not None and h[0]['verify']['pass'] and h[0]['hosted']['pass']"
	check "$c: CA without keyUsage, as stock without the shim: accepted under Verify Hosted, delivered"

	shimrun ESA_TLS=6 ESA_CAFILE="$KUCA" ESA_STRICT=1 -- "$T/bin/ku" "$c" "$KU" "$PKU"
	want_fail
	want_sane
	want_not_delivered "$PKU"
	want_line reject required-verify-hosted "$KU" "$PKU" esa
	want_log "not h[0]['chain']['ok'] and h[0]['chain']['error'] == 'CA cert does not include key usage extension' \
and 'x509_strict' in h[0]['chain']['flags']"
	check "$c: the same CA with ESA_STRICT=1: refused (no keyUsage), not delivered"
done

shimrun ESA_TLS=6 ESA_CAFILE="$KUCA" ESA_ENFORCE=observe ESA_STRICT=yes -- "$T/bin/ku" curl-k "$KU" "$PKU"
want_rc 0
want_delivered "$PKU"
want_line reject required-verify-hosted "$KU" "$PKU" observe
want_log "h[0]['chain']['error'] == 'CA cert does not include key usage extension' and 'x509_strict' in h[0]['chain']['flags']"
check "observe with ESA_STRICT=yes: delivered as the program decides, log says strict ESA would refuse"

shimrun ESA_TLS=6 ESA_CAFILE="$SRV_DIR/dom.pem" ESA_PARTIAL_CHAIN=0 -- "$CLIENT" --mail "$DOM" "$PDOM"
want_fail
want_not_delivered "$PDOM"
want_log "h[0]['chain']['error'] == 'unable to get local issuer certificate' and 'partial_chain' not in h[0]['chain']['flags']"
check "the server's own certificate as ESA_CAFILE: no anchor by default (stock), refused"

shimrun ESA_TLS=6 ESA_CAFILE="$SRV_DIR/dom.pem" ESA_PARTIAL_CHAIN=1 -- "$CLIENT" --mail "$DOM" "$PDOM"
want_rc 0
want_delivered "$PDOM"
want_line accept required-verify-hosted "$DOM" "$PDOM" esa
want_log "h[0]['chain']['ok'] and 'partial_chain' in h[0]['chain']['flags']"
check "ESA_PARTIAL_CHAIN=1: the pinned server certificate is an anchor, delivered"

# ---- 8. plain text on SMTP ports (SPEC 5) ------------------------------------

for tls in required required-verify required-verify-hosted; do
	shimrun ESA_TLS=$tls -- "$PYSMTP" "$PLAIN" 2525 plain
	want_rc 3
	want_out "failed: SMTPServerDisconnected"
	want_not_delivered 2525
	want_log "len(p) == 1 and p[0]['decision'] == 'reject' and p[0]['port'] == 2525 \
and p[0]['peer'] == E['PLAIN'] and p[0]['tls'] == '$tls' and 'requires' in p[0]['reason'] and not h"
	check "python plain text, $tls: MAIL FROM stopped, not delivered, logged why"
done
if have swaks; then
	# shellcheck disable=SC2046
	shimrun ESA_TLS=required-verify -- swaks $(swaks_args "$PLAIN" 2525)
	want_fail
	want_sane
	want_not_delivered 2525
	want_log "len(p) == 1 and p[0]['decision'] == 'reject' and 'no TLS session' in p[0]['reason']"
	check "swaks plain text, required-verify: MAIL FROM stopped, not delivered, logged why"
	for tls in preferred preferred-verify; do
		# shellcheck disable=SC2046
		shimrun ESA_TLS=$tls -- swaks $(swaks_args "$PLAIN" 2525)
		want_rc 0
		want_delivered 2525
		want_log "len(p) == 1 and p[0]['decision'] == 'accept' and p[0]['tls'] == '$tls'"
		check "swaks plain text, $tls: delivered in clear, logged"
	done
fi
# a raw client that goes on after the refusal: RCPT, DATA, the body
cat >"$T/raw.pl" <<'PL'
use strict;
use IO::Socket::INET;
use Errno;
my $s = IO::Socket::INET->new(PeerAddr => $ARGV[0], PeerPort => $ARGV[1]) or die "connect: $!";
my $b;
sysread($s, $b, 4096);
syswrite($s, "EHLO client.test\r\n");
sysread($s, $b, 4096);
my @r;
for my $cmd ("MAIL FROM:<a\@client.test>\r\n", "RCPT TO:<c\@example.com>\r\n",
	     "DATA\r\n", "Subject: secret\r\n\r\nsecret\r\n.\r\n") {
	my $n = syswrite($s, $cmd);
	push @r, defined $n ? "sent" : $!{EPERM} ? "EPERM" : "error";
}
alarm 5;		# the rest of earlier replies, then end of file
my $n;
1 while ($n = sysread($s, $b, 4096));
print join(" ", @r), " read=", defined $n ? "eof" : "error", "\n";
PL
shimrun ESA_TLS=required-verify -- perl "$T/raw.pl" "$PLAIN" 2525
want_rc 0
want_out "EPERM EPERM EPERM EPERM read=eof"
want_not_delivered 2525
want_log "len(p) == 1 and p[0]['decision'] == 'reject'"
check "after a stopped MAIL FROM every later write fails too (EPERM, no SIGPIPE), reads see EOF"

shimrun ESA_TLS=preferred -- "$PYSMTP" "$PLAIN" 2525 plain
want_rc 0
want_delivered 2525
check "python plain text, preferred: delivered"
if have curl; then
	shimrun ESA_TLS=required -- curl -sS "${CURL_SEND[@]}" "smtp://$PLAIN:2525"
	want_rc 55
	want_not_delivered 2525
	want_log "len(p) == 1 and p[0]['decision'] == 'reject'"
	check "curl plain text, required: send fails, not delivered"
fi
shimrun ESA_TLS=required-verify -- "$PYSMTP" "$PLAIN" "$PPORT" plain
want_rc 0
want_delivered "$PPORT"
want_log "len(L) == 0"
check "plain text on a port that is not an SMTP port: untouched"
shimrun ESA_TLS=required-verify ESA_PORTS="$PPORT" -- "$PYSMTP" "$PLAIN" "$PPORT" plain
want_rc 3
want_not_delivered "$PPORT"
want_log "len(p) == 1 and p[0]['port'] == int(E['PPORT'])"
check "ESA_PORTS makes its ports the SMTP ports: MAIL FROM stopped there"
shimrun ESA_TLS=required-verify ESA_ENFORCE=observe -- "$PYSMTP" "$PLAIN" 2525 plain
want_rc 0
want_delivered 2525
want_log "len(p) == 1 and p[0]['decision'] == 'reject' and p[0]['enforce'] == 'observe'"
check "observe: plain text goes through, the log says ESA would refuse it"

# ---- 9. configuration errors --------------------------------------------------

shimrun ESA_TLS=bogus ESA_LOG=stderr -- "$PYSMTP" "$DOM" "$PDOM" tls-none example.com
want_rc 3
want_sane
want_not_delivered "$PDOM"
[ "$(grep -c '^esashim:' "$T/err")" -eq 1 ] || note "not exactly one error line on stderr"
grep '^esashim:' "$T/err" | grep -q 'ESA_TLS' || note "the error line does not name ESA_TLS"
grep -v '^failed: ' "$T/out" | grep -q . && note "stdout has more than the program's line"
check "ESA_TLS=bogus: one line on stderr naming ESA_TLS; a good cert is refused (fails closed)"

shimrun ESA_TLS=bogus ESA_LOG=stderr -- "$CLIENT" --threads 4 "$DOM" "$PDOM"
want_rc 1
[ "$(grep -c '^esashim:' "$T/err")" -eq 1 ] || note "the error was not reported exactly once"
[ "$(grep -c '^{' "$T/err")" -eq 4 ] || note "not 4 log lines"
check "ESA_TLS=bogus with 4 threads: reported once, 4 refusals logged"

for bad in ESA_ENFORCE=maybe ESA_LOG_LEVEL=verbose ESA_STRICT=maybe ESA_PARTIAL_CHAIN=2 ESA_PORTS=25,smtp ESA_NAMESERVER=nowhere ESA_DNS_FILE=/nonexistent \
	ESA_CAFILE=/nonexistent ESA_CONFIG=/nonexistent ESA_ROUTES=bad..route \
	ESA_RECIPIENT_DOMAIN=bad..domain ESA_LOG=/nonexistent/dir/log; do
	shimrun ESA_TLS=preferred "$bad" -- "$CLIENT" "$DOM" "$PDOM"
	want_rc 1
	want_sane
	[ "$(grep -c "^esashim: ${bad%%=*}" "$T/err")" -eq 1 ] || note "no single stderr line naming ${bad%%=*}: $(head -c 200 "$T/err")"
	check "$bad: reported naming the variable, refused even under 'preferred'"
done

shimrun ESA_TLS=preferred ESA_CONFIG=/nonexistent -- "$PYSMTP" "$PLAIN" 2525 plain
want_rc 3
want_not_delivered 2525
check "configuration error: plain text on an SMTP port is stopped too"

# ---- 10. ESA_PORTS, log channels, programs without TLS -------------------------

if have curl; then
	shimrun ESA_TLS=6 ESA_PORTS="$PDOM" -- curl --ssl-reqd -sS -k "${CURL_SEND[@]}" "smtp://$REF:$PREF"
	want_rc 0
	want_delivered "$PREF"
	want_log "len(L) == 0"
	check "ESA_PORTS without the server's port: connection left alone (curl delivers, no line)"
	shimrun ESA_TLS=6 ESA_PORTS="25,$PREF" -- curl --ssl-reqd -sS -k "${CURL_SEND[@]}" "smtp://$REF:$PREF"
	want_rc 60
	want_not_delivered "$PREF"
	want_line reject required-verify-hosted "$REF" "$PREF" esa
	check "ESA_PORTS with the server's port: verified and refused"
fi
plainrun "$CLIENT" --cb "$REF" "$PREF"
shimrun ESA_TLS=6 ESA_PORTS="$PDOM" -- "$CLIENT" --cb "$REF" "$PREF"
want_rc "$rc0"
want_same_stdout
want_log "len(L) == 0"
check "ESA_PORTS: left-alone connection keeps the program's callback and verdict"

shimrun ESA_LOG=stderr -- "$CLIENT" "$DOM" "$PDOM"
want_rc 0
[ "$(grep -c '^{"ts":' "$T/err")" -eq 1 ] || note "no JSON line on stderr"
grep -q '^{' "$T/out" && note "a log line on stdout"
check "ESA_LOG=stderr: the line on stderr, nothing on stdout"

rm -f "$T/rel.log"
(cd "$T" && env "${BASE[@]}" ESA_LOG=rel.log LD_PRELOAD="$SHIM" "$CLIENT" "$DOM" "$PDOM" >/dev/null 2>&1)
[ "$(grep -c '"event":"handshake"' "$T/rel.log" 2>/dev/null)" = 1 ] || note "no line in the relative log file"
check "ESA_LOG=FILE (relative): one line appended there"

# syslog: a listener on /dev/log in a private mount namespace
cat >"$T/syslog.sh" <<'SH'
set -e
T=$1
shift
mount --make-rprivate /
mkdir -p "$T/olddev"
mount --rbind /dev "$T/olddev"
mount -t tmpfs -o mode=755 tmpfs /dev
for n in null zero random urandom full tty; do
	touch "/dev/$n"
	mount --bind "$T/olddev/$n" "/dev/$n"
done
ln -s /proc/self/fd /dev/fd
/usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
open(sys.argv[1] + "/ready", "w").close()
s.settimeout(5)
with open(sys.argv[1] + "/syslog.txt", "wb") as f:
    while True:
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        f.write(d + b"\n")
        f.flush()
        if b"esa_client" in d:
            break
' "$T" &
listener=$!
for i in $(seq 100); do [ -e "$T/ready" ] && break; sleep 0.05; done
"$@" && rc=0 || rc=$?
wait "$listener" || true
exit $rc
SH
rm -f "$T/ready" "$T/syslog.txt"
if unshare -m true 2>/dev/null; then
	shimrun ESA_LOG= -- unshare -m bash "$T/syslog.sh" "$T" "$CLIENT" "$DOM" "$PDOM"
	want_rc 0
	want_out "handshake ok"
	grep -q '^{' "$T/out" && note "a log line on stdout"
	"$PY" - "$T/syslog.txt" <<'PY' 2>>"$T/pyerr" || note "no mail.info JSON line in syslog"
import json, re, sys
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    m = re.match(r"<(\d+)>.*?esa_client(?:\[\d+\])?: (\{.*\})$", line.strip())
    if m and int(m.group(1)) == 2 * 8 + 6:      # LOG_MAIL | LOG_INFO
        j = json.loads(m.group(2))
        if j["event"] == "handshake" and j["decision"] == "accept":
            sys.exit(0)
sys.exit(1)
PY
	check "ESA_LOG unset: the line goes to syslog, facility mail, level info"
else
	skip "syslog listener" "unshare -m is not allowed here"
fi
shimrun ESA_LOG=syslog -- "$CLIENT" "$DOM" "$PDOM"
want_rc 0
want_out "handshake ok"
grep -q '^{' "$T/out" "$T/err" && note "a log line on stdout or stderr"
check "ESA_LOG=syslog (no /dev/log here): the program runs normally, nothing on stdout"

for cmd in /bin/true "ls -d /" "$PY -c print(42)" "perl -e print(7)" "cat $T/body"; do
	# shellcheck disable=SC2086
	plainrun $cmd
	# shellcheck disable=SC2086
	shimrun ESA_TLS=bogus -- $cmd
	want_rc "$rc0"
	want_same_stdout
	[ ! -s "$T/err" ] || note "stderr: $(head -c 100 "$T/err")"
	check "no TLS at all ($cmd): runs as without the shim, even with a bad setting"
done

# ---- 10b. ESA_LOG_LEVEL: how much a handshake logs --------------------------
# (BASE says ab; ESA_LOG_LEVEL= gives the default of the mode)

# want_summary DECISION ENFORCE - one handshake line, the short one: who,
# the setting, the verdicts and the decision, none of the lists
want_summary() {
	want_log "len(h) == 1 and h[0]['level'] == 'summary' and h[0]['decision'] == '$1' \
and h[0]['enforce'] == '$2' and h[0]['recipient_domain'] == 'example.com' and ts_ok(h[0]) \
and h[0]['pid'] > 0 and all(k in h[0] for k in ('program', 'peer', 'port', 'sni', \
'recipient_source', 'tls', 'chain', 'stock', 'verify', 'hosted', 'elapsed_us')) \
and set(h[0]['chain']) == {'ok', 'error'} and set(h[0]['stock']) == {'ok'} \
and not any(k in h[0] for k in ('presented', 'dns', 'recipient_candidates')) \
and all(set(h[0][m]) == {'pass', 'reference', 'source', 'reason'} \
for m in ('verify', 'hosted') if h[0][m] is not None)"
	[ "$(wc -c <"$T/log")" -lt 700 ] || note "summary line of $(wc -c <"$T/log") bytes"
}
# want_full - the handshake lines are the full A/B ones (no level member,
# the presented identifiers, every reference tried, the DNS queries)
want_full() {
	want_log "len(h) >= 1 and all('level' not in x and 'presented' in x and 'dns' in x \
and set(x['chain']) >= {'depth', 'flags'} and 'host' in x['stock'] \
and all('tried' in x[m] for m in ('verify', 'hosted') if x[m] is not None) for x in h)"
}

shimrun ESA_LOG_LEVEL= ESA_TLS=required-verify -- "$CLIENT" "$REF" "$PREF"
want_rc 0
want_summary accept esa
want_log "h[0]['verify']['pass'] and h[0]['verify']['source'] == 'ptr' \
and h[0]['verify']['reference'] == 'mx0a.emailhosted.not' and h[0]['hosted'] is None \
and h[0]['chain'] == {'ok': True, 'error': None} and h[0]['peer'] == '$REF' and h[0]['port'] == $PREF"
check "ESA_LOG_LEVEL unset under esa: summary, one short line (Verify only: the setting's algorithm)"

shimrun ESA_LOG_LEVEL= ESA_TLS=required-verify-hosted -- "$CLIENT" "$REF" "$PREF"
want_rc 1
want_summary reject esa
want_log "not h[0]['hosted']['pass'] and h[0]['hosted']['reference'] is None \
and h[0]['hosted']['source'] is None and h[0]['hosted']['reason'] != '' and h[0]['verify'] is None"
check "summary, refused: the failing algorithm's reason, no reference"

shimrun ESA_LOG_LEVEL= ESA_ENFORCE=observe ESA_TLS=required-verify -- "$CLIENT" "$REF" "$PREF"
want_rc 0
want_line accept required-verify "$REF" "$PREF" observe
want_full
want_log "h[0]['verify']['pass'] and not h[0]['hosted']['pass']"
check "ESA_LOG_LEVEL unset under observe: ab, the full line with both algorithms"

shimrun ESA_LOG_LEVEL=summary ESA_ENFORCE=observe ESA_TLS=required-verify -- "$CLIENT" "$REF" "$PREF"
want_rc 0
want_summary accept observe
check "ESA_LOG_LEVEL=summary under observe: the short line"

shimrun ESA_LOG_LEVEL=AB ESA_TLS=required-verify -- "$CLIENT" "$REF" "$PREF"
want_rc 0
want_line accept required-verify "$REF" "$PREF" esa
want_full
want_reference
check "ESA_LOG_LEVEL=ab under esa (any case): the full line, both algorithms"

shimrun ESA_LOG_LEVEL=failures ESA_TLS=required-verify -- "$CLIENT" --serial 3 "$DOM" "$PDOM"
want_rc 0
want_log "len(L) == 0"
shimrun ESA_LOG_LEVEL=failures ESA_TLS=required-verify-hosted -- "$CLIENT" "$REF" "$PREF"
want_rc 1
want_line reject required-verify-hosted "$REF" "$PREF" esa
want_full
want_log "not h[0]['hosted']['pass'] and h[0]['verify'] is None \
and any(t['source'] == 'mx' for t in h[0]['hosted']['tried'])"
check "ESA_LOG_LEVEL=failures under esa: nothing for accepted connections, the full line of a refused one"

shimrun ESA_LOG_LEVEL=failures ESA_ENFORCE=observe ESA_TLS=required-verify-hosted -- "$CLIENT" "$REF" "$PREF"
want_rc 0
want_line reject required-verify-hosted "$REF" "$PREF" observe
want_full
shimrun ESA_LOG_LEVEL=failures ESA_ENFORCE=observe ESA_TLS=required-verify -- \
	"$CLIENT" --verify --cafile "$CA" --host wrong.example.net "$DOM" "$PDOM"
want_rc 1
want_line accept required-verify "$DOM" "$PDOM" observe
want_log "not h[0]['stock']['ok'] and h[0]['stock']['host'] == 'wrong.example.net'"
shimrun ESA_LOG_LEVEL=failures ESA_ENFORCE=observe ESA_TLS=required-verify -- \
	"$CLIENT" --verify --cafile "$CA" --host mx.example.com "$DOM" "$PDOM"
want_rc 0
want_log "len(L) == 0"
check "ESA_LOG_LEVEL=failures under observe: a line when ESA would refuse or the program's check failed, else none"

shimrun ESA_LOG_LEVEL=failures ESA_TLS=preferred -- "$PYSMTP" "$PLAIN" 2525 plain
want_rc 0
want_log "len(L) == 0"
shimrun ESA_LOG_LEVEL=failures ESA_TLS=required-verify -- "$PYSMTP" "$PLAIN" 2525 plain
want_rc 3
want_log "len(p) == 1 and p[0]['decision'] == 'reject' and len(h) == 0"
shimrun ESA_LOG_LEVEL= ESA_TLS=preferred -- "$PYSMTP" "$PLAIN" 2525 plain
want_rc 0
want_log "len(p) == 1 and p[0]['decision'] == 'accept'"
check "plain-text MAIL FROM: failures logs only a refused one; summary logs each"

# ---- 11. scripts/esa-run -------------------------------------------------------

if have curl; then
	: >"$T/log"
	mails_before
	env ESA_NAMESERVER="127.0.0.1:$DNSP" ESA_SHIM="$SHIM" timeout 30 "$ESA_RUN" --tls required-verify-hosted \
		--to example.com --cafile "$CA" --log "$T/log" --log-level ab -- curl --ssl-reqd -sS -k "${CURL_SEND[@]}" \
		"smtp://$REF:$PREF" >"$T/out" 2>"$T/err"
	rc=$?
	want_rc 60
	want_not_delivered "$PREF"
	want_line reject required-verify-hosted "$REF" "$PREF" esa
	[ ! -s "$T/out" ] || note "stdout not empty"
	check "esa-run --tls --to --cafile --log --log-level -- curl: refused as under LD_PRELOAD, nothing printed"

	: >"$T/log"
	mails_before
	env ESA_NAMESERVER="127.0.0.1:$DNSP" timeout 30 "$ESA_RUN" --shim "$SHIM" --observe --tls 6 \
		--to example.com --cafile "$CA" --log "$T/log" -- curl --ssl-reqd -sS -k "${CURL_SEND[@]}" \
		"smtp://$REF:$PREF" >"$T/out" 2>"$T/err"
	rc=$?
	want_rc 0
	want_delivered "$PREF"
	want_line reject required-verify-hosted "$REF" "$PREF" observe
	check "esa-run --observe: curl delivers, the log has ESA's verdict"

	for strict in "" --strict; do
		: >"$T/log"
		mails_before
		env ESA_NAMESERVER="127.0.0.1:$DNSP" timeout 30 "$ESA_RUN" --shim "$SHIM" -q $strict --tls 6 \
			--to example.com --cafile "$KUCA" --log "$T/log" --log-level ab -- "$T/bin/ku" curl-k "$KU" "$PKU" \
			>"$T/out" 2>"$T/err"
		rc=$?
		if [ -z "$strict" ]; then
			want_rc 0
			want_delivered "$PKU"
			want_line accept required-verify-hosted "$KU" "$PKU" esa
		else
			want_rc 60
			want_not_delivered "$PKU"
			want_log "h[0]['chain']['error'] == 'CA cert does not include key usage extension'"
		fi
		if [ -z "$strict" ]; then verdict="accepted, delivered"; else verdict="refused"; fi
		check "esa-run ${strict:-(default)}: the CA without keyUsage $verdict"
	done
fi

cc -static -o "$T/static" -x c - <<<'int main(void) { return 0; }' 2>/dev/null
if [ -x "$T/static" ]; then
	"$ESA_RUN" --shim "$SHIM" -- "$T/static" >"$T/out" 2>"$T/err"
	rc=$?
	want_rc 0
	want_err "statically linked"
	want_err "nothing will be verified"
	"$ESA_RUN" --check -- "$T/static" >/dev/null 2>&1 && note "--check passed a static program"
	check "esa-run: a statically linked program: said plainly, still run"
else
	note "cannot link a static program (libc.a: libc6-dev, scripts/deps.sh)"
	check "esa-run: a statically linked program: said plainly, still run"
fi
if have wget; then
	"$ESA_RUN" --check -- wget >"$T/out" 2>"$T/err"
	rc=$?
	want_rc 1
	want_err "GnuTLS"
	check "esa-run --check: wget (GnuTLS): not reachable, said plainly"
fi
for prog in curl openssl s-nail; do
	have "$prog" || continue
	"$ESA_RUN" --check -- "$prog" >"$T/out" 2>"$T/err"
	rc=$?
	want_rc 0
	[ ! -s "$T/err" ] || note "stderr: $(cat "$T/err")"
	check "esa-run --check: $prog links libssl.so.3: reachable, nothing said"
done
if have swaks; then
	"$ESA_RUN" --check -- swaks >"$T/out" 2>"$T/err"
	rc=$?
	want_rc 0
	want_err "loads OpenSSL at run time"
	check "esa-run --check: swaks (a perl script): loads OpenSSL at run time"
fi
"$ESA_RUN" --tls sometimes -- true >/dev/null 2>"$T/err"
rc=$?
want_rc 2
want_err "unknown TLS setting 'sometimes'"
check "esa-run: a bad --tls is a usage error"
"$ESA_RUN" --log-level all -- true >/dev/null 2>"$T/err"
rc=$?
want_rc 2
want_err "unknown log level 'all'"
check "esa-run: a bad --log-level is a usage error"

# ---- summary -------------------------------------------------------------------

shim_suite_end
