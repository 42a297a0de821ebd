#!/usr/bin/env bash
# mk/hardening-valgrind.sh - `make test-valgrind` (mk/hardening.mk)
#
# Runs build/esa-check on several paths, and `openssl s_client` (and the
# shim tests' own threaded client, when built) under LD_PRELOAD=build/esashim.so,
# each inside valgrind's memcheck:
#   valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
# A run fails when valgrind reports any error (invalid read or write, use of
# uninitialised memory, a bad free, ...) or any definitely lost block, or
# when the program's own exit status is not the expected one.  Servers: a
# test CA, unbound and aiosmtpd on loopback (tests/lib/servers.sh).
# Prints one line per run and "valgrind: N passed, M failed"; exits 1 on
# any failure, 77 when valgrind or the servers are missing.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
CHECK=${ESA_CHECK:-$ROOT/build/esa-check}
SHIM=$ROOT/build/esashim.so
CLIENT=$ROOT/build/progs/esa_client
passed=0
failed=0

for tool in valgrind openssl /usr/sbin/unbound /usr/bin/python3; do
	command -v "$tool" >/dev/null 2>&1 || { echo "valgrind: skipped: no $tool"; exit 77; }
done
[ -x "$CHECK" ] || { echo "valgrind: $CHECK not built" >&2; exit 1; }
unset LD_PRELOAD
for v in $(env | sed -n 's/^\(ESA_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done

# shellcheck source=../tests/lib/servers.sh
. "$ROOT/tests/lib/servers.sh"
srv_init
srv_ca || { echo "valgrind: cannot make the test CA" >&2; exit 1; }
srv_cert ref '*.emailhosted.not' 'DNS:*.emailhosted.not' 'DNS:emailhosted.not'
srv_cert dom example.com DNS:example.com
T=$SRV_DIR

cat >"$T/spec7.zone" <<'EOF'
$TTL 300
example.com.                MX 10 mx01.subd.emailhosted.not.
example.com.                MX 20 mx02.subd.emailhosted.not.
mx01.subd.emailhosted.not.  A  192.0.2.1
mx02.subd.emailhosted.not.  A  192.0.2.2
192.0.2.1                   PTR mx0a.emailhosted.not.
mx0a.emailhosted.not.       A  192.0.2.1
EOF
cat >"$T/dest.conf" <<'EOF'
[destinations]
default        tls=preferred
example.com    tls=required-verify-hosted
[routes]
example.com    mx0a.emailhosted.not:25/pri=0, 192.0.2.7/pri=10
EOF
printf 'not a certificate\n' >"$T/junk.pem"

UB=$(srv_port)
srv_unbound "$UB" \
	'local-zone: "example.com." static' \
	'local-data: "example.com. 300 IN MX 10 mx01.subd.emailhosted.not."' \
	'local-zone: "emailhosted.not." static' \
	'local-data: "mx01.subd.emailhosted.not. 300 IN A 192.0.2.1"' \
	'local-data: "mx0a.emailhosted.not. 300 IN A 192.0.2.1"' \
	'local-zone: "2.0.192.in-addr.arpa." static' \
	'local-data-ptr: "192.0.2.1 300 mx0a.emailhosted.not."' ||
	{ echo "valgrind: skipped: unbound does not start here"; exit 77; }
SMTP_DOM=$(srv_port)
SMTP_REF=$(srv_port)
srv_smtp 127.0.0.1 "$SMTP_DOM" dom || { echo "valgrind: skipped: no aiosmtpd"; exit 77; }
srv_smtp 127.0.0.1 "$SMTP_REF" ref || { echo "valgrind: skipped: no aiosmtpd"; exit 77; }

VG=(valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --trace-children=yes
    --show-leak-kinds=definite --track-origins=yes --num-callers=30)

# vg NAME WANT CMD... - one program in valgrind; WANT is its exit status
# (or "any" when only valgrind's verdict counts)
vg() {
	local name=$1 want=$2 log="$T/vg-$1.log" rc lost
	shift 2
	"${VG[@]}" --log-file="$log" "$@" >"$T/out-$name" 2>"$T/err-$name" </dev/null
	rc=$?
	lost=$(grep -a "definitely lost:" "$log" | tail -n 1 | sed 's/.*definitely lost: *//')
	if [ "$rc" -eq 99 ] || grep -aq "ERROR SUMMARY: [1-9]" "$log"; then
		echo "FAIL $name: valgrind found errors:"
		grep -a -A12 -E "Invalid|uninitialised|definitely lost in|Mismatched|free\(\)" "$log" | head -n 40
		failed=$((failed + 1))
	elif [ "$want" != any ] && [ "$rc" -ne "$want" ]; then
		echo "FAIL $name: exit $rc, want $want"
		tail -n 5 "$T/err-$name"
		failed=$((failed + 1))
	else
		echo "ok   $name (exit $rc; definitely lost: ${lost:-0 bytes})"
		passed=$((passed + 1))
	fi
}

REF=(--cert "$T/ref.pem" --peer 192.0.2.1 --via mx01.subd.emailhosted.not --cafile "$T/ca.pem")

# ---- esa-check ----------------------------------------------------------------
vg check-version 0 "$CHECK" --version
vg check-usage 2 "$CHECK"
vg check-bad-option 2 "$CHECK" --frobnicate example.com
vg check-spec7-text 1 "$CHECK" "${REF[@]}" --dns-file "$T/spec7.zone" example.com
vg check-spec7-json 1 "$CHECK" "${REF[@]}" --dns-file "$T/spec7.zone" --json example.com
vg check-verify-only 0 "$CHECK" "${REF[@]}" --dns-file "$T/spec7.zone" --mode verify example.com
vg check-route 0 "$CHECK" "${REF[@]}" --dns-file "$T/spec7.zone" --mode hosted \
	--route mx0a.emailhosted.not --via mx0a.emailhosted.not example.com
vg check-config 0 "$CHECK" "${REF[@]}" --dns-file "$T/spec7.zone" --mode hosted \
	--config "$T/dest.conf" --via mx0a.emailhosted.not --json example.com
vg check-unicode 1 "$CHECK" "${REF[@]}" --dns-file "$T/spec7.zone" --no-chain b$'\xc3\xbc'cher.example
vg check-unbound 1 "$CHECK" "${REF[@]}" --nameserver "127.0.0.1:$UB" example.com
vg check-chain-later 1 "$CHECK" "${REF[@]}" --dns-file "$T/spec7.zone" --at 4102444800 example.com
vg check-junk-cert 2 "$CHECK" --cert "$T/junk.pem" --peer 192.0.2.1 --no-chain example.com
vg check-missing-file 2 "$CHECK" --cert "$T/nosuch.pem" --no-chain example.com
vg check-bad-zone 2 "$CHECK" "${REF[@]}" --dns-file "$T/junk.pem" example.com
vg check-bad-domain 2 "$CHECK" "${REF[@]}" --dns-file "$T/spec7.zone" 'a..b'
vg check-live 0 "$CHECK" --mode verify --route 127.0.0.1 --port "$SMTP_DOM" \
	--nameserver "127.0.0.1:$UB" --cafile "$T/ca.pem" --timeout 20 example.com

# ---- a client under the shim ------------------------------------------------
if [ -f "$SHIM" ]; then
	shim_env=(env LD_PRELOAD="$SHIM" ESA_RECIPIENT_DOMAIN=example.com
		  ESA_CAFILE="$T/ca.pem" ESA_NAMESERVER="127.0.0.1:$UB"
		  ESA_LOG="$T/shim-log.json")
	sclient=(openssl s_client -starttls smtp -brief -verify_quiet -CAfile "$T/ca.pem")
	# a certificate naming the recipient domain: accepted
	vg shim-s_client-accept 0 "${shim_env[@]}" ESA_TLS=required-verify \
		"${sclient[@]}" -connect "127.0.0.1:$SMTP_DOM"
	# SPEC 7's certificate under Verify Hosted Domains: refused by the shim
	vg shim-s_client-refuse 1 "${shim_env[@]}" ESA_TLS=required-verify-hosted \
		"${sclient[@]}" -connect "127.0.0.1:$SMTP_REF"
	if [ -x "$CLIENT" ]; then
		vg shim-esa_client-threads 0 "${shim_env[@]}" ESA_TLS=required-verify \
			"$CLIENT" --verify --cafile "$T/ca.pem" --threads 4 --mail \
			127.0.0.1 "$SMTP_DOM"
	fi
else
	echo "skip shim runs: $SHIM not built"
fi

echo "valgrind: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
