#!/usr/bin/env bash
# bypass.sh - the paths around the shim's check (issue 12): a certificate
# ESA refuses must never carry application data, whichever way a program
# sets TLS up; a MAIL FROM must never leave in clear under a setting that
# requires TLS, whichever way it is written; the recipient learned from the
# program's DNS work must not be another domain's.
#
# Real parts: the tests' own CA, unbound on 127.0.0.1 with SPEC 7's data for
# the test's own loopback addresses (as tests/shim.sh), aiosmtpd STARTTLS
# servers, build/progs/bypass_server (implicit TLS, TLS 1.2 renegotiation)
# and build/progs/bypass_client (tests/progs/bypass_client.c: one case per
# path), all under LD_PRELOAD=build/esashim.so with ESA_ENFORCE=esa.
#
# Servers ($NET.x, x below):
#   REF  .2   *.emailhosted.not (PTR -> mx0a.emailhosted.not): passes Verify
#             (5) by the PTR step, refused by Verify Hosted (6)
#   DOM  .3   example.com, mx.example.com: passes both
#   BAD  .4   self-signed example.com: refused by both (stage I)
#   PLAIN .5  no STARTTLS, port 2525: the plain-text cases
#   REF2 .6   the REF certificate at an address without PTR: refused by 5
#   REN  .8   bypass_server: DOM's certificate, then a TLS 1.2
#             renegotiation to REF's (6) or BAD's (5)
#   IMP  .9   bypass_server --implicit with REF's (6) / BAD's (5) certificate
#
# Each TLS case runs three times: without the shim against the refused
# server (the path really gets the message through: without this the test
# proves nothing), under the shim against it (no message, a refusal in the
# log), and under the shim against a server ESA accepts (the path still
# works).  Prints one line per check and "bypass: N passed, M failed".
# KEEP=1 keeps the temporary directory, VERBOSE=1 shows failures' output.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHIM=$ROOT/build/esashim.so
CLIENT=$ROOT/build/progs/bypass_client
SERVER=$ROOT/build/progs/bypass_server
PY=/usr/bin/python3
passed=0
failed=0
why=

unset LD_PRELOAD
for v in $(env | sed -n 's/^\(ESA_[A-Z_]*\)=.*/\1/p'); do
	case $v in ESA_TEST_* | ESA_SUITE_*) ;; *) unset "$v" ;; esac
done
if [ ! -f "$SHIM" ]; then
	echo "bypass: $SHIM not built (run make)" >&2
	exit 1
fi
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$ROOT" shim-progs >/dev/null ||
	{ echo "bypass: cannot build the test programs" >&2; exit 1; }
for tool in openssl "$PY" /usr/sbin/unbound; do
	command -v "$tool" >/dev/null 2>&1 || { echo "bypass: $tool is missing (scripts/deps.sh)"; exit 1; }
done

. "$ROOT/tests/lib/servers.sh"
. "$ROOT/tests/lib/log.sh"
srv_init
T=$SRV_DIR/t
mkdir -p "$T"

# ---- servers ------------------------------------------------------------------

NET=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1))
REF=$NET.2 DOM=$NET.3 BAD=$NET.4 PLAIN=$NET.5 REF2=$NET.6 REN=$NET.8 IMP=$NET.9
srv_ca
srv_cert ref '*.emailhosted.not' 'DNS:*.emailhosted.not' DNS:emailhosted.not
srv_cert dom mx.example.com DNS:example.com DNS:mx.example.com
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$SRV_DIR/bad.key" -out "$SRV_DIR/bad.pem" -days 1 \
	-subj /CN=mx.example.com -addext subjectAltName=DNS:example.com 2>/dev/null
CA=$SRV_DIR/ca.pem

DNSP=$(srv_port)
srv_unbound "$DNSP" \
	'local-zone: "example.com." static' \
	'local-data: "example.com. 300 IN MX 10 mx01.subd.emailhosted.not."' \
	"local-data: \"mx.example.com. 300 IN A $DOM\"" \
	'local-zone: "emailhosted.not." static' \
	"local-data: \"mx01.subd.emailhosted.not. 300 IN A $REF\"" \
	"local-data: \"mx0a.emailhosted.not. 300 IN A $REF\"" \
	"local-data-ptr: \"$REF 300 mx0a.emailhosted.not.\"" \
	"local-data-ptr: \"$DOM 300 mx.example.com.\"" \
	'local-zone: "evil.test." static' \
	'local-data: "evil.test. 300 IN MX 10 mx0a.emailhosted.not."' ||
	{ echo "bypass: unbound did not start"; exit 1; }

