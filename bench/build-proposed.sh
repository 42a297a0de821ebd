#!/bin/sh
# build-proposed.sh - the library and the shim as they would be with the
# fixes proposed in bench/proposed/*.diff applied, for `make bench` to
# measure before and after side by side.
#
# Usage: bench/build-proposed.sh OUTDIR   (from the repository root)
#
# Copies the Makefile, callback/ and shim/ of the working tree into
# OUTDIR/src, applies every bench/proposed/*.diff in name order (patch -p1),
# and runs the project's own Makefile there for build/libesaverify.a and
# build/esashim.so.  If a diff no longer applies (the files moved on since
# it was written), nothing is built and the reason is printed: the "after"
# figures are then left out of the report rather than measured on a
# partial set of fixes.  The working tree itself is never modified.
set -eu

out=${1:?usage: $0 OUTDIR}
src=$out/src
rm -rf "$src"
mkdir -p "$src"
cp -R Makefile callback shim "$src/"
for p in bench/proposed/*.diff; do
	[ -e "$p" ] || continue
	if ! patch -s -p1 -d "$src" --dry-run <"$p" >/dev/null 2>&1; then
		echo "build-proposed: $p does not apply to the working tree any more; no 'after' figures" >&2
		rm -rf "$src"
		exit 1
	fi
	patch -s -p1 -d "$src" <"$p"
done
# The copy's Makefile, without the caller's make variables or mk/*.mk.
env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$src" \
	build/libesaverify.a build/esashim.so >"$out/build.log" 2>&1 || {
	echo "build-proposed: the patched tree does not build; see $out/build.log" >&2
	exit 1
}
