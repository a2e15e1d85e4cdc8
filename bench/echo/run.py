#!/usr/bin/python3
"""The echo benchmark: runs every echo server against bench/echo/echo_client
in one run and prints the tables (called by bench/echo/run.sh).

Servers (bench/echo/): raw epoll (the practical limit), tulip streams,
tulip Protocol, Boost.Asio (C++20 coroutines), libuv, asyncio streams,
asyncio Protocol, uvloop streams, uvloop Protocol. Each server is pinned to
core 0 (taskset -c 0), the load generator to core 1.

Throughput: all servers are started once and stay up; for each cell
(connections x message size) every server is measured in turn, so that a
burst of load from elsewhere hits them alike. Per cell and server:
msgs/s, latency p50/p99/p99.9, the ratio to raw epoll, the server's CPU use
(utime + stime from /proc/PID/stat over the window) and msgs per server
CPU-second. After the last cell, each server's peak RSS (VmHWM).
Idle memory: a fresh process of each server gets 1,000 connections, then
10,000 more, each pinged once; RSS growth / 10,000 is the cost of one idle
connection.

Scheduling: on a machine shared with other busy processes (compilers), a
server or the load generator at normal priority waits for the running
process's time slice on every wake-up (EEVDF lets the current task run to
its deadline): that gave 20-40% CPU use, ~4 ms p99 for every server and
throughput set by the scheduler, not by the server. Even nice -20 did not
help. With --rt (SCHED_FIFO, bench/echo/run.sh passes --rt 10 when run as
root, RT=0 turns it off) the benchmark processes preempt everything else:
~95% CPU (the kernel's RT throttling keeps 5% for the rest) and p99 in the
100 us range. The other processes on the machine get ~5% while it runs.

Options: --servers a,b --conns 1,10,100 --sizes 64,1024,16384 --duration S
--warmup S --reps N (medians of N passes) --idle N (0: skip) --quick
--rt PRIO (run everything with SCHED_FIFO priority PRIO) --raw FILE (append every measurement as a JSON line) --from FILE... (no
measuring: the tables of the medians of earlier --raw files).
"""
import argparse
import datetime
import json
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"  # Debian's Python, the one with python3-uvloop

# name, label, how to start it
SERVERS = [
    ("epoll", "raw epoll (C, 1 thread)", lambda b: [os.path.join(b, "echo_epoll")]),
    ("tulip-streams", "tulip streams (read/write/drain), epoll",
     lambda b: ["env", "TULIP_POLLER=epoll", os.path.join(b, "echo_tulip_streams")]),
    ("tulip-protocol", "tulip Protocol, epoll", lambda b: ["env", "TULIP_POLLER=epoll", os.path.join(b, "echo_tulip_protocol")]),
    ("tulip-streams-uring", "tulip streams on io_uring",
     lambda b: ["env", "TULIP_POLLER=io_uring", os.path.join(b, "echo_tulip_streams")]),
    ("tulip-protocol-uring", "tulip Protocol on io_uring",
     lambda b: ["env", "TULIP_POLLER=io_uring", os.path.join(b, "echo_tulip_protocol")]),
    ("asio", "Boost.Asio C++20 coroutines", lambda b: [os.path.join(b, "echo_asio")]),
    ("asio-uring", "Boost.Asio on io_uring (Boost >= 1.78)", lambda b: [os.path.join(b, "echo_asio_uring")]),
    ("libuv", "libuv", lambda b: [os.path.join(b, "echo_libuv")]),
    ("asyncio-streams", "asyncio streams", lambda b: [PY, os.path.join(HERE, "server_asyncio.py"), "asyncio", "streams"]),
    ("asyncio-protocol", "asyncio Protocol", lambda b: [PY, os.path.join(HERE, "server_asyncio.py"), "asyncio", "protocol"]),
    ("uvloop-streams", "uvloop streams", lambda b: [PY, os.path.join(HERE, "server_asyncio.py"), "uvloop", "streams"]),
    ("uvloop-protocol", "uvloop Protocol", lambda b: [PY, os.path.join(HERE, "server_asyncio.py"), "uvloop", "protocol"]),
]
# Not run unless named in --servers: tulip streams reading with readexactly(size).
EXTRA = {
    "tulip-exact": ("tulip streams, readexactly(size)", None),
}
LABEL = {s[0]: s[1] for s in SERVERS}
LABEL["tulip-exact"] = EXTRA["tulip-exact"][0]

