"""survey_check.py EXPECTED.jsonl OUTPUT.jsonl [DOMAINS.txt]

Checks esa-check --survey's output against what survey_lab.py intended:
every domain exactly one line, with its input line number (DOMAINS.txt),
and per archetype its status, its three verdicts and the outcome of each
host contacted, in order.  Prints one "ok NAME" or "FAIL NAME: why" line
per check (the shell test counts them); exits 1 on any failure.
"""
import json
import sys
from collections import OrderedDict

MAX_SHOWN = 5


def main():
    exp_path, out_path = sys.argv[1], sys.argv[2]
    expected = OrderedDict()
    with open(exp_path) as f:
        for line in f:
            e = json.loads(line)
            expected[e["recipient_domain"]] = e
    lines = {}
    if len(sys.argv) > 3:
        with open(sys.argv[3]) as f:
            for n, line in enumerate(f, 1):
                d = line.split("#")[0].strip()
                if d:
                    lines[d] = n
    got, problems = {}, []
    with open(out_path) as f:
        for n, line in enumerate(f, 1):
            try:
                obj = json.loads(line)
            except ValueError:
                problems.append("output line %d is not JSON" % n)
                continue
            if obj.get("event") != "survey":
                problems.append("output line %d: event %r" % (n, obj.get("event")))
                continue
            d = obj.get("recipient_domain")
            if d in got:
                problems.append("%s reported twice" % d)
            got[d] = obj
    failed = 0

    def check(name, bad):
        nonlocal failed
        if bad:
            failed += 1
            print("FAIL %s: %d wrong: %s" % (name, len(bad),
                                             "; ".join(bad[:MAX_SHOWN])))
        else:
            print("ok %s" % name)

    missing = [d for d in expected if d not in got]
    extra = [d for d in got if d not in expected]
    check("one line per domain (%d)" % len(expected),
          problems + ["missing " + d for d in missing] +
          ["unexpected " + str(d) for d in extra])
    if lines:
        check("input line numbers",
              ["%s: line %s, want %d" % (d, o.get("line"), lines[d])
               for d, o in got.items() if d in lines and o.get("line") != lines[d]])
    kinds = OrderedDict()
    for d, e in expected.items():
        kinds.setdefault(e["kind"], []).append(e)
    for kind, es in kinds.items():
        bad = []
        for e in es:
            o = got.get(e["recipient_domain"])
            if o is None:
                continue
            want = (e["status"], e["verdict"], e["outcomes"])
            have = (o.get("status"), o.get("verdict"),
                    [h.get("outcome") for h in o.get("hosts", [])])
            if want != have:
                bad.append("%s: got %s %s %s (%s), want %s %s %s" % (
                    e["recipient_domain"], have[0], have[1], have[2],
                    o.get("status_reason"), want[0], want[1], want[2]))
        check("%s: %d domain(s) %s, %s, hosts %s" % (
            kind, len(es), es[0]["status"],
            "/".join(es[0]["verdict"][k] for k in ("stock", "verify", "hosted")),
            ",".join(es[0]["outcomes"]) or "none"), bad)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
