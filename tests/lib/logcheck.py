"""logcheck.py [--lenient] [--event E[|E...]] FILE EXPR - does the JSON log
FILE satisfy the Python expression EXPR?  Exit 0 yes, 1 no (with the reason
on stdout: a bad line, no EVENT line, the exception EXPR raised).

The one log checker of the shell suites (tests/lib/log.sh).  EXPR sees
  L        every line of FILE (each one JSON object; --lenient skips lines
           that are not, and takes a missing FILE as empty)
  h, p     the handshake and the plain-text lines
  E        the environment
  ts_ok(x) x["ts"] is ISO 8601 UTC with milliseconds, within a minute of now
and with --event, j: the last line whose event is one of E, with
  srcs(m), refs(m)   the sources, references tried by mode m of j
  dns(t)             the names j queried with type t
  cv(d)              candidate d's verdicts in j"""
import datetime
import json
import os
import re
import sys


def load(path, lenient):
    lines = []
    try:
        with open(path, encoding="utf-8") as f:
            for n, raw in enumerate(f, 1):
                try:
                    o = json.loads(raw)
                except ValueError:
                    if lenient:
                        continue
                    raise ValueError("line %d is not JSON" % n)
                if not isinstance(o, dict):
                    if lenient:
                        continue
                    raise ValueError("line %d is not an object" % n)
                lines.append(o)
    except OSError:
        if not lenient:
            raise
    return lines


def ts_ok(x):
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", x.get("ts", "")):
        return False
    t = datetime.datetime.strptime(x["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")
    return abs((datetime.datetime.utcnow() - t).total_seconds()) < 60


def main(argv):
    lenient = event = None
    while argv and argv[0].startswith("--"):
        if argv[0] == "--lenient":
            lenient = True
            argv = argv[1:]
        elif argv[0] == "--event" and len(argv) > 1:
            event = argv[1]
            argv = argv[2:]
        else:
            break
    if len(argv) != 2:
        print("usage: logcheck.py [--lenient] [--event E] FILE EXPR")
        return 2
    path, expr = argv
    try:
        L = load(path, lenient)
    except (OSError, ValueError) as e:
        print("log: %s" % e)
        return 1
    names = {
        "L": L,
        "h": [x for x in L if x.get("event") == "handshake"],
        "p": [x for x in L if x.get("event") == "plaintext"],
        "E": os.environ,
        "ts_ok": ts_ok,
    }
    if event is not None:
        chosen = [x for x in L if x.get("event") in event.split("|")]
        if not chosen:
            print("no '%s' line in the log" % event)
            return 1
        j = chosen[-1]
        names.update(
            j=j,
            srcs=lambda m: [t["source"] for t in j[m]["tried"]],
            refs=lambda m: [t["reference"] for t in j[m]["tried"]],
            dns=lambda t: [d["name"] for d in j["dns"] if d["type"] == t],
            cv=lambda d: [c for c in j.get("candidate_verdicts", [])
                          if c["domain"] == d][0])
    try:
        ok = eval(expr, names)
    except Exception as e:
        print("%s: %s" % (type(e).__name__, e))
        return 1
    return 0 if ok else 1


sys.exit(main(sys.argv[1:]))
