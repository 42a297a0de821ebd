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
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHIM=$ROOT/build/esashim.so
CLIENT=$ROOT/build/progs/esa_client
ESA_RUN=$ROOT/scripts/esa-run
PY=/usr/bin/python3
passed=0
failed=0
skipped=0
why=

unset LD_PRELOAD	# never the ASan runtime or anything else under curl
for v in $(env | sed -n 's/^\(ESA_[A-Z_]*\)=.*/\1/p'); do
	case $v in ESA_TEST_* | ESA_SUITE_*) ;; *) unset "$v" ;; esac
done

if [ ! -f "$SHIM" ]; then
	echo "shim: $SHIM not built (run make)" >&2
	exit 1
fi
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$ROOT" shim-progs >/dev/null ||
	{ echo "shim: cannot build $CLIENT" >&2; exit 1; }
for tool in openssl "$PY" /usr/sbin/unbound curl swaks s-nail wget \
	/usr/sbin/posttls-finger perl unshare cc; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "shim: $tool is missing (scripts/deps.sh --check names its package)"
		exit 1
	fi
done
if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
	echo "shim: python3-aiosmtpd is missing (scripts/deps.sh)"
	exit 1
fi

# shellcheck source=lib/servers.sh
. "$ROOT/tests/lib/servers.sh"
. "$ROOT/tests/lib/log.sh"
srv_init
T=$SRV_DIR/t
mkdir -p "$T/home"

# ---- servers ---------------------------------------------------------------

NET=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1))
REF=$NET.2 DOM=$NET.3 BAD=$NET.4 PLAIN=$NET.5 KU=$NET.7
export REF DOM BAD PLAIN KU

srv_ca
srv_cert ref '*.emailhosted.not' 'DNS:*.emailhosted.not' DNS:emailhosted.not
srv_cert dom mx.example.com DNS:example.com DNS:mx.example.com
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$SRV_DIR/bad.key" -out "$SRV_DIR/bad.pem" -days 1 \
	-subj /CN=mx.example.com -addext subjectAltName=DNS:example.com 2>/dev/null
CA=$SRV_DIR/ca.pem
# a private CA as plain 'openssl req -x509' makes it (Debian's openssl.cnf:
# CA:TRUE, no keyUsage) and its server certificate for example.com: every
# stock client accepts it (SPEC 2), X509_STRICT does not
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$SRV_DIR/kuca.key" -out "$SRV_DIR/kuca.pem" -days 2 \
	-subj "/CN=plain private CA" 2>/dev/null
printf 'subjectAltName=DNS:example.com,DNS:mx.example.com\n' >"$SRV_DIR/ku.ext"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$SRV_DIR/ku.key" -out "$SRV_DIR/ku.csr" -subj /CN=mx.example.com 2>/dev/null &&
openssl x509 -req -in "$SRV_DIR/ku.csr" -CA "$SRV_DIR/kuca.pem" \
	-CAkey "$SRV_DIR/kuca.key" -CAcreateserial -days 1 \
	-extfile "$SRV_DIR/ku.ext" -out "$SRV_DIR/ku.pem" 2>/dev/null
KUCA=$SRV_DIR/kuca.pem

DNSP=$(srv_port)
srv_unbound "$DNSP" \
	'local-zone: "example.com." static' \
	'local-data: "example.com. 300 IN MX 10 mx01.subd.emailhosted.not."' \
	'local-data: "example.com. 300 IN MX 20 mx02.subd.emailhosted.not."' \
	"local-data: \"mx.example.com. 300 IN A $DOM\"" \
	'local-zone: "emailhosted.not." static' \
	"local-data: \"mx01.subd.emailhosted.not. 300 IN A $REF\"" \
	"local-data: \"mx02.subd.emailhosted.not. 300 IN A $NET.6\"" \
	"local-data: \"mx0a.emailhosted.not. 300 IN A $REF\"" \
	"local-data-ptr: \"$REF 300 mx0a.emailhosted.not.\"" \
	"local-data-ptr: \"$DOM 300 mx.example.com.\"" || { echo "shim: unbound did not start"; exit 1; }

