"""survey_lab.py - a generated lab of many recipient domains (issue 14)

  survey_lab.py gen DIR --domains N --smtp-port P --dns-port D --deaf-port F
      makes, under DIR: a CA and a few certificates (openssl), unbound.conf
      (static local zones for every domain, nothing else: "." is refused;
      one stub zone, slowdns.test, points at a nameserver that never
      answers), servers.json (a few dozen listeners on 127.77.x.y:P),
      domains.txt (one domain a line, in a seeded random order of the
      archetypes) and expected.jsonl (what each domain must come to).
  survey_lab.py serve DIR K N
      runs the listeners of servers.json whose index is K modulo N, in one
      asyncio loop (aiosmtpd's SMTP for the real STARTTLS servers), and the
      deaf nameserver when K is 0; prints "ready" once all listen.

Everything is on loopback (127.0.0.0/8 is all on lo); no system resolver
is used (aiosmtpd is given its host name).  Archetypes, with what the
generator intends (status; stock, Verify, Hosted; each host's outcome):
"""
import argparse
import asyncio
import json
import os
import random
import signal
import socket
import ssl
import subprocess
import sys

# name: (weight per 1000, status, (stock, verify, hosted), host outcomes)
ARCHETYPES = {
    # the certificate names the recipient domain (*.own.test): all pass
    "own": (250, "checked", ("pass", "pass", "pass"), ["passed"]),
    # SPEC 7: MX mxN.subd.hosting7.test, cert *.hosting7.test, PTR confirms
    "spec7": (150, "checked", ("fail", "pass", "fail"), ["failed", "failed"]),
    # a hosting provider: cert *.provider.test names the MX, not the domain
    "provider": (200, "checked", ("pass", "fail", "pass"), ["failed"]),
    # CN only, no subjectAltName: CN = MX name = PTR name
    "cnonly": (60, "checked", ("pass", "pass", "pass"), ["passed"]),
    # a chain from another CA
    "untrusted": (50, "checked", ("fail", "fail", "fail"), ["failed"]),
    # a certificate for some other name, no PTR
    "mismatch": (50, "checked", ("fail", "fail", "fail"), ["failed"]),
    # no STARTTLS offered
    "plain": (30, "no-tls", ("fail", "fail", "fail"), ["no-starttls"]),
    # nothing listens
    "dead": (20, "unreachable", ("tempfail",) * 3, ["refused"]),
    # accepts and never speaks
    "silent": (10, "unreachable", ("tempfail",) * 3, ["timeout"]),
    # MX 10 dead, MX 20 good
    "backup": (40, "checked", ("pass", "pass", "pass"), ["refused", "passed"]),
    # MX 10 good, MX 20 untrusted
    "mixed": (40, "checked", ("pass", "pass", "pass"), ["passed", "failed"]),
    # greeting after 0.3 s
    "slow": (30, "checked", ("pass", "pass", "pass"), ["passed"]),
    # the MX lookup times out
    "dnstimeout": (15, "tempfail", ("tempfail",) * 3, []),
    # the MX host's address lookup times out
    "hosttimeout": (10, "tempfail", ("tempfail",) * 3, ["no-address"]),
    # the domain does not exist
    "nxdomain": (20, "no-mail", ("n/a",) * 3, []),
    # no MX: the domain itself (RFC 5321 5.1), cert *.impl.test
    "implicit": (20, "checked", ("pass", "pass", "pass"), ["passed"]),
    # null MX (RFC 7505)
    "nullmx": (5, "no-mail", ("n/a",) * 3, []),
}

# server kind: (count, certificate or None, behaviour)
SERVERS = [
    ("own", 8, "own", "smtp"),
    ("spec7", 6, "spec7", "smtp"),
    ("provider", 6, "provider", "smtp"),
    ("cnonly", 2, "cnonly", "smtp"),     # one certificate each
    ("untrusted", 2, "untrusted", "smtp"),
    ("wrong", 2, "wrong", "smtp"),
    ("plain", 2, None, "smtp"),
    ("silent", 2, None, "silent"),
    ("slow", 2, "own", "slow"),
]
SLOW_S = 0.3


