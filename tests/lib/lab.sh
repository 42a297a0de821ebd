# shellcheck shell=bash
# tests/lib/lab.sh - a lab of one's own (scripts/lab) for the lab suites
# (tests/lab.sh, tests/postfix.sh, tests/shim-learn.sh) and scripts/demo.sh
#
# Source it (bash; it sets LAB, the path of scripts/lab), then:
#
# The lab itself (the suites and the demo):
#   lab_own NAME            from now on `lab ARGS...` is scripts/lab on the
#                           lab NAME ($LAB_NAME), one this process creates
#                           (ESALAB_CREATOR); lab_up=0 until it is brought up
#   lab ARGS...             scripts/lab --name "$LAB_NAME" ARGS...
#   lab_keep_or_remove DIR SAYING
#                           at the end: KEEP=1 prints SAYING, else DIR goes
#
# A suite (tests/*.sh; prints "SUITE: N passed, M failed[, K skipped]"):
#   lab_suite SUITE         the counters (passed failed skipped, n), why, the
#                           start time; SUITE names the suite in messages
#   lab_clean_env           unset LD_PRELOAD and every ESA_* variable but
#                           ESA_TEST_* and ESA_SUITE_* (the runner's)
#   lab_skip_unless_possible  exit 77, saying why, when not root or where
#                           network namespaces cannot be made
#   lab_need_built FILE...  exit 1 unless each FILE is built
#   lab_need_tools TOOL...  exit 1 unless each TOOL is installed
#   lab_tmp WORD            $T, a new directory esa-WORD.XXXXXX
#   lab_open NAME           lab_own NAME; at exit the lab down (if up) and
#                           $T removed (KEEP=1 keeps both); labs of dead
#                           runs reaped
#   lab_start               lab up (if it cannot: one failure, exit 1), then
#                           its variables (ESALAB_DIR, ESALAB_CA, ...) here
#   lab_finish              the time taken and the counts; the status is 0
#                           when nothing failed (end the suite with it)
#
# Checks (one begin ... done_check NAME each):
#   note PROBLEM            remember why the current check fails
#   begin                   a new check: a fresh numbered log in $LOG
#   done_check NAME         "ok - NAME", or "FAIL - NAME: why" followed by
#                           the suite's own failure_details
#   skip_check NAME WHY     "skip - NAME: WHY"
#   shim_exec WORD...       env WORD... in the lab's client namespace under
#                           build/esashim.so with ESA_LOG=$LOG and the lab
#                           CA, mailboxes counted first; rc, $T/out
#   want_rc N, want_out TEXT  the client's exit status, its output
#   mail_count HOST         the messages in HOST's mailbox
#   newest_mail HOST...     the path of the newest message among HOSTs'
#   snapshot                every mailbox's count, before a client runs
#   delivered HOST [tls|plain]  HOST's mailbox got a message since then
#                           (over TLS, or in plain text, per X-Lab-TLS)
#   want_gone PID...        none of PIDs still runs (zombies excepted)
#   split_envs ENV... -- ARGS...  ENVS=(ENV...), ARGS=(ARGS...), for
#                           helpers that put words between the two
#
# It also sources tests/lib/log.sh (want_log, log_check) and sets PY
# (Debian's python3) and SHIM (build/esashim.so) unless they are set.

LAB=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/lab
: "${PY:=/usr/bin/python3}" "${SHIM:=${LAB%/scripts/lab}/build/esashim.so}"
# shellcheck source=log.sh
. "$(dirname "${BASH_SOURCE[0]}")/log.sh"

# ---- the lab ----------------------------------------------------------------

# lab_own NAME - `lab` means the lab NAME, made by this process
lab_own() {
	LAB_NAME=$1
	lab_up=0
	export ESALAB_CREATOR=$$ ESALAB_QUIET=1
}

# lab ARGS... - scripts/lab on this run's own lab
lab() { "$LAB" --name "$LAB_NAME" "$@"; }

# lab_keep_or_remove DIR SAYING - KEEP=1: say where the files are; else
# remove them
lab_keep_or_remove() {
	if [[ ${KEEP:-0} == 1 ]]; then
		echo "$2"
	else
		rm -rf "$1"
	fi
}

# ---- a suite ----------------------------------------------------------------

# lab_suite SUITE - counters and the start time of the suite SUITE
lab_suite() {
	SUITE=$1
	passed=0
	failed=0
	skipped=0
	n=0
	why=
	started=$SECONDS
}

# lab_clean_env - nothing inherited steers the shim (LD_PRELOAD, ESA_*)
lab_clean_env() {
	local v

	unset LD_PRELOAD
	for v in $(env | sed -n 's/^\(ESA_[A-Z_]*\)=.*/\1/p'); do
		case $v in ESA_TEST_* | ESA_SUITE_*) ;; *) unset "$v" ;; esac
	done
}

# lab_skip_unless_possible - exit 77 where the lab cannot be made
lab_skip_unless_possible() {
	local reason

	if [[ $(id -u) != 0 ]]; then
		echo "$SUITE: skipped: the lab needs root (network namespaces)"
		exit 77
	fi
	if ! reason=$("$LAB" possible); then
		echo "$SUITE: skipped: ${reason#lab: }"
		exit 77
	fi
}

# lab_need_built FILE... - exit 1 unless make built each FILE
lab_need_built() {
	local f

	for f in "$@"; do
		[[ -f $f ]] || { echo "$SUITE: $f not built (run make)"; exit 1; }
	done
}

