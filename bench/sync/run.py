#!/usr/bin/python3
"""Runs the synchronisation and subprocess benchmarks -- tulip, asyncio,
asyncio+uvloop -- and prints the table (called by bench/sync/run.sh).

Every row runs in every implementation in fresh processes pinned to one core
(taskset -c 1; subprocesses inherit it), interleaved (run 1 of every
implementation, then run 2, ...) so that a burst of load from elsewhere hits
them alike. The table shows the medians and how many times faster tulip is.

Queue and Lock rows are ranked by CPU time (user + system) of the measured
section: on a shared machine wall time also counts the time a process waited
for its core. The subprocess rows are ranked by wall time: the parent mostly
waits for its children there, and their time is what matters. With --rt
(bench/sync/run.sh passes --rt 10 as root; RT=0 turns it off) every process
runs SCHED_FIFO, so that wall times are not set by other busy processes.

Options: --reps N (default 5), --rows a,b, --impls a,b, --bin-dir DIR,
--cpu N, --rt PRIO (SCHED_FIFO priority, as root), --raw FILE
(append every RESULT line to FILE), --from FILE... (no measuring: the
table of the medians of earlier --raw files).
"""
import argparse
import datetime
import os
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"  # Debian's Python, the one with python3-uvloop

# row id, label, the metric it is ranked by
ROWS = [
    ("queue_bounded", "1M items through Queue(maxsize=100), 1 producer, 1 consumer", "cpu"),
    ("queue_unbounded", "1M items through an unbounded Queue, 1 producer, 1 consumer", "cpu"),
    ("lock", "100k Lock round trips, 100 tasks (acquire, sleep(0), release)", "cpu"),
    ("spawn_seq", "1,000 `true` subprocesses, spawned + reaped one at a time", "wall"),
    ("spawn_conc", "1,000 `true` subprocesses, 10 at a time", "wall"),
]
IMPLS = ["tulip", "asyncio", "uvloop"]
# (row, minimum ratio asyncio / tulip)
TARGETS = [("queue_bounded", 30), ("queue_unbounded", 30), ("lock", 30), ("spawn_seq", 1), ("spawn_conc", 1)]


def command(impl, row, bin_dir):
    if impl == "tulip":
        return [os.path.join(bin_dir, "sync_tulip"), row]
    return [PY, os.path.join(HERE, "sync_asyncio.py"), impl, row]


def parse(line):
    parts = line.split()
    if len(parts) < 3 or parts[0] != "RESULT":
        return None
    rec = {"row": parts[1], "impl": parts[2]}
    for extra in parts[3:]:
        k, _, v = extra.partition("=")
        rec[k] = float(v)
    return rec


def run_one(cmd, cpu, raw, rt=None):
    if cpu is not None:
        cmd = ["taskset", "-c", str(cpu)] + cmd
    if rt is not None:
        cmd = ["chrt", "-f", str(rt)] + cmd  # children inherit SCHED_FIFO, in every implementation alike
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()[-500:]}")
    for line in p.stdout.splitlines():
        rec = parse(line)
        if rec:
            if raw:
                raw.write(line + "\n")
                raw.flush()
            return rec
    raise RuntimeError(f"{' '.join(cmd)} printed no RESULT line")


def fmt(v):
    if v is None:
        return "-"
    if v >= 1:
        return f"{v:.2f} s"
    return f"{v * 1000:.1f} ms"


def fmt_ratio(peer, base):
    if peer is None or base is None or base <= 0:
        return "-"
    r = peer / base
    return f"{r:.0f}x" if r >= 10 else f"{r:.2f}x"


def print_table(header, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]

    def line(cells):
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line(r))


