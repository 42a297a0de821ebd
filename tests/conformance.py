#!/usr/bin/python3
"""conformance.py - esaverify against the x509-limbo cases (SPEC 2, 3, 4)

Run by tests/conformance.sh (see there for the command line).  Data:
limbo.json (the x509-limbo cases) and limbo-openssl-3.0.22-results.json
(stock OpenSSL's verdict per case through limbo's own harness:
X509_V_FLAG_X509_STRICT | X509_V_FLAG_PARTIAL_CHAIN, security level 2, CRLs
with CRL_CHECK | CRL_CHECK_ALL, the case's time, host names with
NO_PARTIAL_WILDCARDS), both in ../shared/conformance beside the repository.

Stage I (SPEC 2) runs twice per SERVER case, once per profile:

"stock" (esa-check's default): the chain verdict (the "chain" object of
--json: ok, or the error text when it fails) must be what stock OpenSSL on
this machine says, asked live as a TLS client verifies: the first error of
  openssl verify -purpose sslserver -auth_level 2 -CAfile TRUSTED
                 [-untrusted INTERMEDIATES] [-crl_check_all -CRLfile CRLS]
                 [-attime TIME] PEER
(the first, because a client's handshake stops there while openssl verify
goes on after some errors), with no exception.

"harness" (esa-check --strict --partial-chain, the flags of limbo's
harness): the verdict must be stock OpenSSL's from the results file,
whatever limbo expects, except:
  - STAGE1_NAME: stock failed on the host or IP name.  X509_verify_cert()
    checks the name before revocation, signatures, validity and name
    constraints and stops at the first error, so the file does not say
    whether the chain alone verifies; the expectation is what the same
    harness on the same OpenSSL (3.0.22) says with the name left out.
  - STAGE1_ESA: esaverify deliberately differs from the harness; each row
    says why.
Each case runs as
  esa-check --json --mode verify --dns-file EMPTY --cert PEER+INTERMEDIATES
            --cafile TRUSTED [--crl CRLS] [--at TIME] [--strict
            --partial-chain] conformance.invalid
(no --at when the case has no validation_time: the harness then verifies
at the current time too, its X509_V_FLAG_NO_CHECK_TIME being set on the
store after the context copied the store's flags, so without effect).
The CLIENT cases are left out: ESA verifies servers (the harness skips them).
Fields of a case: trusted_certs, untrusted_intermediates, crls and
validation_time are passed on; max_chain_depth is not supported (no setting
in esa_config or esa-check; see STAGE1_ESA); extended_key_usage: the harness
sets the TLS-server purpose only for ["serverAuth"] and no purpose at all
for [], esaverify always checks the TLS-server purpose (SPEC 2), as a
handshake does; key_usage: this harness version ignores it (the two cases
that give one were evaluated, not skipped), the TLS-server purpose checks the
leaf's keyUsage; expected_peer_name: stage II's business.

Where the two profiles give different verdicts, the case must be a row of
the table in docs/conformance.md with both verdicts as they came out, and
every row of that table must still differ ("ok - profiles ID" / "not ok -
profiles ..."): the table users read is the one this run checks.

Stage II (SPEC 3, 4): the DNS-name cases (webpki::san::*, webpki::cn::*,
rfc5280::san::* whose expected_peer_name is a DNS name) run as
  esa-check --json --no-chain --mode both --dns-file EMPTY --cert PEER NAME
with the peer name as the recipient domain and no DNS data, and must give
the verdicts of STAGE2, which states ESA's behaviour per case and why it
departs from limbo where it does.  A recipient domain that is not a valid
host name (SPEC 3.2) makes esa-check refuse the run (exit 2): "refused".

Prints "ok - chain ID" (stock), "ok - strict ID" (harness), "ok - names
ID" or "not ok - ...: expected X got
Y" per case, then "conformance: N passed, M failed" alone on a line; exits
1 on any failure or when the data or esa-check is missing.
"""

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

LIMBO = "limbo.json"
STOCK = "limbo-openssl-3.0.22-results.json"
DUMMY_DOMAIN = "conformance.invalid"  # stage I does not look at names
NAME_ERRORS = ("hostname mismatch", "IP address mismatch",
               "email address mismatch")
