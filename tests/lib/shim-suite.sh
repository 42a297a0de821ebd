# shellcheck shell=bash
# tests/lib/shim-suite.sh - what the two shim suites (tests/shim.sh: the
# clients; tests/shim-settings.sh: settings, plain text, errors, log
# channels and levels, esa-run) start from: a clean environment, the tools
# checked, the servers of tests/lib/servers.sh (a test CA, unbound with
# SPEC 7's example for the test's own loopback addresses, aiosmtpd with and
# without STARTTLS), BASE (the environment every shim run starts from), the
# helpers (note, shimrun, want_*, check, skip, ...) and the client wrappers.
# Source it after setting SUITE (the name in messages) and ROOT; end the
# suite with shim_suite_end.
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
	echo "$SUITE: $SHIM not built (run make)" >&2
	exit 1
fi
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$ROOT" shim-progs >/dev/null ||
	{ echo "$SUITE: cannot build $CLIENT" >&2; exit 1; }
for tool in openssl "$PY" /usr/sbin/unbound curl swaks s-nail wget \
	/usr/sbin/posttls-finger perl unshare cc; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "$SUITE: $tool is missing (scripts/deps.sh --check names its package)"
		exit 1
	fi
done
if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
	echo "$SUITE: python3-aiosmtpd is missing (scripts/deps.sh)"
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
	"local-data-ptr: \"$DOM 300 mx.example.com.\"" || { echo "$SUITE: unbound did not start"; exit 1; }

# smtp ADDR PORT NAME [--no-starttls] - a server with a Maildir that works
smtp() {
	srv_smtp "$@" || { echo "$SUITE: aiosmtpd did not start on $1:$2"; exit 1; }
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
# curl delivering $T/msg: curl ... "${CURL_SEND[@]}" smtp://ADDR:PORT
CURL_SEND=(--mail-from a@client.test --mail-rcpt c@example.com -T "$T/msg")
swaks_args() { # ADDR PORT
	echo "--server $1 --port $2 --to c@example.com --from a@client.test --helo client.test --data Subject:_swaks\n\nhello\n"
}


# shim_suite_end - the counts; the status is 0 when nothing failed
shim_suite_end() {
	rm -f "$T/home/dead.letter"
	if [ "$skipped" -gt 0 ]; then
		echo "$SUITE: $passed passed, $failed failed, $skipped skipped"
	else
		echo "$SUITE: $passed passed, $failed failed"
	fi
	[ "$failed" -eq 0 ]
}
