#!/usr/bin/python3
"""The HTTP client benchmark (issue 13; called by bench/http/client_run.sh):
N GET requests (httpx: N/5) over C pooled keep-alive connections to a local nginx
(`return 200 "Hello, World!"`, one process, pinned to core 0), made by each
client in turn, pinned to core 1: tulip's ClientSession
(bench/http/client_tulip.cpp), aiohttp's ClientSession on asyncio and on
uvloop and httpx's AsyncClient (bench/http/client_py.py), and wrk -t1 -cC
(for its duration) as the C reference. Requests/s and requests per client
CPU-second; --reps passes, medians. Then the memory of a pooled idle
connection in tulip's client: --idle-base connections, then --idle more,
each after one request; RSS growth / --idle.

Targets (issue 13): tulip >= 5x aiohttp+uvloop and >= 0.8x wrk in
requests/s; a pooled idle connection under 4 KiB.

Options: --clients a,b --requests N --conns C --reps N --idle N (0: skip)
--idle-base N --rt PRIO --raw FILE --bin-dir DIR
"""
import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("httprun", os.path.join(HERE, "run.py"))
httprun = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(httprun)  # bench/http/run.py: nginx, wrk, pinning
echorun = httprun.echorun

CLIENTS = [
    ("tulip", "tulip http::ClientSession"),
    ("aiohttp-uvloop", "aiohttp ClientSession + uvloop"),
    ("aiohttp", "aiohttp ClientSession (asyncio)"),
    ("httpx", "httpx AsyncClient"),
    ("wrk", "wrk -t1 (C, the reference)"),
]
LABEL = dict(CLIENTS)
IDLE_LIMIT = 4096


