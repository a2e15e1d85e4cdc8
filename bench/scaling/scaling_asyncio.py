#!/usr/bin/python3
"""bench/scaling/scaling_asyncio.py -- the rows of scaling_tulip.cpp in asyncio
(same work, same measured section). Usage: scaling_asyncio.py <row> <n>
Prints "RESULT <row> asyncio n=<n> sec=<seconds>" (CPU seconds, user + system,
of the measured section)."""
import asyncio
import sys
import time


async def yield_value(v):
    await asyncio.sleep(0)
    return v


def spawn(n):
    return [asyncio.create_task(yield_value(i)) for i in range(n)]


def check(row, got, want):
    if got != want:
        sys.exit(f"{row}: wrong result {got}, expected {want}")


async def row_gather(n):
    t0 = time.process_time()
    ts = spawn(n)
    r = await asyncio.gather(*(ts + ts))
    dt = time.process_time() - t0
    check("gather", r[-1], n - 1)
    return dt


async def row_wait(n):
    t0 = time.process_time()
    ts = spawn(n)
    done, _ = await asyncio.wait(ts)
    dt = time.process_time() - t0
    check("wait", len(done), n)
    return dt


async def row_as_completed(n):
    t0 = time.process_time()
    ts = spawn(n)
    s = 0
    for f in asyncio.as_completed(ts):
        v = await f
        s += v
    dt = time.process_time() - t0
    check("as_completed", s, n * (n - 1) // 2)
    return dt


async def row_task_group(n):
    t0 = time.process_time()
    async with asyncio.TaskGroup() as tg:
        for i in range(n):
            tg.create_task(yield_value(i))
    return time.process_time() - t0


async def row_lock(n):
    lock = asyncio.Lock()
    served = 0

    async def user():
        nonlocal served
        async with lock:
            served += 1
    await lock.acquire()
    ts = [asyncio.create_task(user()) for _ in range(n)]
    await asyncio.sleep(0)
    t0 = time.process_time()
    lock.release()
    await asyncio.gather(*ts)
    dt = time.process_time() - t0
    check("lock", served, n)
    return dt


async def row_queue(n):
    q = asyncio.Queue()
    total = 0

    async def getter():
        nonlocal total
        v = await q.get()  # not `total += await ...`: that reads total before the await
        total += v
    ts = [asyncio.create_task(getter()) for _ in range(n)]
    await asyncio.sleep(0)
    t0 = time.process_time()
    for i in range(n):
        q.put_nowait(i)
    await asyncio.gather(*ts)
    dt = time.process_time() - t0
    check("queue", total, n * (n - 1) // 2)
    return dt


async def row_event(n):
    ev = asyncio.Event()
    woken = 0

    async def waiter():
        nonlocal woken
        await ev.wait()
        woken += 1
    ts = [asyncio.create_task(waiter()) for _ in range(n)]
    await asyncio.sleep(0)
    t0 = time.process_time()
    ev.set()
    await asyncio.gather(*ts)
    dt = time.process_time() - t0
    check("event", woken, n)
    return dt


async def row_semaphore(n):
    sem = asyncio.Semaphore(0)
    got = 0

    async def waiter():
        nonlocal got
        await sem.acquire()
        got += 1
    ts = [asyncio.create_task(waiter()) for _ in range(n)]
    await asyncio.sleep(0)
    t0 = time.process_time()
    for _ in range(n):
        sem.release()
    await asyncio.gather(*ts)
    dt = time.process_time() - t0
    check("semaphore", got, n)
    return dt


async def row_cancel_waiters(n):
    f = asyncio.get_running_loop().create_future()

    async def shielded():
        return await asyncio.shield(f)
    ts = [asyncio.create_task(shielded()) for _ in range(n)]
    await asyncio.sleep(0)
    t0 = time.process_time()
    for t in ts:
        t.cancel()
    r = await asyncio.gather(*ts, return_exceptions=True)
    f.set_result(1)
    await asyncio.sleep(0)
    dt = time.process_time() - t0
    check("cancel_waiters", len(r), n)
    return dt


async def row_timers_cancel(n):
    loop = asyncio.get_running_loop()
    t0 = time.process_time()
    hs = [loop.call_later(1000.0 + i * 1e-3, lambda: None) for i in range(n)]
    for h in hs:
        h.cancel()
    await asyncio.sleep(0)
    return time.process_time() - t0


def main():
    row, n = sys.argv[1], int(sys.argv[2])
    fn = globals().get("row_" + row)
    if fn is None:
        sys.exit(f"unknown row {row}")
    sec = asyncio.run(fn(n))
    print(f"RESULT {row} asyncio n={n} sec={sec:.6f}")


if __name__ == "__main__":
    main()
