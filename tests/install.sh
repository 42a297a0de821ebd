#!/usr/bin/env bash
# install.sh - `make install` puts a usable library, tool, pkg-config file and
# man pages under DESTDIR (SPEC 8.1)
#
# Installs with PREFIX=/usr into a temporary DESTDIR, checks every installed
# file (the shared library's SONAME and symlinks included), then builds a small
# program with the flags pkg-config gives, once against the shared library and
# once against the static one, and runs both.  Prints "install: ok" or exits
# non-zero naming the first problem.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/esa-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "install: FAIL: $*" >&2
	exit 1
}

prefix=/usr
dest=$tmp/dest
usr=$dest$prefix
version=$(sed -n 's/^VERSION *:= *//p' "$root/Makefile")
[[ -n $version ]] || fail "no VERSION in Makefile"

# A make started by `make test` passes its flags (and maybe a jobserver this
# shell does not hold) in the environment; start afresh.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	make -s -C "$root" install PREFIX="$prefix" DESTDIR="$dest" >"$tmp/make.log" 2>&1 ||
	{
		cat "$tmp/make.log" >&2
		fail "make install PREFIX=$prefix DESTDIR=$dest failed"
	}

# --- the files ---------------------------------------------------------------
for f in include/esaverify.h lib/libesaverify.a lib/libesaverify.so.$version \
	lib/pkgconfig/esaverify.pc share/man/man1/esa-check.1 share/man/man3/esaverify.3; do
	[[ -f $usr/$f && -s $usr/$f ]] || fail "$prefix/$f not installed (or empty)"
done
[[ -x $usr/bin/esa-check ]] || fail "$prefix/bin/esa-check not installed or not executable"
for l in libesaverify.so.0 libesaverify.so; do
	[[ -L $usr/lib/$l ]] || fail "$prefix/lib/$l is not a symlink"
	[[ -e $usr/lib/$l ]] || fail "$prefix/lib/$l is a dangling symlink ($(readlink "$usr/lib/$l"))"
done
[[ $(readlink "$usr/lib/libesaverify.so.0") == "libesaverify.so.$version" ]] ||
	fail "libesaverify.so.0 -> $(readlink "$usr/lib/libesaverify.so.0"), expected libesaverify.so.$version"
[[ $(readlink "$usr/lib/libesaverify.so") == libesaverify.so.0 ]] ||
	fail "libesaverify.so -> $(readlink "$usr/lib/libesaverify.so"), expected libesaverify.so.0"