def run_client(name, args, port, timeout):
    url = f"http://127.0.0.1:{port}/"
    if name == "wrk":
        # wrk runs for a time, not a count: about as long as tulip needs.
        r = httprun.wrk(port, "/", args.conns, args.wrk_duration)
        return {"rate": r["rate"], "cpu_s": None, "errors": r["non2xx"] + r["sock_errors"]}
    if name == "tulip":
        cmd = [os.path.join(args.bin_dir, "http_client_tulip"), "--url", url, "--requests", str(args.requests),
               "--conns", str(args.conns)]
    else:
        # httpx makes well under 1,000 requests/s: a fifth of the count keeps
        # its run under a minute; its rate is what is compared.
        n = max(args.conns, args.requests // 5) if name == "httpx" else args.requests
        cmd = [httprun.PY, os.path.join(HERE, "client_py.py"), name, "--url", url, "--requests", str(n),
               "--conns", str(args.conns)]
    p = subprocess.run(echorun.pinned(cmd, httprun.CLI), capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"{name} failed ({p.returncode}): {p.stderr.strip()[-800:]}")
    r = json.loads(p.stdout.strip().splitlines()[-1])
    return {"rate": r["requests"] / r["seconds"], "cpu_s": r["cpu_s"], "errors": r["errors"],
            "per_cpu": r["requests"] / r["cpu_s"] if r["cpu_s"] else None}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", default=",".join(n for n, _ in CLIENTS))
    ap.add_argument("--requests", type=int, default=100000)
    ap.add_argument("--conns", type=int, default=100)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--wrk-duration", type=float, default=5.0)
    ap.add_argument("--idle", type=int, default=10000)
    ap.add_argument("--idle-base", type=int, default=1000)
    ap.add_argument("--rt", type=int, default=None)
    ap.add_argument("--raw", default=None)
    ap.add_argument("--bin-dir", required=True)
    args = ap.parse_args()
    echorun.RT = args.rt
    clients = [c for c in args.clients.split(",") if c]
    for c in clients:
        if c not in LABEL:
            raise SystemExit(f"unknown client {c}; known: {', '.join(LABEL)}")
    start = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="tulip-http-client-bench-")
    root = os.path.join(tmp, "root")
    os.makedirs(root)
    server = httprun.start("nginx", args.bin_dir, root, tmp)
    records = []
    raw = open(args.raw, "w") if args.raw else None
    print(f"nginx pinned to core {httprun.SRV}, clients to core {httprun.CLI}; {args.requests} requests over "
          f"{args.conns} connections; {args.reps} pass(es), medians"
          + (f"; SCHED_FIFO priority {args.rt}" if args.rt is not None else "; normal priority"), flush=True)
    try:
        for rep in range(args.reps):
            for c in clients:
                r = run_client(c, args, server.port, timeout=600)
                r.update({"client": c, "rep": rep})
                records.append(r)
                if raw:
                    raw.write(json.dumps(r) + "\n")
                cpu = f"  {r['per_cpu'] / 1e3:7.1f}k req per client CPU-s" if r.get("per_cpu") else ""
                print(f"  pass {rep + 1}  {c:15s} {r['rate']:9.0f} req/s{cpu}  errors {r['errors']}", flush=True)
        idle = None
        if args.idle > 0 and "tulip" in clients:
            cmd = [os.path.join(args.bin_dir, "http_client_tulip"), "--url", f"http://127.0.0.1:{server.port}/",
                   "--idle", str(args.idle), "--idle-base", str(args.idle_base)]
            p = subprocess.run(echorun.pinned(cmd, httprun.CLI), capture_output=True, text=True, timeout=600)
            if p.returncode != 0:
                raise RuntimeError(f"the idle test failed ({p.returncode}): {p.stdout[-400:]} {p.stderr[-400:]}")
            idle = json.loads(p.stdout.strip().splitlines()[-1])
            if raw:
                raw.write(json.dumps({"idle": idle}) + "\n")
    finally:
        server.stop()
        if raw:
            raw.close()

    def med(c, key):
        xs = [r[key] for r in records if r["client"] == c and r.get(key)]
        return statistics.median(xs) if xs else None

    print("\nrequests/s (median); requests per client CPU-second (median)")
    print("| client                          | requests/s | per client CPU-s |")
    print("|---------------------------------|------------|------------------|")
    for c in clients:
        rate, pc = med(c, "rate"), med(c, "per_cpu")
        if rate is None:
            continue
        print(f"| {LABEL[c]:31s} | {rate / 1e3:9.1f}k | "
              + (f"{pc / 1e3:15.1f}k" if pc else f"{'-':>16s}") + " |")
    if idle:
        print(f"\npooled idle connection (tulip): RSS {idle['per_conn']:.0f} B, heap in use "
              f"{idle['heap_per_conn']:.0f} B (RSS {idle['rss_before'] / 2**20:.1f} MiB with {idle['idle_base']} idle, "
              f"{idle['rss_after'] / 2**20:.1f} MiB with {idle['idle'] + idle['idle_base']})")
    print("\n| target | ratio | verdict |")
    print("|---|---|---|")
    t = med("tulip", "rate")
    for other, want in (("aiohttp-uvloop", 5.0), ("wrk", 0.8)):
        o = med(other, "rate")
        if t and o:
            x = t / o
            print(f"| tulip / {LABEL[other]} >= {want}x | {x:.2f}x | {'PASS' if x >= want else 'MISS'} |")
    if idle:
        ok = idle["per_conn"] < IDLE_LIMIT
        print(f"| pooled idle connection < 4 KiB (RSS) | {idle['per_conn']:.0f} B | {'PASS' if ok else 'MISS'} |")
        ok = idle["heap_per_conn"] < IDLE_LIMIT
        print(f"| pooled idle connection < 4 KiB (heap in use) | {idle['heap_per_conn']:.0f} B | "
              f"{'PASS' if ok else 'MISS'} |")
    print(f"(took {time.monotonic() - start:.0f} s; load average now "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()) + ")")


if __name__ == "__main__":
    main()
