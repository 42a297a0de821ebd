#!/bin/sh
# cli.sh - esa-check end to end, offline mode (SPEC 7, 8.2, 8.4)
#
# Builds the reference example of SPEC 7 with the openssl command (a test
# CA, the *.emailhosted.not server certificate) and its DNS as a master file
# in a private temporary directory, then runs build/esa-check against them:
# the text and JSON explanations, the exit statuses 0/1/2, Unicode recipient
# domains, SMTP routes (SPEC 4.2 step 2), the destinations file, stage I
# at other times, --no-chain, and one line on stderr for every exit-2 case.
# Run from anywhere; prints one line per check and "cli: N passed, M failed";
# exits non-zero on any failure, also when a program it uses (openssl,
# python3, valgrind) is missing: `make test` installs them (scripts/deps.sh).
# ESA_CHECK overrides the binary.

set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${ESA_CHECK:-$ROOT/build/esa-check}
PY=/usr/bin/python3
T=$(mktemp -d "${TMPDIR:-/tmp}/esa-cli.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP
# cli_suite, note, want_*, done_check: shared with tests/cli-live.sh
# shellcheck source=lib/cli-checks.sh
. "$ROOT/tests/lib/cli-checks.sh"
cli_suite cli
for tool in openssl "$PY"; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "cli: $tool is missing (scripts/deps.sh --check names its package)"
		exit 1
	fi
done

# ---- helpers ---------------------------------------------------------------

# run ARGS... - esa-check; sets rc, stdout in $T/out, stderr in $T/err
run() {
	why=
	"$BIN" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}


# ---- fixtures: SPEC 7 --------------------------------------------------------

# issue NAME CN SAN - a server certificate signed by the test CA
issue() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$T/$1.key" -out "$T/$1.csr" -subj "/CN=$2" \
		>/dev/null 2>&1 || return 1
	printf '%s\n' "basicConstraints=CA:FALSE" \
		"keyUsage=critical,digitalSignature" \
		"extendedKeyUsage=serverAuth" "subjectAltName=$3" >"$T/$1.ext"
	openssl x509 -req -in "$T/$1.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
		-CAcreateserial -days 365 -extfile "$T/$1.ext" \
		-out "$T/$1.pem" >/dev/null 2>&1
}

fixtures() {
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		-nodes -keyout "$T/ca.key" -out "$T/ca.pem" -days 3650 \
		-subj "/CN=esaverify test CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		>/dev/null 2>&1 || return 1
	issue srv '*.emailhosted.not' \
		'DNS:*.emailhosted.not,DNS:emailhosted.not' || return 1
	issue idn 'xn--bcher-kva.example' 'DNS:xn--bcher-kva.example' ||
		return 1
	cp "$ROOT/examples/spec7.zone" "$T/zone" || return 1
	# an IPv6 server too, its PTR owner in ip6.arpa nibble form
	v6ptr=$("$PY" -c 'import ipaddress; print(ipaddress.ip_address("2001:db8::25").reverse_pointer)') ||
		return 1
	printf '%s. IN PTR mx0c.emailhosted.not.\nmx0c.emailhosted.not. IN AAAA 2001:db8::25\n' \
		"$v6ptr" >>"$T/zone"
	cat >"$T/routes.conf" <<'EOF'
# destinations and routes (SPEC 8.4)
[destinations]
default          tls=preferred
example.com      tls=required-verify-hosted
[routes]
example.com      mx0a.emailhosted.not:25/pri=0, 192.0.2.7
EOF
	printf '[destinations]\nexample.com tls=required-verify\nexample.net tls=sometimes\n' \
		>"$T/bad.conf"
	printf 'example.com. IN MX ten mx01.subd.emailhosted.not.\n' >"$T/bad.zone"
	printf 'this is not a certificate\n' >"$T/garbage.pem"
	printf '%s\n' '-----BEGIN CERTIFICATE-----' 'not!base64!at!all' \
		'-----END CERTIFICATE-----' >"$T/badb64.pem"
}