def report(records, rows, impls):
    vals = {}
    for r in records:
        vals.setdefault((r["row"], r["impl"]), []).append(r)

    def med(row, impl, metric):
        rs = vals.get((row, impl))
        return statistics.median(x[metric] for x in rs) if rs else None

    peers = [p for p in impls if p != "tulip"]
    header = ["row", "ranked by"] + impls + [f"{p} / tulip" for p in peers if "tulip" in impls]
    table = []
    for row, label, metric in rows:
        line = [label, metric] + [fmt(med(row, i, metric)) for i in impls]
        if "tulip" in impls:
            line += [fmt_ratio(med(row, p, metric), med(row, "tulip", metric)) for p in peers]
        table.append(line)
    print_table(header, table)
    print("ratios: peer median / tulip median, i.e. how many times faster tulip is.")
    print()
    print("the other time, medians of the same runs:")
    table = []
    for row, label, metric in rows:
        other = "wall" if metric == "cpu" else "cpu"
        line = [row, other] + [fmt(med(row, i, other)) for i in impls]
        if "tulip" in impls:
            line += [fmt_ratio(med(row, p, other), med(row, "tulip", other)) for p in peers]
        table.append(line)
    print_table(["row", "time"] + header[2:], table)
    print()
    print("spread (min .. max of the runs, ranked metric), runs per cell:")
    table = []
    for row, label, metric in rows:
        line = [row]
        for i in impls:
            rs = vals.get((row, i), [])
            line.append(f"{fmt(min(x[metric] for x in rs))} .. {fmt(max(x[metric] for x in rs))} ({len(rs)})"
                        if rs else "-")
        table.append(line)
    print_table(["row"] + impls, table)
    print()
    print("targets:")
    misses = 0
    for row, want in TARGETS:
        metric = next((m for r, _, m in rows if r == row), None)
        if metric is None:
            continue
        t, a = med(row, "tulip", metric), med(row, "asyncio", metric)
        if t is None or a is None:
            continue
        r = a / t
        ok = r >= want
        misses += not ok
        what = f">= {want}x faster than asyncio" if want > 1 else "at least as fast as asyncio"
        extra = "" if ok else f"  (short by {want / r:.2f}x)"
        print(f"  {'PASS' if ok else 'MISS'}  {row:<16} tulip {what} ({metric}): {r:.2f}x{extra}")
    print(f"{misses} target(s) missed.")


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"nproc {os.cpu_count()}, {model}, kernel {os.uname().release}, load average {load}"


def library_version():
    root = os.path.dirname(os.path.dirname(HERE))
    try:
        head = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--", "include", "src"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head or 'unknown'}{' + local changes in include/ or src/' if dirty else ''}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir", default=os.path.join(HERE, "..", "..", "build", "bench", "bench", "sync"))
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--rows", default=",".join(r[0] for r in ROWS))
    ap.add_argument("--impls", default=",".join(IMPLS))
    ap.add_argument("--cpu", type=int, default=1 if (os.cpu_count() or 1) > 1 else 0)
    ap.add_argument("--rt", type=int, metavar="PRIO",
                    help="run every process with SCHED_FIFO priority PRIO (chrt -f; needs root)")
    ap.add_argument("--raw", help="append every RESULT line to this file")
    ap.add_argument("--from", dest="from_files", nargs="+", help="report the medians of these --raw files")
    args = ap.parse_args()
    rows = [r for r in ROWS if r[0] in args.rows.split(",")]
    impls = [i for i in IMPLS if i in args.impls.split(",")]

    if args.from_files:
        records = []
        for fn in args.from_files:
            with open(fn) as f:
                records += [r for r in map(parse, f) if r]
        print(f"tulip sync benchmarks: medians of {len(records)} results from {len(args.from_files)} file(s)")
        print()
        report(records, rows, impls)
        return

    cpu = args.cpu if shutil.which("taskset") else None
    started = datetime.datetime.now().astimezone()
    print(f"tulip sync benchmarks, {started:%Y-%m-%d %H:%M %Z}")
    print(f"machine: {machine()}")
    print(f"tulip: commit {library_version()}")
    print(f"runs: {args.reps} per cell, median reported; each process pinned with taskset -c {cpu}"
          + (f", SCHED_FIFO priority {args.rt} (chrt -f)" if args.rt is not None else ", normal priority"))
    print()
    raw = open(args.raw, "a") if args.raw else None
    records = []
    try:
        for row, label, metric in rows:
            for k in range(args.reps):
                for impl in impls:
                    rec = run_one(command(impl, row, args.bin_dir), cpu, raw, args.rt)
                    records.append(rec)
                    print(f"  {row:<16} {impl:<8} run {k + 1}: {fmt(rec['wall'])} wall, {fmt(rec['cpu'])} cpu",
                          file=sys.stderr, flush=True)
    finally:
        if raw:
            raw.close()
    report(records, rows, impls)
    print(f"(load average now {' '.join(f'{x:.2f}' for x in os.getloadavg())})")


if __name__ == "__main__":
    main()
