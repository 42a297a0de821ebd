#!/usr/bin/env bash
# cli-live.sh - esa-check live mode end to end (SPEC 4.3, 7, 8.2)
#
# Real servers on loopback only (tests/lib/servers.sh): one unbound serving
# the reference example of SPEC 7 moved to 127.0.0.2 / 127.0.0.3 plus a few
# more domains, aiosmtpd STARTTLS servers presenting certificates of the
# tests' CA on 127.0.0.2 ... 127.0.0.8, and two small Python stand-ins: an
# SMTP server without STARTTLS that counts EHLOs, a server that accepts and
# never speaks, and a "nameserver" that never answers.  build/esa-check is
# always given --nameserver (never the system resolver) and --port.
#
# Checks the text and the JSON: the reference example (Verify passes by the
# PTR name mx0a.emailhosted.not, Hosted fails), the first MX down, a server
# without STARTTLS, an FQDN route (Hosted passes by the route), an
# IP-literal route, two routes to one address contacted once, a route's own
# port, the implicit MX, a domain that does not exist, an untrusted chain,
# a silent server and a dead nameserver (bounded time).
# Prints one line per check and "cli-live: N passed, M failed"; exits
# non-zero on any failure, also when unbound, openssl, aiosmtpd or valgrind
# is missing (`make test` installs them: scripts/deps.sh).
# ESA_CHECK overrides the binary.

set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${ESA_CHECK:-$ROOT/build/esa-check}
PY=/usr/bin/python3
# cli_suite, note, want_*, done_check: shared with tests/cli.sh
# shellcheck source=lib/cli-checks.sh
. "$ROOT/tests/lib/cli-checks.sh"
cli_suite cli-live
if [ ! -x /usr/sbin/unbound ] || ! command -v openssl >/dev/null 2>&1 ||
	! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
	echo "cli-live: needs /usr/sbin/unbound, openssl and python3-aiosmtpd (scripts/deps.sh --check names what is missing)"
	exit 1
fi

# shellcheck source=lib/servers.sh
. "$ROOT/tests/lib/servers.sh"
srv_init
T=$SRV_DIR
trap 'exit 1' INT TERM HUP

# ---- helpers -----------------------------------------------------------------

# run ARGS... - esa-check against the test DNS; rc, $T/out, $T/err, ms
run() {
	local t0
	why=
	t0=$(date +%s%N)
	"$BIN" --nameserver "127.0.0.1:$DNS" --port "$SMTP" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
}

# run_raw ARGS... - esa-check with only the arguments given
run_raw() {
	local t0
	why=
	t0=$(date +%s%N)
	"$BIN" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
}

want_faster() { [ "$ms" -lt "$1" ] || note "took $ms ms, want < $1"; }

# ---- fixtures --------------------------------------------------------------

# Python stand-ins: "plain" an SMTP server without STARTTLS that logs each
# EHLO, "badtls" offers STARTTLS and then speaks plain text instead of TLS,
# "inject" pipelines a reply after its 220 to STARTTLS, "silent" accepts and
# never speaks, "deaf" a UDP socket that never answers (a nameserver that is
# down without saying so).  Each writes "ready" to LOG once listening.
cat >"$T/standin.py" <<'PY'
import socket, sys, threading, time
mode, addr, port, log = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
def say(line):
    with open(log, "a") as f:
        f.write(line + "\n")
if mode == "deaf":
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((addr, port))
    say("ready")
    time.sleep(600)
    sys.exit(0)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.listen(16)