soname=$(readelf -d "$usr/lib/libesaverify.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
[[ $soname == libesaverify.so.0 ]] || fail "SONAME is '$soname', expected libesaverify.so.0"

# Only the public API is exported (callback/libesaverify.map).
extra=$(nm -D --defined-only "$usr/lib/libesaverify.so.$version" |
	awk '$2 ~ /^[TDBR]$/ && $3 !~ /^esa_/ {print $3}')
[[ -z $extra ]] || fail "libesaverify.so exports non-API symbols: $(echo "$extra" | tr '\n' ' ')"

# The tool runs from where it was installed; no arguments is a usage error (SPEC 8.2).
set +e
"$usr/bin/esa-check" >/dev/null 2>&1
rc=$?
set -e
((rc == 2)) || fail "esa-check without arguments exited $rc, expected 2 (usage)"

# The man pages format without warnings.
if command -v groff >/dev/null 2>&1; then
	for m in share/man/man1/esa-check.1 share/man/man3/esaverify.3; do
		warn=$(groff -t -man -Tutf8 -ww -z "$usr/$m" 2>&1) || fail "groff failed on $m: $warn"
		[[ -z $warn ]] || fail "groff warns on $m: $warn"
	done
fi

# --- pkg-config --------------------------------------------------------------
# pc - pkg-config finding the installed esaverify.pc, the sysroot mapping
# its -I and -L paths into DESTDIR.  (It maps the -L paths of libssl and
# libidn2 too, to directories that do not exist: harmless, the linker then
# finds them in its own.  --define-prefix would do worse to theirs.)
pc() {
	PKG_CONFIG_PATH=$usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest pkg-config "$@"
}
pc --exists --print-errors esaverify || fail "pkg-config does not find esaverify.pc"
[[ $(pc --modversion esaverify) == "$version" ]] ||
	fail "pkg-config version $(pc --modversion esaverify), expected $version"
[[ $(PKG_CONFIG_PATH=$usr/lib/pkgconfig pkg-config --variable=prefix esaverify) == "$prefix" ]] ||
	fail "esaverify.pc prefix is not $prefix"
cflags=$(pc --cflags esaverify) || fail "pkg-config --cflags esaverify failed"
libs=$(pc --libs esaverify) || fail "pkg-config --libs esaverify failed"
static_libs=$(pc --static --libs esaverify) || fail "pkg-config --static --libs esaverify failed"
[[ " $cflags " == *" -I$usr/include "* ]] || fail "cflags '$cflags' lack -I$usr/include"
[[ " $libs " == *" -L$usr/lib "* ]] || fail "libs '$libs' lack -L$usr/lib"
for l in -lesaverify -lssl -lcrypto -lidn2 -lresolv -lpthread; do
	[[ " $static_libs " == *" $l "* ]] || fail "static libs '$static_libs' lack $l"
done

# --- a program built against the installed library ---------------------------
cat >"$tmp/prog.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <esaverify.h>

int main(void)
{
	enum esa_tls tls;
	esa_config *cfg = esa_config_new();

	if (cfg == NULL) {
		fprintf(stderr, "esa_config_new returned NULL\n");
		return 1;
	}
	if (esa_tls_parse("required-verify-hosted", &tls) != 0 ||
	    tls != ESA_TLS_REQUIRED_VERIFY_HOSTED) {
		fprintf(stderr, "esa_tls_parse(required-verify-hosted) failed\n");
		return 1;
	}
	if (esa_tls_parse("no-such-setting", &tls) != -1) {
		fprintf(stderr, "esa_tls_parse accepted nonsense\n");
		return 1;
	}
	esa_config_free(cfg);
	printf("esaverify %s\n", ESAVERIFY_VERSION);
	return 0;
}
EOF
cc=${CC:-cc}
# shellcheck disable=SC2086 # pkg-config output is a list of words
"$cc" -Wall -Werror -o "$tmp/prog-shared" "$tmp/prog.c" $cflags $libs ||
	fail "cannot build against the shared library: $cc ... $cflags $libs"
readelf -d "$tmp/prog-shared" | grep -q 'NEEDED.*\[libesaverify\.so\.0\]' ||
	fail "prog-shared does not need libesaverify.so.0"
out=$(LD_LIBRARY_PATH=$usr/lib "$tmp/prog-shared") || fail "prog-shared failed: $out"
[[ $out == "esaverify $version" ]] || fail "prog-shared printed '$out', expected 'esaverify $version'"
resolved=$(LD_LIBRARY_PATH=$usr/lib ldd "$tmp/prog-shared" | awk '$1 == "libesaverify.so.0" {print $3}')
[[ $resolved == "$usr/lib/libesaverify.so.0" ]] ||
	fail "prog-shared loads libesaverify from '$resolved', not the installed one"

# Static: libesaverify.a, its dependencies from `--static --libs`, the system
# libraries themselves still shared (-l:libesaverify.a picks the archive
# where -lesaverify would pick the .so beside it).
static_libs=${static_libs/-lesaverify/-l:libesaverify.a}
# shellcheck disable=SC2086
"$cc" -Wall -Werror -o "$tmp/prog-static" "$tmp/prog.c" $cflags $static_libs ||
	fail "cannot link statically: $cc ... $cflags $static_libs"
if readelf -d "$tmp/prog-static" | grep -q 'NEEDED.*libesaverify'; then
	fail "prog-static still needs libesaverify.so"
fi
out=$(env -u LD_LIBRARY_PATH "$tmp/prog-static") || fail "prog-static failed: $out"
[[ $out == "esaverify $version" ]] || fail "prog-static printed '$out', expected 'esaverify $version'"

echo "install: ok"
