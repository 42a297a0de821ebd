#!/usr/bin/env bash
# mk/tsan-shim.sh - a multi-threaded client under a ThreadSanitizer-built shim
#
# Called by `make test-tsan` with: SHIM (TSan-built esashim.so), CLIENT
# (TSan-built tests/progs/esa_client), SUPP (suppressions file).  Real
# unbound and aiosmtpd on loopback (tests/lib/servers.sh); the client runs
# 8 threads at once, ROUNDS times, under ESA_TLS=required-verify, and every
# connection must be accepted (SPEC 7: Verify passes via the PTR name) with
# no ThreadSanitizer report.  The client itself is instrumented, so the TSan
# runtime is loaded first, as a preloaded instrumented library needs.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-5}
. "$ROOT/tests/lib/servers.sh"
srv_init
NET=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1))
REF=$NET.2
srv_ca
srv_cert ref '*.emailhosted.not' 'DNS:*.emailhosted.not' DNS:emailhosted.not
DNSP=$(srv_port)
srv_unbound "$DNSP" \
	'local-zone: "emailhosted.not." static' \
	"local-data: \"mx0a.emailhosted.not. 300 IN A $REF\"" \
	"local-data-ptr: \"$REF 300 mx0a.emailhosted.not.\"" || exit 1
PREF=$(srv_port)
srv_smtp "$REF" "$PREF" ref || exit 1
log=$SRV_DIR/tsan.log
fail=0
for i in $(seq "$ROUNDS"); do
	env ESA_NAMESERVER="127.0.0.1:$DNSP" ESA_CAFILE="$SRV_DIR/ca.pem" \
		ESA_RECIPIENT_DOMAIN=example.com ESA_TLS=required-verify \
		ESA_LOG="$SRV_DIR/shim.log" \
		TSAN_OPTIONS="halt_on_error=0 exitcode=66 suppressions=$SUPP" \
		timeout 120 env LD_PRELOAD="$SHIM" "$CLIENT" --threads 8 --cb "$REF" "$PREF" \
		>>"$log" 2>&1 || { echo "tsan-shim: round $i: client exit $?"; fail=1; }
done
races=$(grep -ac "WARNING: ThreadSanitizer" "$log")
accepted=$(grep -c '"decision":"accept"' "$SRV_DIR/shim.log" 2>/dev/null)
accepted=${accepted:-0}
if [ "$races" -ne 0 ]; then
	grep -a -A30 "WARNING: ThreadSanitizer" "$log" | head -n 80
	fail=1
fi
if [ "$accepted" -ne $((ROUNDS * 8)) ]; then
	echo "tsan-shim: $accepted of $((ROUNDS * 8)) handshakes accepted"
	fail=1
fi
echo "tsan-shim: $((ROUNDS * 8)) handshakes in 8 threads under the shim, $races reports"
exit $fail