say("ready")
def serve(c):
    if mode == "silent":
        time.sleep(60)
        return
    f = c.makefile("rb")
    c.sendall(b"220 plain.test ESMTP no TLS here\r\n")
    for line in f:
        cmd = line.strip().upper()
        if cmd.startswith(b"EHLO"):
            say("ehlo")
            tls = b"" if mode == "plain" else b"250-STARTTLS\r\n"
            c.sendall(b"250-plain.test\r\n" + tls + b"250 HELP\r\n")
        elif cmd.startswith(b"STARTTLS") and mode == "badtls":
            c.sendall(b"220 go ahead\r\n")
            time.sleep(0.1)
            c.sendall(b"this is not TLS at all\r\n" * 4)
            break
        elif cmd.startswith(b"STARTTLS") and mode == "inject":
            c.sendall(b"220 go ahead\r\n250 injected\r\n")
            break
        elif cmd.startswith(b"QUIT"):
            c.sendall(b"221 bye\r\n")
            break
        else:
            c.sendall(b"502 not here\r\n")
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY

# standin MODE ADDR PORT - start one, wait until it listens
standin() {
	local log="$T/standin-$1-$2.log" i
	"$PY" "$T/standin.py" "$1" "$2" "$3" "$log" 2>>"$T/standin.err" &
	SRV_PIDS+=($!)
	for i in $(seq 50); do
		grep -q ready "$log" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "cli-live: stand-in $1 on $2:$3 did not start" >&2
	return 1
}

fixtures() {
	srv_ca || return 1
	# SPEC 7: both MX hosts present *.emailhosted.not
	srv_cert wild '*.emailhosted.not' 'DNS:*.emailhosted.not' \
		'DNS:emailhosted.not' || return 1
	srv_cert relay relay.example.net 'DNS:relay.example.net' || return 1
	srv_cert implicit implicit.test 'DNS:implicit.test' || return 1
	DNS=$(srv_port) && SMTP=$(srv_port) && SMTP2=$(srv_port) &&
		DEAF=$(srv_port) && CLOSED=$(srv_port) || return 1
	srv_unbound "$DNS" \
		'local-zone: "example.com." static' \
		'local-zone: "emailhosted.not." static' \
		'local-zone: "example.net." static' \
		'local-zone: "test." static' \
		'local-zone: "127.in-addr.arpa." static' \
		'local-data: "example.com. 300 IN MX 10 mx01.subd.emailhosted.not."' \
		'local-data: "example.com. 300 IN MX 20 mx02.subd.emailhosted.not."' \
		'local-data: "mx01.subd.emailhosted.not. 300 IN A 127.0.0.2"' \
		'local-data: "mx02.subd.emailhosted.not. 300 IN A 127.0.0.3"' \
		'local-data-ptr: "127.0.0.2 300 mx0a.emailhosted.not."' \
		'local-data-ptr: "127.0.0.3 300 mx0b.emailhosted.not."' \
		'local-data: "mx0a.emailhosted.not. 300 IN A 127.0.0.2"' \
		'local-data: "mx0b.emailhosted.not. 300 IN A 127.0.0.3"' \
		'local-data: "down.test. 300 IN MX 10 dead.down.test."' \
		'local-data: "down.test. 300 IN MX 20 mx02.subd.emailhosted.not."' \
		'local-data: "dead.down.test. 300 IN A 127.0.0.9"' \
		'local-data: "plain.test. 300 IN MX 10 smtp.plain.test."' \
		'local-data: "plain.test. 300 IN MX 20 mx01.subd.emailhosted.not."' \
		'local-data: "smtp.plain.test. 300 IN A 127.0.0.4"' \
		'local-data: "relay.example.net. 300 IN A 127.0.0.5"' \
		'local-data: "a.dup.test. 300 IN A 127.0.0.6"' \
		'local-data: "b.dup.test. 300 IN A 127.0.0.6"' \
		'local-data: "silent.test. 300 IN A 127.0.0.7"' \
		'local-data: "implicit.test. 300 IN A 127.0.0.8"' ||
		return 1
	srv_smtp 127.0.0.2 "$SMTP" wild &&
		srv_smtp 127.0.0.3 "$SMTP" wild &&
		srv_smtp 127.0.0.5 "$SMTP" relay &&
		srv_smtp 127.0.0.5 "$SMTP2" relay &&
		srv_smtp 127.0.0.8 "$SMTP" implicit &&
		standin plain 127.0.0.4 "$SMTP" &&
		standin plain 127.0.0.6 "$SMTP" &&
		standin silent 127.0.0.7 "$SMTP" &&
		standin badtls 127.0.0.10 "$SMTP" &&
		standin inject 127.0.0.11 "$SMTP" &&
		standin deaf 127.0.0.1 "$DEAF" || return 1
	printf '[destinations]\nexample.com tls=required-verify-hosted\n[routes]\nexample.com relay.example.net/pri=5\n' \
		>"$T/routes.conf"
}

