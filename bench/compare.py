#!/usr/bin/python3
"""Runs two builds of tulip's benchmarks in one run (called by bench/compare.sh).

Foundation rows (bench_tulip) and sync rows (sync_tulip, without the
subprocess rows, which measure the kernel): each rep runs the base build,
then the new one, in fresh processes pinned to core 1, so load from elsewhere
hits both alike. Reports CPU-time medians and new/base. Then the echo
benchmark (bench/echo/run.py --quick) with both builds' tulip servers.
"""
import argparse
import os
import signal
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FOUNDATION = ["tasks_seq", "tasks_batch", "callbacks", "timers", "chain", "chain1k", "mem_task"]
SYNC = ["queue_bounded", "queue_unbounded", "lock"]


def run(cmd):
    cmd = ["taskset", "-c", "1"] + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=900,
                       preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
    for line in p.stdout.splitlines():
        parts = line.split()
        if parts and parts[0] == "RESULT":
            # "RESULT <row> tulip <value> <unit> [cpu=S]" (bench_tulip) or
            # "RESULT <row> tulip wall=S cpu=S" (sync_tulip): CPU seconds where
            # given, else the value (bytes, for mem_task).
            extra = dict(x.split("=", 1) for x in parts[3:] if "=" in x)
            return float(extra["cpu"]) if "cpu" in extra else float(parts[3])
    raise RuntimeError(f"{' '.join(cmd)} printed no RESULT line")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, help="the base build's bench/ directory")
    ap.add_argument("--new", required=True, help="the new build's bench/ directory")
    ap.add_argument("--base-rev", default="base")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--no-echo", action="store_true")
    args = ap.parse_args()

    rows = [("bench_tulip", r) for r in FOUNDATION] + [("sync/sync_tulip", r) for r in SYNC]
    print(f"tulip before/after: base {args.base_rev} vs the working tree; medians of {args.reps} runs, "
          f"CPU time (bytes for mem_task); load average {os.getloadavg()[0]:.1f}")
    print(f"{'row':<18}{'base':>12}{'new':>12}{'new/base':>10}")
    for exe, row in rows:
        got = {"base": [], "new": []}
        for _ in range(args.reps):
            for which in ("base", "new"):
                got[which].append(run([os.path.join(getattr(args, which), exe), row]))
        b, n = statistics.median(got["base"]), statistics.median(got["new"])
        print(f"{row:<18}{b:>12.4g}{n:>12.4g}{n / b:>10.3f}", flush=True)
    if not args.no_echo:
        print()
        subprocess.run([sys.executable, os.path.join(HERE, "echo", "run.py"), "--quick", "--idle", "0",
                        "--bin-dir", os.path.join(args.new, "echo"), "--base-bin-dir", os.path.join(args.base, "echo"),
                        "--servers", "tulip-streams,tulip-protocol,tulip-streams@base,tulip-protocol@base",
                        "--reps", "3"], check=True)


if __name__ == "__main__":
    main()
