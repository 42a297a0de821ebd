#!/usr/bin/python3
"""bench_survey.py - esa-check --survey against one process per domain (issue 14)

Usage: bench/bench_survey.py ESA-CHECK OUTDIR   (from `make bench-survey`, part
of `make bench`; BENCH_QUICK=1 for a smaller run)

Builds the generated lab of tests/lib/survey_lab.py (a real unbound, 32 real
STARTTLS listeners on loopback, slow, silent and dead hosts, a zone whose
nameserver never answers) with 4000 recipient domains, then, side by side on
the same lab:
  baseline  the first S domains (1000; 200 with BENCH_QUICK), one `esa-check --json DOMAIN` process per
            domain, one after another (what a script around the single check
            does; it stops at the first host that passes and checks no stock
            name, so it does a little less work per domain than the survey)
  survey    the same S domains with --survey at --jobs 1, 8 and 64
  memory    --survey --jobs 64 over the first 500, 1000, 2000 and 4000
            domains: peak RSS (wait4's ru_maxrss) should stay flat
Domains per second, the ratio to the baseline and the peak RSS go to stdout
and OUTDIR/survey.md.  Figures, not assertions: the machine is shared.
"""
import os
import resource
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = os.path.join(ROOT, "tests", "lib", "survey_lab.py")
PY = "/usr/bin/python3"
TIMEOUT = "2"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    port = s.getsockname()[1]
    u.bind(("127.0.0.1", port))
    s.close()
    u.close()
    return port


def wait_dns(port):
    """Until unbound answers (any answer), at most 10 s."""
    q = bytes.fromhex("abcd01000001000000000000") + b"\x00\x00\x02\x00\x01"
    for _ in range(100):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.1)
        try:
            s.sendto(q, ("127.0.0.1", port))
            s.recvfrom(512)
            return
        except OSError:
            time.sleep(0.1)
        finally:
            s.close()
    sys.exit("bench_survey: unbound did not start")


def run(argv, stdin=None):
    """Wall seconds and peak RSS (KiB) of one process."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    rc = os.waitstatus_to_exitcode(status)
    if rc not in (0, 1):
        sys.exit("bench_survey: %s exited %d" % (" ".join(argv[-3:]), rc))
    return time.monotonic() - t0, ru.ru_maxrss


def main():
    esa, out = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    quick = bool(os.environ.get("BENCH_QUICK"))
    sample = 200 if quick else 1000
    sizes = [500, 1000] if quick else [500, 1000, 2000, 4000]
    lab = os.path.join(out, "survey-lab")
    subprocess.run(["rm", "-rf", lab], check=True)
    dns, smtp, deaf = free_port(), free_port(), free_port()
    subprocess.run([PY, LAB, "gen", lab, "--domains", str(max(sizes)),
                    "--smtp-port", str(smtp), "--dns-port", str(dns),
                    "--deaf-port", str(deaf)], check=True)
    procs = [subprocess.Popen(["/usr/sbin/unbound", "-d", "-c",
                               os.path.join(lab, "unbound.conf")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    for k in (0, 1):
        procs.append(subprocess.Popen([PY, LAB, "serve", lab, str(k), "2"],
                                      stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL, text=True))
    try:
        for p in procs[1:]:
            p.stdout.readline()  # "ready N"
        wait_dns(dns)
        domains = [l.strip() for l in open(os.path.join(lab, "domains.txt"))
                   if l.strip() and not l.startswith("#")]
        base = [esa, "--nameserver", "127.0.0.1:%d" % dns, "--port", str(smtp),
                "--cafile", os.path.join(lab, "ca.pem"), "--timeout", TIMEOUT]
        first = os.path.join(lab, "first.txt")

        def write_first(n):
            with open(first, "w") as f:
                f.write("\n".join(domains[:n]) + "\n")

        rows = []
        t0 = time.monotonic()
        peak = 0
        for d in domains[:sample]:
            _, rss = run(base + ["--json", d])
            peak = max(peak, rss)
        tb = time.monotonic() - t0
        rows.append(("baseline: one process per domain", sample, tb, peak))
        write_first(sample)
        for jobs in (1, 8, 64):
            secs, rss = run(base + ["--jobs", str(jobs), "--no-progress",
                                    "--survey", first])
            rows.append(("survey --jobs %d" % jobs, sample, secs, rss))
        mem = []
        for n in sizes:
            write_first(n)
            secs, rss = run(base + ["--jobs", "64", "--no-progress",
                                    "--survey", first])
            mem.append((n, secs, rss))
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()
    brate = rows[0][1] / rows[0][2]
    lines = ["## esa-check --survey (bench/bench_survey.py)", "",
             "Lab: %d generated domains, 32 STARTTLS listeners, --timeout %s; "
             "%s" % (max(sizes), TIMEOUT, "BENCH_QUICK" if quick else "full run"),
             "", "| run | domains | seconds | domains/s | x baseline | peak RSS MiB |",
             "|---|---|---|---|---|---|"]
    for name, n, secs, rss in rows:
        lines.append("| %s | %d | %.2f | %.1f | %.1f | %.1f |" % (
            name, n, secs, n / secs, (n / secs) / brate, rss / 1024.0))
    lines += ["", "Memory in the number of domains (--jobs 64):", "",
              "| domains | seconds | domains/s | peak RSS MiB |", "|---|---|---|---|"]
    for n, secs, rss in mem:
        lines.append("| %d | %.2f | %.1f | %.1f |" % (n, secs, n / secs, rss / 1024.0))
    ratio = (rows[3][1] / rows[3][2]) / brate
    lines += ["", "survey --jobs 64 / baseline: %.1fx (goal >= 20x)" % ratio]
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "survey.md"), "w") as f:
        f.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
