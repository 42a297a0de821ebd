#!/usr/bin/env bash
# shim-learn.sh - the shim learns the recipient domain from the program's own
# MX lookups (issue 7), in the lab
#
# Brings up a lab of its own (scripts/lab, name esalab-lPID: SPEC 7's DNS in a
# real unbound, STARTTLS servers; nothing leaves its namespaces) and runs, under
# build/esashim.so with no ESA_RECIPIENT_DOMAIN, a small mail client that does
# what an MTA does: it looks the recipient domain's MX records up itself with
# libc's res_query (through ctypes: the real libresolv entry point), resolves
# the exchange with res_query or getaddrinfo, connects to its address and
# starts TLS without asking OpenSSL for any name.  Checks, from the client's
# outcome, the servers' mailboxes and the SPEC 8.5 log line:
#   - the recipient domain and the MX host come from the program's own lookups
#     (recipient_source "mx-lookup", via), under Verify and Verify Hosted
#     Domains (SPEC 7: delivered, then refused), by res_query and getaddrinfo;
#   - one address reached from two domains' MX records (example.com by
#     mx01.subd, down.example.net by mx0a: both 192.0.2.1): both recorded in
#     recipient_candidates, Verify Hosted Domains passes only if it passes for
#     every one, or for the one the program named (SNI: the domain or its MX
#     host); each candidate under its own destinations-file setting;
#   - the order of sources: ESA_RECIPIENT_DOMAIN, the destinations file
#     (routes by host name or IP literal), the MX lookups, then the SNI;
#   - a clear-text MAIL FROM is judged for the domain the MX lookup names;
#   - observe mode with candidates leaves the program's outcome alone.
#
# Prints one line per check and "shim-learn: N passed, M failed"; exits
# non-zero on a failure, 77 (skipped) when not root or where network
# namespaces cannot be made.  KEEP=1 keeps the logs.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/lab.sh
. "$ROOT/tests/lib/lab.sh"
lab_suite shim-learn

lab_clean_env
lab_skip_unless_possible
lab_need_built "$SHIM"
lab_need_tools /usr/sbin/unbound "$PY" openssl

lab_tmp learn
chmod 755 "$T"
lab_open esalab-l$$
lab_start

# The client: an MTA's delivery in a few lines (its own MX lookup, no name
# given to OpenSSL unless --sni).
cat >"$T/mxclient.py" <<'PY'
"""mxclient.py [--mx DOMAIN]... [--addr res|gai] [--connect IP] [--sni NAME] RCPT

Looks up the MX records of each --mx DOMAIN (default: RCPT's domain) with
libc's res_query, resolves every exchange (res_query A, or getaddrinfo),
connects to the first exchange's address of the first domain (or --connect),
starts TLS when offered without verifying anything (CERT_NONE: the shim
decides), sending SNI only with --sni, and delivers one message.  Prints the
MX it found, then "delivered" or "not delivered: WHY"; exit 0 or 1."""
import argparse, ctypes, smtplib, socket, ssl, struct, sys

libc = ctypes.CDLL(None)
libc.res_query.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_int,
                           ctypes.c_char_p, ctypes.c_int]


def name_at(msg, off):
    labels, end = [], None
    while True:
        n = msg[off]
        if n & 0xC0 == 0xC0:
            end = off + 2 if end is None else end
            off = ((n & 0x3F) << 8) | msg[off + 1]
            continue
        off += 1
        if n == 0:
            break
        labels.append(msg[off:off + n].decode("ascii"))
        off += n
    return ".".join(labels), (off if end is None else end)