if ! fixtures; then
	echo "cli: cannot create the test certificates with openssl" >&2
	exit 1
fi

# the usual offline arguments for the reference example
REF="--cert $T/srv.pem --dns-file $T/zone --cafile $T/ca.pem"

# ---- SPEC 7: the reference example ---------------------------------------------

run $REF --peer 192.0.2.1 example.com
want_rc 1
want_out "recipient domain: example.com   peer: 192.0.2.1"
want_out "chain: ok"
want_out "presented: DNS-ID *.emailhosted.not, DNS-ID emailhosted.not, CN-ID *.emailhosted.not"
want_out "Verify (settings 4, 5): PASS"
want_out "recipient-domain example.com vs DNS-IDs: no match"
want_out "recipient-domain example.com vs CN-IDs: no match"
want_out "ptr mx0a.emailhosted.not"
want_out "vs CN-IDs: match *.emailhosted.not"
want_out "Verify Hosted Domains (setting 6): FAIL"
want_out "mx mx01.subd.emailhosted.not"
want_out "mx mx02.subd.emailhosted.not"
want_out "dns: PTR 1.2.0.192.in-addr.arpa ok"
done_check "reference example: Verify passes by PTR, Hosted fails (text)"

run $REF --peer 192.0.2.1 --mode verify example.com
want_rc 0
want_no_out "Verify Hosted Domains"
done_check "reference example --mode verify: exit 0, Hosted not reported"

run $REF --peer 192.0.2.1 --mode hosted example.com
want_rc 1
want_no_out "Verify (settings 4, 5)"
done_check "reference example --mode hosted: exit 1"

run $REF --peer 192.0.2.1 --mode both example.com
want_rc 1
done_check "reference example --mode both: exit 1"

run $REF --peer 192.0.2.1 --json example.com
want_rc 1
want_json 'j["recipient_domain"] == "example.com" and j["peer"] == "192.0.2.1"'
want_json 'j["tls"] == "required-verify" and j["via"] is None'
want_json 'j["chain"]["checked"] and j["chain"]["ok"] and j["chain"]["error"] is None'
want_json '[p["kind"] for p in j["presented"]] == ["dns", "dns", "cn"]'
want_json 'j["verify"]["pass"] and j["verify"]["source"] == "ptr"'
want_json 'j["verify"]["reference"] == "mx0a.emailhosted.not"'
want_json 'j["verify"]["presented"] == "*.emailhosted.not"'
want_json '[t["outcome"] for t in j["verify"]["tried"]][-1] == "match"'
want_json 'j["hosted"]["pass"] is False and j["hosted"]["source"] is None'
want_json 'isinstance(j["hosted"]["reason"], str) and j["hosted"]["reason"]'
want_json '[t["reference"] for t in j["hosted"]["tried"] if t["source"] == "mx"] == ["mx01.subd.emailhosted.not", "mx02.subd.emailhosted.not"]'
want_json 'all(t["compared"] == "dns" for t in j["hosted"]["tried"])'
want_json '{(q["type"], q["name"]) for q in j["dns"]} >= {("PTR", "1.2.0.192.in-addr.arpa"), ("A", "mx0a.emailhosted.not"), ("MX", "example.com")}'
want_json 'all(q["status"] == "ok" and q["ad"] is False for q in j["dns"])'
want_json 'j["decision"] == "accept" and j["error"] is None'
done_check "reference example --json: the SPEC 8.2 fields"

run $REF --peer 192.0.2.1 --json --mode verify example.com
want_rc 0
want_json 'j["hosted"] is None and j["verify"]["pass"]'
want_json 'not any(q["type"] == "MX" for q in j["dns"])'
done_check "--json --mode verify: hosted is null, no MX query"

run $REF --peer 192.0.2.1 --json --mode hosted example.com
want_rc 1
want_json 'j["verify"] is None and not j["hosted"]["pass"]'
want_json '[q["type"] for q in j["dns"]] == ["MX"]'
done_check "--json --mode hosted: verify is null, no PTR query"