PREF=$(srv_port) PDOM=$(srv_port) PBAD=$(srv_port) PREF2=$(srv_port)
P6=$(srv_port) PREN6=$(srv_port) PREN5=$(srv_port) PIMP6=$(srv_port) PIMP5=$(srv_port)
PIMPD=$(srv_port)
for s in "$REF $PREF ref" "$DOM $PDOM dom" "$BAD $PBAD bad" "$REF2 $PREF2 ref"; do
	# shellcheck disable=SC2086
	srv_smtp $s || { echo "bypass: aiosmtpd did not start ($s)"; exit 1; }
done
srv_smtp "$PLAIN" 2525 - --no-starttls || { echo "bypass: no plain server"; exit 1; }
srv_smtp ::1 "$P6" - --no-starttls || { echo "bypass: no IPv6 plain server"; exit 1; }

# bserver NAME ADDR PORT ARGS... - bypass_server, its lines in $T/NAME.log
bserver() {
	local name=$1 addr=$2 port=$3
	shift 3
	: >"$T/$name.log"
	"$SERVER" "$@" --log "$T/$name.log" "$addr" "$port" >"$T/$name.out" 2>&1 &
	SRV_PIDS+=($!)
	srv_wait_tcp "$addr" "$port" || { echo "bypass: bypass_server $name did not start"; exit 1; }
}
S=$SRV_DIR
bserver ren6 "$REN" "$PREN6" --cert "$S/dom.pem" --key "$S/dom.key" --renego "$S/ref.pem" "$S/ref.key"
bserver ren5 "$REN" "$PREN5" --cert "$S/dom.pem" --key "$S/dom.key" --renego "$S/bad.pem" "$S/bad.key"
bserver imp6 "$IMP" "$PIMP6" --implicit --cert "$S/ref.pem" --key "$S/ref.key"
bserver imp5 "$IMP" "$PIMP5" --implicit --cert "$S/bad.pem" --key "$S/bad.key"
bserver impd "$IMP" "$PIMPD" --implicit --cert "$S/dom.pem" --key "$S/dom.key"

BASE=(ESA_NAMESERVER="127.0.0.1:$DNSP" ESA_CAFILE="$CA" ESA_LOG="$T/log")

# ---- helpers ------------------------------------------------------------------

note() { why="$why; $1"; }

# check NAME - the verdict of the current check
check() {
	if [ -z "$why" ]; then
		passed=$((passed + 1))
		echo "ok   $1"
	else
		failed=$((failed + 1))
		echo "FAIL $1${why}"
		if [ -n "${VERBOSE:-}" ]; then
			sed 's/^/  out: /' "$T/out" | head -n 20
			sed 's/^/  err: /' "$T/err" | head -n 20
			cut -c1-300 "$T/log" 2>/dev/null | sed 's/^/  log: /'
		fi
	fi
	why=
}

# count PORT - messages in a server's mailbox: aiosmtpd's Maildir, or a
# bypass_server's "delivered" lines (PORT is then its name)
count() {
	local p=$1
	case $p in *[!0-9]*) p=$(eval echo "\${P${1^^}:-x}") ;; esac
	if [ -d "$SRV_DIR/mail-$p/new" ]; then
		find "$SRV_DIR/mail-$p/new" -type f | wc -l
	else
		grep -c '^delivered' "$T/$1.log"
	fi
}

# run SHIM|NOSHIM BOX [VAR=VALUE...] -- ARGS... - bypass_client ARGS, with
# BASE and the variables, under the shim or not; out, err, rc, and new =
# the messages BOX gained
run() {
	local mode=$1 box=$2 before vars=()
	shift 2
	while [ "$1" != "--" ]; do vars+=("$1"); shift; done
	shift
	: >"$T/log"
	before=$(count "$box")
	if [ "$mode" = SHIM ]; then
		env "${BASE[@]}" ESA_ENFORCE=esa "${vars[@]}" LD_PRELOAD="$SHIM" \
			timeout 30 "$CLIENT" "$@" >"$T/out" 2>"$T/err"
	else
		env "${BASE[@]}" "${vars[@]}" timeout 30 "$CLIENT" "$@" >"$T/out" 2>"$T/err"
	fi
	rc=$?
	new=$(($(count "$box") - before))
}

want_log() { log_check "$T/log" "$1"; }
want_sane() { [ "$rc" -lt 124 ] || note "exit $rc: killed or timed out"; }