if ! fixtures; then
	echo "cli-live: cannot start the test servers" >&2
	echo "cli-live: 0 passed, 1 failed"
	exit 1
fi
CA="--cafile $T/ca.pem"

# ---- SPEC 7: the reference example, live ------------------------------------

run $CA example.com
want_rc 1
want_out "hosts, from its MX records, in order:"
want_out "1. mx01.subd.emailhosted.not (MX 10)"
want_out "2. mx02.subd.emailhosted.not (MX 20)"
want_out "-- attempt 1: [127.0.0.2]:$SMTP"
want_out "EHLO esa-check.invalid: STARTTLS offered"
want_out "STARTTLS: 220"
want_out "TLS: TLSv1."
want_out "0 subject: CN=*.emailhosted.not"
want_out "issuer:  CN=esaverify test CA"
want_out "| recipient domain: example.com   peer: 127.0.0.2   via: mx01.subd.emailhosted.not"
want_out "| Verify (settings 4, 5): PASS"
want_out "ptr mx0a.emailhosted.not (forward-confirmed: A 127.0.0.2) vs CN-IDs: match *.emailhosted.not"
want_out "| Verify Hosted Domains (setting 6): FAIL"
want_out "-- attempt 2: [127.0.0.3]:$SMTP"
want_out "ptr mx0b.emailhosted.not (forward-confirmed: A 127.0.0.3)"
want_out "result: no host passes the chain and every requested mode (2 attempts)"
want_out "Verify (settings 4, 5): PASS on attempt 1, mx01.subd.emailhosted.not [127.0.0.2]:$SMTP"
want_out "Verify Hosted Domains (setting 6): FAIL on every host tried"
done_check "reference example (text): Verify passes by PTR mx0a, Hosted fails on both MX"

run $CA --json example.com
want_rc 1
want_json 'j["recipient_domain"] == "example.com" and j["peer"] == "127.0.0.2"'
want_json 'j["chain"]["ok"] and j["via"] == "mx01.subd.emailhosted.not"'
want_json 'j["verify"]["pass"] and j["verify"]["source"] == "ptr" and j["verify"]["reference"] == "mx0a.emailhosted.not"'
want_json 'j["hosted"]["pass"] is False and j["hosted"]["source"] is None'
want_json 'j["hosts_from"] == "mx" and j["used"] is None'
want_json 'j["first_pass"] == {"verify": 0, "hosted": None}'
want_json '[(x["host"], x["address"], x["port"], x["source"]) for x in a] == [("mx01.subd.emailhosted.not", "127.0.0.2", '"$SMTP"', "mx"), ("mx02.subd.emailhosted.not", "127.0.0.3", '"$SMTP"', "mx")]'
want_json 'all(x["connected"] and x["starttls"] and x["outcome"] == "failed" and not x["pass"] for x in a)'
want_json 'a[0]["tls"]["protocol"].startswith("TLSv1") and a[0]["tls"]["cipher"]'
want_json 'a[0]["tls"]["chain"] == [{"subject": "CN=*.emailhosted.not", "issuer": "CN=esaverify test CA"}]'
want_json 'a[1]["result"]["peer"] == "127.0.0.3" and a[1]["result"]["verify"]["reference"] == "mx0b.emailhosted.not"'
want_json '"Verify Hosted Domains fails" in a[0]["reason"]'
want_json '[(q["type"], q["name"]) for q in j["lookups"]][0] == ("MX", "example.com")'
done_check "reference example (--json): top level, attempts, tls, chain"