def addr_of(i):
    return "127.77.%d.%d" % (i // 200, i % 200 + 1)


def dead_addr(i):
    return "127.77.250.%d" % (i % 200 + 1)


def openssl(*args):
    subprocess.run(("openssl",) + args, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            "%s/%s.key" % (d, name), "-out", "%s/%s.pem" % (d, name),
            "-days", "2", "-subj", "/CN=esaverify survey %s" % name,
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")


def make_cert(d, name, cn, sans, ca="ca"):
    ext = "%s/%s.ext" % (d, name)
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
        if sans:
            f.write("subjectAltName=%s\n" % ",".join("DNS:" + s for s in sans))
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", "%s/%s.key" % (d, name), "-out",
            "%s/%s.csr" % (d, name), "-subj", "/CN=" + cn)
    openssl("x509", "-req", "-in", "%s/%s.csr" % (d, name), "-CA",
            "%s/%s.pem" % (d, ca), "-CAkey", "%s/%s.key" % (d, ca),
            "-CAcreateserial", "-days", "1", "-extfile", ext, "-out",
            "%s/%s.pem" % (d, name))


def gen(a):
    d = a.dir
    os.makedirs(d, exist_ok=True)
    make_ca(d, "ca")
    make_ca(d, "otherca")
    make_cert(d, "own", "*.own.test", ["*.own.test", "*.impl.test"])
    make_cert(d, "spec7", "*.hosting7.test", ["*.hosting7.test", "hosting7.test"])
    make_cert(d, "provider", "*.provider.test", ["*.provider.test"])
    make_cert(d, "untrusted", "*.untrusted.test", ["*.untrusted.test"],
              ca="otherca")
    make_cert(d, "wrong", "*.elsewhere.test", ["*.elsewhere.test"])

    servers, by_kind = [], {}
    for kind, n, cert, how in SERVERS:
        for k in range(n):
            i = len(servers)
            c = cert
            if kind == "cnonly":
                c = "cnonly%d" % k
                make_cert(d, c, "mx%d.cnonly.test" % k, [])
            servers.append({"kind": kind, "k": k, "addr": addr_of(i),
                            "port": a.smtp_port, "cert": c, "how": how,
                            "name": "%s%d.lab.test" % (kind, k)})
            by_kind.setdefault(kind, []).append(servers[-1])

    data, ptr = [], []

    def rr(line):
        data.append('  local-data: "%s"' % line)

    # the hosts, once each
    for s in by_kind["own"]:
        rr("mx%d.own.test. 300 IN A %s" % (s["k"], s["addr"]))
        ptr.append((s["addr"], "mx%d.own.test." % s["k"]))
    for s in by_kind["slow"]:
        rr("slow%d.own.test. 300 IN A %s" % (s["k"], s["addr"]))
    for s in by_kind["spec7"]:
        rr("mx%d.subd.hosting7.test. 300 IN A %s" % (s["k"], s["addr"]))
        rr("ptr%d.hosting7.test. 300 IN A %s" % (s["k"], s["addr"]))
        ptr.append((s["addr"], "ptr%d.hosting7.test." % s["k"]))
    for s in by_kind["provider"]:
        rr("mx%d.provider.test. 300 IN A %s" % (s["k"], s["addr"]))
        rr("srv%d.infra.provider-ptr.test. 300 IN A %s" % (s["k"], s["addr"]))
        ptr.append((s["addr"], "srv%d.infra.provider-ptr.test." % s["k"]))
    for s in by_kind["cnonly"]:
        rr("mx%d.cnonly.test. 300 IN A %s" % (s["k"], s["addr"]))
        ptr.append((s["addr"], "mx%d.cnonly.test." % s["k"]))
    for s in by_kind["untrusted"]:
        rr("mx%d.untrusted.test. 300 IN A %s" % (s["k"], s["addr"]))
    for s in by_kind["wrong"]:
        rr("mx%d.wrong.test. 300 IN A %s" % (s["k"], s["addr"]))
    for s in by_kind["plain"]:
        rr("mx%d.plain.test. 300 IN A %s" % (s["k"], s["addr"]))
    for s in by_kind["silent"]:
        rr("mx%d.silent.test. 300 IN A %s" % (s["k"], s["addr"]))
    for k in range(4):
        rr("mx%d.dead.test. 300 IN A %s" % (k, dead_addr(k)))

    def pick(kind, n):
        return by_kind[kind][n % len(by_kind[kind])]["k"]

    weights = []
    for name, (w, _, _, _) in ARCHETYPES.items():
        weights += [name] * w
    rnd = random.Random(a.seed)
    order = [weights[(i * 1000) // a.domains % 1000] if a.domains < 1000
             else weights[i % 1000] for i in range(a.domains)]
    rnd.shuffle(order)

    expected, names = [], []
    for n, kind in enumerate(order):
        if kind in ("own", "backup", "mixed", "slow"):
            dom = "d%05d.own.test" % n
        elif kind == "implicit":
            dom = "d%05d.impl.test" % n
        elif kind == "dnstimeout":
            dom = "d%05d.slowdns.test" % n
        elif kind == "provider":   # not under provider.test: *.provider.test
            dom = "d%05d.cust.test" % n
        else:
            dom = "d%05d.%s.test" % (n, kind)
        if kind == "own":
            rr("%s. 300 IN MX 10 mx%d.own.test." % (dom, pick("own", n)))
        elif kind == "spec7":
            k1, k2 = pick("spec7", n), pick("spec7", n + 1)
            rr("%s. 300 IN MX 10 mx%d.subd.hosting7.test." % (dom, k1))
            rr("%s. 300 IN MX 20 mx%d.subd.hosting7.test." % (dom, k2))
        elif kind == "provider":
            rr("%s. 300 IN MX 10 mx%d.provider.test." % (dom, pick("provider", n)))
        elif kind == "cnonly":
            rr("%s. 300 IN MX 10 mx%d.cnonly.test." % (dom, pick("cnonly", n)))
        elif kind == "untrusted":
            rr("%s. 300 IN MX 10 mx%d.untrusted.test." % (dom, pick("untrusted", n)))
        elif kind == "mismatch":
            rr("%s. 300 IN MX 10 mx%d.wrong.test." % (dom, pick("wrong", n)))
        elif kind == "plain":
            rr("%s. 300 IN MX 10 mx%d.plain.test." % (dom, pick("plain", n)))
        elif kind == "dead":
            rr("%s. 300 IN MX 10 mx%d.dead.test." % (dom, n % 4))
        elif kind == "silent":
            rr("%s. 300 IN MX 10 mx%d.silent.test." % (dom, pick("silent", n)))
        elif kind == "backup":
            rr("%s. 300 IN MX 10 mx%d.dead.test." % (dom, n % 4))
            rr("%s. 300 IN MX 20 mx%d.own.test." % (dom, pick("own", n)))
        elif kind == "mixed":
            rr("%s. 300 IN MX 10 mx%d.own.test." % (dom, pick("own", n)))
            rr("%s. 300 IN MX 20 mx%d.untrusted.test." % (dom, pick("untrusted", n)))
        elif kind == "slow":
            rr("%s. 300 IN MX 10 slow%d.own.test." % (dom, pick("slow", n)))
        elif kind == "hosttimeout":
            rr("%s. 300 IN MX 10 mx.d%05d.slowdns.test." % (dom, n))
        elif kind == "implicit":
            rr("%s. 300 IN A %s" % (dom, by_kind["own"][n % 8]["addr"]))
        elif kind == "nullmx":
            rr("%s. 300 IN MX 0 ." % dom)
        # dnstimeout: in the stub zone; nxdomain: nothing at all
        _, status, verdict, outcomes = ARCHETYPES[kind]
        names.append(dom)
        expected.append({"recipient_domain": dom, "kind": kind,
                         "status": status,
                         "verdict": dict(zip(("stock", "verify", "hosted"),
                                             verdict)),
                         "outcomes": outcomes})

    zones = ["own", "impl", "hosting7", "provider", "provider-ptr", "cnonly",
             "untrusted", "wrong", "elsewhere", "plain", "dead", "silent",
             "spec7", "mismatch", "cust", "nxdomain", "nullmx", "hosttimeout",
             "lab"]
    with open(os.path.join(d, "unbound.conf"), "w") as f:
        f.write("server:\n")
        for line in ("interface: 127.0.0.1", "port: %d" % a.dns_port,
                     "do-daemonize: no", 'username: ""', 'chroot: ""',
                     'directory: "%s"' % d, 'pidfile: ""', "use-syslog: no",
                     'logfile: ""', "verbosity: 0",
                     'module-config: "iterator"', "num-threads: 1",
                     "do-not-query-localhost: no",
                     "access-control: 127.0.0.0/8 allow",
                     'local-zone: "." refuse',
                     'local-zone: "127.in-addr.arpa." static',
                     "msg-cache-size: 8m", "rrset-cache-size: 16m"):
            f.write("  %s\n" % line)
        for z in zones:
            f.write('  local-zone: "%s.test." static\n' % z)
        f.write('  local-zone: "slowdns.test." transparent\n')
        f.write("\n".join(data) + "\n")
        for ip, name in ptr:
            f.write('  local-data-ptr: "%s 300 %s"\n' % (ip, name))
        f.write("stub-zone:\n  name: \"slowdns.test.\"\n"
                "  stub-addr: 127.0.0.1@%d\n" % a.deaf_port)
        f.write("remote-control:\n  control-enable: no\n")
    with open(os.path.join(d, "servers.json"), "w") as f:
        json.dump({"servers": servers, "deaf_port": a.deaf_port}, f)
    with open(os.path.join(d, "domains.txt"), "w") as f:
        f.write("# generated by survey_lab.py: %d recipient domains\n" % len(names))
        for dom in names:
            f.write(dom + "\n")
    with open(os.path.join(d, "expected.jsonl"), "w") as f:
        for e in expected:
            f.write(json.dumps(e) + "\n")


class Silent(asyncio.Protocol):
    """Accepts and never speaks."""


def serve(a):
    from aiosmtpd.smtp import SMTP

    class Slow(SMTP):
        async def _handle_client(self):
            await asyncio.sleep(SLOW_S)
            await super()._handle_client()

    class Handler:
        pass

    with open(os.path.join(a.dir, "servers.json")) as f:
        plan = json.load(f)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    servers = []
    for i, s in enumerate(plan["servers"]):
        if i % a.n != a.k:
            continue
        ctx = None
        if s["cert"]:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(os.path.join(a.dir, s["cert"] + ".pem"),
                                os.path.join(a.dir, s["cert"] + ".key"))
        if s["how"] == "silent":
            factory = Silent
        else:
            cls = Slow if s["how"] == "slow" else SMTP

            def factory(cls=cls, ctx=ctx, name=s["name"]):
                return cls(Handler(), hostname=name, ident="survey lab",
                           tls_context=ctx, require_starttls=False)
        servers.append(loop.run_until_complete(loop.create_server(
            factory, host=s["addr"], port=s["port"], backlog=256,
            reuse_address=True)))
    deaf = None
    if a.k == 0:
        deaf = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        deaf.bind(("127.0.0.1", plan["deaf_port"]))
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.add_signal_handler(signal.SIGINT, loop.stop)
    print("ready %d" % len(servers), flush=True)
    try:
        loop.run_forever()
    finally:
        for srv in servers:
            srv.close()
        if deaf is not None:
            deaf.close()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("dir")
    g.add_argument("--domains", type=int, default=1000)
    g.add_argument("--smtp-port", type=int, required=True)
    g.add_argument("--dns-port", type=int, required=True)
    g.add_argument("--deaf-port", type=int, required=True)
    g.add_argument("--seed", type=int, default=14)
    s = sub.add_parser("serve")
    s.add_argument("dir")
    s.add_argument("k", type=int)
    s.add_argument("n", type=int)
    a = p.parse_args()
    if a.cmd == "gen":
        gen(a)
    else:
        serve(a)


if __name__ == "__main__":
    __doc__ += "".join("  %-12s %s; %s; %s\n" % (k, v[1], "/".join(v[2]),
                                                 ", ".join(v[3]) or "-")
                       for k, v in ARCHETYPES.items())
    main()