run $REF --peer 192.0.2.2 --mode verify --json example.com
want_rc 0
want_json 'j["verify"]["reference"] == "mx0b.emailhosted.not"'
done_check "second server 192.0.2.2: PTR mx0b confirms"

run $REF --peer 2001:db8::25 --mode verify --json example.com
want_rc 0
want_json 'j["peer"] == "2001:db8::25" and j["verify"]["reference"] == "mx0c.emailhosted.not"'
want_json '[q["type"] for q in j["dns"]] == ["PTR", "AAAA"] and j["dns"][0]["name"].endswith(".ip6.arpa")'
done_check "IPv6 peer: PTR in ip6.arpa, AAAA confirms"

run $REF --peer 192.0.2.9 --mode verify --json example.com
want_rc 1
want_json 'j["verify"]["tried"][-1]["source"] == "ptr" and j["verify"]["tried"][-1]["outcome"] == "lookup-failed"'
want_json 'any(q["type"] == "PTR" and q["status"] == "nxdomain" for q in j["dns"])'
done_check "peer without PTR: Verify fails, lookup recorded"

run $REF --mode verify --json example.com
want_rc 1
want_json 'j["peer"] is None and not j["verify"]["pass"]'
want_json 'any(t["source"] == "ptr" and t["outcome"] == "lookup-failed" and "peer" in (t["note"] or "") for t in j["verify"]["tried"])'
want_json 'not any(q["type"] == "PTR" for q in j["dns"])'
done_check "no --peer: PTR step cannot run, record says so"

# ---- stage I ---------------------------------------------------------------

run --cert "$T/srv.pem" --dns-file "$T/zone" --peer 192.0.2.1 --mode verify example.com
want_rc 1
want_out "chain: FAILED"
done_check "untrusted CA (system store): chain fails, exit 1"

# --capath: a hashed CA directory (openssl rehash) is a trust store too
mkdir -p "$T/capath" "$T/capath-empty"
cp "$T/ca.pem" "$T/capath/"
openssl rehash "$T/capath" >/dev/null 2>&1 || note "openssl rehash failed"
run --cert "$T/srv.pem" --dns-file "$T/zone" --capath "$T/capath" \
	--peer 192.0.2.1 --mode verify --json example.com
want_rc 0
want_json 'j["chain"]["checked"] and j["chain"]["ok"] and j["verify"]["pass"]'
done_check "--capath with the CA: chain ok, exit 0"

run --cert "$T/srv.pem" --dns-file "$T/zone" --capath "$T/capath-empty" \
	--peer 192.0.2.1 --mode verify --json example.com
want_rc 1
want_json 'not j["chain"]["ok"] and j["verify"]["pass"]'
done_check "--capath without the CA: chain fails, identity still passes, exit 1"

run --cert "$T/srv.pem" --dns-file "$T/zone" --peer 192.0.2.1 --mode verify \
	--no-chain --json example.com
want_rc 0
want_json 'j["chain"]["checked"] is False and j["verify"]["pass"]'
done_check "--no-chain: identity only, exit 0"

run $REF --peer 192.0.2.1 --mode verify --at 4102444800 example.com
want_rc 1
want_out "chain: FAILED: certificate has expired"
done_check "--at in the future: certificate has expired"

run $REF --peer 192.0.2.1 --mode verify --at 946684800 --json example.com
want_rc 1
want_json 'not j["chain"]["ok"] and "not yet valid" in j["chain"]["error"] and j["chain"]["depth"] >= 0'
want_json 'j["verify"]["pass"] and j["decision"] == "reject"'
done_check "--at in the past: certificate is not yet valid"

now=$(date +%s)
run $REF --peer 192.0.2.1 --mode verify --at $((now + 86400)) example.com
want_rc 0
done_check "--at tomorrow: chain ok"

