#!/usr/bin/env bash
# demo.sh - the reference example of SPEC 7, offline, with esa-check (`make demo`)
#
# Makes a test CA and the certificate of SPEC 7 with the openssl command,
# writes SPEC 7's DNS as a master file, and runs build/esa-check on them, in
# both modes, as text and as JSON.  Checks that the verdicts are SPEC 7's:
# Verify passes (through the forward-confirmed PTR name) and Verify Hosted
# Domains fails (the MX names are two labels below the wildcard).  Exits
# non-zero if they are not.  Nothing leaves this machine: every DNS answer
# comes from the file.
#
# Environment: ESA_CHECK (default build/esa-check), KEEP=1 to keep the files.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
esa_check=${ESA_CHECK:-$root/build/esa-check}
dir=$(mktemp -d "${TMPDIR:-/tmp}/esa-demo.XXXXXX")
if [[ ${KEEP:-0} == 1 ]]; then
	trap 'echo "(files kept in $dir)"' EXIT
else
	trap 'rm -rf "$dir"' EXIT
fi

step=0
# heading - number and print a step's title and what it shows
heading() {
	step=$((step + 1))
	printf '\n==== %d. %s\n' "$step" "$1"
	shift
	local line
	for line in "$@"; do
		printf '     %s\n' "$line"
	done
	echo
}

die() {
	echo "demo: FAIL: $*" >&2
	exit 1
}

# show [-q] - print a command, then run it (-q: without its output); sets rc
# to its exit status
show() {
	local quiet=0
	if [[ $1 == -q ]]; then
		quiet=1
		shift
	fi
	printf '$ %s\n' "$*" | sed "s|$dir/||g; s|$root/||g"
	set +e
	if ((quiet)); then
		"$@" >/dev/null
	else
		"$@"
	fi
	rc=$?
	set -e
}

[[ -x $esa_check ]] || die "$esa_check not found: run 'make' first"
command -v openssl >/dev/null || die "the openssl command is missing: scripts/deps.sh"

# --- the certificates ------------------------------------------------------
heading "A test CA and the certificate of SPEC 7" \
	"Both servers of example.com present CN=*.emailhosted.not with the DNS-IDs" \
	"*.emailhosted.not and emailhosted.not, issued by a CA we trust (ca.pem)."
(
	cd "$dir"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
	openssl req -x509 -new -key ca.key -sha256 -days 30 -subj "/CN=esaverify demo CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-addext "subjectKeyIdentifier=hash" -out ca.pem
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out leaf.key 2>/dev/null
	openssl req -new -key leaf.key -subj "/CN=*.emailhosted.not" -out leaf.csr
	cat >leaf.ext <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:*.emailhosted.not, DNS:emailhosted.not
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
	openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -set_serial 0x5e7a \
		-days 30 -sha256 -extfile leaf.ext -out leaf.pem 2>/dev/null
) || die "openssl could not make the certificates"
openssl x509 -in "$dir/leaf.pem" -noout -subject -issuer -ext subjectAltName,extendedKeyUsage
openssl verify -CAfile "$dir/ca.pem" -purpose sslserver "$dir/leaf.pem" >/dev/null ||
	die "the demo certificate does not verify against the demo CA"

# --- the DNS ---------------------------------------------------------------
heading "The DNS of SPEC 7, as a master file (example.zone)" \
	"MX names of example.com: mx01.subd / mx02.subd.emailhosted.not;" \
	"PTR of the server addresses: mx0a / mx0b.emailhosted.not, confirmed by A."
cat >"$dir/example.zone" <<'EOF'
; SPEC 7: the reference example of Cisco's TechNote
$TTL 300
example.com.                IN MX  10 mx01.subd.emailhosted.not.
example.com.                IN MX  20 mx02.subd.emailhosted.not.
mx01.subd.emailhosted.not.  IN A   192.0.2.1
mx02.subd.emailhosted.not.  IN A   192.0.2.2
1.2.0.192.in-addr.arpa.     IN PTR mx0a.emailhosted.not.
2.2.0.192.in-addr.arpa.     IN PTR mx0b.emailhosted.not.
mx0a.emailhosted.not.       IN A   192.0.2.1
mx0b.emailhosted.not.       IN A   192.0.2.2
EOF
cat "$dir/example.zone"