def query(name, qtype):
    buf = ctypes.create_string_buffer(4096)
    n = libc.res_query(name.encode(), 1, qtype, buf, 4096)
    if n <= 0:
        return []
    msg = buf.raw[:n]
    qd, an = struct.unpack(">HH", msg[4:8])
    off = 12
    for _ in range(qd):
        off = name_at(msg, off)[1] + 4
    out = []
    for _ in range(an):
        off = name_at(msg, off)[1]
        t, _, _, rdlen = struct.unpack(">HHIH", msg[off:off + 10])
        off += 10
        if t == qtype == 15:
            out.append((struct.unpack(">H", msg[off:off + 2])[0], name_at(msg, off + 2)[0]))
        elif t == qtype == 1:
            out.append(socket.inet_ntoa(msg[off:off + 4]))
        off += rdlen
    return sorted(out) if qtype == 15 else out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mx", action="append", default=[])
    ap.add_argument("--addr", choices=("res", "gai"), default="res")
    ap.add_argument("--connect")
    ap.add_argument("--sni")
    ap.add_argument("rcpt")
    a = ap.parse_args()
    first = None
    for d in a.mx or [a.rcpt.split("@", 1)[1]]:
        for pref, host in query(d, 15):
            if a.addr == "res":
                addrs = query(host, 1)
            else:
                addrs = [ai[4][0] for ai in socket.getaddrinfo(
                    host, 25, socket.AF_INET, socket.SOCK_STREAM)]
            print("MX %s %d %s -> %s" % (d, pref, host, " ".join(addrs)))
            first = first or (addrs[0] if addrs else None)
    target = a.connect or first
    if target is None:
        print("not delivered: no MX")
        return 1
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with smtplib.SMTP(target, 25, local_hostname="client.lab.example.net",
                          timeout=5) as s:
            s.ehlo()
            if s.has_extn("starttls"):
                s._host = a.sni or target  # SNI only for a name
                s.starttls(context=ctx)
                s.ehlo()
            s.sendmail("lab@client.lab.example.net", [a.rcpt],
                       "Subject: mxclient\r\n\r\nhello\r\n")
    except (smtplib.SMTPException, ssl.SSLError, OSError) as e:
        print("not delivered: %s: %s" % (type(e).__name__, e))
        return 1
    print("delivered")
    return 0


sys.exit(main())
PY

# ---- helpers (more in tests/lib/lab.sh) ----------------------------------------

# mx ENV... -- ARGS... - the client in the lab under the shim (no recipient
# domain given), with this check's log; rc, $T/out
mx() {
	split_envs "$@"
	shim_exec ESA_NAMESERVER=127.0.0.1 "${ENVS[@]}" "$PY" "$T/mxclient.py" \
		"${ARGS[@]}"
}

# not_delivered HOST - HOST's mailbox got no message (delivered: the library)
not_delivered() {
	local now
	now=$(mail_count "$1")
	((now == $(cat "$T/count.$1"))) || note "a message was delivered to $1"
}

# want_log EVENT EXPR - the last EVENT line of $LOG satisfies the Python
# expression EXPR over j (the line), cv(domain) (that candidate's verdicts)
want_log() { log_check --event "$1" "$LOG" "$2"; }

# failure_details - what a failed check shows (done_check): the client's
# output, the log's last lines
failure_details() {
	sed 's/^/    out: /' "$T/out" 2>/dev/null | tail -n 8
	[[ ! -f $LOG ]] || sed 's/^/    log: /' "$LOG" | cut -c1-600 | tail -n 2
}

# config NAME TEXT - a destinations and routes file
config() { printf '%s\n' "$2" >"$T/$1.conf"; }

R5=(ESA_TLS=required-verify)
R6=(ESA_TLS=required-verify-hosted)
MX01=mx01.subd.emailhosted.not

# ---- the recipient domain from the program's MX lookup -----------------------------

begin
mx "${R5[@]}" -- user@example.com
want_rc 0
want_out "MX example.com 10 $MX01 -> 192.0.2.1"
delivered mx01
want_log handshake "j['recipient_domain'] == 'example.com' and j['recipient_source'] == 'mx-lookup' \
and j['via'] == '$MX01' and j['recipient_candidates'] == ['example.com'] and j['sni'] is None \
and j['stock']['host'] is None and j['verify']['pass'] and j['verify']['source'] == 'ptr' \
and j['decision'] == 'accept' and 'candidate_verdicts' not in j"
done_check "Verify: the recipient domain from the program's own MX lookup (res_query): delivered"

