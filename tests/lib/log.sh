# tests/lib/log.sh - the log checks of the shell suites, over
# tests/lib/logcheck.py (which says what an expression sees)
#
# Expects $ROOT, $PY and note().
#
# log_check [--lenient] [--event E] FILE EXPR - note() unless the JSON log
# FILE satisfies the Python expression EXPR; the note names the file, the
# event, why and the expression
log_check() {
	local out what=log
	out=$("$PY" "$ROOT/tests/lib/logcheck.py" "$@" 2>&1) && return 0
	[[ $1 == --lenient ]] && shift
	[[ $1 == --event ]] && { what="log ($2)"; shift 2; }
	note "$what ${1##*/}: ${out:-not} $2"
}
