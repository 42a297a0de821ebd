#!/usr/bin/env bash
# survey.sh - esa-check --survey and ab-report --html end to end (issue 14)
#
# A generated lab (tests/lib/survey_lab.py): SURVEY_DOMAINS recipient domains
# (default 1000) in a real unbound's static zones, 32 real STARTTLS servers
# (aiosmtpd's SMTP, two processes) on 127.77.x.y, some slow, silent or
# without STARTTLS, dead addresses, a zone whose nameserver never answers.
# Checks: every domain's status, verdicts and host outcomes against what the
# generator intended (survey_check.py), at --jobs 64 and, on a sample, at
# --jobs 1 with the same answers; bad input lines reported by number and
# skipped (stdin); a nameserver that never answers gives tempfail for every
# domain and the survey ends; the progress line; ab-report's text and its
# HTML page, loaded in headless Chromium (the table rendered by the page's
# script, filtered through the address, a screenshot).
# Prints one line per check and "survey: N passed, M failed".
# ESA_CHECK overrides the binary; SURVEY_DOMAINS the lab's size.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${ESA_CHECK:-$ROOT/build/esa-check}
PY=/usr/bin/python3
N=${SURVEY_DOMAINS:-1000}
passed=0
failed=0

[ -x "$BIN" ] || { echo "survey: $BIN not built (run make)" >&2; exit 1; }
if [ ! -x /usr/sbin/unbound ] || ! command -v openssl >/dev/null ||
	! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
	echo "survey: needs unbound, openssl, python3-aiosmtpd (scripts/deps.sh)"
	exit 1
fi
CHROMIUM=$(command -v chromium || true)

# shellcheck source=lib/servers.sh
. "$ROOT/tests/lib/servers.sh"
srv_init
T=$SRV_DIR
trap 'exit 1' INT TERM HUP

ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1${2:+: $2}"; failed=$((failed + 1)); }
check() { # NAME COMMAND...: ok when the command succeeds
	local name=$1
	shift
	if "$@" >"$T/check.out" 2>&1; then ok "$name"; else
		bad "$name" "$(head -c 400 "$T/check.out" | tr '\n' ' ')"; fi
}

DNS=$(srv_port) && SMTP=$(srv_port) && DEAF=$(srv_port) && DEAF2=$(srv_port) ||
	exit 1
L=$T/lab
if ! "$PY" "$ROOT/tests/lib/survey_lab.py" gen "$L" --domains "$N" \
	--smtp-port "$SMTP" --dns-port "$DNS" --deaf-port "$DEAF"; then
	echo "survey: cannot generate the lab"; echo "survey: 0 passed, 1 failed"; exit 1
fi
/usr/sbin/unbound -d -c "$L/unbound.conf" >"$T/unbound.log" 2>&1 &
SRV_PIDS+=($!)
for k in 0 1; do
	"$PY" "$ROOT/tests/lib/survey_lab.py" serve "$L" $k 2 >"$T/serve$k.log" 2>&1 &
	SRV_PIDS+=($!)
done
# a nameserver that never answers, for the whole-survey tempfail check
"$PY" -c 'import socket,sys,time; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",int(sys.argv[1]))); print("ready",flush=True); time.sleep(3600)' "$DEAF2" >"$T/deaf2.log" 2>&1 &
SRV_PIDS+=($!)
for i in $(seq 100); do
	[ "$(grep -c ready "$T"/serve*.log "$T/deaf2.log" 2>/dev/null | awk -F: '{s+=$2} END {print s}')" = 3 ] && break
	sleep 0.1
done
srv_wait_tcp 127.77.0.1 "$SMTP" || { echo "survey: 0 passed, 1 failed"; exit 1; }

ES=("$BIN" --nameserver "127.0.0.1:$DNS" --port "$SMTP" --cafile "$L/ca.pem" --timeout 3)

# ---- the whole lab, 64 at once --------------------------------------------
timeout 600 "${ES[@]}" --jobs 64 --no-progress --survey "$L/domains.txt" \
	>"$T/out.jsonl" 2>"$T/err"
rc=$?
if [ $rc = 1 ]; then ok "survey of $N domains ends, exit 1 (some fail)"; else
	bad "survey of $N domains ends, exit 1" "exit $rc: $(head -c 300 "$T/err")"; fi
[ -s "$T/err" ] && bad "nothing on stderr" "$(head -c 300 "$T/err")" || ok "nothing on stderr"
while read -r line; do
	case $line in
	ok\ *) ok "verdicts: ${line#ok }" ;;
	FAIL\ *) bad "verdicts: ${line#FAIL }" ;;
	esac