# refused BOX WHAT - under the shim: the client failed, no message, and the
# log holds a refusal and no acceptance
refused() {
	want_sane
	[ "$rc" -ne 0 ] || note "the client succeeded"
	[ "$new" -eq 0 ] || note "$new message(s) reached $1"
	want_log "any(x['decision'] == 'reject' for x in h) and not any(x['decision'] == 'accept' for x in h)"
}

# tls_case CASE SETTING REFUSED-ADDR PORT-OR-NAME GOOD-ADDR PORT-OR-NAME
#          [CLIENT-OPTIONS...] - the three runs of one TLS path
tls_case() {
	local c=$1 tls=$2 bad=$3 bport=$4 good=$5 gport=$6 bbox gbox
	shift 6
	bbox=$bport gbox=$gport
	case $bport in *[!0-9]*) bport=$(eval echo "\$P${bport^^}") ;; esac
	case $gport in *[!0-9]*) gport=$(eval echo "\$P${gport^^}") ;; esac
	run NOSHIM "$bbox" -- "$c" "$@" "$bad" "$bport"
	[ "$rc" -eq 0 ] && [ "$new" -eq 1 ] || note "without the shim the path does not deliver (rc $rc, $new messages): nothing to test"
	run SHIM "$bbox" ESA_TLS="$tls" -- "$c" "$@" "$bad" "$bport"
	refused "$bad"
	check "$c, setting $tls: the refused certificate carries no message"
	run SHIM "$gbox" ESA_TLS="$tls" ESA_RECIPIENT_DOMAIN=example.com -- "$c" "$@" "$good" "$gport"
	[ "$rc" -eq 0 ] && [ "$new" -eq 1 ] || note "rc $rc, $new messages"
	want_log "len(h) >= 1 and all(x['decision'] == 'accept' for x in h)"
	check "$c, setting $tls: a certificate ESA accepts still delivers"
}

# spki CERT - the SHA-256 of CERT's public key (TLSA 3 1 1)
spki() {
	openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER |
		openssl dgst -sha256 -binary | od -An -tx1 | tr -d ' \n'
}

# ---- 1. TLS set up another way: the refused certificate never delivers -------

export ESA_RECIPIENT_DOMAIN=example.com
for c in stock certcb certcb-x509 late-verify bio write write-ex read peek; do
	tls_case "$c" 6 "$REF" ref "$DOM" dom
	tls_case "$c" 5 "$BAD" bad "$DOM" dom
done
tls_case store-cb 6 "$REF" ref "$DOM" dom --cafile "$CA"
tls_case store-cb 5 "$BAD" bad "$DOM" dom --cafile "$CA"
tls_case bio-connect 6 "$IMP" imp6 "$IMP" impd
tls_case bio-connect 5 "$IMP" imp5 "$IMP" impd
# DANE-EE for the refused certificate (setting 6: its names fail Hosted)
run NOSHIM ref -- dane --cafile "$CA" --tlsa 3 1 1 "$(spki "$S/ref.pem")" "$REF" "$PREF"
[ "$rc" -eq 0 ] && [ "$new" -eq 1 ] || note "without the shim DANE-EE does not accept it: nothing to test"
run SHIM ref ESA_TLS=6 -- dane --cafile "$CA" --tlsa 3 1 1 "$(spki "$S/ref.pem")" "$REF" "$PREF"
refused "$REF"
check "dane, setting 6: a TLSA record matching the certificate does not override Verify Hosted"
run SHIM dom ESA_TLS=6 -- dane --cafile "$CA" --tlsa 3 1 1 "$(spki "$S/dom.pem")" "$DOM" "$PDOM"
[ "$rc" -eq 0 ] && [ "$new" -eq 1 ] || note "rc $rc, $new messages"
check "dane, setting 6: a certificate ESA accepts, with its TLSA record, still delivers"
# DANE-EE for the self-signed certificate: OpenSSL's chain check is
# satisfied by the TLSA record alone; ESA's stage I is not
run NOSHIM bad -- dane --tlsa 3 1 1 "$(spki "$S/bad.pem")" "$BAD" "$PBAD"
[ "$rc" -eq 0 ] && [ "$new" -eq 1 ] || note "without the shim DANE-EE does not accept it: nothing to test"
run SHIM bad ESA_TLS=5 -- dane --tlsa 3 1 1 "$(spki "$S/bad.pem")" "$BAD" "$PBAD"
refused "$BAD"
want_log "not h[0]['chain']['ok']"
check "dane, setting 5: DANE-EE matches a self-signed certificate; ESA's stage I still refuses it"
run SHIM dom ESA_TLS=5 -- dane --cafile "$CA" --tlsa 3 1 1 "$(spki "$S/dom.pem")" "$DOM" "$PDOM"
[ "$rc" -eq 0 ] && [ "$new" -eq 1 ] || note "rc $rc, $new messages"
check "dane, setting 5: a certificate ESA accepts, with its TLSA record, still delivers"
unset ESA_RECIPIENT_DOMAIN