OK = "ok"  # an expected chain verdict: "ok" or OpenSSL's error text
STOCK_LEVEL = 2  # a stock client's security level on Debian 12
HARNESS_FLAGS = ["--strict", "--partial-chain"]
TABLE_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|")
VERIFY_ERROR = re.compile(r"^error \d+ at \d+ depth lookup: (.*)$", re.M)

# ---- stage I -------------------------------------------------------------

# Stock failed on the name; the chain alone (same harness, name left out).
STAGE1_NAME = {
    "rfc5280::nc::permitted-dns-mismatch": "permitted subtree violation",
    "rfc5280::nc::permitted-dn-mismatch": "permitted subtree violation",
    "rfc5280::nc::excluded-dn-match": "excluded subtree violation",
    "rfc5280::nc::permitted-dn-match-subject-san-mismatch":
        "permitted subtree violation",
    "rfc5280::nc::excluded-dn-match-sub-mismatch":
        "excluded subtree violation",
    "rfc5280::san::ip-in-dns": OK,
    "webpki::san::mismatch-domain-san": OK,
    "webpki::san::mismatch-subdomain-san": OK,
    "webpki::san::mismatch-subdomain-apex-san": OK,
    "webpki::san::mismatch-apex-subdomain-san": OK,
    "webpki::san::public-suffix-wildcard-san": OK,
    "webpki::san::wildcard-embedded-leftmost-san": OK,
    "webpki::san::wildcard-not-in-leftmost-san": OK,
    "webpki::san::wildcard-match-across-labels-san": OK,
    "webpki::san::wildcard-embedded-ulabel-san": OK,
    "webpki::san::unicode-emoji-san": OK,
    "webpki::san::san-wildcard-only": OK,
    "webpki::san::san-wildcard-only-tld": OK,
}

PURPOSE = ("unsuitable certificate purpose",
           "the harness sets no purpose when the case names no EKU; "
           "esaverify checks the TLS-server purpose (SPEC 2), as OpenSSL "
           "does in a handshake: the leaf is a CA certificate whose "
           "keyUsage has no digitalSignature/keyEncipherment/keyAgreement")
DEPTH = (OK, "max_chain_depth is the caller's limit and esaverify has none "
         "(no esa_config setting, no esa-check option; OpenSSL's default "
         "depth 100 applies); the harness sets the case's depth")

# esaverify differs from stock on purpose: id -> (expected, why).
STAGE1_ESA = {
    "pathlen::validation-ignores-pathlen-in-leaf": PURPOSE,
    "rfc5280::ca-as-leaf": PURPOSE,
    "webpki::ca-as-leaf": PURPOSE,
    "rfc5280::ca-as-leaf-wrong-san": (PURPOSE[0], "stock failed on the "
                                      "name first; " + PURPOSE[1]),
    "rfc5280::eku::ee-eku-empty": (PURPOSE[0], "the harness sets no "
                                   "purpose when the case names no EKU; "
                                   "esaverify checks the TLS-server purpose "
                                   "(SPEC 2): an empty extKeyUsage has no "
                                   "serverAuth"),
    "pathlen::max-chain-depth-0-exhausted": DEPTH,
    "pathlen::max-chain-depth-1-exhausted": DEPTH,
    "pathlen::max-chain-depth-1-self-issued": DEPTH,
}

# ---- stage II ------------------------------------------------------------

# id -> (verify, hosted, why), ESA's verdict with the peer name as recipient
# domain and no DNS: "dns:X" / "cn:X" passes on DNS-ID / CN-ID X, "fail",
# "refused" (esa-check refuses the recipient domain).  why: where ESA departs
# from limbo's expected_result (the name-independent part of a case is
# stage I's business), or None where both agree.
CABF_CN = ("limbo applies the CA/B Forum profile (BR 7.1.4.3: the CN must "
           "copy a SAN entry); ESA, like stock OpenSSL, does not: the DNS-ID "
           "matches the recipient domain")
PSL = ("ESA has no Public Suffix List: a wildcard over two or more labels "
       "is valid (SPEC 3.5), as in stock OpenSSL")