check=("$esa_check" --cert "$dir/leaf.pem" --peer 192.0.2.1 --via mx01.subd.emailhosted.not
	--dns-file "$dir/example.zone" --cafile "$dir/ca.pem")

# --- both modes, explained -------------------------------------------------
heading "esa-check, both modes: mail for example.com to mx01 (192.0.2.1)" \
	"Verify: the DNS-IDs and the CN do not match example.com; PTR(192.0.2.1) is" \
	"mx0a.emailhosted.not, its A record confirms 192.0.2.1 and the CN" \
	"*.emailhosted.not covers it: PASS.  Verify Hosted Domains: no routes, so" \
	"the MX names; *.emailhosted.not covers one label, mx01.subd.* has two, and" \
	"the CN is not used because DNS-IDs exist: FAIL.  Exit status 1: one mode failed."
show "${check[@]}" example.com
((rc == 1)) || die "esa-check (both modes) exited $rc, expected 1 (Verify passes, Hosted fails)"

heading "The same as JSON (--json), for scripts"
json=$("${check[@]}" --json example.com) && rc=0 || rc=$?
printf '%s\n' "$json"
((rc == 1)) || die "esa-check --json exited $rc, expected 1"
if [[ -x /usr/bin/python3 ]]; then
	/usr/bin/python3 -c '
import json, sys
o = json.loads(sys.argv[1])
v, h = o["verify"], o["hosted"]
assert o["recipient_domain"] == "example.com", "recipient_domain"
assert o["chain"]["ok"] is True, "chain.ok"
assert v["pass"] is True and v["source"] == "ptr", "verify: pass by ptr"
assert h["pass"] is False, "hosted: fail"
' "$json" || die "the JSON verdicts are not SPEC 7's"
fi

# --- the verdicts, mode by mode --------------------------------------------
heading "The verdicts, one mode at a time (exit status 0 = pass, 1 = fail)"
show -q "${check[@]}" --mode verify example.com
verify_rc=$rc
echo "--mode verify: exit $verify_rc (expected 0: PASS)"
show -q "${check[@]}" --mode hosted example.com
hosted_rc=$rc
echo "--mode hosted: exit $hosted_rc (expected 1: FAIL)"
((verify_rc == 0 && hosted_rc == 1)) || die "reference example: NOT as SPEC 7 says"
printf '\nreference example: as SPEC 7 says\n'

# --- OpenSSL's own rule, for contrast --------------------------------------
heading "For contrast: OpenSSL's RFC 6125 host name check" \
	"A browser-style client checks the host it connected to: mx01.subd.emailhosted.not" \
	"is two labels below the wildcard, so stock OpenSSL refuses it; ESA's Verify" \
	"still passes through the PTR name."
show openssl verify -CAfile "$dir/ca.pem" -verify_hostname mx01.subd.emailhosted.not "$dir/leaf.pem" 2>&1
((rc != 0)) || die "openssl accepted mx01.subd.emailhosted.not for *.emailhosted.not"

# --- what if: an SMTP route ------------------------------------------------
heading "What if: an SMTP route for example.com to mx0a.emailhosted.not" \
	"With a route by name, Verify Hosted Domains takes the route's name instead" \
	"of the MX names; the wildcard covers mx0a.emailhosted.not: PASS."
show "${check[@]/mx01.subd.emailhosted.not/mx0a.emailhosted.not}" --mode hosted \
	--route mx0a.emailhosted.not example.com
((rc == 0)) || die "Hosted with the route mx0a.emailhosted.not exited $rc, expected 0 (PASS)"

cat <<'EOF'

Next (planned, issue #4): the live lab - a real DNS server (unbound) and
STARTTLS servers in a private network namespace, and unmodified mail clients
verified under the shim (issue #3).
EOF