begin
mx "${R6[@]}" -- user@example.com
want_rc 1
want_out "not delivered"
not_delivered mx01
want_log handshake "j['recipient_domain'] == 'example.com' and j['recipient_source'] == 'mx-lookup' \
and j['via'] == '$MX01' and not j['hosted']['pass'] and j['decision'] == 'reject' \
and [t['reference'] for t in j['hosted']['tried'] if t['source'] == 'mx'] == \
['$MX01', 'mx02.subd.emailhosted.not']"
done_check "Verify Hosted Domains: the same lookup, SPEC 7's MX names tried: refused"

begin
mx "${R5[@]}" -- --addr gai user@example.com
want_rc 0
delivered mx01
want_log handshake "j['recipient_domain'] == 'example.com' and j['recipient_source'] == 'mx-lookup' \
and j['via'] == '$MX01' and j['decision'] == 'accept'"
done_check "the exchange's address from getaddrinfo: learned the same way"

# ---- one address, two domains' MX ------------------------------------------------------

begin
mx "${R6[@]}" -- --mx example.com --mx down.example.net user@example.com
want_rc 1
not_delivered mx01
want_out "MX down.example.net 20 mx0a.emailhosted.not -> 192.0.2.1"
want_log handshake "sorted(j['recipient_candidates']) == ['down.example.net', 'example.com'] \
and not cv('example.com')['hosted'] and cv('example.com')['via'] == '$MX01' \
and cv('down.example.net')['hosted'] and cv('down.example.net')['via'] == 'mx0a.emailhosted.not' \
and not j['hosted']['pass'] and j['decision'] == 'reject' \
and ('example.com' in j['hosted']['reason'] or j['recipient_domain'] == 'example.com')"
done_check "two candidates, the program named neither: Hosted must pass for both, fails for example.com"

begin
mx "${R6[@]}" -- --mx example.com --mx down.example.net --sni down.example.net user@example.com
want_rc 0
delivered mx01
want_log handshake "j['sni'] == 'down.example.net' and j['recipient_candidates'] == ['down.example.net'] \
and j['recipient_domain'] == 'down.example.net' and j['via'] == 'mx0a.emailhosted.not' \
and j['hosted']['pass'] and j['hosted']['source'] == 'mx' \
and j['hosted']['reference'] == 'mx0a.emailhosted.not' and j['decision'] == 'accept'"
done_check "two candidates, SNI names down.example.net: only it counts, Hosted passes via MX mx0a"

begin
mx "${R6[@]}" -- --mx example.com --mx down.example.net --sni mx0a.emailhosted.not user@example.com
want_rc 0
want_log handshake "j['recipient_candidates'] == ['down.example.net'] and j['hosted']['pass'] \
and j['decision'] == 'accept'"
done_check "two candidates, SNI names the MX host mx0a: the domain whose MX it is"

begin
mx "${R6[@]}" -- --mx example.com --mx down.example.net --sni example.com user@example.com
want_rc 1
want_log handshake "j['recipient_candidates'] == ['example.com'] and not j['hosted']['pass'] \
and j['decision'] == 'reject'"
done_check "two candidates, SNI names example.com: refused as for example.com alone"

begin
mx "${R5[@]}" -- --mx example.com --mx down.example.net user@example.com
want_rc 0
delivered mx01
want_log handshake "len(j['recipient_candidates']) == 2 and j['verify']['pass'] \
and cv('example.com')['verify'] and cv('down.example.net')['verify'] and j['decision'] == 'accept'"
done_check "two candidates under Verify: the PTR name serves both: delivered"

begin
config mixed "[destinations]
default tls=required-verify
down.example.net tls=required-verify-hosted"
mx ESA_CONFIG="$T/mixed.conf" -- --mx example.com --mx down.example.net user@example.com
want_rc 0
want_log handshake "cv('example.com')['tls'] == 'required-verify' and cv('example.com')['decision'] == 'accept' \
and cv('down.example.net')['tls'] == 'required-verify-hosted' and cv('down.example.net')['decision'] == 'accept' \
and j['decision'] == 'accept'"
config mixed "[destinations]
default tls=required-verify
example.com tls=required-verify-hosted"
mx ESA_CONFIG="$T/mixed.conf" -- --mx example.com --mx down.example.net user@example.com
want_rc 1
want_log handshake "cv('example.com')['decision'] == 'reject' and j['decision'] == 'reject' \
and j['tls'] == 'required-verify-hosted'"
done_check "each candidate under its own destinations-file setting; one refusing refuses"