run $CA --mode verify --json example.com
want_rc 0
want_json 'len(a) == 1 and j["used"] == 0 and a[0]["pass"] and a[0]["outcome"] == "passed"'
want_json 'j["verify"]["pass"] and j["peer"] == "127.0.0.2"'
want_json 'not any(q["name"] == "mx02.subd.emailhosted.not" for q in j["lookups"])'
done_check "--mode verify: the first MX passes, the second is not contacted"

run $CA --mode hosted example.com
want_rc 1
want_out "-- attempt 2: [127.0.0.3]"
want_out "Verify Hosted Domains (setting 6): FAIL on every host tried"
want_no_out "Verify (settings 4, 5): PASS on"
done_check "--mode hosted: both MX tried, exit 1"

# ---- SPEC 4.3: skipping ------------------------------------------------------

run $CA --mode verify --json down.test
want_rc 0
want_json '[x["outcome"] for x in a] == ["refused", "passed"]'
want_json 'a[0]["host"] == "dead.down.test" and a[0]["address"] == "127.0.0.9" and not a[0]["connected"]'
want_json 'j["used"] == 1 and j["peer"] == "127.0.0.3" and j["verify"]["reference"] == "mx0b.emailhosted.not"'
done_check "first MX down (connection refused): the next MX is used"

run $CA --mode verify down.test
want_rc 0
want_out "=> FAIL (refused): connect: connection refused"
want_out "result: attempt 2, mx02.subd.emailhosted.not [127.0.0.3]:$SMTP passes"
done_check "first MX down (text)"

run $CA --mode verify --json plain.test
want_rc 0
want_json '[x["outcome"] for x in a] == ["no-starttls", "passed"]'
want_json 'a[0]["connected"] and a[0]["starttls"] is False and a[0]["tls"] is None and a[0]["result"] is None'
want_json 'a[1]["starttls"] is True'
want_json 'a[0]["banner"].startswith("220 plain.test")'
want_json 'j["peer"] == "127.0.0.2"'
done_check "server without STARTTLS: skipped, the next MX is used"

run $CA --mode verify plain.test
want_rc 0
want_out "EHLO esa-check.invalid: STARTTLS NOT offered"
want_out "=> FAIL (no-starttls): STARTTLS is not offered"
done_check "server without STARTTLS (text)"

run $CA --mode verify --route 127.0.0.10 --route 127.0.0.2/pri=1 --json example.com
want_rc 0
want_json 'a[0]["outcome"] == "tls-failed" and a[0]["starttls"] and a[0]["tls"] is None'
want_json '"TLS handshake failed" in a[0]["reason"] and a[1]["pass"] and j["used"] == 1'
done_check "TLS handshake fails: skipped, the next route is used"

run $CA --mode verify --route 127.0.0.11 --route 127.0.0.2/pri=1 --json example.com
want_rc 0
want_json 'a[0]["outcome"] == "smtp-error" and "after its reply to STARTTLS" in a[0]["reason"]'
want_json 'a[0]["tls"] is None and j["used"] == 1'
done_check "data pipelined after the 220 to STARTTLS: refused, next route"

# ---- SMTP routes ---------------------------------------------------------------

run $CA --mode hosted --route relay.example.net --json example.com
want_rc 0
want_json 'j["hosts_from"] == "route" and len(a) == 1 and a[0]["source"] == "route"'
want_json 'a[0]["host"] == "relay.example.net" and a[0]["address"] == "127.0.0.5"'
want_json 'j["hosted"]["pass"] and j["hosted"]["source"] == "route" and j["hosted"]["reference"] == "relay.example.net"'
want_json 'not any(t["source"] == "mx" for t in j["hosted"]["tried"])'
want_json 'not any(q["type"] == "MX" for q in j["lookups"])'
done_check "FQDN --route instead of MX: Hosted passes by the route"

