#!/usr/bin/python3
"""The TLS benchmark (issue 11): runs every TLS server against
bench/tls/tls_client in one run and prints the tables (called by
bench/tls/run.sh).

Servers (bench/tls/): tulip streams, tulip Protocol, Boost.Asio
ssl::stream (C++20 coroutines), asyncio and uvloop (streams and Protocol
each, server_asyncio.py), and for the bulk test `openssl s_server`. All:
TLS 1.3 only, TLS_AES_128_GCM_SHA256 (the only suite the client offers;
checked after every handshake), no session tickets, the same ECDSA P-256
certificate (made by this script in a temp dir). Each server is pinned to
core 0 (taskset -c 0), the load generator to core 1, both SCHED_FIFO with
--rt (as bench/echo/run.py; see its docstring for why).

Tests, in each pass (--reps passes; the tables show medians):
  echo:      N connections (10, 100) x 1 KiB closed-loop echo: msgs/s, and
             msgs per server CPU-second (the server's efficiency, whoever is
             the bottleneck: the client does as much crypto as the server).
  handshake: --hs-conns connections at a time, each a full handshake (no
             resumption, no tickets), close_notify, the server's close:
             handshakes/s, and per server CPU-second.
  roundtrip: one connection echoing 64 MiB messages (the C++ servers):
             MB/s echoed.
  bulk:      --bulk-n times (interleaved; a transfer takes ~0.1 s, so one
             alone is noisy) one connection sending 64 MiB to a fresh sink server (reads and
             drops, closes at close_notify): tulip, Asio and `openssl
             s_server -quiet` (writing what it reads to /dev/null), the same
             sender (tls_client bulk, 16 KiB records) for all: MB/s from the
             first byte to the server's close. Also, for reference, `openssl
             s_client` piping 64 MiB from `head -c` into that s_server: wall
             time from s_client's start to s_server's exit, minus the same
             with 0 bytes (process start and handshake).

Options: --servers a,b --conns 10,100 --size 1024 --duration S --warmup S
--reps N --hs-conns K --bulk-mib M --bulk-n N --quick --rt PRIO --raw FILE.
"""
import argparse
import datetime
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "echo"))
import run as echorun  # noqa: E402  (bench/echo/run.py: Server, pinning, table helpers)

PY = "/usr/bin/python3"
SUITE = "TLS_AES_128_GCM_SHA256"

# name, label, command (bin dir, cert args)
SERVERS = [
    ("tulip-streams", "tulip streams", lambda b, c: [os.path.join(b, "tls_tulip_streams")] + c),
    ("tulip-protocol", "tulip Protocol", lambda b, c: [os.path.join(b, "tls_tulip_protocol")] + c),
    ("asio", "Boost.Asio ssl::stream", lambda b, c: [os.path.join(b, "tls_asio")] + c),
    ("asyncio-streams", "asyncio streams ssl",
     lambda b, c: [PY, os.path.join(HERE, "server_asyncio.py"), "asyncio", "streams"] + c),
    ("asyncio-protocol", "asyncio Protocol ssl",
     lambda b, c: [PY, os.path.join(HERE, "server_asyncio.py"), "asyncio", "protocol"] + c),
    ("uvloop-streams", "uvloop streams ssl",
     lambda b, c: [PY, os.path.join(HERE, "server_asyncio.py"), "uvloop", "streams"] + c),
    ("uvloop-protocol", "uvloop Protocol ssl",
     lambda b, c: [PY, os.path.join(HERE, "server_asyncio.py"), "uvloop", "protocol"] + c),
]
LABEL = {s[0]: s[1] for s in SERVERS}
LABEL["openssl"] = "openssl s_server"
LABEL["openssl-pair"] = "openssl s_client | s_server (wall)"
CPP = ("tulip-streams", "tulip-protocol", "asio")
TULIP = (("tulip-streams", "tulip streams"), ("tulip-protocol", "tulip Protocol"))
SRV, CLI = "0", "1"