# lab_need_tools TOOL... - exit 1 unless each TOOL is installed
lab_need_tools() {
	local tool

	for tool in "$@"; do
		command -v "$tool" >/dev/null || { echo "$SUITE: $tool is missing (scripts/deps.sh)"; exit 1; }
	done
}

# lab_tmp WORD - the suite's temporary directory, $T
lab_tmp() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/esa-$1.XXXXXX") || exit 1
}

# lab_cleanup - at exit: the lab down if it is up, then the files
lab_cleanup() {
	((lab_up == 0)) || ESALAB_KEEP=${KEEP:-0} lab down
	lab_keep_or_remove "$T" "$SUITE: logs kept in $T"
}

# lab_open NAME - the suite's own lab NAME (not up yet), cleaned up at exit
lab_open() {
	lab_own "$1"
	trap lab_cleanup EXIT
	trap 'exit 1' INT TERM HUP
	"$LAB" reap
}

# lab_start - the lab up, its variables set; a suite that cannot stops here
lab_start() {
	lab_up=1
	if ! lab up 2>"$T/up.err"; then
		cat "$T/up.err"
		echo "FAIL - lab up"
		echo "$SUITE: 0 passed, 1 failed"
		exit 1
	fi
	eval "$(lab env)"
}

# lab_finish - the summary lines; status 0 when nothing failed
lab_finish() {
	echo "$SUITE: the suite took $((SECONDS - started)) s"
	if ((skipped > 0)); then
		echo "$SUITE: $passed passed, $failed failed, $skipped skipped"
	else
		echo "$SUITE: $passed passed, $failed failed"
	fi
	((failed == 0))
}

# ---- checks -------------------------------------------------------------------

# note PROBLEM - remember why the current check fails
note() { why="$why; $1"; }

# begin - a new check: a fresh log
begin() {
	n=$((n + 1))
	why=
	LOG=$T/log-$(printf %02d $n).log
}

# done_check NAME - print the verdict of the current check; on a failure,
# what the suite's failure_details shows
done_check() {
	if [[ -z $why ]]; then
		passed=$((passed + 1))
		echo "ok - $1"
	else
		failed=$((failed + 1))
		echo "FAIL - $1: ${why#; }"
		failure_details
	fi
}

# skip_check NAME WHY - a check that cannot run here
skip_check() {
	skipped=$((skipped + 1))
	echo "skip - $1: $2"
}

# shim_exec WORD... - env WORD... (VAR=VALUE words, then the command) in the
# lab under the shim, with this check's log ($LOG, the full A/B lines:
# ESA_LOG_LEVEL=ab) and the lab CA; sets rc,
# $T/out (stdout and stderr)
shim_exec() {
	snapshot
	lab exec env LD_PRELOAD="$SHIM" ESA_LOG="$LOG" ESA_LOG_LEVEL=ab ESA_CAFILE="$ESALAB_CA" \
		"$@" >"$T/out" 2>&1 </dev/null
	rc=$?
}

want_rc() { [[ $rc == "$1" ]] || note "client exit $rc, want $1"; }
want_out() { grep -qF -- "$1" "$T/out" || note "client output lacks '$1'"; }

# mail_count HOST - messages in HOST's mailbox
mail_count() { find "$ESALAB_DIR/mail/$1/new" -type f | wc -l; }

# newest_mail HOST... - the newest message in the HOSTs' mailboxes
newest_mail() {
	local h dirs=()

	for h in "$@"; do
		dirs+=("$ESALAB_DIR/mail/$h/new")
	done
	find "${dirs[@]}" -type f -printf '%T@ %p\n' | sort -n | tail -n 1 | cut -d' ' -f2-
}

# snapshot - the message count of every mailbox, before a client runs
snapshot() {
	local d

	for d in "$ESALAB_DIR"/mail/*/; do
		d=${d%/}
		mail_count "${d##*/}" >"$T/count.${d##*/}"
	done
}

# delivered HOST [tls|plain] - HOST's mailbox got a message (over TLS, or in
# plain text, per its X-Lab-TLS header)
delivered() {
	local before now f tls

	before=$(cat "$T/count.$1")
	now=$(mail_count "$1")
	if ((now <= before)); then
		note "nothing delivered to $1"
		return
	fi
	f=$(newest_mail "$1")
	tls=$(sed -n 's/^X-Lab-TLS: //p' "$f" | head -n 1)
	case ${2:-} in
	tls) [[ $tls == TLS* ]] || note "delivered to $1 with X-Lab-TLS '$tls', want TLS" ;;
	plain) [[ $tls == none ]] || note "delivered to $1 with X-Lab-TLS '$tls', want plain text" ;;
	esac
}

# want_gone PID... - none of them still runs (a zombie has ended)
want_gone() {
	local p

	for p in "$@"; do
		if kill -0 "$p" 2>/dev/null && [[ $(awk '/^State:/ {print $2}' "/proc/$p/status" 2>/dev/null) != Z ]]; then
			note "pid $p still runs"
		fi
	done
}

# split_envs ENV... -- ARGS... - the words before "--" into ENVS, the rest
# into ARGS
split_envs() {
	ENVS=()
	while [[ $1 != -- ]]; do
		ENVS+=("$1")
		shift
	done
	shift
	ARGS=("$@")
}
