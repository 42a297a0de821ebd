#!/usr/bin/env bash
# dane.sh - DANE end to end (docs/dane.md) against real DNSSEC: a zone signed
# by the test itself (ldns-keygen, ldns-signzone), served by an
# authoritative unbound (auth-zone), resolved by a validating unbound that
# holds the test's trust anchor; STARTTLS servers (aiosmtpd) on loopback.
#
# Cases (the recipient domain -> its secure MX host):
#   ee.dane.test       DANE-EE(3) SPKI SHA2-256 of the server's key: pass
#   ta.dane.test       DANE-TA(2) of the test CA, leaf names the MX host: pass
#   bad.dane.test      TLSA that matches nothing: refused (tlsa-invalid)
#   insec.dane.test    TLSA behind a CNAME into an unsigned zone: insecure
#   bogus.dane.test    TLSA whose RRSIG was corrupted: dnssec-invalid
#   none.dane.test     no TLSA: DANE does not apply
# Checked with esa-check live (--dane opportunistic and mandatory) and with
# openssl s_client under the shim (ESA_DANE, the log's dane object, ESA_TLS
# preferred so that only DANE can refuse).  The client never trusts the test
# CA: every pass is DANE's.
#
# Prints one line per check and "dane: N passed, M failed"; exits non-zero on
# any failure; 77 when ldns-signzone is missing (scripts/deps.sh installs it).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CHECK=${ESA_CHECK:-$ROOT/build/esa-check}
SHIM=$ROOT/build/esashim.so
PY=/usr/bin/python3
passed=0 failed=0

unset LD_PRELOAD
for v in $(env | sed -n 's/^\(ESA_[A-Z_]*\)=.*/\1/p'); do
	case $v in ESA_TEST_* | ESA_SUITE_* | ESA_CHECK) ;; *) unset "$v" ;; esac
done
for tool in ldns-keygen ldns-signzone ldns-key2ds /usr/sbin/unbound openssl; do
	command -v "$tool" >/dev/null 2>&1 ||
		{ echo "dane: $tool is missing (scripts/deps.sh installs ldnsutils)"; exit 77; }
done
[ -x "$CHECK" ] && [ -f "$SHIM" ] || { echo "dane: build first (make)"; exit 1; }

. "$ROOT/tests/lib/servers.sh"
srv_init
D=$SRV_DIR

ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; shift; for l in "$@"; do echo "     $l"; done; }

# ---- certificates and servers ----------------------------------------------

NET=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1))
EE=$NET.2 TA=$NET.3
srv_ca
srv_cert ee anything.invalid DNS:anything.invalid
srv_cert ta mx-ta.dane.test DNS:mx-ta.dane.test
cat "$D/ta.pem" "$D/ca.pem" > "$D/tachain.pem" && mv "$D/tachain.pem" "$D/ta.pem"
PEE=$(srv_port) PTA=$(srv_port)
srv_smtp "$EE" "$PEE" ee || { echo "dane: aiosmtpd did not start"; exit 1; }
srv_smtp "$TA" "$PTA" ta || { echo "dane: aiosmtpd did not start"; exit 1; }

spki256() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1; }
cert256() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }
EEH=$(spki256 "$D/ee.pem")
CAH=$(cert256 "$D/ca.pem")

# ---- esa-check offline: the master file's TLSA records and $DNSSEC marks -----