run $CA --route relay.example.net example.com
want_rc 1
want_out "hosts, from the SMTP routes of the domain, in order:"
want_out "1. relay.example.net (route, priority 0)"
want_out "Verify Hosted Domains (setting 6): PASS on attempt 1"
want_out "Verify (settings 4, 5): FAIL on every host tried"
done_check "FQDN --route, --mode both: Hosted passes, Verify fails, exit 1"

run $CA --mode hosted --config "$T/routes.conf" --json example.com
want_rc 0
want_json 'j["tls"] == "required-verify-hosted" and j["decision"] == "accept"'
want_json 'a[0]["host"] == "relay.example.net" and a[0]["source"] == "route" and a[0]["priority"] == 5'
done_check "--config [routes] and [destinations]: route used, decision under setting 6"

run $CA --mode verify --route 127.0.0.2 --json example.com
want_rc 0
want_json 'len(a) == 1 and a[0]["host"] == "127.0.0.2" and a[0]["address"] == "127.0.0.2" and a[0]["source"] == "route"'
want_json 'j["lookups"] == []'
want_json 'j["verify"]["pass"] and j["verify"]["source"] == "ptr" and j["via"] == "127.0.0.2"'
done_check "IP-literal --route: connected directly, no host lookup"

run $CA --mode hosted --route 127.0.0.2 --json example.com
want_rc 1
want_json 'any(t["source"] == "mx" for t in j["hosted"]["tried"]) and not j["hosted"]["pass"]'
done_check "IP-literal route only: Hosted uses the MX names, fails"

before=$(grep -c ehlo "$T/standin-plain-127.0.0.6.log")
run $CA --mode hosted --route a.dup.test/pri=0 --route b.dup.test/pri=1 \
	--route relay.example.net/pri=2 --json example.com
after=$(grep -c ehlo "$T/standin-plain-127.0.0.6.log")
want_rc 0
[ $((after - before)) -eq 1 ] || note "127.0.0.6 saw $((after - before)) EHLOs, want 1"
want_json 'len(a) == 2 and a[0]["host"] == "a.dup.test" and a[0]["also"] == ["b.dup.test"]'
want_json 'a[0]["outcome"] == "no-starttls" and a[1]["host"] == "relay.example.net" and a[1]["pass"]'
want_json 'j["used"] == 1 and j["hosted"]["reference"] == "relay.example.net"'
done_check "two routes to one address: contacted once, then the next route"

run $CA --mode hosted --route a.dup.test --route b.dup.test --route relay.example.net example.com
want_out "already tried (attempt 1, through a.dup.test): one connection per address"
done_check "two routes to one address (text)"

run $CA --mode hosted --route "relay.example.net:$SMTP2" --json example.com
want_rc 0
want_json 'a[0]["port"] == '"$SMTP2"' and a[0]["pass"]'
done_check "a route's own port wins over --port"

run $CA --mode verify --port "$CLOSED" --route 127.0.0.2 --route 127.0.0.3 --json example.com
want_rc 1
want_json '[x["port"] for x in a] == ['"$CLOSED"', '"$CLOSED"'] and all(x["outcome"] == "refused" for x in a)'
want_json 'j["peer"] is None and not j["verify"]["pass"] and "no host presented a certificate" in j["error"]'
want_json 'all(x["starttls"] is None and x["banner"] is None for x in a)'
want_json 'j["chain"]["ok"] is False'
done_check "--port: nothing listens there, every host refused, exit 1"

# ---- other ways to find hosts ----------------------------------------------------

run $CA --json implicit.test
want_rc 0
want_json 'j["hosts_from"] == "implicit-mx" and a[0]["source"] == "implicit-mx" and a[0]["host"] == "implicit.test"'
want_json 'j["verify"]["source"] == "recipient-domain" and j["hosted"]["pass"]'
done_check "no MX: the domain itself (implicit MX, RFC 5321 5.1)"

