#!/usr/bin/python3
"""Runs the foundation benchmarks and prints the table (called by bench/run.sh).

Every row runs in every implementation -- tulip, Boost.Asio, asyncio,
asyncio+uvloop -- in fresh processes pinned to one core (taskset -c 1),
interleaved (rep 1 of every implementation, then rep 2, ...) so that a burst
of load from elsewhere hits them alike. The table shows the median of the
runs (5 for C++, 3 for Python by default), the ratio of each peer's median to
tulip's (how many times faster / leaner tulip is), and PASS/MISS per target.

Times are CPU time (user + system) of the measured section by default: on a
shared machine, wall time also counts the time a process waited for its core.
--metric wall ranks by wall time instead; both tables are printed.

Options: --reps N, --py-reps N, --rows a,b, --impls a,b, --bin-dir DIR,
--cpu N, --metric cpu|wall, --raw FILE (append every RESULT line to FILE).
"""
import argparse
import datetime
import os
import shutil
import signal
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"  # Debian's Python, the one with python3-uvloop

# row id, label, unit
ROWS = [
    ("tasks_seq", "1a. 1M tasks: create_task + await, one at a time", "s"),
    ("tasks_batch", "1b. 1M tasks: create all, then await all", "s"),
    ("callbacks", "2.  1M call_soon callbacks, scheduled up front", "s"),
    ("timers", "3.  1M timers, distinct delays 0-10 ms, all fired", "s"),
    ("chain", "4a. 1M nested co_awaits, one chain (Python: 1k deep x 1k *)", "s"),
    ("chain1k", "4b. 1M nested co_awaits as 1k deep x 1k times", "s"),
    ("mem_task", "5.  memory per task parked on a Future (100k tasks)", "B"),
]
IMPLS = ["tulip", "asio", "asyncio", "uvloop"]
PEERS = ["asio", "asyncio", "uvloop"]

# (row, peer, minimum ratio peer/tulip) and absolute limits (row, max value).
RATIO_TARGETS = [
    ("tasks_seq", "asyncio", 100), ("tasks_batch", "asyncio", 100),
    ("callbacks", "asyncio", 30),
] + [(r[0], "asio", 2) for r in ROWS]
ABS_TARGETS = [("mem_task", 512)]


def command(impl, row, bin_dir):
    if impl == "tulip":
        return [os.path.join(bin_dir, "bench_tulip"), row]
    if impl == "asio":
        return [os.path.join(bin_dir, "bench_asio"), row]
    return [PY, os.path.join(HERE, "asyncio_bench.py"), impl, row]


def run_one(cmd, cpu, raw):
    if cpu is not None:
        cmd = ["taskset", "-c", str(cpu)] + cmd
    # SIGINT at its default in the child, as in a terminal: a shell starts
    # background jobs with SIGINT ignored, and tulip::run() (like asyncio.run)
    # only installs its Ctrl-C handler when SIGINT is at its default, so the
    # result must not depend on how this script was started.
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=900,
                       preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
    value, notes = None, []
    for line in p.stdout.splitlines():
        parts = line.split()
        if parts and parts[0] == "RESULT":
            value = {"wall": float(parts[3]), "cpu": float(parts[3])}
            for extra in parts[5:]:
                key, _, v = extra.partition("=")
                value[key] = float(v)
            if raw:
                raw.write(line + "\n")
        elif parts and parts[0] == "NOTE":
            notes.append(line[5:])
    if value is None:
        raise RuntimeError(f"{' '.join(cmd)} printed no RESULT line")
    return value, notes


def fmt(v, unit):
    if v is None:
        return "-"
    if unit == "B":
        return f"{v:.0f} B"
    if v >= 1:
        return f"{v:.2f} s"
    return f"{v * 1000:.1f} ms"


def fmt_ratio(peer, base):
    if peer is None or base is None or base <= 0:
        return "-"
    r = peer / base
    return f"{r:.0f}x" if r >= 10 else f"{r:.2f}x"


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
    return f"nproc {os.cpu_count()}, {model}, load average {load}"