# offline WANT-EXIT WORDS -- ARGS... - esa-check offline, exit and words
offline() {
	local want=$1 out rc w miss=()
	shift
	local words=()
	while [ "$1" != -- ]; do words+=("$1"); shift; done
	shift
	out=$("$CHECK" "$@" 2>&1)
	rc=$?
	for w in "${words[@]}"; do grep -qF -- "$w" <<<"$out" || miss+=("no '$w'"); done
	[ "$rc" = "$want" ] || miss+=("exit $rc, want $want")
	if [ ${#miss[@]} -eq 0 ]; then ok "esa-check offline $*: exit $want"
	else bad "esa-check offline $*" "${miss[@]}" "$(head -n 20 <<<"$out")"; fi
}
for m in secure insecure bogus; do
	printf '$DNSSEC secure\nee.example. MX 10 mx.ee.example.\nmx.ee.example. A 192.0.2.25\n$DNSSEC %s\n_25._tcp.mx.ee.example. TLSA 3 1 1 %s\n' \
		"$m" "$EEH" > "$D/offline-$m.zone"
done
offline 0 "DANE SUCCESS for ee.example" -- --cert "$D/ee.pem" --peer 192.0.2.25 \
	--dns-file "$D/offline-secure.zone" --dane mandatory ee.example
offline 1 "result dane-required" -- --cert "$D/ee.pem" --peer 192.0.2.25 \
	--dns-file "$D/offline-insecure.zone" --dane mandatory ee.example
offline 1 "result dnssec-invalid" -- --cert "$D/ee.pem" --peer 192.0.2.25 \
	--dns-file "$D/offline-bogus.zone" --dane opportunistic ee.example
offline 1 '"result":"tlsa-invalid"' -- --cert "$D/ta.pem" --peer 192.0.2.25 \
	--dns-file "$D/offline-secure.zone" --dane opportunistic --json ee.example
offline 2 "esa-check: bad DANE setting 'sometimes' (expected none, opportunistic or mandatory)" -- \
	--cert "$D/ee.pem" --dane sometimes ee.example

# ---- the zones: dane.test signed, plain.test not ----------------------------

SOA='@ 3600 IN SOA ns.dane.test. hostmaster.dane.test. 1 3600 600 86400 300'
{
	echo '$ORIGIN dane.test.'
	echo "$SOA"
	echo '@ 3600 IN NS ns.dane.test.'
	echo "ns 3600 IN A 127.0.0.1"
	for c in ee bad insec bogus none; do
		echo "$c 300 IN MX 10 mx-$c.dane.test."
		echo "mx-$c 300 IN A $EE"
	done
	echo "ta 300 IN MX 10 mx-ta.dane.test."
	echo "mx-ta 300 IN A $TA"
	echo "_$PEE._tcp.mx-ee 300 IN TLSA 3 1 1 $EEH"
	echo "_$PTA._tcp.mx-ta 300 IN TLSA 2 0 1 $CAH"
	echo "_$PEE._tcp.mx-bad 300 IN TLSA 3 1 1 $(printf '%064d' 0)"
	echo "_$PEE._tcp.mx-insec 300 IN CNAME _$PEE._tcp.mx-insec.plain.test."
	echo "_$PEE._tcp.mx-bogus 300 IN TLSA 3 1 1 $EEH"
} > "$D/dane.zone"
{
	echo '$ORIGIN plain.test.'
	echo "${SOA//dane.test/plain.test}"
	echo '@ 3600 IN NS ns.plain.test.'
	echo "ns 3600 IN A 127.0.0.1"
	echo "_$PEE._tcp.mx-insec 300 IN TLSA 3 1 1 $EEH"
} > "$D/plain.zone"
(
	cd "$D" || exit 1
	ksk=$(ldns-keygen -a ECDSAP256SHA256 -k dane.test) &&
	zsk=$(ldns-keygen -a ECDSAP256SHA256 dane.test) &&
	ldns-signzone -o dane.test. -f dane.signed dane.zone "$ksk" "$zsk" &&
	ldns-key2ds -n -2 "$ksk.key" > dane.ds
) >"$D/sign.log" 2>&1 || { echo "dane: signing failed:"; cat "$D/sign.log"; exit 1; }
# the bogus case: one signature byte changed (RFC 4035 5.5: bogus -> SERVFAIL)
$PY - "$D/dane.signed" "_$PEE._tcp.mx-bogus.dane.test." <<'PY'
import sys
path, owner = sys.argv[1], sys.argv[2]
out = []
for line in open(path):
    f = line.split()
    if f and f[0] == owner and "RRSIG" in f and f[f.index("RRSIG") + 1] == "TLSA":
        sig = f[-1]
        f[-1] = ("B" if sig[0] != "B" else "C") + sig[1:]
        line = "\t".join(f) + "\n"
    out.append(line)
open(path, "w").writelines(out)
PY

# ---- two unbounds: authoritative, and validating with the trust anchor ------

unbound_conf() {
	local port=$1 modules=$2
	shift 2
	{
		echo "server:"
		echo "  interface: 127.0.0.1"
		echo "  port: $port"
		echo "  do-daemonize: no"
		echo "  username: \"\""
		echo "  chroot: \"\""
		echo "  directory: \"$D\""
		echo "  pidfile: \"\""
		echo "  use-syslog: no"
		echo "  logfile: \"\""
		echo "  verbosity: 0"
		echo "  module-config: \"$modules\""
		echo "  do-not-query-localhost: no"
		echo "  access-control: 127.0.0.0/8 allow"
		echo "  do-ip6: no"
		echo "  local-zone: \"test.\" nodefault"	# RFC 6761's, else NXDOMAIN
		for l in "$@"; do echo "$l"; done
		echo "remote-control:"
		echo "  control-enable: no"
	} > "$D/unbound-$port.conf"
	/usr/sbin/unbound -d -c "$D/unbound-$port.conf" > "$D/unbound-$port.log" 2>&1 &
	SRV_PIDS+=($!)
}
PAUTH=$(srv_port) PVAL=$(srv_port)
unbound_conf "$PAUTH" iterator \
	"auth-zone:" "  name: \"dane.test.\"" "  zonefile: \"$D/dane.signed\"" \
	"  for-downstream: yes" "  for-upstream: no" \
	"auth-zone:" "  name: \"plain.test.\"" "  zonefile: \"$D/plain.zone\"" \
	"  for-downstream: yes" "  for-upstream: no"
unbound_conf "$PVAL" "validator iterator" \
	"  interface: $NET.53@53" \
	"  trust-anchor-file: \"$D/dane.ds\"" \
	"  val-log-level: 2" \
	"stub-zone:" "  name: \".\"" "  stub-addr: 127.0.0.1@$PAUTH" \
	"stub-zone:" "  name: \"dane.test.\"" "  stub-addr: 127.0.0.1@$PAUTH" \
	"stub-zone:" "  name: \"plain.test.\"" "  stub-addr: 127.0.0.1@$PAUTH"
NS=127.0.0.1:$PVAL
for i in $(seq 50); do
	out=$("$CHECK" --nameserver "$NS" --dane mandatory --cert "$D/ee.pem" \
		--peer "$EE" --port "$PEE" --no-chain --json ee.dane.test 2>&1) &&
		break
	sleep 0.2
done

# ---- esa-check live ----------------------------------------------------------

# live DOMAIN SETTING PORT EXIT WORDS... - esa-check live against the
# domain's MX, its exit status and words of its walk
live() {
	local dom=$1 set=$2 port=$3 want=$4 out rc w miss=()
	shift 4
	out=$("$CHECK" --nameserver "$NS" --dane "$set" --port "$port" \
		--timeout 5 "$dom" 2>&1)
	rc=$?
	for w in "$@"; do
		grep -qF -- "$w" <<<"$out" || miss+=("no '$w'")
	done
	[ "$rc" = "$want" ] || miss+=("exit $rc, want $want")
	if [ ${#miss[@]} -eq 0 ]; then
		ok "esa-check live --dane $set $dom: exit $want"
	else
		bad "esa-check live --dane $set $dom" "${miss[@]}" "$(grep -E 'DANE|TLSA|MX record|result' <<<"$out" | head -n 12)"
	fi
}
live ee.dane.test mandatory "$PEE" 0 "SECURE MX record(mx-ee.dane.test)" \
	"SECURE TLSA record found at _$PEE._tcp.mx-ee.dane.test" "DANE SUCCESS for ee.dane.test"
live ta.dane.test mandatory "$PTA" 0 "TLSA 2 0 1" "DANE SUCCESS for ta.dane.test" \
	"name mx-ta.dane.test"
live bad.dane.test opportunistic "$PEE" 1 "DANE FAILED for bad.dane.test" "result tlsa-invalid"
live insec.dane.test opportunistic "$PEE" 1 "INSECURE TLSA record" "DANE does not apply"
live insec.dane.test mandatory "$PEE" 1 "result dane-required"
live bogus.dane.test opportunistic "$PEE" 1 "FAILED TLSA record" "result dnssec-invalid"
live none.dane.test opportunistic "$PEE" 1 "NO TLSA record at _$PEE._tcp.mx-none.dane.test" "DANE does not apply"
live none.dane.test mandatory "$PEE" 1 "result dane-required"

# ---- the shim: openssl s_client, ESA_TLS=preferred --------------------------

# shim DOMAIN HOST PORT SETTING DECISION PASS RESULT - one s_client under
# the shim; the program's outcome and the log's dane object
shim() {
	local dom=$1 host=$2 port=$3 set=$4 want=$5 pass=$6 result=$7 rc got
	rm -f "$D/shim.log"
	printf 'QUIT\r\n' | env LD_PRELOAD="$SHIM" ESA_NAMESERVER="$NS" \
		ESA_RECIPIENT_DOMAIN="$dom" ESA_DANE="$set" ESA_TLS=preferred \
		ESA_LOG="$D/shim.log" openssl s_client -connect "$host:$port" \
		-starttls smtp -quiet >/dev/null 2>&1
	rc=$?
	got=$($PY - "$D/shim.log" <<'PY'
import json, sys
try:
    o = [json.loads(l) for l in open(sys.argv[1]) if '"handshake"' in l][-1]
except (OSError, IndexError, ValueError):
    print("no-line - -"); sys.exit()
d = o.get("dane") or {}
print(o.get("decision"), str(d.get("pass")).lower(), d.get("result") or "-")
PY
)
	local outcome=accept
	[ "$rc" = 0 ] || outcome=reject		# the program's own outcome
	if [ "$got" = "$want $pass $result" ] && [ "$outcome" = "$want" ]; then
		ok "shim ESA_DANE=$set $dom: $want (dane pass $pass, result $result)"
	else
		bad "shim ESA_DANE=$set $dom" "log: '$got', want '$want $pass $result'; s_client exit $rc"
	fi
}
shim ee.dane.test "$EE" "$PEE" mandatory accept true -
shim ta.dane.test "$TA" "$PTA" opportunistic accept true -
shim bad.dane.test "$EE" "$PEE" opportunistic reject false tlsa-invalid
shim bogus.dane.test "$EE" "$PEE" opportunistic reject false dnssec-invalid
shim insec.dane.test "$EE" "$PEE" opportunistic accept false -
shim insec.dane.test "$EE" "$PEE" mandatory reject false dane-required
shim none.dane.test "$EE" "$PEE" opportunistic accept false -

# ---- Postfix at smtp_tls_security_level=dane beside the shim ---------------
# posttls-finger (smtp(8)'s TLS client) resolves through resolv.conf: a
# private mount namespace puts the validating unbound there (with trust-ad,
# or glibc drops the AD bit).  Its outcome is the stock column: Verified
# (DANE authenticated), Untrusted (DANE did not apply: encrypted anyway),
# or no TLS connection (deferred).

pf_outcome() {
	local dom=$1 port=$2 out
	out=$(unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf && exec env MAIL_CONFIG="$2" posttls-finger -c -l dane "$3"' \
		sh "$D/resolv.conf" "$D/pf" "$dom:$port" 2>&1)
	case $out in
	# posttls-finger reports and goes on; smtp(8) defers on a DANE failure
	*"no matching DANE TLSA records"*) echo deferred ;;
	*"Verified TLS connection established"*) echo verified ;;
	*"Untrusted TLS connection established"*) echo untrusted ;;
	*) echo deferred ;;
	esac
}
printf 'nameserver %s.53\noptions trust-ad\n' "$NET" > "$D/resolv.conf"
mkdir -p "$D/pf" && : > "$D/pf/main.cf"
if ! unshare -m true 2>/dev/null; then
	echo "skip Postfix dane beside the shim: unshare -m is not allowed here"
else
	for row in "ee $PEE verified" "ta $PTA verified" "bad $PEE deferred" \
		   "insec $PEE untrusted" "bogus $PEE deferred" "none $PEE untrusted"; do
		set -- $row
		got=$(pf_outcome "$1.dane.test" "$2")
		if [ "$got" = "$3" ]; then
			ok "Postfix dane $1.dane.test: $got (the shim's column above agrees)"
		else
			bad "Postfix dane $1.dane.test" "posttls-finger: $got, want $3"
		fi
	done
fi

echo "dane: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
