#!/usr/bin/python3
"""The aiohttp.web hello-world server for bench/http/run.py: GET / answers
"Hello, World!", /static/ serves --root (the 64 KiB file). Usage:
aiohttp_server.py asyncio|uvloop [--port N] [--root DIR]; prints "PORT <n>"
once it accepts connections and serves until killed."""
import argparse
import asyncio
import sys

from aiohttp import web


async def hello(request):
    return web.Response(text="Hello, World!")


async def main(args):
    app = web.Application()
    app.router.add_get("/", hello)
    app.router.add_static("/static/", args.root)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.port, backlog=4096)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("loop", choices=["asyncio", "uvloop"])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--root", default=".")
    a = ap.parse_args()
    if a.loop == "uvloop":
        import uvloop
        uvloop.install()
    try:
        asyncio.run(main(a))
    except KeyboardInterrupt:
        sys.exit(0)