CN_AFTER = ("Verify checks the CN-IDs after the DNS-IDs failed (SPEC 4.1 "
            "step 2); Hosted does not (SPEC 4.2)")
STAGE2 = {
    "rfc5280::san::malformed": ("fail", "fail", None),
    "rfc5280::san::noncritical-with-empty-subject": (
        "dns:example.com", "dns:example.com",
        "limbo's failure is the certificate profile (RFC 5280 4.2.1.6: an "
        "empty subject needs a critical SAN), which is stage I's: "
        "--strict (X509_STRICT) rejects the chain, a stock client does not; "
        "the DNS-ID itself matches"),
    "rfc5280::san::underscore-dns": ("refused", "refused", None),
    "webpki::cn::punycode-not-in-san": (
        "dns:xn--n3h.com", "dns:xn--n3h.com", CABF_CN),
    "webpki::cn::utf8-vs-punycode-mismatch": (
        "dns:xn--test--wg5h0h.com", "dns:xn--test--wg5h0h.com", CABF_CN),
    "webpki::cn::not-in-san": (
        "dns:valid.example.com", "dns:valid.example.com", CABF_CN),
    "webpki::cn::case-mismatch": ("dns:example.com", "dns:example.com",
                                  CABF_CN),
    "webpki::san::exact-dns-san": ("dns:example.com", "dns:example.com",
                                   None),
    "webpki::san::mismatch-domain-san": ("fail", "fail", None),
    "webpki::san::mismatch-subdomain-san": ("fail", "fail", None),
    "webpki::san::mismatch-subdomain-apex-san": ("fail", "fail", None),
    "webpki::san::mismatch-apex-subdomain-san": (
        "cn:example.com", "fail", CN_AFTER),
    "webpki::san::public-suffix-wildcard-san": (
        "cn:example.com", "fail",
        "the DNS-ID *.com matches nothing (SPEC 3.5), then " + CN_AFTER),
    "webpki::san::public-suffix-multi-label-wildcard-san": (
        "dns:*.co.uk", "dns:*.co.uk", PSL),
    "webpki::san::public-suffix-private-namespace-wildcard-san": (
        "dns:*.s3.amazonaws.com", "dns:*.s3.amazonaws.com", PSL),
    "webpki::san::leftmost-wildcard-san": ("dns:*.example.com",
                                           "dns:*.example.com", None),
    "webpki::san::wildcard-embedded-leftmost-san": ("fail", "fail", None),
    "webpki::san::wildcard-not-in-leftmost-san": ("fail", "fail", None),
    "webpki::san::wildcard-match-across-labels-san": ("fail", "fail", None),
    "webpki::san::wildcard-embedded-ulabel-san": ("fail", "fail", None),
    "webpki::san::unicode-emoji-san": ("fail", "fail", None),
    "webpki::san::no-san": (
        "cn:example.com", "cn:example.com",
        "limbo follows the Web PKI, which ignores the CN; a certificate "
        "without DNS-IDs is checked on its CN-IDs by both algorithms "
        "(SPEC 4.1 step 2, 4.2)"),
    "webpki::san::san-critical-with-nonempty-subject": (
        "dns:example.com", "dns:example.com",
        "limbo applies the CA/B Forum profile (a critical SAN with a "
        "non-empty subject); ESA, like stock OpenSSL, does not"),
    "webpki::san::san-wildcard-only": (
        "cn:example.com", "fail",
        "the DNS-ID * matches nothing (SPEC 3.5), then " + CN_AFTER),
    "webpki::san::san-wildcard-only-tld": ("refused", "refused", None),
}
STAGE2_IDS = re.compile(r"(webpki::san::|webpki::cn::|rfc5280::san::)")


class Setup(Exception):
    """The run cannot happen: data or tool missing (exit 1, one message)."""