# ---- stage I: the default profile is a stock client's (SPEC 2) -----------------

# plain_fixtures - a CA as 'openssl req -x509' makes it with Debian's
# openssl.cnf (no keyUsage), its server certificate; an intermediate of the
# test CA and a server certificate it issued
plain_fixtures() {
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		-nodes -keyout "$T/plainca.key" -out "$T/plainca.pem" \
		-days 3650 -subj "/CN=plain private CA" >/dev/null 2>&1 &&
	! openssl x509 -in "$T/plainca.pem" -noout -ext keyUsage 2>/dev/null |
		grep -q 'Key Usage' &&
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$T/plainsrv.key" -out "$T/plainsrv.csr" \
		-subj "/CN=mx0a.emailhosted.not" >/dev/null 2>&1 &&
	printf 'subjectAltName=DNS:mx0a.emailhosted.not\n' >"$T/plainsrv.ext" &&
	openssl x509 -req -in "$T/plainsrv.csr" -CA "$T/plainca.pem" \
		-CAkey "$T/plainca.key" -CAcreateserial -days 365 \
		-extfile "$T/plainsrv.ext" -out "$T/plainsrv.pem" >/dev/null 2>&1 &&
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$T/inter.key" -out "$T/inter.csr" \
		-subj "/CN=esaverify test intermediate" >/dev/null 2>&1 &&
	printf '%s\n' "basicConstraints=critical,CA:TRUE,pathlen:0" \
		"keyUsage=critical,keyCertSign,cRLSign" >"$T/inter.ext" &&
	openssl x509 -req -in "$T/inter.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
		-CAcreateserial -days 365 -extfile "$T/inter.ext" \
		-out "$T/inter.pem" >/dev/null 2>&1 &&
	openssl x509 -req -in "$T/plainsrv.csr" -CA "$T/inter.pem" \
		-CAkey "$T/inter.key" -CAcreateserial -days 365 \
		-extfile "$T/plainsrv.ext" -out "$T/intersrv.pem" >/dev/null 2>&1
}
why=
plain_fixtures || note "cannot make the plain CA fixtures with openssl"
done_check "fixtures: a CA made by 'openssl req -x509' has no keyUsage"

PLAIN="--cert $T/plainsrv.pem --dns-file $T/zone --cafile $T/plainca.pem --peer 192.0.2.1 --mode verify"
openssl verify -purpose sslserver -CAfile "$T/plainca.pem" "$T/plainsrv.pem" \
	>"$T/out" 2>&1
rc=$?
why=
want_rc 0
done_check "stock openssl verify accepts the CA without keyUsage"

run $PLAIN example.com
want_rc 0
want_out "chain: ok (verified to a trusted CA)"
want_no_out "profile"
done_check "a CA without keyUsage: chain ok by default, as stock, exit 0"

run $PLAIN --json example.com
want_rc 0
want_json 'j["chain"]["ok"] and "x509_strict" not in j["chain"]["flags"] and "partial_chain" not in j["chain"]["flags"]'
want_json 'j["chain"]["auth_level"] == 2'
done_check "--json: chain.flags without x509_strict, auth_level 2"

run $PLAIN --strict example.com
want_rc 1
want_out "chain: FAILED: CA cert does not include key usage extension (depth 1; profile: x509_strict)"
done_check "--strict: the CA without keyUsage is refused, exit 1"

run $PLAIN --strict --json example.com
want_rc 1
want_json 'not j["chain"]["ok"] and j["chain"]["error"] == "CA cert does not include key usage extension" and "x509_strict" in j["chain"]["flags"]'
want_json 'j["verify"]["pass"] and j["decision"] == "reject"'
done_check "--strict --json: chain.flags has x509_strict, the decision rejects"

run $REF --peer 192.0.2.1 --mode verify --strict example.com
want_rc 0
want_out "chain: ok (verified to a trusted CA; profile: x509_strict)"
done_check "--strict: a CA with keyUsage still passes"