begin
mx ESA_ENFORCE=observe "${R6[@]}" -- --mx example.com --mx down.example.net user@example.com
want_rc 0
delivered mx01
want_log handshake "j['enforce'] == 'observe' and len(j['recipient_candidates']) == 2 \
and j['decision'] == 'reject'"
done_check "observe: the program delivers as it would; the candidates' verdict is logged"

# ---- the order of sources ---------------------------------------------------------------

begin
mx "${R6[@]}" ESA_RECIPIENT_DOMAIN=down.example.net -- user@example.com
want_rc 0
want_log handshake "j['recipient_domain'] == 'down.example.net' and j['recipient_source'] == 'env' \
and 'recipient_candidates' not in j and j['hosted']['pass']"
done_check "order: ESA_RECIPIENT_DOMAIN before the program's MX lookup"

begin
config route "[routes]
routed.example.net $MX01"
mx "${R5[@]}" ESA_CONFIG="$T/route.conf" -- user@example.com
want_rc 0
want_log handshake "j['recipient_domain'] == 'routed.example.net' and j['recipient_source'] == 'config-route' \
and j['via'] == '$MX01' and 'recipient_candidates' not in j"
done_check "order: a route naming a host the program resolved to the peer, before its MX lookup"

begin
config iproute "[routes]
iproute.example.net 192.0.2.1"
mx "${R5[@]}" ESA_CONFIG="$T/iproute.conf" -- user@example.com
want_rc 0
want_log handshake "j['recipient_domain'] == 'iproute.example.net' and j['recipient_source'] == 'config-route' \
and j['via'] == '192.0.2.1'"
done_check "order: an IP-literal route to the peer, before the MX lookup"

begin
mx "${R6[@]}" -- --mx example.com --sni mx0a.emailhosted.not --connect 192.0.2.2 user@example.com
want_rc 1
want_log handshake "j['peer'] == '192.0.2.2' and j['recipient_domain'] == 'example.com' \
and j['recipient_source'] == 'mx-lookup' and j['via'] == 'mx02.subd.emailhosted.not'"
done_check "order: the MX lookup before the SNI (mx0a names no MX of 192.0.2.2's domain)"

begin
mx "${R6[@]}" -- --mx nothing.example.net --connect 192.0.2.2 --sni mx0b.emailhosted.not user@example.com
want_rc 0
want_log handshake "j['recipient_domain'] == 'mx0b.emailhosted.not' and j['recipient_source'] == 'sni' \
and 'recipient_candidates' not in j"
done_check "order: no MX lookup led to the peer: the SNI, last"

begin
mx "${R5[@]}" -- --mx nothing.example.net --connect 192.0.2.2 user@example.com
want_rc 1
want_log handshake "j['recipient_domain'] is None and j['decision'] == 'reject' \
and 'no recipient domain' in j['verify']['reason']"
done_check "no source at all: fails closed ('no recipient domain')"

# ---- a clear-text MAIL FROM, judged for the domain the MX lookup names ------------------

begin
config plain "[destinations]
default tls=preferred
plain.example.net tls=required"
mx ESA_CONFIG="$T/plain.conf" -- user@plain.example.net
want_rc 1
not_delivered plain
want_log plaintext "j['recipient_domain'] == 'plain.example.net' and j['tls'] == 'required' \
and j['decision'] == 'reject'"
mx ESA_CONFIG="$T/plain.conf" -- user@cnonly.example.net
want_log handshake "j['recipient_domain'] == 'cnonly.example.net' and j['tls'] == 'preferred'"
done_check "a MAIL FROM in clear to plain.example.net's MX is refused under that domain's setting"

lab_finish