done < <("$PY" "$ROOT/tests/lib/survey_check.py" "$L/expected.jsonl" "$T/out.jsonl" "$L/domains.txt")
check "every line is JSON with SPEC 8.2 members" "$PY" -c '
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    for k in ("recipient_domain", "tls", "chain", "stock", "verify", "hosted", "status", "verdict", "hosts"):
        assert k in o, k
    assert set(o["stock"]) == {"host", "ok"}, o["stock"]
' "$T/out.jsonl"
check "stock host is the MX host name (spec7: mx0.subd.hosting7.test style)" "$PY" -c '
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o["recipient_domain"].endswith(".spec7.test"):
        h = o["hosts"][0]
        assert h["stock"]["host"] == h["host"] and ".subd.hosting7.test" in h["host"], h
        assert h["stock"]["ok"] is False and h["verify"]["source"] == "ptr", h
        sys.exit(0)
sys.exit(1)
' "$T/out.jsonl"

echo "survey: lab surveyed at ${SECONDS}s"
# ---- one job gives the same answers (a sample) ----------------------------
awk 'NR > 1 && NR % 20 == 0' "$L/domains.txt" >"$T/sample.txt"
timeout 600 "${ES[@]}" --jobs 1 --survey "$T/sample.txt" >"$T/one.jsonl" 2>"$T/one.err"
check "--jobs 1 agrees with --jobs 64 on $(wc -l <"$T/sample.txt") domains" "$PY" -c '
import json, sys
def m(p): return {o["recipient_domain"]: (o["status"], o["verdict"]) for o in map(json.loads, open(p))}
a, b = m(sys.argv[1]), m(sys.argv[2])
assert a and all(b[d] == v for d, v in a.items()), [(d, v, b.get(d)) for d, v in a.items() if b.get(d) != v][:3]
' "$T/one.jsonl" "$T/out.jsonl"

echo "survey: one-job sample at ${SECONDS}s"
# ---- bad input, from stdin -------------------------------------------------
own=$(grep -m1 '\.own\.test' "$L/domains.txt")
{
	printf '# a comment\n\n'
	printf '   %s   # trailing comment\n' "$own"
	printf 'a..b.test\n'
	printf 'two words.test\n'
	printf 'bad_domain!.test\n'
	printf '%s\n' "$(head -c 1500 /dev/zero | tr '\0' a)"
	printf 'x\000y.test\n'
	printf 'd00001.nxdomain.test\n'
} >"$T/bad.txt"
timeout 120 "${ES[@]}" --jobs 4 --survey - <"$T/bad.txt" >"$T/bad.jsonl" 2>"$T/bad.err"
rc=$?
[ $rc = 1 ] && ok "bad lines: exit 1" || bad "bad lines: exit 1" "exit $rc"
for n in 4 5 6 7 8; do
	if grep -q "^esa-check: stdin:$n: .*; skipped$" "$T/bad.err"; then
		ok "bad line $n reported with its number"
	else bad "bad line $n reported with its number" "$(cat "$T/bad.err")"; fi
done
check "bad lines: survey-error lines 4-8, two domains checked" "$PY" -c '
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
errs = sorted(o["line"] for o in objs if o["event"] == "survey-error")
done = sorted((o["line"], o["status"]) for o in objs if o["event"] == "survey")
assert errs == [4, 5, 6, 7, 8], errs
assert done == [(3, "checked"), (9, "no-mail")], done
' "$T/bad.jsonl"

# ---- DNS that never answers: tempfail, and the survey ends ----------------
head -6 "$L/domains.txt" | tail -5 >"$T/five.txt"
timeout 120 "$BIN" --nameserver "127.0.0.1:$DEAF2" --port "$SMTP" --timeout 1 \
	--jobs 2 --survey "$T/five.txt" >"$T/deaf.jsonl" 2>"$T/deaf.err"
rc=$?
[ $rc = 1 ] && ok "dead nameserver: the survey ends, exit 1" ||
	bad "dead nameserver: the survey ends, exit 1" "exit $rc"
check "dead nameserver: every domain tempfail, never a mismatch" "$PY" -c '
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
assert len(objs) == 5, len(objs)
for o in objs:
    assert o["status"] == "tempfail" and set(o["verdict"].values()) == {"tempfail"}, o["status"]
    assert "timeout" in o["status_reason"], o["status_reason"]
' "$T/deaf.jsonl"

# ---- the progress line -----------------------------------------------------
"${ES[@]}" --progress --jobs 4 --survey "$T/five.txt" >/dev/null 2>"$T/prog.err"
grep -q 'survey: 5 done' "$T/prog.err" && ok "--progress draws the progress line" ||
	bad "--progress draws the progress line" "$(head -c 200 "$T/prog.err")"