cat "$T/intersrv.pem" "$T/inter.pem" >"$T/interchain.pem"
run --cert "$T/intersrv.pem" --dns-file "$T/zone" --cafile "$T/inter.pem" \
	--peer 192.0.2.1 --mode verify example.com
want_rc 1
want_out "chain: FAILED: unable to get issuer certificate"
done_check "an intermediate alone in the CA file is no anchor by default"

run --cert "$T/intersrv.pem" --dns-file "$T/zone" --cafile "$T/inter.pem" \
	--peer 192.0.2.1 --mode verify --partial-chain --json example.com
want_rc 0
want_json 'j["chain"]["ok"] and "partial_chain" in j["chain"]["flags"]'
done_check "--partial-chain: the intermediate in the CA file is an anchor"

run --cert "$T/interchain.pem" --dns-file "$T/zone" --cafile "$T/ca.pem" \
	--peer 192.0.2.1 --mode verify example.com
want_rc 0
want_out "chain: ok (verified to a trusted CA)"
done_check "the same leaf with its intermediate, the root trusted: chain ok"

# ---- SPEC 4.2 step 2: SMTP routes ------------------------------------------------

run $REF --peer 192.0.2.1 --mode hosted --route mx0a.emailhosted.not \
	--via mx0a.emailhosted.not --json example.com
want_rc 0
want_json 'j["hosted"]["pass"] and j["hosted"]["source"] == "route"'
want_json 'j["hosted"]["reference"] == "mx0a.emailhosted.not" and j["via"] == "mx0a.emailhosted.not"'
want_json 'not any(t["source"] == "mx" for t in j["hosted"]["tried"])'
done_check "--route --via: the route connected through makes Hosted pass"

run $REF --peer 192.0.2.1 --mode hosted --route mx0a.emailhosted.not example.com
want_rc 0
want_out "route mx0a.emailhosted.not"
done_check "--route whose A record is the peer: Hosted passes"

run $REF --peer 192.0.2.1 --mode hosted --route mx0b.emailhosted.not --json example.com
want_rc 1
want_json 'any(t["source"] == "route" and t["outcome"] == "not-peer" for t in j["hosted"]["tried"])'
want_json 'not any(t["source"] == "mx" for t in j["hosted"]["tried"])'
done_check "--route to another server: not the peer, MX not tried"

run $REF --peer 192.0.2.1 --mode hosted --route mx01.subd.emailhosted.not \
	--via mx01.subd.emailhosted.not example.com
want_rc 1
want_out "route mx01.subd.emailhosted.not"
done_check "--route two labels below the wildcard: Hosted fails"

run $REF --peer 192.0.2.1 --mode hosted --route 192.0.2.1 --json example.com
want_rc 1
want_json 'any(t["source"] == "mx" for t in j["hosted"]["tried"])'
done_check "--route IP literal only: MX names are used"

run $REF --peer 192.0.2.1 --config "$T/routes.conf" --json example.com
want_rc 0
want_json 'j["tls"] == "required-verify-hosted" and j["hosted"]["source"] == "route"'
want_json 'j["verify"]["pass"] and j["decision"] == "accept"'
done_check "--config [destinations] and [routes]: Hosted passes by route"

run $REF --peer 192.0.2.1 --config "$T/routes.conf" example.org
want_rc 1
want_out "setting preferred (2): deliver"
done_check "--config default destination applies to other domains"

# ---- SPEC 3.6: Unicode recipient domains ----------------------------------------

run --cert "$T/idn.pem" --dns-file "$T/zone" --no-chain --json "bücher.example"
want_rc 0
want_json 'j["recipient_domain"] == "xn--bcher-kva.example"'
want_json 'j["verify"]["source"] == "recipient-domain" and j["hosted"]["pass"]'
done_check "Unicode recipient domain converted to A-labels"

# ---- --help, --version ---------------------------------------------------------

run --help
want_rc 0
want_out "usage: esa-check"
[ ! -s "$T/err" ] || note "stderr not empty"
done_check "--help"