TARGET_CELLS = [(10, 1024), (100, 1024)]
IDLE_LIMIT = 2048  # bytes per idle connection
# The cores servers and the load generator are pinned to (None: not pinned).
SERVER_CPU_ARG, CLIENT_CPU_ARG = "0", "1"


def server_cmd(name, bin_dir, size=None):
    if name == "tulip-exact":
        return [os.path.join(bin_dir, "echo_tulip_streams"), "--exact", str(size)]
    for n, _, make in SERVERS:
        if n == name:
            return make(bin_dir)
    raise SystemExit(f"unknown server {name}")


RT = None  # --rt N: run servers and the load generator with SCHED_FIFO priority N


def pinned(cmd, cpu):
    if cpu is not None:
        cmd = ["taskset", "-c", cpu] + cmd
    if RT is not None:
        cmd = ["chrt", "-f", str(RT)] + cmd  # chrt and taskset exec: the pid stays the server's
    return cmd


class Server:
    """A server process (pinned), its port, and its /proc numbers."""

    def __init__(self, name, cmd, cpu):
        self.name = name
        self.err = tempfile.TemporaryFile()  # not a pipe: a chatty server must never block on it
        self.p = subprocess.Popen(pinned(cmd, cpu), stdout=subprocess.PIPE, stderr=self.err,
                                  start_new_session=True)
        self.port = None
        deadline = time.monotonic() + 60
        buf = b""
        while time.monotonic() < deadline and b"\n" not in buf:
            r, _, _ = select.select([self.p.stdout], [], [], 1.0)
            if r:
                chunk = os.read(self.p.stdout.fileno(), 256)
                if not chunk:
                    break
                buf += chunk
        line = buf.decode(errors="replace").strip()
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"{name}: no PORT line ({line!r}); stderr: {self.stderr()[-500:]}")
        self.port = int(line.split()[1])

    @property
    def pid(self):
        return self.p.pid  # taskset execs the server: same pid

    def alive(self):
        return self.p.poll() is None

    def status_bytes(self, key):
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith(key + ":"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return None

    def stderr(self):
        self.err.seek(0)
        return self.err.read().decode(errors="replace")

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGKILL)
        self.p.wait()
        self.p.stdout.close()
        self.err.close()


def run_client(bin_dir, args, timeout):
    cmd = pinned([os.path.join(bin_dir, "echo_client")] + [str(a) for a in args], CLIENT_CPU_ARG)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
    for line in p.stdout.splitlines():
        parts = line.split()
        if parts and parts[0] in ("RESULT", "IDLE"):
            return {k: float(v) for k, v in (x.split("=", 1) for x in parts[1:])}
    raise RuntimeError(f"{' '.join(cmd)} printed no result")


