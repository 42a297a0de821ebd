#!/usr/bin/python3
"""report.py - the summary of `make bench` from build/bench/results.txt

Usage: bench/report.py RESULTS > summary.md

Reads the "RESULT key=value ..." lines the benchmark programs and
bench/run.sh wrote, and prints Markdown: the machine, then one table per
section of issue 5 with its goal and whether it is met, for the current
tree and, when `make bench BENCH_BASE=REV` built one, for the tree at REV
("base": the shim variants NAME@base in sections 2 and 5, a base column
in section 3).  Results without base lines give the tables without it.
Ratios are throughput ratios against stock OpenSSL (1.0 = as fast; above
the goal is good); instruction ratios are stock's count over the
variant's, so they read the same way.
"""
import sys

GOAL_RATIO = 0.98          # sections 1 and 2
GOAL_DECIDE_X = 2.0        # section 3: at most 2x X509_check_host
GOAL_BIG_NS = 500_000      # section 3: "well under 1 ms", read as <= 0.5 ms
GOAL_HEAP_KB = 64          # section 5: malloc's bytes in use, 1,000 -> last
GOAL_AB_US = 25            # section 2: client CPU the full A/B line adds
GOAL_BY_HAND_X = 1.25      # section 3: Verify against the same steps by hand
# section 2: the variants that log the full A/B line (ESA_LOG_LEVEL=ab)
AB_VARIANTS = ("enforce", "observe", "enforce@base", "observe@base")


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            if not line.startswith("RESULT "):
                continue
            row = {}
            for tok in line.split()[1:]:
                k, _, v = tok.partition("=")
                row[k] = v
            rows.append(row)
    return rows


def sel(rows, **kw):
    return [r for r in rows if all(r.get(k) == v for k, v in kw.items())]


def one(rows, **kw):
    r = sel(rows, **kw)
    return r[0] if r else None


def met(ok):
    if ok is None:
        return "n/a"
    return "**met**" if ok else "**not met**"


def f2(x, nd=3):
    return "-" if x is None else f"{x:.{nd}f}"


def n0(x):
    """a count or a time, thousands separated, or '-'"""
    return "-" if x is None else f"{x:,.0f}"


RAW_KEYS = ("commit", "base", "base_rev")    # shown as written


def machine_facts(rows):
    m = {}
    for r in sel(rows, section="machine-text") + sel(rows, section="machine"):
        for k, v in r.items():
            if k != "section":
                m[k] = v if k in RAW_KEYS else v.replace("_", " ")
    return m


def has_base(rows):
    return bool(machine_facts(rows).get("base"))


def machine(rows):
    m = machine_facts(rows)
    print("# esaverify benchmarks: `make bench`\n")
    if m.get("base"):
        print(f"- **compared**: current tree {m.get('commit', '?')} against "
              f"base {m['base']} (`BENCH_BASE={m.get('base_rev', '?')}`); "
              "the base in sections 2 and 5 (shim variants `NAME@base`) "
              "and 3 (column `base`); sections 1 and 4: current tree only")
        if not m.get("base_shim"):
            print("- base shim not built (no shim at that revision, or it "
                  "did not build): no `@base` variants")
        if not m.get("base_decide"):
            print("- base bench_decide not built (bench/bench_decide.c does "
                  "not compile against that revision's internal API; see "
                  "build/bench/base/SHA/build.log): section 3 without the "
                  "base")
    else:
        print(f"- tree: {m.get('commit', '?')}")
    print(f"- machine: {m.get('nproc', '?')} CPUs, {m.get('cpu', '?')}; "
          f"kernel {m.get('kernel', '?')}; {m.get('glibc', '?')}")
    print(f"- OpenSSL: {m.get('openssl', '?')}")
    print(f"- run: {m.get('date', '?')}, {m.get('seconds', '?')} s; load "
          f"average {m.get('load_start', '?')} at the start, "
          f"{m.get('load_end', '?')} at the end; network namespace: "
          f"{m.get('netns') or 'the host (not root or no unshare)'}")
    errors = sel(rows, section="error")
    if errors:
        print("- **FAILED**: " + ", ".join(e["name"] for e in errors))
    print()