# smtp ADDR PORT NAME [--no-starttls] - a server with a Maildir that works
smtp() {
	srv_smtp "$@" || { echo "shim: aiosmtpd did not start on $1:$2"; exit 1; }
	mkdir -p "$SRV_DIR/mail-$2/tmp" "$SRV_DIR/mail-$2/new" "$SRV_DIR/mail-$2/cur"
}
PREF=$(srv_port) PDOM=$(srv_port) PBAD=$(srv_port) PPORT=$(srv_port)
PKU=$(srv_port)
export PREF PDOM PBAD PPORT PKU
smtp "$REF" "$PREF" ref
smtp "$KU" "$PKU" ku
smtp "$DOM" "$PDOM" dom
smtp "$BAD" "$PBAD" bad
smtp "$PLAIN" 2525 - --no-starttls
smtp "$PLAIN" "$PPORT" - --no-starttls

# The environment every shim run starts from.
BASE=(ESA_NAMESERVER="127.0.0.1:$DNSP" ESA_CAFILE="$CA"
	ESA_RECIPIENT_DOMAIN=example.com ESA_LOG="$T/log" ESA_LOG_LEVEL=ab)

printf 'Subject: esashim test\r\n\r\nhello\r\n' >"$T/msg"
printf 'EHLO client.test\nMAIL FROM:<a@client.test>\nRCPT TO:<c@example.com>\nDATA\nSubject: s_client\n\nhello\n.\nQUIT\n' >"$T/dialog"

# ---- helpers ---------------------------------------------------------------

# note PROBLEM - remember why the current check fails
note() { why="$why; $1"; }

# shimrun [VAR=VALUE...] -- COMMAND... - the command under the shim, with
# BASE and the given variables; stdin from $STDIN (default /dev/null);
# stdout in $T/out, stderr in $T/err, exit status in rc, log in $T/log
shimrun() {
	local vars=()
	while [ "$1" != "--" ]; do vars+=("$1"); shift; done
	shift
	: >"$T/log"
	mails_before
	env "${BASE[@]}" "${vars[@]}" HOME="$T/home" LD_PRELOAD="$SHIM" \
		timeout 30 "$@" <"${STDIN:-/dev/null}" >"$T/out" 2>"$T/err"
	rc=$?
}

# plainrun COMMAND... - the same command without the shim: $T/out0,
# $T/err0, rc0
plainrun() {
	HOME="$T/home" timeout 30 "$@" <"${STDIN:-/dev/null}" >"$T/out0" 2>"$T/err0"
	rc0=$?
}

# mails_before - remember how many messages each mailbox holds
mails_before() {
	local p
	for p in "$PREF" "$PDOM" "$PBAD" 2525 "$PPORT" "$PKU"; do
		eval "m_$p=\$(ls \"\$SRV_DIR/mail-$p/new\" | wc -l)"
	done
}

# mails PORT - messages delivered to PORT since the run began
mails() {
	local now before
	now=$(ls "$SRV_DIR/mail-$1/new" | wc -l)
	eval "before=\$m_$1"
	echo $((now - before))
}

want_rc() { [ "$rc" -eq "$1" ] || note "exit $rc, want $1"; }
want_fail() { [ "$rc" -ne 0 ] || note "exit 0, want a failure"; }
# want_sane - failed or not, the program ended normally (no signal, no
# timeout): the shim never crashes it
want_sane() { [ "$rc" -lt 124 ] || note "exit $rc: killed or timed out"; }
want_delivered() { [ "$(mails "$1")" -ge "${2:-1}" ] || note "no message in mail-$1"; }
want_not_delivered() { [ "$(mails "$1")" -eq 0 ] || note "a message arrived in mail-$1"; }
want_out() { grep -qF -- "$1" "$T/out" || note "stdout lacks '$1'"; }
want_err() { grep -qF -- "$1" "$T/err" || note "stderr lacks '$1'"; }
want_no_stdout() { [ ! -s "$T/out" ] || note "stdout not empty: $(head -c 80 "$T/out")"; }
want_same_stdout() { cmp -s "$T/out0" "$T/out" || note "stdout differs from the run without the shim"; }

# want_log EXPR [FILE] - a Python expression over the log (FILE, default
# $T/log): L every line, h the handshake lines, p the plain-text lines, E
# the environment, ts_ok(x); every line must be one JSON object
want_log() { log_check "${2:-$T/log}" "$1"; }

