#!/usr/bin/python3
"""The HTTP client benchmark's Python side (see bench/http/client_run.py):
N GETs over C pooled keep-alive connections, C tasks each requesting in turn
until N are done, with aiohttp's ClientSession (on asyncio or uvloop) or
httpx's AsyncClient. Prints one JSON line as bench/http/client_tulip.cpp.

Usage: client_py.py {aiohttp|aiohttp-uvloop|httpx} --url URL --requests N --conns C
"""
import argparse
import asyncio
import json
import resource
import time


def cpu_now():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


async def run_aiohttp(url, requests, conns):
    import aiohttp

    left = requests
    errors = 0
    connector = aiohttp.TCPConnector(limit=conns)
    async with aiohttp.ClientSession(connector=connector, auto_decompress=False) as session:
        async with session.get(url) as r:
            await r.read()

        async def worker():
            nonlocal left, errors
            while left > 0:
                left -= 1
                try:
                    async with session.get(url) as r:
                        body = await r.read()
                        if r.status != 200 or not body:
                            errors += 1
                except Exception:
                    errors += 1

        t0, c0 = time.monotonic(), cpu_now()
        await asyncio.gather(*(worker() for _ in range(conns)))
        return time.monotonic() - t0, cpu_now() - c0, errors


async def run_httpx(url, requests, conns):
    import httpx

    left = requests
    errors = 0
    limits = httpx.Limits(max_connections=conns, max_keepalive_connections=conns)
    async with httpx.AsyncClient(limits=limits) as client:
        await client.get(url)

        async def worker():
            nonlocal left, errors
            while left > 0:
                left -= 1
                try:
                    r = await client.get(url)
                    if r.status_code != 200 or not r.content:
                        errors += 1
                except Exception:
                    errors += 1

        t0, c0 = time.monotonic(), cpu_now()
        await asyncio.gather(*(worker() for _ in range(conns)))
        return time.monotonic() - t0, cpu_now() - c0, errors


def main():
    p = argparse.ArgumentParser()
    p.add_argument("client", choices=["aiohttp", "aiohttp-uvloop", "httpx"])
    p.add_argument("--url", required=True)
    p.add_argument("--requests", type=int, default=100000)
    p.add_argument("--conns", type=int, default=100)
    a = p.parse_args()
    if a.client == "aiohttp-uvloop":
        import uvloop

        uvloop.install()
    fn = run_httpx if a.client == "httpx" else run_aiohttp
    seconds, cpu, errors = asyncio.run(fn(a.url, a.requests, a.conns))
    print(json.dumps({"requests": a.requests, "seconds": seconds, "cpu_s": cpu, "errors": errors}), flush=True)


if __name__ == "__main__":
    main()