def hs_instr(rows):
    """section 1 callgrind: {(key, variant): instructions per handshake}"""
    out = {}
    for r in sel(rows, section="handshake-instr"):
        parts = r["label"].split("/")          # hs/KEY/VARIANT/N
        if len(parts) == 4:
            out[(parts[1], parts[2])] = int(r["instr"]) / int(parts[3])
    return out


def verdicts(wall, cpu, instr):
    """the goal checked on each measure that exists"""
    parts = []
    for name, x in (("wall", wall), ("cpu", cpu), ("instr", instr)):
        if x is not None:
            parts.append(f"{name} {'met' if x >= GOAL_RATIO else '**not met**'}")
    return ", ".join(parts)


def num(r, k):
    return float(r[k]) if k in r else None


def section1(rows):
    print("## 1. Handshakes in one process (stock vs the callback)\n")
    print("Full handshakes on loopback, new TCP connection each, client "
          "and server threads in one process. Ratios are stock's cost per "
          "handshake over the variant's (1.0 = as fast, higher is better): "
          "`wall` and `cpu` (process CPU time, both threads) per round of "
          "interleaved batches, median over the rounds [quartiles]; "
          "`instr` = client-thread instructions under callgrind. Goal for "
          f"esa-warm: >= {GOAL_RATIO}.\n")
    instr = hs_instr(rows)
    print("| key | variant | wall us/hs | wall ratio [q25, q75] | cpu us/hs "
          "| cpu ratio [q25, q75] | client instr/hs | instr ratio | DNS "
          "queries/hs | goal |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in sel(rows, section="handshake"):
        key, var = r["key"], r["variant"]
        ins = instr.get((key, var))
        base = instr.get((key, "stock"))
        iratio = base / ins if ins and base else None
        goal = verdicts(num(r, "ratio_median"), num(r, "cpu_ratio_median"),
                        iratio) if var == "esa-warm" else ""
        print(f"| {key} | {var} | {float(r['us_median']):.0f} | "
              f"{float(r['ratio_median']):.3f} [{float(r['ratio_q25']):.3f}, "
              f"{float(r['ratio_q75']):.3f}] | "
              f"{float(r.get('cpu_us_median', 'nan')):.0f} | "
              f"{float(r.get('cpu_ratio_median', 'nan')):.3f} "
              f"[{float(r.get('cpu_ratio_q25', 'nan')):.3f}, "
              f"{float(r.get('cpu_ratio_q75', 'nan')):.3f}] | "
              f"{'-' if ins is None else f'{ins:,.0f}'} | {f2(iratio)} | "
              f"{r['queries_per_hs']} | {goal} |")
    print()


def section2(rows):
    print("## 2. The shim in a program (bench/hsloop under LD_PRELOAD)\n")
    print("One hsloop process per run, runs interleaved, handshakes 2..N "
          "of each (the first, with start-up, apart). `wall` and `cpu` "
          "(hsloop's CPU time: the client alone, the server is another "
          "process) ratios: median over rounds [quartiles]; `instr`: "
          "hsloop's instructions per handshake under callgrind (difference "
          "of two run lengths)." + (
              " `NAME@base`: the variant NAME with the base revision's "
              "shim." if has_base(rows) else "") +
          f" Goal: >= {GOAL_RATIO}.\n")
    print("Variants: `enforce` and `observe` log the full A/B line "
          "(`ESA_LOG_LEVEL=ab`); `summary` is enforce with the short line "
          "(the default under esa), `failures` enforce with no line for "
          "these accepted connections. Key `smtp-ec`: each connection a "
          "whole delivery (banner, EHLO, STARTTLS, handshake, EHLO, MAIL, "
          "RCPT, DATA of 10 KB, QUIT) to an SMTP server whose port is in "
          "`ESA_PORTS`. `added us`: the variant's client CPU per "
          "handshake minus stock's, per round, median [quartiles]. Goals: "
          f">= {GOAL_RATIO} (wall and CPU for the full line per delivery, "
          "CPU for `summary` per bare handshake); the full A/B line adds "
          f"<= {GOAL_AB_US} us of client CPU per handshake.\n")
    instr = {(r["key"], r["variant"]): float(r["instr_per_hs"])
             for r in sel(rows, section="shim-instr")}
    print("| key | variant | wall us/hs | wall ratio [q25, q75] | cpu us/hs "
          "| cpu ratio [q25, q75] | added us [q25, q75] | first hs us | "
          "client instr/hs | instr ratio | goal |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in sel(rows, section="shim"):
        key, var = r["key"], r["variant"]
        ins = instr.get((key, var))
        sins = instr.get((key, "stock"))
        iratio = sins / ins if ins and sins else None
        add = num(r, "cpu_added_us_median")
        goal = shim_goal(key, var, r, iratio, add)
        added = "-" if add is None or var == "stock" else \
            f"{add:.1f} [{float(r['cpu_added_us_q25']):.1f}, " \
            f"{float(r['cpu_added_us_q75']):.1f}]"
        print(f"| {key} | {var} | {float(r['us_median']):.0f} | "
              f"{float(r['ratio_median']):.3f} [{float(r['ratio_q25']):.3f}, "
              f"{float(r['ratio_q75']):.3f}] | "
              f"{float(r.get('cpu_us_median', 'nan')):.0f} | "
              f"{float(r.get('cpu_ratio_median', 'nan')):.3f} "
              f"[{float(r.get('cpu_ratio_q25', 'nan')):.3f}, "
              f"{float(r.get('cpu_ratio_q75', 'nan')):.3f}] | {added} | "
              f"{float(r['first_us_median']):.0f} | "
              f"{'-' if ins is None else f'{ins:,.0f}'} | {f2(iratio)} | "
              f"{goal} |")
    print()
    shim_changes(rows, instr)


def shim_goal(key, var, r, iratio, add):
    """section 2's goals for one row: per delivery (smtp-ec) wall and CPU
    >= GOAL_RATIO with the full line; per bare handshake the full line's
    budget, and CPU >= GOAL_RATIO with the summary line; the instruction
    ratio reported against GOAL_RATIO as before"""
    if var == "stock":
        return ""
    wall, cpu = num(r, "ratio_median"), num(r, "cpu_ratio_median")
    if key.startswith("smtp"):
        return verdicts(wall, cpu, iratio) if var in AB_VARIANTS or \
            var == "summary" else ""
    parts = []
    if var in AB_VARIANTS and add is not None:
        parts.append(f"budget {add:.0f} us: "
                     f"{'met' if add <= GOAL_AB_US else '**not met**'}")
    if var == "summary":
        parts.append(verdicts(None, cpu, iratio))
    elif var in AB_VARIANTS:
        parts.append(verdicts(wall, cpu, iratio))
    return ", ".join(p for p in parts if p)


def change(new, old):
    """new against old as a signed percentage, or '-'"""
    if new is None or not old:
        return "-"
    return f"{(new - old) / old * 100:+.1f} %"


def shim_changes(rows, instr):
    """section 2: each variant against its @base twin, when there is one"""
    pairs = [(r, one(rows, section="shim", key=r["key"],
                     variant=r["variant"] + "@base"))
             for r in sel(rows, section="shim")]
    pairs = [(r, b) for r, b in pairs if b is not None]
    if not pairs:
        return
    print("Current against base, same run (negative = the current tree "
          "costs less):\n")
    print("| key | variant | cpu us/hs base | cpu us/hs current | change | "
          "client instr/hs base | client instr/hs current | change |")
    print("|---|---|---|---|---|---|---|---|")
    for r, b in pairs:
        var = r["variant"]
        cur_i = instr.get((r["key"], var))
        base_i = instr.get((r["key"], var + "@base"))
        cur_c, base_c = num(r, "cpu_us_median"), num(b, "cpu_us_median")
        print(f"| {r['key']} | {var} | {n0(base_c)} | {n0(cur_c)} | "
              f"{change(cur_c, base_c)} | {n0(base_i)} | {n0(cur_i)} | "
              f"{change(cur_i, base_i)} |")
    print()


def decide_instr(rows, build):
    out = {}
    for r in sel(rows, section="decide-instr", build=build):
        label = r["label"]                     # op/NAME.../N
        if not label.startswith("op/"):
            continue
        name, _, n = label[3:].rpartition("/")
        out[name] = int(r["instr"]) / int(n)
    return out


def section3(rows):
    print("## 3. The identity decision alone\n")
    print("One decision = esa_result_new + esa_identity_check_modes + "
          "esa_result_free, static resolver loaded (every lookup answered "
          "from memory). `ref`: SPEC 7's certificate, recipient "
          "example.com, peer 192.0.2.1; `match`: recipient "
          "emailhosted.not (a DNS-ID matches); `big`: 1,000 DNS-IDs, "
          "recipient with 50 MX names, nothing matches. `both` = "
          "esa_identity_check (Verify and Hosted, what the shim logs). "
          "Instructions: callgrind, per call; CPU ns: median over 31 "
          "batches (CPU time, so a busy machine does not inflate it)." +
          (" `base`: this program built against the base revision's "
           "library, same run." if has_base(rows) else "") + "\n")
    builds = [b for b in ("base", "current")
              if sel(rows, section="decide", build=b)]
    if not builds:
        print("No results.\n")
        return
    ins = {b: decide_instr(rows, b) for b in builds}
    ns = {b: {r["op"]: float(r["ns_median"])
              for r in sel(rows, section="decide", build=b)} for b in builds}
    both = len(builds) == 2
    head = "| operation |"
    for b in builds:
        head += f" instr ({b}) | CPU ns median ({b}) |"
    if both:
        head += " instr change | CPU change |"
    print(head)
    print("|---|" + "---|---|" * (len(builds) + both))
    ops = list(ns[builds[-1]])
    ops += [op for op in ns[builds[0]] if op not in ops]
    for op in ops:
        line = f"| {op} |"
        for b in builds:
            i = ins[b].get(op)
            line += f" {'-' if i is None else f'{i:,.0f}'} | " \
                    f"{n0(ns[b].get(op))} |"
        if both:
            line += f" {change(ins['current'].get(op), ins['base'].get(op))}" \
                    f" | {change(ns['current'].get(op), ns['base'].get(op))} |"
        print(line)
    print()
    print("| goal | " + " | ".join(builds) + " |")
    print("|---|" + "---|" * len(builds))
    for what, op in (("esa_identity_check (both modes) on SPEC 7's cert "
                      "<= 2 x X509_check_host", "esa/ref/both"),
                     ("Verify only (setting 5, the callback) <= 2 x "
                      "X509_check_host", "esa/ref/verify"),
                     ("a DNS-ID matches, Verify <= 2 x X509_check_host",
                      "esa/match/verify")):
        cells = []
        for b in builds:
            x = ins[b].get(op)
            ref = ins[b].get("x509/ref/example.com")
            if x and ref:
                cells.append(f"{x / ref:.1f} x: {met(x / ref <= GOAL_DECIDE_X)}")
            else:
                cells.append("n/a")
        print(f"| {what} | " + " | ".join(cells) + " |")
    cells = []
    for b in builds:	# no goal: what the record costs beyond the work
        x, h = ins[b].get("esa/ref/verify"), \
            ins[b].get("x509/ref/verify-by-hand")
        xn, hn = ns[b].get("esa/ref/verify"), \
            ns[b].get("x509/ref/verify-by-hand")
        cells.append(f"{x / h:.2f} x instr, {xn / hn:.2f} x CPU: "
                     f"{met(x / h <= GOAL_BY_HAND_X and xn / hn <= GOAL_BY_HAND_X)}"
                     if x and h and xn and hn else "n/a")
    print(f"| Verify <= {GOAL_BY_HAND_X} x the same steps written by hand, in "
          "instructions and CPU time: Verify against the same steps by hand with stock "
          "OpenSSL and the same resolver (x509/ref/verify-by-hand: "
          "X509_check_host on the recipient, PTR, X509_check_host on the "
          "PTR name, A) | " + " | ".join(cells) + " |")
    cells = []
    for b in builds:
        v = ns[b].get("esa/big/both")
        cells.append("n/a" if v is None else
                     f"{v / 1000:.0f} us CPU: {met(v <= GOAL_BIG_NS)}")
    print("| 1,000 DNS-IDs x 50 MX names decided (both modes) well under "
          f"1 ms (read: <= {GOAL_BIG_NS // 1000} us) | " + " | ".join(cells)
          + " |")
    print()


def section4(rows):
    print("## 4. DNS queries per verification\n")
    print("Through the callback against a real unbound; `sent` = "
          "esa_resolver_queries() delta, `log` = uncached entries of the "
          "decision record, `server` = queries unbound logged.\n")
    print("| scenario | phase | sent | log | server | types | expected | "
          "handshake | ok |")
    print("|---|---|---|---|---|---|---|---|---|")
    rs = sel(rows, section="dns")
    for r in rs:
        print(f"| {r['scenario']} | {r['phase']} | {r['sent']} | {r['log']} "
              f"| {r['server']} | {r['types']} | {r['expected']} | "
              f"{r['handshake']} | {'yes' if r['ok'] == '1' else '**NO**'} |")
    ok = bool(rs) and all(r["ok"] == "1" for r in rs)
    print(f"\nGoal (the minimum the algorithm needs; 0 when warm): "
          f"{met(ok if rs else None)}\n")


def section5(rows):
    print("## 5. Memory (hsloop, ECDSA)\n")
    print("After handshakes 1, 1000 and the last: RSS (/proc/self/statm) "
          "and the bytes malloc has handed out and not had back (mallinfo2: "
          "a leak shows there, fragmentation does not); peak RSS from "
          "getrusage. Added peak = the variant's peak RSS - stock's. Goal "
          f"(no growth): heap in use grows <= {GOAL_HEAP_KB} KiB from "
          "handshake 1000 to the last.\n")
    print("| variant | handshakes | peak RSS KiB | added peak KiB | RSS @1 | "
          "RSS @1000 | RSS @last | RSS growth | heap @1000 | heap @last | "
          "heap growth | goal |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in sel(rows, section="memory"):
        g = int(r.get("heap_growth_kb", r["growth_kb"]))
        short = " (shortened: too slow)" if r.get("shortened") == "1" else ""
        print(f"| {r['variant']} | {r['handshakes']}{short} | "
              f"{r['maxrss_kb']} | {r['added_peak_kb']} | {r['rss_kb_1']} | "
              f"{r['rss_kb_1000']} | {r['rss_kb_last']} | {r['growth_kb']} | "
              f"{r.get('heap_kb_1000', '-')} | {r.get('heap_kb_last', '-')} | "
              f"{g} | {met(g <= GOAL_HEAP_KB)} |")
    print()


def main():
    rows = load(sys.argv[1])
    machine(rows)
    section1(rows)
    section2(rows)
    section3(rows)
    section4(rows)
    section5(rows)


if __name__ == "__main__":
    main()