# ---- 2. TLS 1.2 renegotiation to another certificate --------------------------

for tls in 6 5; do
	run NOSHIM "ren$tls" -- renego --tls12 "$REN" "$(eval echo "\$PREN$tls")"
	grep -q 'renegotiated=yes' "$T/out" && [ "$new" -eq 1 ] || note "without the shim: no renegotiation or no message ($(tr '\n' ' ' <"$T/out"))"
	: >"$T/ren$tls.log"
	run SHIM "ren$tls" ESA_TLS=$tls ESA_RECIPIENT_DOMAIN=example.com -- renego --tls12 "$REN" "$(eval echo "\$PREN$tls")"
	want_sane
	[ "$rc" -ne 0 ] || note "the client succeeded"
	[ "$new" -eq 0 ] || note "a message was delivered"
	grep -q '^got: MAIL' "$T/ren$tls.log" && note "a MAIL FROM reached the server"
	want_log "len(h) == 2 and h[0]['decision'] == 'accept' and h[1]['decision'] == 'reject'"
	check "renegotiation to a refused certificate, setting $tls: the first accepted, the second refused, no MAIL FROM sent"
done

# ---- 3. one SSL or its session for a second connection ------------------------

# clear / clear-write, setting 6: example.com by SNI at DOM, then the same SSL
# for other.test (SNI) at DOM, whose certificate does not name it
for c in clear clear-write session copy-session; do
	run NOSHIM dom -- "$c" --sni example.com --sni2 other.test "$DOM" "$PDOM" "$DOM" "$PDOM"
	[ "$rc" -eq 0 ] && [ "$new" -eq 2 ] || note "without the shim not 2 messages (rc $rc, $new)"
	run SHIM dom ESA_TLS=6 -- "$c" --sni example.com --sni2 other.test "$DOM" "$PDOM" "$DOM" "$PDOM"
	want_sane
	grep -q 'conn 0: handshake ok.*mail=ok' "$T/out" || note "the first delivery failed"
	grep -q 'conn 1: handshake ok.*mail=ok' "$T/out" && note "the second connection delivered"
	grep -q 'conn 1: reused=1' "$T/out" && note "the session was resumed"
	[ "$new" -eq 1 ] || note "$new messages, want 1"
	want_log "len(h) == 2 and h[0]['decision'] == 'accept' and h[0]['recipient_domain'] == 'example.com' \
and h[1]['decision'] == 'reject' and h[1]['recipient_domain'] == 'other.test'"
	check "$c, setting 6: the second connection is judged for its own recipient (other.test) and refused"

	run SHIM dom ESA_TLS=6 -- "$c" --sni example.com --sni2 example.com "$DOM" "$PDOM" "$DOM" "$PDOM"
	[ "$rc" -eq 0 ] && [ "$new" -eq 2 ] || note "rc $rc, $new messages, want 2"
	want_log "len(h) == 2 and all(x['decision'] == 'accept' for x in h)"
	check "$c, setting 6: a second connection ESA accepts delivers (verified again: 2 lines)"
done
# setting 5: REF passes by its PTR name; REF2 has the same certificate at an
# address without one
for c in clear clear-write session; do
	run SHIM ref2 ESA_TLS=5 -- "$c" --sni example.com --sni2 example.com "$REF" "$PREF" "$REF2" "$PREF2"
	want_sane
	grep -q 'conn 0: handshake ok.*mail=ok' "$T/out" || note "the first delivery failed"
	[ "$new" -eq 0 ] || note "a message reached REF2"
	want_log "len(h) == 2 and h[0]['decision'] == 'accept' and h[1]['decision'] == 'reject' \
and h[1]['peer'] == '$REF2'"
	check "$c, setting 5: the second connection's own peer address is checked (no PTR: refused)"
done

# ---- 4. a server SSL in the same process -----------------------------------------

run SHIM dom ESA_TLS=6 ESA_RECIPIENT_DOMAIN=example.com -- server --sni example.com \
	--cert "$S/dom.pem" --key "$S/dom.key" 127.0.0.1 0