check "usage: a domain with --survey is refused (exit 2)" sh -c \
	'"$1" --survey "$2" example.com 2>&1; [ $? = 2 ]' _ "$BIN" "$T/five.txt"
check "usage: --dane with --survey is refused, saying so (exit 2)" sh -c \
	'"$1" --survey "$2" --dane mandatory 2>&1 | grep -q "dane cannot be used with --survey"; [ "$(
	"$1" --survey "$2" --dane mandatory >/dev/null 2>&1; echo $?)" = 2 ]' _ "$BIN" "$T/five.txt"

echo "survey: input checks at ${SECONDS}s"
# ---- ab-report: text and HTML ----------------------------------------------
"$ROOT/scripts/ab-report" "$T/out.jsonl" >"$T/ab.txt" 2>&1
check "ab-report counts the survey lines" grep -q "^ab-report: 0 handshake line(s), $N survey line(s)" "$T/ab.txt"
check "ab-report lists the breaks per setting, counts as generated" "$PY" -c '
import json, re, sys
exp = [json.loads(l) for l in open(sys.argv[2])]
txt = open(sys.argv[1]).read()
for key, label in (("verify", "setting 5"), ("hosted", "setting 6"), ("stock", "Postfix verify")):
    want = sum(1 for e in exp if e["verdict"][key] == "fail")
    m = re.search(r"Would stop receiving mail under %s.*: (\d+)" % label, txt)
    assert m and int(m.group(1)) == want, (label, m and m.group(1), want)
' "$T/ab.txt" "$L/expected.jsonl"
"$ROOT/scripts/ab-report" --html "$T/report.html" "$T/out.jsonl" 2>"$T/html.err"
check "ab-report --html writes a page" test -s "$T/report.html"
check "the page is self-contained (no http(s) fetch, no src=, no <link>)" sh -c \
	'! grep -Eiq "(src|href)=[\"'"'"']?(https?:|//)|<link|@import|url\\(" "$1"' _ "$T/report.html"
if [ -z "$CHROMIUM" ]; then
	bad "headless Chromium" "chromium not installed (scripts/deps.sh)"
else
	CH=("$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run
		--user-data-dir="$T/chromium" --disable-background-networking)
	timeout 120 "${CH[@]}" --dump-dom "file://$T/report.html" >"$T/dom.html" 2>"$T/ch.err"
	check "Chromium ran the page's script (table rendered)" grep -q 'data-rendered="yes"' "$T/dom.html"
	check "Chromium: one domain row per domain, one host row per host" "$PY" -c '
import json, sys
dom = open(sys.argv[1]).read()
objs = [json.loads(l) for l in open(sys.argv[2])]
nd, nh = dom.count("class=\"row-domains\""), dom.count("class=\"row-hosts\"")
assert nd == len(objs), (nd, len(objs))
assert nh == sum(len(o["hosts"]) for o in objs), nh
' "$T/dom.html" "$T/out.jsonl"
	timeout 120 "${CH[@]}" --dump-dom "file://$T/report.html#q=.spec7.test&sort=domain,desc" \
		>"$T/dom2.html" 2>>"$T/ch.err"
	check "Chromium: filter and sort from the address" "$PY" -c '
import json, re, sys
dom = open(sys.argv[1]).read()
want = sorted((json.loads(l)["recipient_domain"] for l in open(sys.argv[2])
               if ".spec7.test" in l and json.loads(l)["recipient_domain"].endswith(".spec7.test")), reverse=True)
rows = re.findall(r"<tr class=\"row-domains\"><td[^>]*>([^<]*)</td>", dom)
assert rows == want, (rows[:3], want[:3], len(rows), len(want))
' "$T/dom2.html" "$T/out.jsonl"
	timeout 120 "${CH[@]}" --window-size=1280,1600 --screenshot="$T/shot.png" \
		"file://$T/report.html" >/dev/null 2>>"$T/ch.err"
	check "Chromium: a screenshot of the page, not blank" "$PY" -c '
import struct, sys, zlib
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", b[16:24])
assert (w, h) == (1280, 1600), (w, h)
i, idat = 8, b""
while i < len(b):
    n, = struct.unpack(">I", b[i:i + 4]); t = b[i + 4:i + 8]
    if t == b"IDAT": idat += b[i + 8:i + 8 + n]
    i += 12 + n
raw = zlib.decompress(idat)
assert len(set(raw[j] for j in range(0, len(raw), 997))) > 8, "one colour"
' "$T/shot.png"
	[ -n "${SURVEY_SHOT:-}" ] && cp "$T/shot.png" "$SURVEY_SHOT"
fi

echo "survey: ${SECONDS}s"
echo "survey: $passed passed, $failed failed"
[ "$failed" = 0 ]
