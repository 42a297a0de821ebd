#!/usr/bin/env bash
# run.sh - run every benchmark of `make bench` and write the summary
#
# Usage: bench/run.sh [OUTDIR]   (from `make bench`; OUTDIR build/bench)
#
# Sections (issue 5; BENCHMARKS.md says how to read them):
#   1 handshake   bench_handshake: stock vs the esaverify callback, warm and
#                 cold DNS cache, ECDSA and RSA, interleaved; then the same
#                 under callgrind for client instructions per handshake
#   2 shim        bench_shim: bench/hsloop with and without esashim.so
#                 (enforce, observe: the full A/B line; summary, failures:
#                 the other log levels; the base's shim as enforce@base and
#                 observe@base; any $BENCH_SHIM_VARIANTS), timed and under
#                 callgrind; then (key smtp-ec, issue 16) the same with a
#                 whole SMTP delivery per connection
#   3 decide      bench_decide: one identity decision vs X509_check_host,
#                 CPU time and callgrind instructions, for the current tree
#                 and (build=base) the base
#   4 dns         bench_dns: queries per verification, cold and warm
#   5 memory      bench_shim --memory: RSS after 1, 1000 and 10000
#                 handshakes, with and without the shim
# Every RESULT line goes to OUTDIR/results.txt; bench/report.py turns them
# into OUTDIR/summary.md (also printed).  Exit 1 if a benchmark program
# failed (a handshake that should pass did not, a DNS count was wrong);
# a figure that misses its goal is reported, not an error.
#
# Network: loopback only.  As root, where unshare(1) works, everything runs
# in a private network namespace whose only interface is lo, so nothing can
# reach the system's resolver or the lab's addresses even by mistake.
# Environment (from mk/bench.mk):
#   BENCH_QUICK=1        fewer rounds and handshakes
#   BENCH_BASE=REV       compare with git revision REV, which
#                        bench/build-base.sh has built under
#                        OUTDIR/base/SHA/ (exit 1 if its library is missing;
#                        a missing base shim or bench_decide is left out
#                        with a note)
#   BENCH_SHIM_VARIANTS  "NAME=VAR=VALUE[,...] ...": more bench_shim
#                        --variant arguments, space-separated
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
out=${1:-build/bench}
case $out in /*) ;; *) out=$root/$out ;; esac

if [ -z "${ESA_BENCH_NETNS:-}" ] && [ "$(id -u)" = 0 ] &&
   command -v unshare >/dev/null && command -v ip >/dev/null &&
   unshare -n true 2>/dev/null; then
	export ESA_BENCH_NETNS=1
	exec unshare -n -- bash -c 'ip link set lo up && exec "$0" "$@"' \
		"$0" "$out"
fi

quick=${BENCH_QUICK:-}
results=$out/results.txt
tmp=$(mktemp -d "${TMPDIR:-/tmp}/esa-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
: >"$results"
failed=()
start=$(date +%s)

note() { printf 'bench: %s\n' "$*" >&2; }

# record NAME CMD... - run a benchmark program, keep its RESULT lines
record() {
	local name=$1 rc
	shift
	note "$name: $*"
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	grep '^RESULT ' "$tmp/out" >>"$results"
	grep -v '^RESULT ' "$tmp/out" >&2
	cat "$tmp/err" >&2
	if [ $rc -ne 0 ]; then
		failed+=("$name (exit $rc)")
		echo "RESULT section=error name=$name rc=$rc" >>"$results"
	fi
}

# callgrind_results SECTION BUILD FILE... - one RESULT per dump: the
# label of the client request that dumped it and its instruction total
callgrind_results() {
	local section=$1 build=$2 f label total
	shift 2
	for f in "$@"; do
		label=$(sed -n 's/^desc: Trigger: Client Request: //p' "$f")
		total=$(sed -n 's/^summary: //p' "$f")
		[ -n "$label" ] && [ -n "$total" ] || continue
		echo "RESULT section=$section build=$build label=$label instr=$total"
	done >>"$results"
}

have_valgrind=
command -v valgrind >/dev/null && have_valgrind=1
[ -n "$have_valgrind" ] || note "valgrind not found: no instruction counts"

# machine facts for the summary
{
	echo "RESULT section=machine nproc=$(nproc)"
	echo "RESULT section=machine-text cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1 | tr ' ' '_')"
	echo "RESULT section=machine-text openssl=$(openssl version | tr ' ' '_')"
	echo "RESULT section=machine-text kernel=$(uname -r)"
	echo "RESULT section=machine-text glibc=$(getconf GNU_LIBC_VERSION | tr ' ' '_')"
	echo "RESULT section=machine-text commit=$(git rev-parse --short HEAD 2>/dev/null || echo none)$(git diff --quiet HEAD 2>/dev/null || echo +dirty)"
	echo "RESULT section=machine-text load_start=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/')"
	echo "RESULT section=machine-text netns=${ESA_BENCH_NETNS:+private}"
	echo "RESULT section=machine-text date=$(date -u +%Y-%m-%dT%H:%MZ)"
} >>"$results"

shim=$root/build/esashim.so

# The base build (bench/build-base.sh), only when one was asked for.
base_shim='' base_decide=''
if [ -n "${BENCH_BASE:-}" ]; then
	sha=$(git rev-parse --verify --quiet "$BENCH_BASE^{commit}") || {
		note "BENCH_BASE=$BENCH_BASE is not a commit"
		exit 1
	}
	base=$out/base/$sha
	[ -f "$base/src/build/libesaverify.a" ] || {
		note "no base build in $base: run make bench BENCH_BASE=$BENCH_BASE"
		exit 1
	}
	base_shim=$base/src/build/esashim.so
	[ -f "$base_shim" ] ||
		{ base_shim=; note "base $BENCH_BASE has no shim: no @base variants"; }
	case $base_shim in *,*)	# bench_shim splits a variant's settings on ','
		note "base shim path has a comma: no @base variants"; base_shim= ;;
	esac
	base_decide=$base/bench_decide
	[ -x "$base_decide" ] ||
		{ base_decide=; note "no base bench_decide (see $base/build.log): section 3 without the base"; }
	{
		echo "RESULT section=machine-text base_rev=$(printf %s "$BENCH_BASE" | tr -s '[:space:]' _)"
		echo "RESULT section=machine-text base=$(git rev-parse --short "$sha")"
		echo "RESULT section=machine-text base_shim=${base_shim:+built}"
		echo "RESULT section=machine-text base_decide=${base_decide:+built}"
	} >>"$results"
fi

# 1. handshakes in one process
if [ -n "$quick" ]; then
	record handshake "$out/bench_handshake" --rounds 21 --batch 4
else
	record handshake "$out/bench_handshake" --rounds 101 --batch 4
fi
if [ -n "$have_valgrind" ]; then
	note "handshake under callgrind"
	valgrind -q --tool=callgrind --separate-threads=yes \
		--callgrind-out-file="$tmp/hs.%p" \
		"$out/bench_handshake" --callgrind 10 >/dev/null 2>"$tmp/err" ||
		{ cat "$tmp/err" >&2; failed+=("handshake callgrind"); }
	callgrind_results handshake-instr current "$tmp"/hs.*-01
	rm -f "$tmp"/hs.*
fi

# 2. and 5. the shim in a program, and memory
shim_args=(--hsloop "$out/hsloop" --shim "$shim")
if [ -n "$base_shim" ]; then
	shim_args+=(--variant "enforce@base=LD_PRELOAD=$base_shim"
		    --variant "observe@base=LD_PRELOAD=$base_shim,ESA_ENFORCE=observe")
fi
read -ra extra <<<"${BENCH_SHIM_VARIANTS:-}"
for v in ${extra[@]+"${extra[@]}"}; do
	shim_args+=(--variant "$v")
done
[ -n "$have_valgrind" ] && shim_args+=(--callgrind 2,12)
if [ -n "$quick" ]; then
	shim_args+=(--rounds 3 --count 60 --memory 2000 --smtp)
else
	shim_args+=(--rounds 9 --count 150 --memory 10000 --smtp)
	[ -n "$have_valgrind" ] && shim_args+=(--smtp-callgrind)
fi
record shim "$out/bench_shim" "${shim_args[@]}"

# 3. the identity decision alone
record decide "$out/bench_decide"
[ -n "$base_decide" ] &&
	record decide-base env BENCH_BUILD=base "$base_decide"
if [ -n "$have_valgrind" ]; then
	for b in current base; do
		prog=$out/bench_decide
		[ $b = base ] && prog=$base_decide
		[ -n "$prog" ] || continue
		note "decide ($b) under callgrind"
		valgrind -q --tool=callgrind --callgrind-out-file="$tmp/dc.%p" \
			"$prog" --callgrind >/dev/null 2>"$tmp/err" ||
			{ cat "$tmp/err" >&2; failed+=("decide callgrind $b"); }
		callgrind_results decide-instr $b "$tmp"/dc.*.*
		rm -f "$tmp"/dc.*
	done
fi

# 4. DNS work
record dns "$out/bench_dns"

{
	echo "RESULT section=machine-text load_end=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/')"
	echo "RESULT section=machine-text seconds=$(($(date +%s) - start))"
} >>"$results"
/usr/bin/python3 bench/report.py "$results" >"$out/summary.md" ||
	failed+=("report")
cat "$out/summary.md"
if [ ${#failed[@]} -gt 0 ]; then
	note "FAILED: ${failed[*]}"
	exit 1
fi
exit 0
