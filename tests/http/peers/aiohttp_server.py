#!/usr/bin/python3
# tests/http/peers/aiohttp_server.py — an HTTP server nobody here wrote
# (aiohttp.web) for tests/http/client_peers_test.cpp, which runs tulip's
# ClientSession against it. Listens on 127.0.0.1, an ephemeral port, prints
# "port N" once it serves, and runs until it is terminated.
# Usage: aiohttp_server.py
import asyncio
import hashlib
import sys

from aiohttp import web

connections = set()


def pattern(n):
    block = bytes(i % 251 for i in range(251))
    return (block * (n // 251 + 1))[:n]


async def hello(request):
    connections.add(id(request.transport))
    return web.Response(text="hello")


async def stats(request):
    return web.Response(text=str(len(connections)))


async def chunked(request):
    resp = web.StreamResponse()
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    for i in range(10):
        await resp.write(f"chunk {i}\n".encode())
        await asyncio.sleep(0.001)
    await resp.write_eof()
    return resp


async def compressed(request):
    body = pattern(300_000)
    resp = web.Response(body=body, headers={"X-SHA256": hashlib.sha256(body).hexdigest()})
    coding = request.match_info["coding"]
    resp.enable_compression(web.ContentCoding.gzip if coding == "gzip" else web.ContentCoding.deflate)
    return resp


async def big(request):
    body = pattern(int(request.query.get("n", "1000000")))
    return web.Response(body=body, headers={"X-SHA256": hashlib.sha256(body).hexdigest()})


async def echo(request):
    body = await request.read()
    return web.Response(text=f"{request.method} {len(body)} {hashlib.sha256(body).hexdigest()}")


async def multipart(request):
    data = await request.post()
    out = []
    for name in sorted(data):
        v = data[name]
        if isinstance(v, web.FileField):
            body = v.file.read()
            out.append(f"{name}=file:{v.filename}:{v.content_type}:{len(body)}:{hashlib.sha256(body).hexdigest()}")
        else:
            out.append(f"{name}={v}")
    return web.Response(text="\n".join(out))


async def login(request):
    resp = web.HTTPFound("/whoami")
    resp.set_cookie("session", "s3cr3t", path="/", httponly=True)
    resp.set_cookie("prefs", "dark", path="/prefs", max_age=3600)
    raise resp


async def whoami(request):
    return web.Response(text=";".join(f"{k}={v}" for k, v in sorted(request.cookies.items())) or "-")


async def redirect(request):
    raise web.HTTPFound("/hello")


async def stall(request):
    await asyncio.sleep(30)
    return web.Response(text="late")


async def cut(request):
    resp = web.StreamResponse(headers={"Content-Length": "1000000"})
    await resp.prepare(request)
    await resp.write(b"x" * 1000)
    await asyncio.sleep(0.01)
    request.transport.close()
    return resp


async def main():
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.router.add_get("/hello", hello)
    app.router.add_get("/stats", stats)
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/compressed/{coding}", compressed)
    app.router.add_get("/big", big)
    app.router.add_post("/echo", echo)
    app.router.add_post("/multipart", multipart)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/login", login)
    app.router.add_get("/whoami", whoami)
    app.router.add_get("/stall", stall)
    app.router.add_get("/cut", cut)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print("port", port, flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
