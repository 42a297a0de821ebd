# shellcheck shell=bash
# tests/lib/servers.sh - real servers for shell-level tests, on loopback only
#
# Source it, then:
#   srv_init                      temp dir in $SRV_DIR, cleanup trap (kills by PID)
#   srv_ca                        test CA: $SRV_DIR/ca.pem, ca.key
#   srv_cert NAME CN [SAN...]     leaf NAME.pem/NAME.key signed by the CA
#                                 (SAN items like DNS:x or IP:1.2.3.4; none: no SAN)
#   srv_port                      print a free TCP/UDP port on 127.0.0.1
#   srv_unbound PORT LINE...      unbound on 127.0.0.1:PORT (and ::1) answering
#                                 only the given local-data/local-data-ptr lines
#                                 (quoted unbound syntax, e.g.
#                                 'local-data: "example.com. 300 IN MX 10 mx1.example.net."')
#   srv_smtp ADDR PORT NAME [--no-starttls]
#                                 aiosmtpd on ADDR:PORT with NAME.pem/NAME.key,
#                                 messages saved under $SRV_DIR/mail-PORT/
#   srv_wait_tcp ADDR PORT        wait until something listens there (5 s)
# Every server started is stopped by srv_cleanup (also on EXIT).
# Never uses the system resolver; never talks to anything but loopback.

SRV_PIDS=()

srv_init() {
	SRV_DIR=$(mktemp -d /tmp/esa-test.XXXXXX)
	trap srv_cleanup EXIT
}

srv_cleanup() {
	local pid
	for pid in "${SRV_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${SRV_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	SRV_PIDS=()
	[ -n "${SRV_DIR:-}" ] && [ -z "${KEEP:-}" ] && rm -rf "$SRV_DIR"
	return 0
}

srv_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$SRV_DIR/ca.key" -out "$SRV_DIR/ca.pem" -days 2 \
		-subj "/CN=esaverify test CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

srv_cert() {
	local name=$1 cn=$2 san
	shift 2
	san=$(IFS=,; echo "$*")
	{
		echo "basicConstraints=CA:FALSE"
		echo "extendedKeyUsage=serverAuth"
		[ -n "$san" ] && echo "subjectAltName=$san"
	} > "$SRV_DIR/$name.ext"
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$SRV_DIR/$name.key" -out "$SRV_DIR/$name.csr" \
		-subj "/CN=$cn" 2>/dev/null &&
	openssl x509 -req -in "$SRV_DIR/$name.csr" -CA "$SRV_DIR/ca.pem" \
		-CAkey "$SRV_DIR/ca.key" -CAcreateserial -days 1 \
		-extfile "$SRV_DIR/$name.ext" -out "$SRV_DIR/$name.pem" 2>/dev/null
}

srv_port() {
	/usr/bin/python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
port = s.getsockname()[1]
u.bind(("127.0.0.1", port))
print(port)
PY
}

srv_wait_tcp() {
	local i
	for i in $(seq 50); do
		if /usr/bin/python3 -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 0.2)' "$1" "$2" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "servers.sh: nothing listens on $1:$2" >&2
	return 1
}

srv_unbound() {
	local port=$1 conf="$SRV_DIR/unbound-$1.conf" line i
	shift
	{
		echo "server:"
		echo "  interface: 127.0.0.1"
		echo "  interface: ::1"
		echo "  port: $port"
		echo "  do-daemonize: no"
		echo "  username: \"\""
		echo "  chroot: \"\""
		echo "  directory: \"$SRV_DIR\""
		echo "  pidfile: \"\""
		echo "  use-syslog: no"
		echo "  logfile: \"\""
		echo "  verbosity: 0"
		echo "  module-config: \"iterator\""
		echo "  do-not-query-localhost: yes"
		echo "  access-control: 127.0.0.0/8 allow"
		echo "  access-control: ::1 allow"
		echo "  local-zone: \".\" refuse"
		for line in "$@"; do echo "  $line"; done
		echo "remote-control:"
		echo "  control-enable: no"
	} > "$conf"
	/usr/sbin/unbound -d -c "$conf" > "$SRV_DIR/unbound-$port.log" 2>&1 &
	SRV_PIDS+=($!)
	for i in $(seq 50); do
		if /usr/bin/python3 - "$port" <<'PY' 2>/dev/null
import socket, sys
q = bytes.fromhex("abcd01000001000000000000") + b"\x00\x00\x02\x00\x01"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.2)
s.sendto(q, ("127.0.0.1", int(sys.argv[1])))
s.recvfrom(512)
PY
		then return 0; fi
		sleep 0.1
	done
	echo "servers.sh: unbound did not start on 127.0.0.1:$port:" >&2
	cat "$SRV_DIR/unbound-$port.log" >&2
	return 1
}

srv_smtp() {
	local addr=$1 port=$2 name=$3 extra=()
	[ "${4:-}" = "--no-starttls" ] || extra=(--tlscert "$SRV_DIR/$name.pem" --tlskey "$SRV_DIR/$name.key" --no-requiretls)
	mkdir -p "$SRV_DIR/mail-$port"/{tmp,new,cur}
	/usr/bin/python3 -m aiosmtpd -n -c aiosmtpd.handlers.Mailbox "$SRV_DIR/mail-$port" \
		-l "$addr:$port" "${extra[@]}" > "$SRV_DIR/smtp-$port.log" 2>&1 &
	SRV_PIDS+=($!)
	srv_wait_tcp "$addr" "$port"
}