run --version
want_rc 0
want_out "esa-check "
done_check "--version"

# ---- exit 2: one line on stderr ----------------------------------------------

run --cert "$T/garbage.pem" --no-chain example.com
want_usage_error
want_err "no certificate in"
done_check "garbage PEM: exit 2"

run --cert "$T/badb64.pem" --no-chain example.com
want_usage_error
want_err "badb64.pem"
done_check "PEM with bad base64: exit 2"

run --cert "$T/missing.pem" --no-chain example.com
want_usage_error
want_err "missing.pem"
done_check "missing certificate file: exit 2"

run --cert "$T/srv.pem" --no-chain --peer 192.0.2.300 example.com
want_usage_error
want_err "--peer"
done_check "bad --peer: exit 2"

run --cert "$T/srv.pem" --no-chain --mode all example.com
want_usage_error
want_err "--mode"
done_check "bad --mode: exit 2"

run --cert "$T/srv.pem" --no-chain a..b
want_usage_error
want_err "a..b"
done_check "invalid recipient domain a..b: exit 2"

run --cert "$T/srv.pem" --no-chain --dns-file "$T/bad.zone" example.com
want_usage_error
want_err "bad.zone"
done_check "malformed master file: exit 2"

run --cert "$T/srv.pem" --no-chain --dns-file "$T/nonexistent.zone" example.com
want_usage_error
done_check "missing master file: exit 2"

run --cert "$T/srv.pem" --no-chain --config "$T/bad.conf" example.com
want_usage_error
grep -q 'bad\.conf.*3' "$T/err" || note "message does not name the file and line 3"
done_check "malformed config: exit 2 naming file and line"

run --cert "$T/srv.pem" --no-chain --frobnicate example.com
want_usage_error
want_err "--frobnicate"
done_check "unknown option: exit 2"

run --cert "$T/srv.pem" --no-chain example.com --peer
want_usage_error
done_check "option without its value: exit 2"

run --cert "$T/srv.pem" --no-chain --at yesterday example.com
want_usage_error
want_err "--at"
done_check "bad --at: exit 2"

run --cert "$T/srv.pem" --no-chain --route "mx.example.net:99999" example.com
want_usage_error
done_check "bad --route: exit 2"

run --cert "$T/srv.pem" --cafile "$T/garbage.pem" example.com
want_usage_error
done_check "CA file without certificates: exit 2"

run --cert "$T/srv.pem" --no-chain
want_usage_error
done_check "no recipient domain: exit 2"

run --cert "$T/srv.pem" --no-chain example.com example.net
want_usage_error
done_check "two recipient domains: exit 2"

# live mode itself is tested by cli-live.sh; here only what needs no network
run --via mx01.subd.emailhosted.not --dns-file "$T/zone" example.com
want_usage_error
want_err "--via is for offline mode"
done_check "--via without --cert (live mode): exit 2"

run --cert "$T/srv.pem" --no-chain --timeout 0 example.com
want_usage_error
want_err "--timeout"
done_check "--timeout 0: exit 2"

run --cert "$T/srv.pem" --no-chain --port 0 example.com
want_usage_error
done_check "bad --port: exit 2"

# ---- memory --------------------------------------------------------------------

if command -v valgrind >/dev/null 2>&1; then
	why=
	valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--error-exitcode=99 "$BIN" $REF --peer 192.0.2.1 --json \
		--route mx0a.emailhosted.not example.com >"$T/out" 2>"$T/err"
	rc=$?
	want_rc 0
	valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--error-exitcode=99 "$BIN" --cert "$T/badb64.pem" example.com \
		>"$T/out" 2>"$T/err"
	rc=$?
	want_rc 2
	done_check "valgrind: no leaks or errors (pass and error paths)"
else
	why=
	note "valgrind is missing (scripts/deps.sh --check names its package)"
	done_check "valgrind: no leaks or errors (pass and error paths)"
fi

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
