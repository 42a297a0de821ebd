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
# The runtime cannot symbolize its reports here: it would start
# llvm-symbolizer as a child that inherits LD_PRELOAD, and the TSan-built
# shim cannot load into a process without the TSan runtime, so the frames
# stay unnamed and SUPP's rule (it names a function) never matches.  So the
# runtime only reports (symbolize=0), and the reports are symbolized here
# (llvm-symbolizer, without the preload) and held to the same rule: a
# report with a frame in one of SUPP's race: functions is glibc's, any
# other is a failure.
for i in $(seq "$ROUNDS"); do
	env ESA_NAMESERVER="127.0.0.1:$DNSP" ESA_CAFILE="$SRV_DIR/ca.pem" \
		ESA_RECIPIENT_DOMAIN=example.com ESA_TLS=required-verify \
		ESA_LOG="$SRV_DIR/shim.log" \
		TSAN_OPTIONS="halt_on_error=0 exitcode=66 symbolize=0" \
		timeout 120 env LD_PRELOAD="$SHIM" "$CLIENT" --threads 8 --cb "$REF" "$PREF" \
		>>"$log" 2>&1
	rc=$?
	# 66: reports, judged below
	[ $rc -eq 0 ] || [ $rc -eq 66 ] || { echo "tsan-shim: round $i: client exit $rc"; fail=1; }
done
verdict=$(/usr/bin/python3 - "$log" "$SUPP" "$SHIM" "$CLIENT" <<'PY'
import re, subprocess, sys
log, supp, shim, client = sys.argv[1:5]
funcs = [l.split(":", 1)[1].strip() for l in open(supp)
         if l.startswith("race:")]
paths = {"esashim.so": shim, "esa_client": client}
text = open(log, errors="replace").read()
reports = re.split(r"(?m)^(?=WARNING: ThreadSanitizer)", text)[1:]
def module_path(name):
    if name in paths:
        return paths[name]
    for d in ("/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu"):
        try:
            open(f"{d}/{name}").close()
            return f"{d}/{name}"
        except OSError:
            pass
    return None
def symbolize(report):
    names = []
    for mod, off in re.findall(r"\(([^()+\s]+)\+(0x[0-9a-f]+)\)", report):
        path = module_path(mod)
        if path is None:
            continue
        out = subprocess.run(["llvm-symbolizer", "--obj=" + path, off],
                             capture_output=True, text=True).stdout
        names += [l for l in out.splitlines()[0::2] if l]
    return names
bad = 0
for r in reports:
    names = symbolize(r)
    if any(f in names for f in funcs):
        print("suppressed (glibc): " + next(f for f in funcs if f in names))
        continue
    bad += 1
    sys.stderr.write(r[:3000] + "\n  symbolized: " + " < ".join(names[:30]) + "\n")
print(f"unsuppressed {bad} of {len(reports)}")
PY
)
echo "$verdict" | grep '^suppressed' | sort | uniq -c | sed 's/^ */tsan-shim: /'
races=$(echo "$verdict" | sed -n 's/^unsuppressed \([0-9]*\) of .*/\1/p')
[ -n "$races" ] || { echo "tsan-shim: the reports could not be read"; races=1; }
[ "$races" -eq 0 ] || fail=1
accepted=$(grep -c '"decision":"accept"' "$SRV_DIR/shim.log" 2>/dev/null)
accepted=${accepted:-0}
if [ "$accepted" -ne $((ROUNDS * 8)) ]; then
	echo "tsan-shim: $accepted of $((ROUNDS * 8)) handshakes accepted"
	fail=1
fi
echo "tsan-shim: $((ROUNDS * 8)) handshakes in 8 threads under the shim, $races reports"
exit $fail
