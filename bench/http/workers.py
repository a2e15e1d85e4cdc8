#!/usr/bin/python3
"""One loop per core (issue 14): the tulip hello server (bench/http/
tulip_http_server.cpp, http::run_app with --workers N, one loop per thread
on one SO_REUSEPORT port) at N = 1..nproc loops against wrk (-t1, 100
connections), each in a fresh process; requests/s and requests per server
CPU-second (utime + stime of the whole process from /proc over the window),
median of --reps runs. Nothing is pinned: with N loops the server may use N
cores, and wrk shares them. The number that says whether loops cost each
other anything is requests per server CPU-second: flat from 1 to N loops
means no cross-core cost. Called by bench/http/workers.sh.
"""
import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import time


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one(binary, workers, duration, poller):
    env = dict(os.environ, TULIP_POLLER=poller)
    srv = subprocess.Popen([binary, "--workers", str(workers)], stdout=subprocess.PIPE, env=env, text=True)
    try:
        line = srv.stdout.readline()
        port = int(line.split()[1])
        # warm-up
        subprocess.run(["wrk", "-t1", "-c100", "-d1s", f"http://127.0.0.1:{port}/"], capture_output=True)
        c0 = cpu_seconds(srv.pid)
        out = subprocess.run(["wrk", "-t1", "-c100", f"-d{duration}s", f"http://127.0.0.1:{port}/"],
                             capture_output=True, text=True).stdout
        c1 = cpu_seconds(srv.pid)
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        cpu = c1 - c0
        return rate, rate * duration / cpu if cpu > 0 else float("nan"), cpu / duration
    finally:
        srv.send_signal(signal.SIGTERM)
        try:
            srv.wait(5)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--max", type=int, default=os.cpu_count())
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--duration", type=int, default=4)
    ap.add_argument("--poller", default="io_uring")
    args = ap.parse_args()
    print(f"tulip hello, wrk -t1 -c100 -d{args.duration}s, TULIP_POLLER={args.poller}, medians of {args.reps}")
    print("| loops | requests/s | server CPU (cores) | requests per server CPU-s | vs 1 loop |")
    print("|-------|------------|--------------------|---------------------------|-----------|")
    base = None
    for n in range(1, args.max + 1):
        runs = [one(args.bin, n, args.duration, args.poller) for _ in range(args.reps)]
        rate = statistics.median(r[0] for r in runs)
        per = statistics.median(r[1] for r in runs)
        cores = statistics.median(r[2] for r in runs)
        base = base or per
        print(f"| {n} | {rate / 1000:.1f}k | {cores:.2f} | {per / 1000:.1f}k | {per / base:.2f}x |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
