#!/bin/sh
# build-base.sh - the library, the shim and bench_decide as they are at a
# git revision, for `make bench BENCH_BASE=REV` to measure the current tree
# against side by side.
#
# Usage: bench/build-base.sh REV OUTDIR   (from the repository root;
#        mk/bench.mk runs it with CC, BASE_DECIDE_CFLAGS (the current
#        CFLAGS without -Icallback), BENCH_SUPPORT and LDLIBS set)
#
# REV is any git revision naming a commit.  Its tree is exported with
# `git archive` into OUTDIR/base/SHA/src (SHA the full commit id), once:
# the export is a fixed commit, so a later run with the same revision
# reuses it, and that tree's own Makefile (run without the caller's make
# variables; the environment, CC and CFLAGS included, passes through)
# rebuilds only what is out of date.  Then:
#   OUTDIR/base/SHA/src/build/libesaverify.a   required: exit 1 without it
#   OUTDIR/base/SHA/src/build/esashim.so       skipped if that tree has no
#                                              shim or it does not build
#   OUTDIR/base/SHA/bench_decide               bench/bench_decide.c of the
#       CURRENT tree compiled with that tree's callback/ headers and linked
#       with its libesaverify.a; skipped (said on stderr) when the internal
#       API it uses differs
# Build output goes to OUTDIR/base/SHA/build.log.  bench/run.sh finds the
# directory again from the same revision.  Directories of other revisions
# are left in place (`rm -rf OUTDIR/base` removes them all); the working
# tree is never modified.
# Exit 1 if REV is not a commit, the export fails, or the library does not
# build.
set -eu

rev=${1:?usage: $0 REV OUTDIR}
out=${2:?usage: $0 REV OUTDIR}
: "${CC:=cc}" "${BASE_DECIDE_CFLAGS:=-O2 -g -std=c11 -D_GNU_SOURCE}"
: "${LDLIBS:=-lssl -lcrypto -lresolv -lidn2 -lpthread}"
: "${BENCH_SUPPORT:=bench/bench.c tests/pki.c tests/tls_server.c tests/unbound.c}"

note() { printf 'build-base: %s\n' "$*" >&2; }

sha=$(git rev-parse --verify --quiet "$rev^{commit}") || {
	note "'$rev' is not a git revision naming a commit"
	exit 1
}
short=$(git rev-parse --short "$sha")
dir=$out/base/$sha
src=$dir/src
log=$dir/build.log

# Export once; a half-written export (interrupted run) is never reused.
if [ ! -f "$dir/exported" ]; then
	rm -rf "$dir"
	mkdir -p "$src"
	if ! git archive --format=tar -o "$dir/src.tar" "$sha" ||
	   ! tar -x -C "$src" -f "$dir/src.tar"; then
		note "exporting $short failed"
		rm -rf "$dir"
		exit 1
	fi
	rm -f "$dir/src.tar"
	echo "$sha" >"$dir/exported"
	note "$rev ($short) exported to $src"
else
	note "$rev ($short): reusing $src"
fi

# That tree's Makefile, without this make's variables and jobserver.
basemake() {
	env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u MAKEFILES \
		make -s -C "$src" "$@" >>"$log" 2>&1
}
: >"$log"
basemake build/libesaverify.a || {
	note "$short: build/libesaverify.a does not build; see $log"
	exit 1
}
basemake build/esashim.so ||
	note "$short: no build/esashim.so (no shim at that revision, or it does not build; see $log): section 2 without base variants"

# The current benchmark program against the base's library.  Removed
# first, so that a failed compile never leaves an older binary behind.
rm -f "$dir/bench_decide"
echo "== bench_decide against $short" >>"$log"
# shellcheck disable=SC2086 # flag and file lists, split on purpose
if $CC $BASE_DECIDE_CFLAGS -I"$src/callback" -Itests -o "$dir/bench_decide" \
	bench/bench_decide.c $BENCH_SUPPORT "$src/build/libesaverify.a" \
	$LDLIBS -lm >>"$log" 2>&1
then
	note "$short: built in $dir"
else
	rm -f "$dir/bench_decide"
	note "$short: bench/bench_decide.c does not compile or link against that tree's internal API (see $log): section 3 without the base"
fi