def cmd_for(name, bin_dir, cert_args):
    for n, _, make in SERVERS:
        if n == name:
            return make(bin_dir, cert_args)
    raise SystemExit(f"unknown server {name}")


def client(bin_dir, args, timeout):
    cmd = echorun.pinned([os.path.join(bin_dir, "tls_client")] + [str(a) for a in args], CLI)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()[-800:]}")
    for line in p.stdout.splitlines():
        parts = line.split()
        if parts and parts[0] == "RESULT":
            return {k: float(v) for k, v in (x.split("=", 1) for x in parts[1:])}
    raise RuntimeError(f"{' '.join(cmd)} printed no result")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def s_server_cmd(port, cert, key):
    return ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-naccept", "1", "-quiet", "-cert", cert,
            "-key", key, "-tls1_3", "-ciphersuites", SUITE, "-num_tickets", "0"]


def start_s_server(port, cert, key):
    # stdin a pipe we never write: s_server sends what it reads from stdin.
    return subprocess.Popen(echorun.pinned(s_server_cmd(port, cert, key), SRV), stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)
    p.wait()
    if p.stdin:
        p.stdin.close()


def openssl_pair(nbytes, cert, key):
    """Seconds from s_client's start to s_server's exit, piping nbytes."""
    port = free_port()
    srv = start_s_server(port, cert, key)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # wait for the listener without connecting to it
            with open("/proc/net/tcp") as f:
                if any(f":{port:04X} " in line and line.split()[3] == "0A" for line in f):
                    break
            time.sleep(0.01)
        cli = ["openssl", "s_client", "-quiet", "-no_ign_eof", "-connect", f"127.0.0.1:{port}", "-tls1_3",
               "-ciphersuites", SUITE, "-sess_out", "/dev/null"]
        sh = f"head -c {nbytes} /dev/zero | " + " ".join(echorun.pinned(cli, CLI))
        t0 = time.monotonic()
        c = subprocess.run(["sh", "-c", sh], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        srv.wait(timeout=120)
        t1 = time.monotonic()
        if c.returncode != 0:
            raise RuntimeError(f"openssl s_client failed ({c.returncode})")
        return t1 - t0
    finally:
        stop(srv)


def measure(args, servers, certs, raw):
    cert_args = ["--cert", certs[0], "--key", certs[1]]
    records = []

    def emit(rec):
        records.append(rec)
        if raw:
            raw.write(json.dumps(rec) + "\n")
            raw.flush()

    def say(text):
        print("  " + text, file=sys.stderr, flush=True)

    mib = args.bulk_mib << 20
    for rep in range(args.reps):
        order = servers if rep % 2 == 0 else list(reversed(servers))
        live = {}
        try:
            for name in servers:
                live[name] = echorun.Server(name, cmd_for(name, args.bin_dir, cert_args), SRV)
            for conns in args.conns:
                for name in order:
                    s = live[name]
                    r = client(args.bin_dir, ["echo", "--port", s.port, "--conns", conns, "--size", args.size,
                                              "--duration", args.duration, "--warmup", args.warmup,
                                              "--server-pid", s.pid], args.duration + args.warmup + 90)
                    if not s.alive():
                        raise RuntimeError(f"{name} died: {s.stderr()[-500:]}")
                    emit({"kind": "echo", "server": name, "conns": conns, "rep": rep, **r})
                    say(f"echo {conns:>3} x {args.size} B {name:<17} {r['rate']:>9.0f} msgs/s  server CPU "
                        f"{100 * r['server_cpu_s'] / r['window_s']:3.0f}%  client CPU "
                        f"{100 * r['client_cpu_s'] / r['window_s']:3.0f}%")
                    time.sleep(0.1)
            for name in order:
                s = live[name]
                r = client(args.bin_dir, ["handshake", "--port", s.port, "--conns", args.hs_conns,
                                          "--duration", args.duration, "--warmup", args.warmup,
                                          "--server-pid", s.pid], args.duration + args.warmup + 90)
                if not s.alive():
                    raise RuntimeError(f"{name} died: {s.stderr()[-500:]}")
                emit({"kind": "handshake", "server": name, "rep": rep, **r})
                say(f"handshake {name:<17} {r['rate']:>7.0f}/s  server CPU "
                    f"{100 * r['server_cpu_s'] / r['window_s']:3.0f}%  client CPU "
                    f"{100 * r['client_cpu_s'] / r['window_s']:3.0f}%")
                time.sleep(0.2)
            for name in order:
                if name not in CPP:
                    continue
                s = live[name]
                r = client(args.bin_dir, ["echo", "--port", s.port, "--conns", 1, "--size", mib,
                                          "--duration", args.duration, "--warmup", args.warmup,
                                          "--server-pid", s.pid], args.duration + args.warmup + 90)
                emit({"kind": "roundtrip", "server": name, "rep": rep, **r})
                say(f"roundtrip {args.bulk_mib} MiB {name:<17} {r['mbps']:>7.0f} MB/s")
        finally:
            for s in live.values():
                s.stop()
        # Bulk one way, into a fresh sink server each.
        sinks = [n for n in order if n in CPP] + ["openssl"]
        for name in [n for _ in range(args.bulk_n) for n in sinks]:
            if name == "openssl":
                port = free_port()
                p = start_s_server(port, *certs)
                try:
                    r = client(args.bin_dir, ["bulk", "--port", port, "--bytes", mib, "--server-pid", p.pid], 120)
                    p.wait(timeout=30)  # -naccept 1: it exits after the connection
                finally:
                    stop(p)
            else:
                s = echorun.Server(name, cmd_for(name, args.bin_dir, cert_args + ["--sink"]), SRV)
                try:
                    r = client(args.bin_dir, ["bulk", "--port", s.port, "--bytes", mib, "--server-pid", s.pid], 120)
                finally:
                    s.stop()
            emit({"kind": "bulk", "server": name, "rep": rep, **r})
            say(f"bulk {args.bulk_mib} MiB -> {name:<17} {r['mbps']:>7.0f} MB/s  server CPU {r['server_cpu_s']:.3f} s")
        t_full = openssl_pair(mib, *certs)
        t_zero = openssl_pair(0, *certs)
        mbps = mib / max(t_full - t_zero, 1e-9) / 1e6
        emit({"kind": "bulk", "server": "openssl-pair", "rep": rep, "mbps": mbps, "secs": t_full - t_zero,
              "wall_full": t_full, "wall_zero": t_zero})
        say(f"bulk {args.bulk_mib} MiB openssl s_client | s_server {mbps:>7.0f} MB/s "
            f"({t_full:.3f} s - {t_zero:.3f} s with 0 bytes)")
    return records


med = echorun.med
fmt_rate = echorun.fmt_rate
print_table = echorun.print_table


def ratio(a, b):
    return None if a is None or b is None or b <= 0 else a / b


def fx(v):
    return "-" if v is None else f"{v:.2f}x"


def report(records, args):
    by = {}
    for r in records:
        by.setdefault((r["kind"], r["server"], int(r.get("conns", 0))), []).append(r)
    names = [s[0] for s in SERVERS if any(k[1] == s[0] for k in by)]

    def m(kind, name, key, conns=0):
        rs = by.get((kind, name, conns), [])
        if key == "per_cpu":
            n = "msgs" if kind == "echo" else "handshakes"
            return med([x[n] / x["server_cpu_s"] if x["server_cpu_s"] > 0 else None for x in rs])
        if key in ("srv_pct", "cli_pct"):
            f = "server_cpu_s" if key == "srv_pct" else "client_cpu_s"
            return med([100 * x[f] / x["window_s"] for x in rs if x.get("window_s")])
        return med([x.get(key) for x in rs])

    def pct(v):
        return "-" if v is None else f"{v:.0f}%"

    conns = sorted({k[2] for k in by if k[0] == "echo"})
    ratio_rows = []
    if conns:
        print(f"echo, msgs/s (median of {args.reps}); in brackets: server CPU % / load generator CPU % "
              "(100% = that side was the bottleneck; RT throttling caps it at ~95%)")
        header = ["server"] + [f"{c} x {args.size} B" for c in conns] + \
            [f"msgs/server-CPU-s, {c} conns" for c in conns]
        rows = []
        for n in names:
            rows.append([LABEL[n]] + [f"{fmt_rate(m('echo', n, 'rate', c))} ({pct(m('echo', n, 'srv_pct', c))}/"
                                      f"{pct(m('echo', n, 'cli_pct', c))})" for c in conns]
                        + [fmt_rate(m("echo", n, "per_cpu", c)) for c in conns])
        print_table(header, rows)
        print()
        for t, label in TULIP:
            for c in conns:
                v = m("echo", t, "rate", c)
                ratio_rows.append((f"echo {c} conns: {label} / Asio", ratio(v, m("echo", "asio", "rate", c)),
                                   ratio(m("echo", t, "per_cpu", c), m("echo", "asio", "per_cpu", c)), 1.1))
                u = t.replace("tulip", "uvloop")  # streams against streams, Protocol against Protocol
                ratio_rows.append((f"echo {c} conns: {label} / {LABEL[u]}", ratio(v, m("echo", u, "rate", c)),
                                   ratio(m("echo", t, "per_cpu", c), m("echo", u, "per_cpu", c)), 3.0))
    hs = [n for n in names if ("handshake", n, 0) in by]
    if hs:
        print(f"handshakes/s ({args.hs_conns} at a time; full TLS 1.3 handshake, close_notify, server's close), "
              "server CPU % / load generator CPU %, handshakes per server CPU-second")
        rows = [[LABEL[n], fmt_rate(m("handshake", n, "rate")), pct(m("handshake", n, "srv_pct")),
                 pct(m("handshake", n, "cli_pct")), fmt_rate(m("handshake", n, "per_cpu"))] for n in hs]
        print_table(["server", "handshakes/s", "server CPU", "client CPU", "per server CPU-s"], rows)
        print()
        for t, label in TULIP:
            for b, target in (("asio", 1.0), (t.replace("tulip", "uvloop"), None)):
                ratio_rows.append((f"handshakes: {label} / {LABEL[b]}", ratio(m("handshake", t, "rate"),
                                                                               m("handshake", b, "rate")),
                                   ratio(m("handshake", t, "per_cpu"), m("handshake", b, "per_cpu")), target))
    rt = [n for n in names if ("roundtrip", n, 0) in by]
    if rt:
        print(f"round trip: one connection echoing {args.bulk_mib} MiB messages, MB/s echoed")
        print_table(["server", "MB/s"], [[LABEL[n], f"{m('roundtrip', n, 'mbps'):.0f}"] for n in rt])
        print()
        for t, label in TULIP:
            ratio_rows.append((f"round trip: {label} / Asio", ratio(m("roundtrip", t, "mbps"),
                                                                      m("roundtrip", "asio", "mbps")), None, None))
    bulk = [n for n in names + ["openssl", "openssl-pair"] if ("bulk", n, 0) in by]
    if bulk:
        print(f"bulk: {args.bulk_mib} MiB one way into a sink, MB/s (sender: tls_client bulk, except the last row)")
        print_table(["receiver", "MB/s", "server CPU s"],
                    [[LABEL[n], f"{m('bulk', n, 'mbps'):.0f}",
                      "-" if m("bulk", n, "server_cpu_s") is None else f"{m('bulk', n, 'server_cpu_s'):.3f}"]
                     for n in bulk])
        print()
        for t, label in TULIP:
            ratio_rows.append((f"bulk: {label} / openssl s_server", ratio(m("bulk", t, "mbps"),
                                                                            m("bulk", "openssl", "mbps")), None, 0.9))
            ratio_rows.append((f"bulk: {label} / openssl s_client|s_server",
                               ratio(m("bulk", t, "mbps"), m("bulk", "openssl-pair", "mbps")), None, None))
    print("ratios (of the medians) and targets; per-CPU: the same ratio in work per server CPU-second")
    rows = []
    misses = 0
    for what, r, rc, target in ratio_rows:
        verdict = ""
        if target is not None and r is not None:
            ok = r >= target
            misses += not ok
            verdict = f"{'PASS' if ok else 'MISS'} (>= {target:g}x)"
        rows.append([what, fx(r), fx(rc), verdict])
    print_table(["ratio", "throughput", "per server CPU", "target"], rows)
    print(f"{misses} target(s) missed ({args.reps} pass(es), medians).")


def make_cert(d):
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def main():
    global SRV, CLI
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir", default=os.path.join(HERE, "..", "..", "build", "bench", "bench", "tls"))
    ap.add_argument("--servers", default=",".join(s[0] for s in SERVERS))
    ap.add_argument("--conns", default="10,100")
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--duration", type=float, default=3.0)
    ap.add_argument("--warmup", type=float, default=0.5)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--hs-conns", type=int, default=4)
    ap.add_argument("--bulk-mib", type=int, default=64)
    ap.add_argument("--bulk-n", type=int, default=5, help="bulk transfers per receiver per pass (interleaved)")
    ap.add_argument("--quick", action="store_true", help="1 pass, 1.5 s per measurement")
    ap.add_argument("--rt", type=int, metavar="PRIO", help="SCHED_FIFO priority for servers and client (chrt -f)")
    ap.add_argument("--raw", help="append every measurement to this file (JSON lines)")
    ap.add_argument("--from", dest="from_files", nargs="+", help="report the medians of these --raw files")
    args = ap.parse_args()
    if args.quick:
        args.reps, args.duration, args.warmup, args.bulk_n = 1, 1.5, 0.3, 3
    args.conns = [int(c) for c in args.conns.split(",")]
    if args.from_files:
        records = []
        for fn in args.from_files:
            with open(fn) as f:
                records += [json.loads(line) for line in f if line.strip()]
        args.reps = max([sum(1 for r in records if r["kind"] == "echo" and r["server"] == x["server"]
                             and r.get("conns") == x.get("conns")) for x in records] + [1])
        report(records, args)
        return
    echorun.RT = args.rt
    servers = args.servers.split(",")
    for s in servers:
        if s not in LABEL:
            raise SystemExit(f"unknown server {s}; known: {', '.join(s[0] for s in SERVERS)}")
    if not shutil.which("taskset") or (os.cpu_count() or 1) < 2:
        SRV = CLI = None
        print("warning: not pinned (taskset missing or one CPU)", file=sys.stderr)
    started = datetime.datetime.now().astimezone()
    print(f"tulip TLS benchmark, {started:%Y-%m-%d %H:%M %Z}")
    print(f"machine: {echorun.machine()}")
    ver = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    print(f"tulip: commit {echorun.library_version()}; {ver}; TLS 1.3 {SUITE}, ECDSA P-256 cert, no tickets")
    print(f"servers pinned to core {SRV}, load generator (bench/tls/tls_client) to core {CLI}; "
          f"{args.duration:g} s per measurement after {args.warmup:g} s warm-up; {args.reps} pass(es), medians"
          + (f"; SCHED_FIFO priority {args.rt}" if args.rt is not None else "; normal priority"))
    print()
    raw = open(args.raw, "a") if args.raw else None
    with tempfile.TemporaryDirectory(prefix="tulip-tls-bench-") as d:
        certs = make_cert(d)
        try:
            records = measure(args, servers, certs, raw)
        finally:
            if raw:
                raw.close()
    report(records, args)
    took = (datetime.datetime.now().astimezone() - started).total_seconds()
    print(f"(took {took:.0f} s; load average now {' '.join(f'{x:.2f}' for x in os.getloadavg())})")


if __name__ == "__main__":
    main()