def measure(args, servers, cells, raw):
    records = []

    def emit(rec):
        records.append(rec)
        if raw:
            raw.write(json.dumps(rec) + "\n")
            raw.flush()

    # Throughput: every server up at once; per cell, each server in turn.
    for rep in range(args.reps):
        live = {}
        try:
            for name in servers:
                if name == "tulip-exact":
                    continue  # started per size below
                live[name] = Server(name, server_cmd(name, args.bin_dir), SERVER_CPU_ARG)
            for conns, size in cells:
                exact = None
                if "tulip-exact" in servers:
                    exact = Server("tulip-exact", server_cmd("tulip-exact", args.bin_dir, size), SERVER_CPU_ARG)
                    live["tulip-exact"] = exact
                order = servers if rep % 2 == 0 else list(reversed(servers))
                for name in order:
                    s = live[name]
                    r = run_client(args.bin_dir, ["load", "--port", s.port, "--conns", conns, "--size", size,
                                                  "--duration", args.duration, "--warmup", args.warmup,
                                                  "--server-pid", s.pid], timeout=args.duration + args.warmup + 60)
                    if not s.alive():
                        raise RuntimeError(f"{name} died during {conns} x {size} B: {s.stderr()[-500:]}")
                    rec = {"kind": "load", "server": name, "conns": conns, "size": size, "rep": rep, **r}
                    emit(rec)
                    cpu = r["server_cpu_s"]
                    print(f"  {conns:>3} conns {size:>5} B  {name:<16} {r['rate']:>9.0f} msgs/s  "
                          f"p99 {r['p99_us']:>8.1f} us  server CPU {cpu / max(r['window_s'], 1e-9) * 100:4.0f}%",
                          file=sys.stderr, flush=True)
                    time.sleep(0.1)
                if exact:
                    emit({"kind": "hwm", "server": "tulip-exact", "rep": rep, "conns": conns, "size": size,
                          "bytes": exact.status_bytes("VmHWM")})
                    exact.stop()
                    del live["tulip-exact"]
            for name, s in live.items():
                emit({"kind": "hwm", "server": name, "rep": rep, "bytes": s.status_bytes("VmHWM")})
        finally:
            for s in live.values():
                s.stop()

    # Idle connections: a fresh process each.
    if args.idle > 0:
        for rep in range(args.reps):
            for name in servers:
                s = Server(name, server_cmd(name, args.bin_dir, 1), SERVER_CPU_ARG)
                try:
                    r = run_client(args.bin_dir, ["idle", "--port", s.port, "--base", args.idle_base,
                                                  "--conns", args.idle, "--server-pid", s.pid], timeout=300)
                finally:
                    s.stop()
                emit({"kind": "idle", "server": name, "rep": rep, **r})
                print(f"  idle {name:<16} {r['per_conn']:>8.0f} B per connection", file=sys.stderr, flush=True)
    return records


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt_rate(v):
    if v is None:
        return "-"
    return f"{v / 1000:.1f}k" if v < 1e6 else f"{v / 1e6:.2f}M"


def fmt_us(v):
    if v is None:
        return "-"
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}"


def fmt_cpu_us(v):
    return "-" if v is None else f"{v:.2f}"


def fmt_x(a, b):
    if a is None or b is None or b <= 0:
        return "-"
    return f"{a / b:.2f}x"


def fmt_bytes(v):
    if v is None:
        return "-"
    if abs(v) >= 1 << 20:
        return f"{v / (1 << 20):.1f} MiB"
    if abs(v) >= 10 << 10:
        return f"{v / 1024:.0f} KiB"
    return f"{v:.0f} B"


def fmt_size(s):
    return f"{s // 1024} KiB" if s >= 1024 else f"{s} B"


def print_table(header, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]

    def line(cells):
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line(r))