[ "$rc" -eq 0 ] || note "exit $rc: $(tr '\n' ' ' <"$T/out")"
grep -q 'server: handshake ok mode=0 cb=none' "$T/out" || note "the server SSL was changed: $(tr '\n' ' ' <"$T/out")"
want_log "len(h) == 1 and h[0]['decision'] == 'accept' and h[0]['port'] != 0"
check "a server SSL in the same process: untouched (no client certificate asked, no callback), the client side verified"

# ---- 5. recipient learning: a hostile MX answer ------------------------------------

# evil.test's MX names mx0a.emailhosted.not, which *.emailhosted.not covers:
# Verify Hosted would pass for evil.test.  A connection for example.com
# (MX mx01.subd.emailhosted.not, the same address) must still be judged for
# example.com, and refused.
MX=(ESA_TLS=6 ESA_LOG_LEVEL=ab -- mx --ns "127.0.0.1:$DNSP")	# ab: the candidates
run SHIM ref "${MX[@]}" --mx evil.test "$REF" "$PREF"
[ "$rc" -eq 0 ] && [ "$new" -eq 1 ] || note "rc $rc, $new messages"
want_log "len(h) == 1 and h[0]['decision'] == 'accept' and h[0]['recipient_domain'] == 'evil.test'"
check "mx: evil.test alone (its MX host matches the certificate): accepted for evil.test"
for order in "example.com evil.test" "evil.test example.com"; do
	set -- $order
	run SHIM ref "${MX[@]}" --mx "$1" --mx "$2" "$REF" "$PREF"
	refused "$REF"
	want_log "sorted(h[0]['recipient_candidates']) == ['evil.test', 'example.com'] and not h[0]['hosted']['pass']"
	check "mx: lookups for $1 then $2: example.com is judged too, refused"
done
run SHIM ref "${MX[@]}" --mx example.com --mx evil.test --sni mx01.subd.emailhosted.not "$REF" "$PREF"
refused "$REF"
want_log "h[0]['recipient_domain'] == 'example.com'"
check "mx: SNI names example.com's MX host: judged for example.com alone, refused"

# ---- 6. plain text under settings that require TLS ---------------------------------

for c in plain-write plain-writev plain-sendmsg plain-more plain-split plain-lower \
	plain-pipeline plain-dup plain-nonblock; do
	run NOSHIM 2525 -- "$c" "$PLAIN" 2525
	[ "$rc" -eq 0 ] && [ "$new" -eq 1 ] || note "without the shim not delivered (rc $rc): nothing to test"
	for tls in 3 5 6; do
		run SHIM 2525 ESA_TLS=$tls ESA_RECIPIENT_DOMAIN=example.com -- "$c" "$PLAIN" 2525
		want_sane
		[ "$rc" -ne 0 ] || note "the client succeeded"
		[ "$new" -eq 0 ] || note "a message was delivered in clear"
		want_log "len(p) >= 1 and all(x['decision'] == 'reject' for x in p)"
	done
	check "$c, settings 3, 5, 6: the MAIL FROM does not go out in clear"
done
run NOSHIM 2525 -- plain-dup2 --sni example.com "$DOM" "$PDOM" "$PLAIN" 2525
[ "$rc" -eq 0 ] && [ "$new" -eq 1 ] || note "without the shim not delivered (rc $rc): nothing to test"
for tls in 3 5 6; do
	run SHIM 2525 ESA_TLS=$tls ESA_RECIPIENT_DOMAIN=example.com -- plain-dup2 --sni example.com "$DOM" "$PDOM" "$PLAIN" 2525
	want_sane
	[ "$new" -eq 0 ] || note "setting $tls: a message was delivered in clear"
	want_log "len(p) == 1 and p[0]['decision'] == 'reject'"
done
check "plain-dup2 (a TLS descriptor's number reused by dup2 for a plain connection), settings 3, 5, 6: stopped"
run NOSHIM "$P6" -- plain-write ::1 "$P6"
[ "$rc" -eq 0 ] && [ "$new" -eq 1 ] || note "without the shim not delivered over IPv6 (rc $rc)"
for tls in 3 5 6; do
	run SHIM "$P6" ESA_TLS=$tls ESA_RECIPIENT_DOMAIN=example.com ESA_PORTS="$P6" -- plain-write ::1 "$P6"
	want_sane
	[ "$new" -eq 0 ] || note "setting $tls: a message was delivered in clear"
	want_log "len(p) == 1 and p[0]['decision'] == 'reject' and p[0]['peer'] == '::1'"
done
check "IPv6 (::1), settings 3, 5, 6: the MAIL FROM does not go out in clear"

# ---- summary -----------------------------------------------------------------------

echo "bypass: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
