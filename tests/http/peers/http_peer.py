#!/usr/bin/python3
# tests/http/peers/http_peer.py — HTTP clients nobody here wrote (Python's
# http.client, aiohttp's ClientSession) making requests to tulip's HTTP
# server for tests/http/peers_test.cpp. Prints one line per result,
# "name value...", which the test checks; exits non-zero on any error.
# Usage: http_peer.py {httpclient|aiohttp} PORT
import asyncio
import http.client
import sys

HOST = "127.0.0.1"
TIMEOUT = 20.0


def out(*parts):
    print(*parts, flush=True)


def run_httpclient(port):
    conn = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
    conn.request("GET", "/hello")
    r = conn.getresponse()
    out("get", r.status, r.read().decode())
    conn.request("POST", "/echo", body=b"python body", headers={"Content-Type": "text/plain"})
    r = conn.getresponse()
    out("post", r.status, r.getheader("X-Chunked"), r.read().decode())
    # Same connection: the server kept it open.
    ports = []
    for _ in range(2):
        conn.request("GET", "/peer")
        r = conn.getresponse()
        ports.append(r.read().decode())
    out("same_connection", ports[0] == ports[1])
    conn.request("HEAD", "/hello")
    r = conn.getresponse()
    out("head", r.status, r.getheader("Content-Length"), repr(r.read()))
    # A chunked upload.
    conn.request("POST", "/echo", body=iter([b"chunk1-", b"chunk2"]), encode_chunked=True)
    r = conn.getresponse()
    out("chunked_upload", r.status, r.getheader("X-Chunked"), r.read().decode())
    # A chunked (streamed) response.
    conn.request("GET", "/stream")
    r = conn.getresponse()
    out("stream", r.status, r.getheader("Transfer-Encoding"), r.read().decode())
    conn.request("GET", "/missing")
    r = conn.getresponse()
    out("missing", r.status, r.read().decode().strip())
    conn.close()


async def run_aiohttp_async(port):
    import aiohttp

    base = f"http://{HOST}:{port}"
    timeout = aiohttp.ClientTimeout(total=TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout) as s:
        async with s.get(base + "/hello") as r:
            out("get", r.status, await r.text())
        async with s.post(base + "/echo", data=b"aiohttp body") as r:
            out("post", r.status, r.headers.get("X-Chunked"), await r.text())
        ports = []
        for _ in range(2):
            async with s.get(base + "/peer") as r:
                ports.append(await r.text())
        out("same_connection", ports[0] == ports[1])
        async with s.head(base + "/hello") as r:
            out("head", r.status, r.headers.get("Content-Length"), repr(await r.read()))

        async def parts():
            for p in (b"chunk1-", b"chunk2"):
                yield p

        async with s.post(base + "/echo", data=parts()) as r:
            out("chunked_upload", r.status, r.headers.get("X-Chunked"), await r.text())
        async with s.get(base + "/stream") as r:
            got = []
            async for piece in r.content.iter_any():
                got.append(piece)
            out("stream", r.status, r.headers.get("Transfer-Encoding"), b"".join(got).decode())
        async with s.get(base + "/missing") as r:
            out("missing", r.status, (await r.text()).strip())
        async with s.get(base + "/query", params={"a": "1 2", "b": "é"}) as r:
            out("query", r.status, await r.text())


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "httpclient":
        run_httpclient(port)
    elif mode == "aiohttp":
        asyncio.run(run_aiohttp_async(port))
    else:
        sys.exit("unknown mode " + mode)
    out("done")


if __name__ == "__main__":
    main()
