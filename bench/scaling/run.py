#!/usr/bin/python3
"""Runs the scaling benchmark (called by bench/scaling/run.sh): every row at
1k, 100k and 1M elements in tulip, and in asyncio up to --py-max (default
100k: asyncio at 1M takes minutes and gigabytes), each in a fresh process,
and prints the time per element. Flat columns (the same ns per element at
every size) are what the benchmark is for: a row whose cost per element
grows with n is super-linear.

Options: --sizes 1000,100000,1000000  --py-max N  --rows a,b  --reps N
(median of N runs per cell)  --bin-dir DIR  --timeout S (per process; a cell
that takes longer shows "> S s")  --raw FILE (append every RESULT line).
"""
import argparse
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"
ROWS = [
    ("gather", "gather of n tasks, each listed twice"),
    ("wait", "wait(n tasks)"),
    ("as_completed", "as_completed(n tasks)"),
    ("task_group", "TaskGroup with n children"),
    ("lock", "n tasks queued on a Lock"),
    ("queue", "n getters on an empty Queue, n puts"),
    ("event", "n waiters on an Event, set()"),
    ("semaphore", "n waiters on Semaphore(0), n releases"),
    ("cancel_waiters", "n tasks awaiting shield(one Future), cancelled"),
    ("timers_cancel", "n call_later handles cancelled"),
]


def run_one(cmd, timeout, raw):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()[-500:]}")
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            if raw:
                raw.write(line + "\n")
                raw.flush()
            return float(line.split("sec=")[1])
    raise RuntimeError(f"{' '.join(cmd)} printed no RESULT line")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--sizes", default="1000,100000,1000000")
    ap.add_argument("--py-max", type=int, default=100000)
    ap.add_argument("--rows", default=",".join(r for r, _ in ROWS))
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--raw")
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    want = a.rows.split(",")
    raw = open(a.raw, "a") if a.raw else None
    header = ["row", "n", "tulip ns/elem", "asyncio ns/elem", "asyncio / tulip"]
    table = []
    for row, label in ROWS:
        if row not in want:
            continue
        for n in sizes:
            cells = {}
            for impl in ("tulip", "asyncio"):
                if impl == "asyncio" and n > a.py_max:
                    cells[impl] = "skipped"
                    continue
                cmd = ([os.path.join(a.bin_dir, "scaling_tulip"), row, str(n)] if impl == "tulip"
                       else [PY, os.path.join(HERE, "scaling_asyncio.py"), row, str(n)])
                times = []
                for _ in range(a.reps):
                    t = run_one(cmd, a.timeout, raw)
                    if t is None:
                        times = None
                        break
                    times.append(t)
                cells[impl] = (f"> {a.timeout:.0f} s" if times is None
                               else statistics.median(times) / n * 1e9)
            t, p = cells["tulip"], cells["asyncio"]
            fmt = lambda v: f"{v:.0f}" if isinstance(v, float) else v
            ratio = f"{p / t:.1f}x" if isinstance(t, float) and isinstance(p, float) else "-"
            table.append([row if n == sizes[0] else "", f"{n:,}", fmt(t), fmt(p), ratio])
            print(f"  {row} n={n}: tulip {fmt(t)} ns/elem, asyncio {fmt(p)}", file=sys.stderr, flush=True)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *table)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in table:
        print(line(r))
    print("ns/elem: CPU time (user + system) of the measured section / n (median of --reps runs).")
    for row, label in ROWS:
        if row in want:
            print(f"  {row}: {label}")


if __name__ == "__main__":
    main()