run $CA nosuch.test
want_rc 1
want_out "hosts: none: nosuch.test does not exist"
want_out "result: no host to check"
done_check "domain that does not exist: exit 1 with the reason"


# ---- stage I -------------------------------------------------------------------

run --mode verify --route 127.0.0.2 --json example.com
want_rc 1
want_json 'not j["chain"]["ok"] and j["chain"]["error"] and j["verify"]["pass"]'
want_json 'a[0]["outcome"] == "failed" and "the chain fails" in a[0]["reason"]'
done_check "test CA not in the system store: chain fails, exit 1"

now=$(date +%s)
run $CA --mode verify --route 127.0.0.2 --at $((now + 30 * 86400)) example.com
want_rc 1
want_out "| chain: FAILED: certificate has expired"
done_check "--at a month ahead: the server's certificate has expired"

run --mode verify --no-chain --route 127.0.0.2 --json example.com
want_rc 0
want_json 'j["chain"]["checked"] is False and a[0]["pass"]'
done_check "--no-chain: identity only"

# ---- timeouts --------------------------------------------------------------------

run $CA --timeout 1 --mode hosted --route silent.test --route relay.example.net/pri=1 --json example.com
want_rc 0
want_json 'a[0]["outcome"] == "timeout" and a[0]["connected"] and "greeting" in a[0]["reason"]'
want_json 'a[1]["pass"]'
want_faster 5000
done_check "a server that never greets: timeout, the next route is used"

run_raw --nameserver "127.0.0.1:$DEAF" --port "$SMTP" $CA --timeout 2 example.com
want_rc 1
want_out "cannot find the mail hosts of example.com: MX example.com: timeout"
want_faster 8000
done_check "a nameserver that does not answer: exit 1, the reason, bounded time"

run_raw --nameserver "127.0.0.1:$DEAF" --port "$SMTP" $CA --timeout 2 --json example.com
want_rc 1
want_json 'j["lookups"][0]["status"] == "timeout" and "timeout" in j["hosts_error"]'
want_json 'j["error"] == j["hosts_error"] and j["verify"]["pass"] is False'
want_faster 8000
done_check "a nameserver that does not answer (--json)"

# ---- usage --------------------------------------------------------------------

run $CA --peer 127.0.0.2 example.com
want_usage_error
want_err "--peer"
done_check "--peer without --cert: exit 2"

run $CA --timeout soon example.com
want_usage_error
want_err "--timeout"
done_check "bad --timeout: exit 2"

run_raw --nameserver "not-an-ip" example.com
want_usage_error
done_check "bad --nameserver: exit 2"

# ---- memory --------------------------------------------------------------------

if command -v valgrind >/dev/null 2>&1; then
	vg="valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99"
	why=
	$vg "$BIN" --nameserver "127.0.0.1:$DNS" --port "$SMTP" $CA --json \
		down.test >"$T/out" 2>"$T/err"
	rc=$?
	want_rc 1
	$vg "$BIN" --nameserver "127.0.0.1:$DNS" --port "$SMTP" $CA --mode hosted \
		--route a.dup.test --route b.dup.test --route relay.example.net \
		example.com >"$T/out" 2>"$T/err"
	rc=$?
	want_rc 0
	$vg "$BIN" --nameserver "127.0.0.1:$DNS" --port "$SMTP" $CA nosuch.test \
		>"$T/out" 2>"$T/err"
	rc=$?
	want_rc 1
	done_check "valgrind: no leaks or errors (refused, no STARTTLS, duplicate, pass, no host)"
else
	why=
	note "valgrind is missing (scripts/deps.sh --check names its package)"
	done_check "valgrind: no leaks or errors (refused, no STARTTLS, duplicate, pass, no host)"
fi

echo "cli-live: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