def report(records, n_runs):  # n_runs: a note for the last line
    load = {}
    for r in records:
        if r["kind"] == "load":
            load.setdefault((r["server"], int(r["conns"]), int(r["size"])), []).append(r)
    servers = [s[0] for s in SERVERS if any(k[0] == s[0] for k in load)] + \
        [s for s in EXTRA if any(k[0] == s for k in load)]
    if not servers:
        servers = [s[0] for s in SERVERS if any(r.get("server") == s[0] for r in records)]
    cells = sorted({(k[1], k[2]) for k in load}, key=lambda c: (c[1], c[0]))

    def m(server, cell, key):
        rs = load.get((server, cell[0], cell[1]), [])
        if key == "per_cpu":
            return med([r["msgs"] / r["server_cpu_s"] if r["server_cpu_s"] > 0 else None for r in rs])
        if key == "cpu_pct":
            return med([100 * r["server_cpu_s"] / r["window_s"] if r["window_s"] > 0 else None for r in rs])
        if key in ("user_us", "sys_us"):  # server CPU per message, microseconds
            field = "server_user_s" if key == "user_us" else "server_sys_s"
            return med([1e6 * r[field] / r["msgs"] if r.get(field) is not None and r["msgs"] > 0 else None
                        for r in rs])
        return med([r[key] for r in rs])

    if cells:
        print("msgs/s (median) and ratio to raw epoll; rows: servers, columns: connections x message size")
        header = ["server"] + [f"{c} x {fmt_size(s)}" for c, s in cells]
        rows = []
        for name in servers:
            row = [LABEL[name]]
            for cell in cells:
                v, e = m(name, cell, "rate"), m("epoll", cell, "rate")
                row.append("-" if v is None else (fmt_rate(v) if name == "epoll" else f"{fmt_rate(v)} ({fmt_x(v, e)})"))
            rows.append(row)
        print_table(header, rows)
        print()
        print("p99 latency, microseconds (median of the runs' p99)")
        rows = [[LABEL[n]] + [fmt_us(m(n, c, "p99_us")) for c in cells] for n in servers]
        print_table(header, rows)
        print()
        print("msgs per server CPU-second (utime + stime of the server over the window), and ratio to raw epoll")
        rows = []
        for name in servers:
            row = [LABEL[name]]
            for cell in cells:
                v, e = m(name, cell, "per_cpu"), m("epoll", cell, "per_cpu")
                row.append("-" if v is None else (fmt_rate(v) if name == "epoll" else f"{fmt_rate(v)} ({fmt_x(v, e)})"))
            rows.append(row)
        print_table(header, rows)
        print()
        print("server CPU use during the window, % of one core (100% = the server was the bottleneck)")
        rows = [[LABEL[n]] + [("-" if m(n, c, "cpu_pct") is None else f"{m(n, c, 'cpu_pct'):.0f}%") for c in cells]
                for n in servers]
        print_table(header, rows)
        print()
        print("all numbers per cell (medians): msgs/s, ratio to epoll, p50/p99/p99.9 us, server CPU %, "
              "msgs per server CPU-s, the server's user and system CPU per message (us; /proc/PID/stat "
              "ticks, so +-5%), load generator CPU %")
        rows = []
        for cell in cells:
            for name in servers:
                if (name, cell[0], cell[1]) not in load:
                    continue
                cli = med([100 * r["client_cpu_s"] / r["window_s"] for r in load[(name, cell[0], cell[1])]])
                rows.append([f"{cell[0]} x {fmt_size(cell[1])}", name, fmt_rate(m(name, cell, "rate")),
                             fmt_x(m(name, cell, "rate"), m("epoll", cell, "rate")),
                             fmt_us(m(name, cell, "p50_us")), fmt_us(m(name, cell, "p99_us")),
                             fmt_us(m(name, cell, "p999_us")), f"{m(name, cell, 'cpu_pct'):.0f}%",
                             fmt_rate(m(name, cell, "per_cpu")), fmt_cpu_us(m(name, cell, "user_us")),
                             fmt_cpu_us(m(name, cell, "sys_us")), f"{cli:.0f}%"])
        print_table(["cell", "server", "msgs/s", "x epoll", "p50", "p99", "p99.9", "srv CPU", "msgs/CPU-s",
                     "user us/msg", "sys us/msg", "client CPU"], rows)
        print()

    hwm = {}
    idle = {}
    for r in records:
        if r["kind"] == "hwm" and r.get("bytes") is not None:
            hwm.setdefault(r["server"], []).append(r["bytes"])
        elif r["kind"] == "idle":
            idle.setdefault(r["server"], []).append(r)
    if hwm or idle:
        i0 = next((x for xs in idle.values() for x in xs), None)
        base, extra = (int(i0["base"]), int(i0["conns"])) if i0 else (0, 0)
        print(f"memory: peak RSS (VmHWM) after all throughput cells; idle connections: server RSS growth from "
              f"{base:,} to {base + extra:,} connections / {extra:,}")
        rows = []
        for name in servers or list(idle):
            i = idle.get(name, [])
            rows.append([LABEL[name], fmt_bytes(med(hwm.get(name, []))),
                         fmt_bytes(med([x["per_conn"] for x in i])),
                         fmt_bytes(med([x["rss_base"] for x in i])), fmt_bytes(med([x["rss_after"] for x in i]))])
        print_table(["server", "peak RSS", "per idle conn", f"RSS at {base:,}", f"RSS at {base + extra:,}"], rows)
        print()

    # Targets.
    print("targets:")
    misses = 0

    def verdict(ok, text):
        nonlocal misses
        misses += not ok
        print(f"  {'PASS' if ok else 'MISS'}  {text}")

    def paired(server, cell, key="rate", base="epoll"):
        """Median over passes of server/base, each pass's two numbers measured back to back."""
        by = {}
        for r in load.get((server, cell[0], cell[1]), []):
            by.setdefault((r.get("src", 0), r.get("rep")), {})["s"] = r[key]
        for r in load.get((base, cell[0], cell[1]), []):
            by.setdefault((r.get("src", 0), r.get("rep")), {})["b"] = r[key]
        return med([v["s"] / v["b"] for v in by.values() if "s" in v and "b" in v and v["b"] > 0])

    def also(server, cell, base="epoll"):
        p = paired(server, cell, base=base)
        return "" if p is None else f" (median of per-pass ratios: {p:.3f}x)"

    print("(verdicts use the ratio of the medians; the median of the per-pass ratios, each pass measuring "
          "the servers back to back, is shown as a second estimate)")
    for cell in TARGET_CELLS:
        if cell not in cells:
            continue
        tag = f"{cell[0]} x {fmt_size(cell[1])}:"
        e = m("epoll", cell, "rate")
        ts, tp = m("tulip-streams", cell, "rate"), m("tulip-protocol", cell, "rate")
        a, u = m("asio", cell, "rate"), m("libuv", cell, "rate")
        if ts is not None and e:
            r = ts / e
            verdict(r >= 0.95, f"{tag} tulip streams >= 0.95x raw epoll: {r:.3f}x"
                    + ("" if r >= 0.95 else f", short by {(0.95 - r) * 100:.1f} points") + also("tulip-streams", cell))
        if ts is not None and a is not None:
            verdict(ts > a, f"{tag} tulip streams ahead of Boost.Asio: {ts / a:.3f}x"
                    + also("tulip-streams", cell, "asio"))
        if ts is not None and u is not None:
            verdict(ts > u, f"{tag} tulip streams ahead of libuv: {ts / u:.3f}x" + also("tulip-streams", cell, "libuv"))
        if tp is not None and e:
            r = tp / e
            verdict(r >= 0.98, f"{tag} tulip Protocol >= 0.98x raw epoll: {r:.3f}x"
                    + ("" if r >= 0.98 else f", short by {(0.98 - r) * 100:.1f} points") + also("tulip-protocol", cell))
        pa = m("asio", cell, "p99_us")
        for name, label in (("tulip-streams", "tulip streams"), ("tulip-protocol", "tulip Protocol")):
            p = m(name, cell, "p99_us")
            if p is not None and pa is not None:
                verdict(p <= pa, f"{tag} {label} p99 no worse than Boost.Asio's: {p:.1f} us vs {pa:.1f} us")
    for name, label in (("tulip-streams", "tulip streams"), ("tulip-protocol", "tulip Protocol")):
        v = med([x["per_conn"] for x in idle.get(name, [])])
        if v is not None:
            verdict(v < IDLE_LIMIT, f"{label} < 2 KiB per idle connection: {v:.0f} B")
    runs = max((len(v) for v in load.values()), default=0)
    print(f"{misses} target(s) missed ({runs} run(s) per cell, medians{n_runs}).")


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
    global SERVER_CPU_ARG, CLIENT_CPU_ARG, RT
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir", default=os.path.join(HERE, "..", "..", "build", "bench", "bench", "echo"))
    ap.add_argument("--servers", default=",".join(s[0] for s in SERVERS))
    ap.add_argument("--conns", default="1,10,100")
    ap.add_argument("--sizes", default="64,1024,16384")
    ap.add_argument("--duration", type=float, default=3.0)
    ap.add_argument("--warmup", type=float, default=0.5)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--idle", type=int, default=10000, help="idle connections to add (0: skip the idle test)")
    ap.add_argument("--idle-base", type=int, default=1000)
    ap.add_argument("--quick", action="store_true",
                    help="only the target cells (10 and 100 connections at 1 KiB), 2 s each")
    ap.add_argument("--rt", type=int, metavar="PRIO",
                    help="run servers and load generator with SCHED_FIFO priority PRIO (chrt -f; needs root). "
                    "On a shared machine this is what makes the numbers mean something: see the module doc")
    ap.add_argument("--base-bin-dir", help="another build's bench/echo (e.g. main before a change): adds its tulip "
                    "servers as tulip-streams@base and tulip-protocol@base (bench/compare.sh)")
    ap.add_argument("--raw", help="append every measurement to this file (JSON lines)")
    ap.add_argument("--from", dest="from_files", nargs="+", help="report the medians of these --raw files")
    args = ap.parse_args()

    if args.from_files:
        records = []
        for i, fn in enumerate(args.from_files):
            with open(fn) as f:
                records += [dict(json.loads(line), src=i) for line in f if line.strip()]
        print(f"tulip echo benchmark: medians of {len(args.from_files)} file(s) of raw results")
        print()
        report(records, f", from {len(args.from_files)} file(s)")
        return

    RT = args.rt
    if args.base_bin_dir:
        base = os.path.abspath(args.base_bin_dir)
        for name, label, exe in (("tulip-streams", "tulip streams", "echo_tulip_streams"),
                                 ("tulip-protocol", "tulip Protocol", "echo_tulip_protocol")):
            SERVERS.append((name + "@base", label + " (base build)", lambda b, exe=exe: [os.path.join(base, exe)]))
            LABEL[name + "@base"] = label + " (base build)"
    if args.quick:
        args.conns, args.sizes, args.duration = "10,100", "1024", 2.0
    servers = args.servers.split(",")
    for s in servers:
        if s not in LABEL:
            raise SystemExit(f"unknown server {s}; known: {', '.join(LABEL)}")
    cells = [(int(c), int(s)) for s in args.sizes.split(",") for c in args.conns.split(",")]
    if not shutil.which("taskset") or (os.cpu_count() or 1) < 2:
        SERVER_CPU_ARG = CLIENT_CPU_ARG = None
        print("warning: not pinned (taskset missing or one CPU)", file=sys.stderr)

    started = datetime.datetime.now().astimezone()
    print(f"tulip echo benchmark, {started:%Y-%m-%d %H:%M %Z}")
    print(f"machine: {machine()}")
    print(f"tulip: commit {library_version()}")
    print(f"servers pinned to core {SERVER_CPU_ARG}, load generator (bench/echo/echo_client) to core {CLIENT_CPU_ARG}; "
          f"{args.duration:g} s per cell after {args.warmup:g} s warm-up; {args.reps} pass(es), medians"
          + (f"; SCHED_FIFO priority {RT} (chrt -f {RT})" if RT is not None else "; normal priority"))
    print()
    raw = open(args.raw, "a") if args.raw else None
    try:
        records = measure(args, servers, cells, raw)
    finally:
        if raw:
            raw.close()
    took = (datetime.datetime.now().astimezone() - started).total_seconds()
    report(records, "")
    print(f"(took {took:.0f} s; load average now {' '.join(f'{x:.2f}' for x in os.getloadavg())})")


if __name__ == "__main__":
    main()