def library_version():
    """The commit measured (read-only git), and whether include/ or src/ had local changes."""
    root = os.path.dirname(HERE)
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
    ap.add_argument("--bin-dir", default=os.path.join(HERE, "..", "build", "bench", "bench"))
    ap.add_argument("--reps", type=int, default=5, help="runs per C++ cell (median is reported)")
    ap.add_argument("--py-reps", type=int, default=3, help="runs per Python cell")
    ap.add_argument("--rows", default=",".join(r[0] for r in ROWS))
    ap.add_argument("--impls", default=",".join(IMPLS))
    ap.add_argument("--cpu", type=int, default=1 if (os.cpu_count() or 1) > 1 else 0)
    ap.add_argument("--metric", choices=["cpu", "wall"], default="cpu",
                    help="which time the table, ratios and targets use (default: cpu)")
    ap.add_argument("--raw", help="append every RESULT line to this file")
    args = ap.parse_args()

    rows = [r for r in ROWS if r[0] in args.rows.split(",")]
    impls = [i for i in IMPLS if i in args.impls.split(",")]
    cpu = args.cpu if shutil.which("taskset") else None
    raw = open(args.raw, "a") if args.raw else None
    if cpu is None:
        print("warning: taskset not found, processes are not pinned", file=sys.stderr)

    started = datetime.datetime.now().astimezone()
    print(f"tulip foundation benchmarks, {started:%Y-%m-%d %H:%M %Z}")
    print(f"machine: {machine()}")
    print(f"tulip: commit {library_version()}")
    print(f"runs: {args.reps} per C++ cell, {args.py_reps} per Python cell, median reported; "
          f"each process pinned with taskset -c {cpu}")
    other = "wall" if args.metric == "cpu" else "cpu"
    print(f"times: {'CPU time (user + system)' if args.metric == 'cpu' else 'wall time'} of the measured "
          f"section; the {other}-time medians follow the main table")
    print()

    values = {}  # (row, impl) -> [values of the chosen metric]
    others = {}  # (row, impl) -> [values of the other metric]
    notes = set()
    for row, label, unit in rows:
        reps = max(args.reps, args.py_reps)
        for k in range(reps):
            for impl in impls:
                want = args.reps if impl in ("tulip", "asio") else args.py_reps
                if k >= want:
                    continue
                v, n = run_one(command(impl, row, args.bin_dir), cpu, raw)
                values.setdefault((row, impl), []).append(v[args.metric])
                others.setdefault((row, impl), []).append(v[other])
                notes.update(n)
                print(f"  {row:<12} {impl:<8} run {k + 1}: {fmt(v['wall'], unit)}"
                      + (f" wall, {fmt(v['cpu'], unit)} cpu" if unit == "s" else ""),
                      file=sys.stderr, flush=True)

    med = {key: statistics.median(vs) for key, vs in values.items()}
    other_med = {key: statistics.median(vs) for key, vs in others.items()}

    header = ["row"] + impls + [f"tulip vs {p}" for p in PEERS if p in impls and "tulip" in impls]
    table = []
    for row, label, unit in rows:
        line = [label] + [fmt(med.get((row, i)), unit) for i in impls]
        if "tulip" in impls:
            line += [fmt_ratio(med.get((row, p)), med.get((row, "tulip"))) for p in PEERS if p in impls]
        table.append(line)
    print_table(header, table)
    print("ratios: peer median / tulip median, i.e. how many times faster (or, for memory, leaner) tulip is.")
    print("* Python cannot nest 1,000,000 awaits (recursion limit): its row 4a runs 1,000 deep x 1,000 times,")
    print("  the same number of awaits as tulip's and asio's single chain of 1,000,000; row 4b is that shape for all.")
    for n in sorted(notes):
        print(f"  note: {n}")

    print()
    print(f"{other} time, medians of the same runs:")
    wall_rows = []
    for row, label, unit in rows:
        if unit != "s":
            continue
        line = [row] + [fmt(other_med.get((row, i)), unit) for i in impls]
        if "tulip" in impls:
            line += [fmt_ratio(other_med.get((row, p)), other_med.get((row, "tulip"))) for p in PEERS if p in impls]
        wall_rows.append(line)
    print_table(["row"] + header[1:], wall_rows)

    print()
    print(f"spread of the {args.metric} time (min .. max of the runs):")
    spread = []
    for row, label, unit in rows:
        line = [row]
        for i in impls:
            vs = values.get((row, i))
            line.append(f"{fmt(min(vs), unit)} .. {fmt(max(vs), unit)}" if vs else "-")
        spread.append(line)
    print_table(["row"] + impls, spread)

    print()
    print("targets:")
    misses = 0
    for row, peer, want in RATIO_TARGETS:
        t, p = med.get((row, "tulip")), med.get((row, peer))
        if t is None or p is None:
            continue
        r = p / t
        ok = r >= want
        misses += not ok
        what = "leaner" if row == "mem_task" else "faster"
        extra = "" if ok else f"  (short by {want / r:.2f}x)"
        print(f"  {'PASS' if ok else 'MISS'}  {row:<12} tulip >= {want}x {what} than {peer}: {r:.2f}x{extra}")
    for row, limit in ABS_TARGETS:
        t = med.get((row, "tulip"))
        if t is None:
            continue
        ok = t < limit
        misses += not ok
        print(f"  {'PASS' if ok else 'MISS'}  {row:<12} tulip < {limit} bytes per parked task: {t:.0f} B")
    print(f"{misses} target(s) missed.")
    if raw:
        raw.close()


def print_table(header, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    def line(cells):
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line(r))


if __name__ == "__main__":
    main()
