#!/usr/bin/env bash
# deps.sh - the Debian packages that building, testing and the demo of
# esaverify need: one table, an installer and a preflight check
#
# Usage: scripts/deps.sh [--if-missing | --check | --list] [--for SET]
#
#   (no option)    apt-get update, then install every package of the table
#                  (idempotent: apt-get leaves current packages alone).
#   --if-missing   install only the packages whose checks (below) fail: what
#                  we use from them is not there; when nothing is missing,
#                  do nothing and print nothing (`make deps`, the first step
#                  of `make test` and `make demo`).
#   --check        the preflight (`make deps`, right after --if-missing):
#                  run every check of the table and install nothing.  All
#                  present: silent, exit 0.  Anything missing: ONE line naming
#                  what is missing and the packages to install, exit 1.
#   --list         print the table's packages, one a line.
#   --for SET      the rows of SET: "test" (the default: build, `make test`,
#                  `make demo`, the targets of mk/*.mk) or "fresh" (what the
#                  host of `make test-fresh` needs: debootstrap, ...).
#
# Installing needs root.  Run as another user with something missing, it
# names the missing pieces and packages on one line and exits 1.
#
# Recommends are not installed (--no-install-recommends): the packages whose
# files we use although they are only a Recommends of another are rows of
# their own (swaks' TLS, DNS and IPv6 modules, clang's runtimes and
# llvm-symbolizer).  The table is the single source of truth: every external
# program and interpreter module a test, the demo, a make target or the build
# calls is a row, with how to check that it is there.
#
# Postfix is installed for its client code (posttls-finger, smtp(8)) and for
# the private instances scripts/lab runs; "No configuration" keeps its
# package from setting up or starting a mail service.  Debian's unbound
# package may start (or try to start) a system resolver service; nothing of
# ours uses it: the tests and the lab start their own unbound in the
# foreground.  Debian's sendmail is not a row: sendmail-bin conflicts with
# postfix, so tests/postfix.sh fetches it itself (scripts/lab sendmail
# prepare: apt-get download into /var/cache/esaverify-lab).
set -euo pipefail

