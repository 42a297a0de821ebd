#!/usr/bin/env bash
# deps.sh - install the Debian packages that building and testing esaverify need
#
# Usage: scripts/deps.sh [--if-missing]
#
#   (no option)    apt-get update, then install every package below (idempotent:
#                  apt-get leaves installed packages alone).
#   --if-missing   first ask dpkg which packages are not installed; when none
#                  is missing, do nothing and print nothing (this is what
#                  `make test` and `make demo` call, through `make deps`).
#
# Needs root to install.  Run as another user with something missing, it names
# the missing packages on one line and exits 1.
#
# unbound: Debian's package may start (or try to start) a system resolver
# service.  Nothing of ours uses it: the tests and the lab start their own
# unbound, in the foreground, on their own address and configuration.
set -euo pipefail

# What each package is for:
#   build-essential, pkg-config     cc, make, ar, readelf; pkg-config for the install test
#   clang, libclang-rt-14-dev       sanitizer and fuzzing builds (the runtimes are
#                                   only a Recommends of clang, which we skip)
#   libssl-dev, openssl             OpenSSL 3 headers and libs; the openssl command (test certs)
#   libcriterion-dev                the unit test framework
#   libidn2-dev                     IDNA2008 A-label conversion (SPEC 3.6)
#   libunistring-dev                libidn2's private dependency: static links
#                                   (pkg-config --static --libs esaverify)
#   unbound                         a DNS server for the live tests and the lab (SPEC 6)
#   python3-aiosmtpd, swaks         STARTTLS server and client for end-to-end tests
#   iproute2                        ip netns / veth for the network lab
#   valgrind                        leak checks
#   curl, ca-certificates           a real OpenSSL client for shim tests; the system store
#   man-db, groff-base              man -l and groff to read and check the man pages
PACKAGES=(
	build-essential
	clang
	libclang-rt-14-dev
	pkg-config
	libssl-dev
	openssl
	libcriterion-dev
	libidn2-dev
	libunistring-dev
	unbound
	python3-aiosmtpd
	swaks
	iproute2
	valgrind
	curl
	ca-certificates
	man-db
	groff-base
	binutils
	s-nail
	postfix
	m4
	libwrap0
)

# missing_packages - print the packages dpkg does not report as installed
missing_packages() {
	local p status
	for p in "${PACKAGES[@]}"; do
		status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		if [[ $status != "install ok installed" ]]; then
			printf '%s\n' "$p"
		fi
	done
}

main() {
	local if_missing=0 missing=()

	case "${1:-}" in
	"") ;;
	--if-missing) if_missing=1 ;;
	-h | --help)
		sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
		return 0
		;;
	*)
		echo "deps.sh: unknown option '$1' (usage: scripts/deps.sh [--if-missing])" >&2
		return 2
		;;
	esac

	if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
		echo "deps.sh: this is not a Debian system (no dpkg-query/apt-get); install by hand: ${PACKAGES[*]}" >&2
		return 1
	fi

	mapfile -t missing < <(missing_packages)
	if ((if_missing && ${#missing[@]} == 0)); then
		return 0
	fi

	if [[ $(id -u) -ne 0 ]]; then
		if ((${#missing[@]} == 0)); then
			echo "deps.sh: all ${#PACKAGES[@]} packages are installed"
			return 0
		fi
		echo "deps.sh: missing Debian packages (run as root: scripts/deps.sh): ${missing[*]}" >&2
		return 1
	fi

	# Without --if-missing, (re)install the whole list: apt-get keeps what is
	# current and upgrades what is not.
	((if_missing)) || missing=("${PACKAGES[@]}")
	echo "deps.sh: installing: ${missing[*]}" >&2
	apt-get update
	# Postfix is installed for its client code (posttls-finger, smtp(8)) only:
	# "No configuration" keeps it from setting up or starting a mail service.
	echo "postfix postfix/main_mailer_type select No configuration" |
		debconf-set-selections
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

main "$@"
