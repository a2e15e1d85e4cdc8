#!/usr/bin/python3
"""The synchronisation and subprocess benchmarks on asyncio and uvloop: the
same shapes as bench/sync/sync_tulip.cpp (bench/sync/run.sh runs both).

Usage: sync_asyncio.py asyncio|uvloop <row> [n]
Rows:
  queue_bounded    1,000,000 ints through a Queue(maxsize=100), one producer task, one consumer task
  queue_unbounded  the same through an unbounded Queue
  lock             100 tasks x 1,000 rounds of: acquire, sleep(0), release (100,000 round trips)
  spawn_seq        1,000 `true` subprocesses (create_subprocess_exec + wait), one after the other
  spawn_conc       1,000 `true` subprocesses, 10 at a time (10 workers x 100 in sequence)
Prints "RESULT <row> <impl> wall=<seconds> cpu=<seconds>". Needs Debian's
/usr/bin/python3 (the one with python3-uvloop). asyncio's child watcher is
the default one of the running Python (3.11: ThreadedChildWatcher).
"""
import asyncio
import sys
import time

ROWS = {"queue_bounded": 1_000_000, "queue_unbounded": 1_000_000, "lock": 100_000,
        "spawn_seq": 1_000, "spawn_conc": 1_000}


class Watch:
    def start(self):
        self.w0, self.c0 = time.perf_counter(), time.process_time()

    def stop(self):
        self.cpu = time.process_time() - self.c0
        self.wall = time.perf_counter() - self.w0


watch = Watch()


def check(row, got, want):
    if got != want:
        sys.exit(f"{row}: wrong result {got}, expected {want}")


async def producer(q, n):
    for i in range(n):
        await q.put(i)


async def consumer(q, n):
    s = 0
    for _ in range(n):
        s += await q.get()
    return s


async def queue_row(n, maxsize, row):
    q = asyncio.Queue(maxsize)
    watch.start()
    p = asyncio.create_task(producer(q, n))
    c = asyncio.create_task(consumer(q, n))
    await p
    s = await c
    watch.stop()
    check(row, s, n * (n - 1) // 2)


async def locker(lock, rounds, total):
    for _ in range(rounds):
        async with lock:
            await asyncio.sleep(0)
            total[0] += 1


async def lock_row(n):
    tasks_n = 100
    lock = asyncio.Lock()
    total = [0]
    watch.start()
    tasks = [asyncio.create_task(locker(lock, n // tasks_n, total)) for _ in range(tasks_n)]
    for t in tasks:
        await t
    watch.stop()
    check("lock", total[0], n // tasks_n * tasks_n)


async def spawn_true():
    p = await asyncio.create_subprocess_exec("true")
    return await p.wait()


async def spawner(count, ok):
    for _ in range(count):
        if await spawn_true() == 0:
            ok[0] += 1


async def spawn_row(n, concurrency, row):
    ok = [0]
    watch.start()
    workers = [asyncio.create_task(spawner(n // concurrency, ok)) for _ in range(concurrency)]
    for t in workers:
        await t
    watch.stop()
    check(row, ok[0], n // concurrency * concurrency)


def main():
    if len(sys.argv) not in (3, 4) or sys.argv[1] not in ("asyncio", "uvloop") or sys.argv[2] not in ROWS:
        sys.exit(__doc__)
    impl, row = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) == 4 else ROWS[row]
    if impl == "uvloop":
        import uvloop
        uvloop.install()
    if row == "queue_bounded":
        coro = queue_row(n, 100, row)
    elif row == "queue_unbounded":
        coro = queue_row(n, 0, row)
    elif row == "lock":
        coro = lock_row(n)
    elif row == "spawn_seq":
        coro = spawn_row(n, 1, row)
    else:
        coro = spawn_row(n, 10, row)
    asyncio.run(coro)
    print(f"RESULT {row} {impl} wall={watch.wall:.9g} cpu={watch.cpu:.9g}", flush=True)


if __name__ == "__main__":
    main()
