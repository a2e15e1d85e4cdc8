#!/usr/bin/python3
"""The foundation benchmarks, Python side: asyncio and asyncio + uvloop.

Usage: /usr/bin/python3 bench/asyncio_bench.py {asyncio|uvloop} <row>
Prints "RESULT <row> <impl> <value> <unit> [cpu=<seconds>]" (unit "s" for
wall time, with the CPU time of the same section, or "B"), as
bench/tulip_bench.cpp does, with the same shapes and sizes
(see bench/bench_common.hpp).

Row "chain": Python cannot nest 1,000,000 awaits (each nested await is a C
level recursion bounded by the recursion limit), so both chain rows run
1,000 nested awaits, 1,000 times: the same number of awaits, a shallower
stack. A NOTE line says so.
"""
import asyncio
import os
import sys
import time

TASKS = 1_000_000
CALLBACKS = 1_000_000
TIMERS = 1_000_000
SHORT_DEPTH = 1_000
SHORT_REPS = 1_000
PARKED = 100_000
PAGE = os.sysconf("SC_PAGE_SIZE")


def timer_delay_ns(i, n):
    return (i * 7919 % n) * 10


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


class Stopwatch:
    """Wall time and process CPU time (user + system) of the measured section."""
    wall = cpu = -1.0

    def start(self):
        self._w, self._c = time.perf_counter(), time.process_time()

    def stop(self):
        self.cpu = time.process_time() - self._c
        self.wall = time.perf_counter() - self._w


watch = Stopwatch()


def check(row, got, want):
    if got != want:
        sys.exit(f"{row}: checksum {got}, expected {want}")


async def trivial(i):
    return i


async def tasks_seq(n):
    s = 0
    watch.start()
    for i in range(n):
        t = asyncio.create_task(trivial(i))
        s += await t
    watch.stop()
    check("tasks_seq", s, n * (n - 1) // 2)


async def tasks_batch(n):
    s = 0
    watch.start()
    tasks = [asyncio.create_task(trivial(i)) for i in range(n)]
    for t in tasks:
        s += await t
    tasks.clear()
    watch.stop()
    check("tasks_batch", s, n * (n - 1) // 2)


async def callbacks(n):
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    count = 0

    def cb():
        nonlocal count
        count += 1
        if count == n:
            done.set_result(None)

    watch.start()
    for _ in range(n):
        loop.call_soon(cb)
    await done
    watch.stop()
    check("callbacks", count, n)


async def timers(n):
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    count = 0

    def cb():
        nonlocal count
        count += 1
        if count == n:
            done.set_result(None)

    watch.start()
    for i in range(n):
        loop.call_later(timer_delay_ns(i, n) * 1e-9, cb)
    await done
    watch.stop()
    check("timers", count, n)


async def rec(n):
    if n == 0:
        return 0
    return 1 + await rec(n - 1)


async def chain(depth, reps, row):
    s = 0
    watch.start()
    for _ in range(reps):
        s += await rec(depth)
    watch.stop()
    check(row, s, depth * reps)


async def parked(gate, left, all_done):
    await gate
    left[0] -= 1
    if left[0] == 0:
        all_done.set_result(None)


async def mem_task(n):
    loop = asyncio.get_running_loop()
    gate = loop.create_future()
    all_done = loop.create_future()
    left = [n]
    before = rss_bytes()
    for _ in range(n):
        loop.create_task(parked(gate, left, all_done))  # the gate's callbacks keep them
    await asyncio.sleep(0)  # every task has run its first step and is parked on gate
    after = rss_bytes()
    gate.set_result(None)
    await all_done
    check("mem_task", left[0], 0)
    return (after - before) / n


ROWS = {
    "tasks_seq": (lambda: tasks_seq(TASKS), "s"),
    "tasks_batch": (lambda: tasks_batch(TASKS), "s"),
    "callbacks": (lambda: callbacks(CALLBACKS), "s"),
    "timers": (lambda: timers(TIMERS), "s"),
    "chain": (lambda: chain(SHORT_DEPTH, SHORT_REPS, "chain"), "s"),
    "chain1k": (lambda: chain(SHORT_DEPTH, SHORT_REPS, "chain1k"), "s"),
    "mem_task": (lambda: mem_task(PARKED), "B"),
}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("asyncio", "uvloop") or sys.argv[2] not in ROWS:
        sys.exit(f"usage: {sys.argv[0]} {{asyncio|uvloop}} {{{'|'.join(ROWS)}}}")
    impl, row = sys.argv[1], sys.argv[2]
    # Nesting 1,000 awaits needs a little more than the default limit of 1,000.
    sys.setrecursionlimit(10_000)
    make, unit = ROWS[row]
    if impl == "uvloop":
        import uvloop
        factory = uvloop.new_event_loop
    else:
        factory = asyncio.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        value = runner.run(make())
    if unit == "B":
        print(f"RESULT {row} {impl} {value:.9g} B", flush=True)
    else:
        print(f"RESULT {row} {impl} {watch.wall:.9g} s cpu={watch.cpu:.9g}", flush=True)
    if row == "chain":
        print(f"NOTE chain {impl}: Python cannot nest 1,000,000 awaits; "
              f"ran depth {SHORT_DEPTH:,} x {SHORT_REPS:,} times instead", flush=True)


if __name__ == "__main__":
    main()
