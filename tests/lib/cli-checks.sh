# tests/lib/cli-checks.sh - the checks shared by tests/cli.sh and tests/cli-live.sh
#
# POSIX sh (tests/cli.sh runs under dash).  Expects $T (the directory holding
# out, err, pyerr) and $PY (a python3 with the standard library); a check
# starts with why= (the suites' run functions do that), the want_* functions
# add to $why, and done_check prints the verdict and counts it in passed /
# failed.

# cli_suite NAME - zero the counts; exit 1 unless $BIN (esa-check) is built
cli_suite() {
	passed=0
	failed=0
	why=
	if [ ! -x "$BIN" ]; then
		echo "$1: $BIN not built (run make)" >&2
		exit 1
	fi
}

# note PROBLEM - remember why the current check fails
note() { why="$why; $1"; }

want_rc() { [ "$rc" -eq "$1" ] || note "exit $rc, want $1"; }
want_out() { grep -qF -- "$1" "$T/out" || note "stdout lacks '$1'"; }
want_no_out() { ! grep -qF -- "$1" "$T/out" || note "stdout has '$1'"; }
want_err() { grep -qF -- "$1" "$T/err" || note "stderr lacks '$1'"; }

# want_json EXPR - a Python expression over j, the parsed stdout (exactly one
# line), and a, its "attempts" member (live mode) or None
want_json() {
	"$PY" -c '
import json, sys
text = open(sys.argv[1], encoding="utf-8").read()
lines = text.split("\n")
if len(lines) != 2 or lines[1] != "":
    sys.exit("not exactly one line")
j = json.loads(lines[0])
a = j.get("attempts")
sys.exit(0 if eval(sys.argv[2]) else 1)' "$T/out" "$1" 2>>"$T/pyerr" ||
		note "json: $1"
}

# want_usage_error - exit 2, nothing on stdout, exactly one stderr line
# "esa-check: ..."
want_usage_error() {
	want_rc 2
	[ ! -s "$T/out" ] || note "stdout not empty"
	[ "$(wc -l <"$T/err")" -eq 1 ] ||
		note "stderr has $(wc -l <"$T/err") lines, want 1"
	head -n 1 "$T/err" | grep -q '^esa-check: ..' ||
		note "stderr does not start with 'esa-check: '"
}

# done_check NAME - print the verdict of the current check
done_check() {
	if [ -z "$why" ]; then
		passed=$((passed + 1))
		echo "ok - $1"
	else
		failed=$((failed + 1))
		echo "FAIL - $1: ${why#; }"
		sed 's/^/    stdout: /' "$T/out" | head -n 40
		sed 's/^/    stderr: /' "$T/err" | head -n 10
	fi
}
