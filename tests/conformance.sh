#!/bin/sh
# conformance.sh - esaverify against x509-limbo: stage I and the matcher
#
# Runs tests/conformance.py (Python 3, standard library only) on the
# x509-limbo cases in ../shared/conformance beside the repository (CI keeps a
# copy of shared/ there; ESA_CONFORMANCE_DIR overrides): every SERVER case's
# chain verdict must be stock OpenSSL's (SPEC 2), every DNS-name case must
# give ESA's identity verdicts (SPEC 3, 4), with each deliberate difference
# stated in the script's tables.  Prints one line per case and ends with
# "conformance: N passed, M failed"; exits non-zero on any failure, also when
# the data or build/esa-check is missing; 77 (skipped) without python3.
# ESA_CHECK overrides the binary.

set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${ESA_CHECK:-$ROOT/build/esa-check}
PY=/usr/bin/python3
DATA=${ESA_CONFORMANCE_DIR:-$ROOT/../shared/conformance}

if [ ! -x "$PY" ]; then
	echo "conformance: skipped: $PY is not installed"
	exit 77
fi
exec "$PY" "$ROOT/tests/conformance.py" --bin "$BIN" --data "$DATA" \
	--table "$ROOT/docs/conformance.md"