def load_data(data_dir):
    """The limbo cases and stock's results, checked for shape."""
    paths = [os.path.join(data_dir, n) for n in (LIMBO, STOCK)]
    for p in paths:
        if not os.path.isfile(p):
            raise Setup(f"conformance data not found: {p} (expected a copy "
                        "of shared/ beside the repository, "
                        "../shared/conformance; or set ESA_CONFORMANCE_DIR)")
    try:
        with open(paths[0], encoding="utf-8") as f:
            cases = json.load(f)["testcases"]
        with open(paths[1], encoding="utf-8") as f:
            stock = {r["id"]: r for r in json.load(f)["results"]}
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise Setup(f"conformance data unreadable in {data_dir}: {e}")
    if not cases:
        raise Setup(f"{paths[0]}: no test cases")
    return cases, stock


def pem(items):
    """PEM blocks joined, one per line group."""
    return "".join(x if x.endswith("\n") else x + "\n" for x in items)


def unix_time(text):
    """RFC 3339 time to whole UNIX seconds (fractions dropped, as the
    harness's std::chrono::system_clock::to_time_t does)."""
    t = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return int(t.timestamp() // 1)


def run(argv):
    """esa-check; (exit status, parsed JSON or None, stderr)."""
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    doc = None
    if p.returncode in (0, 1):
        try:
            doc = json.loads(p.stdout)
        except ValueError:
            pass
    return p.returncode, doc, p.stderr.strip()


def stage1_expect(case, stock):
    """(expected chain verdict, note) for a SERVER case; note says why it is
    not stock's literal verdict, or is None."""
    cid = case["id"]
    if cid in STAGE1_ESA:
        return STAGE1_ESA[cid]
    if cid in STAGE1_NAME:
        return STAGE1_NAME[cid], (f"stock: '{stock[cid]['context']}', "
                                  "the chain alone: "
                                  f"'{STAGE1_NAME[cid]}'")
    r = stock[cid]
    return (OK if r["actual_result"] == "SUCCESS" else r["context"]), None


def stage1_table_problem(case, stock):
    """Why the tables no longer fit stock's result for case, or None."""
    cid, r = case["id"], stock.get(case["id"])
    if r is None:
        return "no stock result for this SERVER case"
    if r["actual_result"] not in ("SUCCESS", "FAILURE"):
        return f"stock has no verdict: {r['actual_result']} ({r['context']})"
    stock_verdict = OK if r["actual_result"] == "SUCCESS" else r["context"]
    named = r["actual_result"] == "FAILURE" and r["context"] in NAME_ERRORS
    if cid in STAGE1_NAME and not named:
        return f"listed in STAGE1_NAME but stock says '{stock_verdict}'"
    if cid in STAGE1_ESA and STAGE1_ESA[cid][0] == stock_verdict:
        return "listed in STAGE1_ESA but stock agrees now"
    if named and cid not in STAGE1_NAME and cid not in STAGE1_ESA:
        return (f"stock failed on the name ('{r['context']}'): add the "
                "chain-only verdict to STAGE1_NAME")
    return None


def case_files(case, tmp):
    """The case's PEM files in a new directory: {name: path}."""
    d = tempfile.mkdtemp(dir=tmp)
    files = {"cert.pem": [case["peer_certificate"]] +
             case["untrusted_intermediates"],
             "peer.pem": [case["peer_certificate"]],
             "inter.pem": case["untrusted_intermediates"],
             "ca.pem": case["trusted_certs"], "crl.pem": case["crls"]}
    paths = {}
    for name, items in files.items():
        paths[name] = os.path.join(d, name)
        with open(paths[name], "w", encoding="ascii") as f:
            f.write(pem(items))
    return paths


def esa_chain(case, paths, binary, empty_zone, extra):
    """esa-check's chain verdict for case: (verdict, None) or (None, why)."""
    argv = [binary, "--json", "--mode", "verify", "--dns-file", empty_zone,
            "--cert", paths["cert.pem"], "--cafile", paths["ca.pem"]]
    if case["crls"]:
        argv += ["--crl", paths["crl.pem"]]
    if case["validation_time"]:
        argv += ["--at", str(unix_time(case["validation_time"]))]
    rc, doc, err = run(argv + extra + [DUMMY_DOMAIN])
    if doc is None:
        return None, f"esa-check exit {rc}: {err}"
    chain = doc["chain"]
    if chain["auth_level"] != STOCK_LEVEL:
        return None, (f"security level {chain['auth_level']}, a stock "
                      f"client's is {STOCK_LEVEL}")
    strict = "x509_strict" in chain["flags"]
    if strict != bool(extra):
        return None, f"flags {chain['flags']} with options {extra}"
    return (OK if chain["ok"] else chain["error"]), None


def openssl_verdict(case, paths):
    """Stock OpenSSL's verdict as a TLS client's (see the file header)."""
    argv = ["openssl", "verify", "-purpose", "sslserver", "-auth_level",
            str(STOCK_LEVEL), "-CAfile", paths["ca.pem"]]
    if case["untrusted_intermediates"]:
        argv += ["-untrusted", paths["inter.pem"]]
    if case["crls"]:
        argv += ["-crl_check_all", "-CRLfile", paths["crl.pem"]]
    if case["validation_time"]:
        argv += ["-attime", str(unix_time(case["validation_time"]))]
    p = subprocess.run(argv + [paths["peer.pem"]], capture_output=True,
                       text=True, timeout=60)
    m = VERIFY_ERROR.search(p.stdout + p.stderr)
    if m:
        return m.group(1).strip()
    return OK if p.returncode == 0 else f"openssl verify exit {p.returncode}"


def stage1(case, stock, binary, tmp, empty_zone):
    """One SERVER case in both profiles: [(ok, line)], (stock verdict,
    harness verdict)."""
    cid = case["id"]
    paths = case_files(case, tmp)
    lines = []
    want = openssl_verdict(case, paths)
    got, why = esa_chain(case, paths, binary, empty_zone, [])
    if why:
        lines.append((False, f"not ok - chain {cid}: {why}"))
    elif got != want:
        lines.append((False, f"not ok - chain {cid}: expected {want!r} "
                             f"(openssl verify) got {got!r}"))
    else:
        lines.append((True, f"ok - chain {cid}"))
    stock_got = got
    problem = stage1_table_problem(case, stock)
    if problem:
        lines.append((False, f"not ok - strict {cid}: {problem}"))
        return lines, (stock_got, None)
    want, note = stage1_expect(case, stock)
    got, why = esa_chain(case, paths, binary, empty_zone, HARNESS_FLAGS)
    if why:
        lines.append((False, f"not ok - strict {cid}: {why}"))
    elif got != want:
        lines.append((False, f"not ok - strict {cid}: expected {want!r} "
                             f"got {got!r}" + (f" ({note})" if note else "")))
    else:
        lines.append((True, f"ok - strict {cid}" +
                            (f" # {note}" if note else "")))
    return lines, (stock_got, got)


def load_table(path):
    """docs/conformance.md's rows: {id: (default verdict, strict verdict)}."""
    rows = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                m = TABLE_ROW.match(line)
                if m:
                    rows[m.group(1)] = (m.group(2), m.group(3))
    except OSError as e:
        raise Setup(f"cannot read {path}: {e}")
    if not rows:
        raise Setup(f"{path}: no table rows (| `ID` | DEFAULT | STRICT |)")
    return rows


def profile_lines(verdicts, table, table_name):
    """Where the two profiles differ, checked against the documented table."""
    lines = []
    for cid, (plain, strict) in sorted(verdicts.items()):
        if plain is None or strict is None:
            continue
        documented = table.get(cid)
        if plain == strict:
            if documented:
                lines.append((False, f"not ok - profiles {cid}: in "
                                     f"{table_name} but both give {plain!r}"))
            continue
        if documented is None:
            lines.append((False, f"not ok - profiles {cid}: default "
                                 f"{plain!r}, strict {strict!r}: not in "
                                 f"{table_name}"))
        elif documented != (plain, strict):
            lines.append((False, f"not ok - profiles {cid}: {table_name} "
                                 f"says {documented}, the run "
                                 f"{(plain, strict)}"))
        else:
            lines.append((True, f"ok - profiles {cid}: default {plain!r}, "
                                f"strict {strict!r}"))
    for cid in sorted(set(table) - set(verdicts)):
        lines.append((False, f"not ok - profiles {cid}: in {table_name} "
                             "but not a SERVER case of the data"))
    return lines


def verdict(doc, mode):
    """"dns:X", "cn:X" or "fail" from one mode of esa-check's JSON."""
    v = doc[mode]
    if not v["pass"]:
        return "fail"
    for t in v["tried"]:
        if t["outcome"] == "match":
            return f"{t['compared']}:{t['presented']}"
    return "pass-without-match"


def stage2(case, binary, tmp, empty_zone):
    """One DNS-name case: (ok, line)."""
    cid = case["id"]
    if cid not in STAGE2:
        return False, f"not ok - names {cid}: no expected verdict in STAGE2"
    want_v, want_h, why = STAGE2[cid]
    d = tempfile.mkdtemp(dir=tmp)
    cert = os.path.join(d, "cert.pem")
    with open(cert, "w", encoding="ascii") as f:
        f.write(pem([case["peer_certificate"]] +
                    case["untrusted_intermediates"]))
    rc, doc, err = run([binary, "--json", "--no-chain", "--mode", "both",
                        "--dns-file", empty_zone, "--cert", cert,
                        case["expected_peer_name"]["value"]])
    if rc == 2 and "invalid domain" in err:
        got = ("refused", "refused")
    elif doc is None:
        return False, f"not ok - names {cid}: esa-check exit {rc}: {err}"
    else:
        got = (verdict(doc, "verify"), verdict(doc, "hosted"))
    if got != (want_v, want_h):
        return False, (f"not ok - names {cid}: expected verify={want_v} "
                       f"hosted={want_h} got verify={got[0]} "
                       f"hosted={got[1]}")
    limbo = case["expected_result"]
    return True, (f"ok - names {cid}: verify={got[0]} hosted={got[1]}" +
                  (f" # limbo {limbo}: {why}" if why else ""))


def is_stage2(case):
    """A DNS-name case of the matcher (see the file header)."""
    name = case["expected_peer_name"]
    return bool(STAGE2_IDS.match(case["id"]) and name and
                name.get("kind") == "DNS")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True, help="esa-check to test")
    ap.add_argument("--data", required=True, help="conformance data dir")
    ap.add_argument("--table", required=True,
                    help="docs/conformance.md: where the profiles differ")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    try:
        if not os.access(args.bin, os.X_OK):
            raise Setup(f"{args.bin} not built (run make)")
        cases, stock = load_data(args.data)
        table = load_table(args.table)
    except Setup as e:
        print(f"conformance: {e}", file=sys.stderr)
        print("conformance: 0 passed, 1 failed")
        return 1
    server = [c for c in cases if c["validation_kind"] == "SERVER"]
    names = [c for c in server if is_stage2(c)]
    print(f"# {len(server)} SERVER cases (stage I), {len(names)} DNS-name "
          f"cases (stage II), {len(cases) - len(server)} CLIENT cases left "
          "out")
    lines = []
    with tempfile.TemporaryDirectory(prefix="esa-conformance.") as tmp:
        empty_zone = os.path.join(tmp, "empty.zone")
        open(empty_zone, "w", encoding="ascii").close()
        with ThreadPoolExecutor(max(1, args.jobs)) as ex:
            jobs1 = [ex.submit(stage1, c, stock, args.bin, tmp, empty_zone)
                     for c in server]
            jobs2 = [ex.submit(stage2, c, args.bin, tmp, empty_zone)
                     for c in names]
            verdicts = {}
            for c, j in zip(server, jobs1):
                case_lines, verdicts[c["id"]] = j.result()
                lines += case_lines
            lines += [j.result() for j in jobs2]
    lines += profile_lines(verdicts, table, os.path.basename(args.table))
    seen = {c["id"] for c in names}
    for cid in sorted(set(STAGE2) - seen):
        lines.append((False, f"not ok - names {cid}: in STAGE2 but not a "
                             "DNS-name case of the data"))
    for cid in sorted((set(STAGE1_NAME) | set(STAGE1_ESA)) -
                      {c["id"] for c in server}):
        lines.append((False, f"not ok - strict {cid}: in a stage I table but "
                             "not a SERVER case of the data"))
    for _, line in lines:
        print(line)
    passed = sum(1 for ok, _ in lines if ok)
    failed = len(lines) - passed
    print(f"conformance: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
