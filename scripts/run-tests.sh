#!/usr/bin/env bash
# run-tests.sh - run every test suite of esaverify and sum up
#
# Usage: scripts/run-tests.sh [CRITERION-BINARY ...]   (from `make test`)
#
# Runs each Criterion binary given, then every executable tests/*.sh, from the
# repository root.  Each suite's output is shown as it runs.  Counts:
#   - a Criterion binary adds its own "Tested / Passing / Failing" numbers
#     (from its "[====] Synthesis:" line; Failing includes Crashing);
#     a binary that is missing, dies before its synthesis, or exits non-zero
#     with nothing failing counts one more failure;
#   - a shell test that ends with its own "N passed, N failed[, N skipped]"
#     line (one word and a colon may come first) adds those numbers; otherwise it counts one
#     test: exit 0 passed, 77 skipped (it could not run here, and says why),
#     anything else failed.  A non-zero exit with nothing failing counts one
#     more failure.
# Ends with "N passed, N failed" alone on a line (", N skipped" follows when
# some were) and exits non-zero if anything failed.
#
# Environment: ESA_TEST_JOBS (Criterion --jobs, default 2), ESA_TEST_TIMEOUT
# (seconds per Criterion test, default 120), ESA_SUITE_TIMEOUT (seconds per
# binary or script, default 1200).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

jobs=${ESA_TEST_JOBS:-2}
test_timeout=${ESA_TEST_TIMEOUT:-120}
suite_timeout=${ESA_SUITE_TIMEOUT:-1200}

passed=0
failed=0
skipped=0
failures=()

log=$(mktemp "${TMPDIR:-/tmp}/esa-run-tests.XXXXXX")
trap 'rm -f "$log"' EXIT

# run_logged - run a command under the suite timeout, showing its output as it
# comes and keeping a copy in $log; sets rc to its exit status.
run_logged() {
	set +e
	timeout --kill-after=10 "$suite_timeout" "$@" </dev/null 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	set -e
	if ((rc == 124 || rc == 137)); then
		echo "run-tests: $1 timed out after ${suite_timeout}s"
	fi
}

# run_criterion - one Criterion binary: run it, add its synthesis to the counts
run_criterion() {
	local bin=$1 name line tested passing failing
	name=$(basename "$bin")

	echo "==== $name"
	if [[ ! -x $bin ]]; then
		echo "run-tests: $bin: missing or not executable"
		failed=$((failed + 1))
		failures+=("$name (missing)")
		return 0
	fi
	run_logged "$bin" --jobs "$jobs" --timeout "$test_timeout"

	line=$(grep -a '^\[====\] Synthesis: Tested:' "$log" | tail -n 1 || true)
	if [[ $line =~ Tested:\ ([0-9]+)\ \|\ Passing:\ ([0-9]+)\ \|\ Failing:\ ([0-9]+) ]]; then
		tested=${BASH_REMATCH[1]}
		passing=${BASH_REMATCH[2]}
		failing=${BASH_REMATCH[3]}
		# Tested - Passing covers failing and crashing tests alike.
		((failing >= tested - passing)) || failing=$((tested - passing))
		passed=$((passed + passing))
		failed=$((failed + failing))
		if ((failing > 0)); then
			failures+=("$name ($failing of $tested)")
		elif ((rc != 0)); then
			echo "run-tests: $name exited $rc with no failing test"
			failed=$((failed + 1))
			failures+=("$name (exit $rc)")
		fi
	else
		echo "run-tests: $name printed no Criterion synthesis (exit $rc)"
		failed=$((failed + 1))
		failures+=("$name (no synthesis, exit $rc)")
	fi
}

# run_script - one shell-level test
run_script() {
	local script=$1 name line p f
	name=${script#"$root"/}

	echo "==== $name"
	run_logged "$script"
	line=$(grep -aE '^([A-Za-z0-9_.-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1 || true)
	if ((rc != 77)) && [[ $line =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)? ]]; then
		p=${BASH_REMATCH[1]}
		f=${BASH_REMATCH[2]}
		skipped=$((skipped + ${BASH_REMATCH[4]:-0}))
		passed=$((passed + p))
		failed=$((failed + f))
		if ((f > 0)); then
			failures+=("$name ($f of $((p + f)))")
		elif ((rc != 0)); then
			failed=$((failed + 1))
			failures+=("$name (exit $rc)")
		fi
		return 0
	fi
	case $rc in
	0) passed=$((passed + 1)) ;;
	77)
		skipped=$((skipped + 1))
		echo "run-tests: $name skipped"
		;;
	*)
		failed=$((failed + 1))
		failures+=("$name (exit $rc)")
		;;
	esac
}

for bin in "$@"; do
	run_criterion "$bin"
done

shopt -s nullglob
for script in tests/*.sh; do
	if [[ -x $script ]]; then
		run_script "$script"
	fi
done

echo "===="
for f in "${failures[@]}"; do
	echo "FAILED: $f"
done
if ((skipped > 0)); then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
if ((failed > 0)); then
	exit 1
fi
if ((passed + skipped == 0)); then
	echo "run-tests: no test ran"
	exit 1
fi
exit 0