# want_line DECISION TLS PEER PORT ENFORCE - exactly one handshake line,
# with these members and every member SPEC 8.5 names
want_line() {
	want_log "len(h) == 1 and h[0]['decision'] == '$1' and h[0]['tls'] == '$2' \
and h[0]['peer'] == '$3' and h[0]['port'] == $4 and h[0]['enforce'] == '$5' \
and h[0]['recipient_domain'] == 'example.com' and h[0]['pid'] > 0 \
and ts_ok(h[0]) and all(k in h[0] for k in ('ts', 'program', 'sni', 'recipient_source', \
'chain', 'stock', 'verify', 'hosted', 'dns', 'elapsed_us')) \
and set(h[0]['chain']) >= {'ok', 'error', 'depth'} and set(h[0]['stock']) >= {'host', 'ok'}"
}

# want_reference - the verdicts of SPEC 7 on the REF server
want_reference() {
	want_log "h[0]['chain']['ok'] and h[0]['verify']['pass'] and \
h[0]['verify']['source'] == 'ptr' and h[0]['verify']['reference'] == 'mx0a.emailhosted.not' \
and not h[0]['hosted']['pass'] and \
any(t['reference'] == 'mx01.subd.emailhosted.not' and t['source'] == 'mx' for t in h[0]['hosted']['tried']) \
and any(q['type'] == 'PTR' for q in h[0]['dns'])"
}

# check NAME - print the verdict of the current check and start the next
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
			cut -c1-300 "$T/log" | sed 's/^/  log: /'
		fi
	fi
	why=
}

# skip NAME REASON
skip() {
	skipped=$((skipped + 1))
	echo "skip $1 ($2)"
	why=
}

have() { command -v "$1" >/dev/null 2>&1; }

# ---- the clients -------------------------------------------------------------

mkdir -p "$T/bin"
printf 'hello\n' >"$T/body"
# s_client ADDR PORT [OPTIONS...] - openssl s_client delivering one message
cat >"$T/bin/s_client" <<SH
#!/bin/sh
a=\$1 p=\$2
shift 2
exec openssl s_client -quiet -crlf -starttls smtp -connect "\$a:\$p" "\$@" <"$T/dialog"
SH
# snail ADDR PORT - s-nail sending one message, its own name check off
cat >"$T/bin/snail" <<SH
#!/bin/sh
exec s-nail -n -Sv15-compat -Sttycharset=utf-8 -S "mta=smtp://\$1:\$2" \\
	-S smtp-use-starttls -S smtp-auth=none -S tls-verify=ignore -S nosave \\
	-S hostname=client.test -s subj -r a@client.test c@example.com <"$T/body"
SH
# pysmtp ADDR PORT MODE [NAME [CAFILE]] - Python smtplib sending one
# message: MODE tls (verify against CAFILE, server name NAME), tls-none
# (CERT_NONE), plain (no STARTTLS)
cat >"$T/pysmtp.py" <<'PY'
import smtplib, ssl, sys
addr, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
name = sys.argv[4] if len(sys.argv) > 4 else addr
s = smtplib.SMTP(local_hostname="client.test")
s.connect(addr, port)
s._host = name     # the name starttls() checks and sends as SNI
try:
    if mode != "plain":
        if mode == "tls":
            ctx = ssl.create_default_context(cafile=sys.argv[5])
        else:
            ctx = ssl._create_unverified_context()
        s.starttls(context=ctx)
    s.sendmail("a@client.test", ["c@example.com"], "Subject: python\r\n\r\nhello\r\n")
    s.quit()
    print("sent")
except (OSError, smtplib.SMTPException) as e:
    print("failed:", type(e).__name__)
    sys.exit(3)
PY
cat >"$T/bin/pysmtp" <<SH
#!/bin/sh
exec $PY "$T/pysmtp.py" "\$@"
SH
chmod +x "$T/bin/s_client" "$T/bin/snail" "$T/bin/pysmtp"
S_CLIENT=$T/bin/s_client SNAIL=$T/bin/snail PYSMTP=$T/bin/pysmtp
swaks_args() { # ADDR PORT
	echo "--server $1 --port $2 --to c@example.com --from a@client.test --helo client.test --data Subject:_swaks\n\nhello\n"
}

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
	CURL_SEND=(--mail-from a@client.test --mail-rcpt c@example.com -T "$T/msg")
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

rm -f "$T/home/dead.letter"
if [ "$skipped" -gt 0 ]; then
	echo "shim: $passed passed, $failed failed, $skipped skipped"
else
	echo "shim: $passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