# requirements - the table.  Columns: set, Debian package, kind, item[,item...],
# what uses it.  Kinds:
#   cmd   a command on PATH, or an absolute path that must be executable
#   perl  a Perl module (perl -e 'require MODULE')
#   py    a module /usr/bin/python3 imports (another python3 may come first
#         on PATH and lack Debian's modules: the tests call this one)
#   file  a file (a header, a library, a data file); a glob must match one
requirements() {
	cat <<'EOF'
# set  package                 kind  item(s)                                          used by
test   build-essential         cmd   cc,make                                          the build; tests/install.sh, shim.sh
test   libc6-dev               file  /usr/include/resolv.h,/usr/lib/*-linux-gnu/libc.a  libresolv; shim.sh links a static program
test   binutils                cmd   ar,readelf,nm                                    the build; install.sh; scripts/esa-run
test   pkg-config              cmd   pkg-config                                       tests/install.sh
test   libssl-dev              file  /usr/include/openssl/ssl.h,/usr/lib/*-linux-gnu/libssl.so  OpenSSL 3 headers and libraries
test   openssl                 cmd   openssl                                          test certificates; s_client under the shim
test   libcriterion-dev        file  /usr/include/criterion/criterion.h,/usr/lib/*-linux-gnu/libcriterion.so  the Criterion suites
test   libidn2-dev             file  /usr/include/idn2.h,/usr/lib/*-linux-gnu/libidn2.so  IDNA2008 A-labels (SPEC 3.6)
test   libunistring-dev        file  /usr/lib/*-linux-gnu/libunistring.so             static links (pkg-config --static, install.sh)
test   clang                   cmd   clang                                            make test-sanitize, make fuzz, make test-tsan
test   libclang-rt-14-dev      file  /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.asan-*.a,/usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a  sanitizer and libFuzzer runtimes (a Recommends of clang)
test   llvm                    cmd   llvm-symbolizer                                  mk/tsan-shim.sh; symbolized sanitizer reports
test   valgrind                cmd   valgrind                                         tests/cli.sh, cli-live.sh; make test-valgrind
test   unbound                 cmd   /usr/sbin/unbound                                DNS servers of the Criterion suites, shell tests and lab
test   ldnsutils               cmd   ldns-keygen,ldns-signzone,ldns-key2ds            the DNSSEC-signed zone of tests/dane.sh
test   python3                 cmd   /usr/bin/python3                                 tests' helpers and clients; scripts/ab-report
test   python3                 py    argparse,asyncio,concurrent.futures,csv,ctypes,datetime,ipaddress,json,smtplib,ssl,subprocess,tempfile,threading  what the Python code of tests/, scripts/, mk/ imports
test   python3-aiosmtpd        py    aiosmtpd,aiosmtpd.handlers,aiosmtpd.smtp         STARTTLS servers (tests/lib/servers.sh, scripts/lab)
test   swaks                   cmd   swaks                                            a Perl client under the shim (shim.sh, lab.sh, demo)
test   libnet-ssleay-perl      perl  Net::SSLeay                                      swaks --tls (a Recommends of swaks)
test   libnet-dns-perl         perl  Net::DNS                                         swaks' own MX lookup (a Recommends of swaks)
test   libio-socket-inet6-perl perl  IO::Socket::INET6                                swaks over IPv6 (a Recommends of swaks)
test   perl                    perl  IO::Socket::INET,Errno,Getopt::Long,Time::HiRes,Sys::Hostname,MIME::Base64,Digest::MD5  swaks itself; shim.sh's raw client
test   curl                    cmd   curl                                             a client under the shim (shim.sh)
test   wget                    cmd   wget                                             esa-run --check on a GnuTLS program (shim.sh)
test   ca-certificates         file  /etc/ssl/certs/ca-certificates.crt               the system trust store (shim.sh, cli.sh)
test   s-nail                  cmd   s-nail                                           a client under the shim (shim.sh)
test   postfix                 cmd   /usr/sbin/postfix,/usr/sbin/postqueue,/usr/sbin/posttls-finger,/usr/lib/postfix/sbin/master,/usr/lib/postfix/sbin/smtp  posttls-finger (shim.sh); the lab's Postfix (postfix.sh, demo)
test   m4                      cmd   m4                                               the lab's sendmail.cf (postfix.sh)
test   libwrap0                file  /usr/lib/*-linux-gnu/libwrap.so.0                Debian's sendmail binary, unpacked (postfix.sh)
test   iproute2                cmd   ip                                               network namespaces and veth (scripts/lab)
test   util-linux              cmd   unshare                                          shim.sh's syslog listener
test   mount                   cmd   mount,umount                                     shim.sh's syslog listener
test   procps                  cmd   pgrep                                            the lab's Postfix children (scripts/lab, postfix.sh)
test   coreutils               cmd   timeout,mkfifo,stat,install                      every suite
test   findutils               cmd   find,xargs                                       suites; make fuzz-run
test   diffutils               cmd   cmp,diff                                         shim.sh, lab.sh
test   mawk                    cmd   awk                                              scripts/lab, tests/lib/lab.sh, install.sh
test   libc-bin                cmd   ldd                                              scripts/esa-run, scripts/lab
test   dpkg                    cmd   dpkg-query,dpkg-deb                              this script; scripts/lab sendmail prepare
test   apt                     cmd   apt-get                                          this script; scripts/lab sendmail prepare
test   debconf                 cmd   debconf-set-selections                           this script (postfix)
test   groff-base              cmd   groff                                            tests/install.sh checks the man pages
test   man-db                  cmd   man                                              reading the man pages (man -l man/esa-check.1)
test   chromium                cmd   chromium                                         tests/survey.sh: ab-report's HTML page in a headless browser
test   fonts-dejavu-core       file  /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf   text in that page's screenshot (chromium pulls in no font)
fresh  debootstrap             cmd   debootstrap                                      make test-fresh: the minimal root
fresh  debian-archive-keyring  file  /usr/share/keyrings/debian-archive-keyring.gpg   make test-fresh: debootstrap checks the archive
fresh  git                     cmd   git                                              make test-fresh: the clean clone
fresh  util-linux              cmd   findmnt,unshare,mountpoint                       make test-fresh: mounts and their cleanup
fresh  apt                     cmd   /usr/lib/apt/apt-helper                          make test-fresh: the archive's InRelease (cache key)
fresh  procps                  cmd   pgrep                                            make test-fresh: the run to stop
EOF
}

# rows SET - the table's rows of SET: "package kind items" lines
rows() {
	requirements | awk -v set="$1" '$1 == set { print $2, $3, $4 }'
}

# packages SET - the packages of SET, each once, in table order
packages() {
	rows "$1" | awk '!seen[$1]++ { print $1 }'
}

# on_path NAME - NAME (or the absolute path NAME) is an executable file.
# (bash's `command -v` also names a file it finds without execute permission.)
on_path() {
	local dir
	if [[ $1 == /* ]]; then
		[[ -f $1 && -x $1 ]]
		return
	fi
	IFS=: read -r -a dirs <<<"$PATH"
	for dir in "${dirs[@]}"; do
		[[ -f ${dir:-.}/$1 && -x ${dir:-.}/$1 ]] && return 0
	done
	return 1
}

# check_rows - read "package kind items" lines; print "package<TAB>what is
# missing" for each item that is not there.  Perl and Python modules are
# checked in one interpreter run each.
check_rows() {
	local pkg kind items item path perl_items=() py_items=() line
	while read -r pkg kind items; do
		IFS=, read -r -a list <<<"$items"
		for item in "${list[@]}"; do
			case $kind in
			cmd)
				on_path "$item" || printf '%s\tcommand %s\n' "$pkg" "$item"
				;;
			file)
				path=$(compgen -G "$item" | head -n 1 || true)
				[[ -n $path && -e $path ]] || printf '%s\tfile %s\n' "$pkg" "$item"
				;;
			perl) perl_items+=("$pkg=$item") ;;
			py) py_items+=("$pkg=$item") ;;
			*) echo "deps.sh: bad kind '$kind' in the table" >&2; return 2 ;;
			esac
		done
	done
	if ((${#perl_items[@]})); then
		if command -v perl >/dev/null 2>&1; then
			perl -e 'for (@ARGV) { my ($p, $m) = split /=/, $_, 2;
				(my $f = "$m.pm") =~ s{::}{/}g;
				eval { require $f; 1 } or print "$p\tPerl module $m\n" }' "${perl_items[@]}"
		else
			for line in "${perl_items[@]}"; do
				printf '%s\tPerl module %s (no perl)\n' "${line%%=*}" "${line#*=}"
			done
		fi
	fi
	if ((${#py_items[@]})); then
		if [[ -x /usr/bin/python3 ]]; then
			/usr/bin/python3 -c '
import importlib, sys
for a in sys.argv[1:]:
    p, m = a.split("=", 1)
    try:
        importlib.import_module(m)
    except Exception:
        print("%s\tPython module %s" % (p, m))' "${py_items[@]}"
		else
			for line in "${py_items[@]}"; do
				printf '%s\tPython module %s (no /usr/bin/python3)\n' "${line%%=*}" "${line#*=}"
			done
		fi
	fi
}

# missing_line MISSING - the one line that names what is missing (MISSING:
# "package<TAB>what" lines) and the packages that bring it
missing_line() {
	local what pkgs
	what=$(cut -f2 <<<"$1" | paste -sd, - | sed 's/,/, /g')
	pkgs=$(cut -f1 <<<"$1" | awk '!seen[$0]++' | paste -sd' ' -)
	echo "deps.sh: missing: $what; install: apt-get install --no-install-recommends $pkgs (or, as root: scripts/deps.sh --if-missing)"
}

# apt_install PACKAGE... - apt-get update and install, without Recommends.
# Another apt-get (unattended-upgrades on a new machine, a second make) may
# hold dpkg's lock: wait for it up to 10 minutes instead of failing at once.
apt_install() {
	local wait=(-o DPkg::Lock::Timeout=600)
	echo "deps.sh: installing: $*" >&2
	apt-get "${wait[@]}" update
	echo "postfix postfix/main_mailer_type select No configuration" |
		debconf-set-selections
	DEBIAN_FRONTEND=noninteractive apt-get "${wait[@]}" install -y \
		--no-install-recommends "$@"
}

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}

main() {
	local mode=all set=test missing pkgs=()

	while (($#)); do
		case $1 in
		--if-missing) mode=if-missing ;;
		--check) mode=check ;;
		--list) mode=list ;;
		--for)
			set=${2:-}
			shift
			[[ $set == test || $set == fresh ]] ||
				{ echo "deps.sh: --for test or --for fresh" >&2; return 2; }
			;;
		-h | --help) usage; return 0 ;;
		*)
			echo "deps.sh: unknown option '$1' (usage: scripts/deps.sh [--if-missing | --check | --list] [--for test|fresh])" >&2
			return 2
			;;
		esac
		shift
	done

	case $mode in
	list)
		packages "$set"
		return 0
		;;
	check)
		missing=$(rows "$set" | check_rows)
		[[ -z $missing ]] || { missing_line "$missing" >&2; return 1; }
		return 0
		;;
	esac

	if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
		echo "deps.sh: this is not a Debian system (no dpkg-query/apt-get); install by hand: $(packages "$set" | paste -sd' ' -)" >&2
		return 1
	fi

	missing=$(rows "$set" | check_rows)
	if [[ $(id -u) -ne 0 ]]; then
		# no installing: say what is missing, like --check
		[[ -z $missing ]] || { missing_line "$missing" >&2; return 1; }
		[[ $mode == if-missing ]] || echo "deps.sh: everything of the table is present"
		return 0
	fi
	if [[ $mode == if-missing ]]; then
		mapfile -t pkgs < <(cut -f1 <<<"$missing" | awk 'NF && !seen[$0]++')
		((${#pkgs[@]})) || return 0
	else
		mapfile -t pkgs < <(packages "$set")
	fi
	apt_install "${pkgs[@]}"
}

main "$@"
