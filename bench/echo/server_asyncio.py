#!/usr/bin/python3
"""Echo servers on Python's asyncio and on uvloop (bench/echo/run.py runs them).

Usage: server_asyncio.py asyncio|uvloop streams|protocol [port]

  streams:  start_server; per connection: data = await reader.read(65536);
            writer.write(data); await writer.drain()   (the textbook echo)
  protocol: asyncio.Protocol; data_received(data) -> transport.write(data)

Listens on 127.0.0.1:port (0: a free port) with a backlog of 4096, sets
TCP_NODELAY (asyncio does already; set again so both loops surely do), prints
"PORT <n>" and serves until killed. Needs Debian's /usr/bin/python3 (the one
with python3-uvloop).
"""
import asyncio
import resource
import socket
import sys

BACKLOG = 4096
READ_SIZE = 64 * 1024


def nodelay(transport):
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


async def handle(reader, writer):
    nodelay(writer.transport)
    try:
        while True:
            data = await reader.read(READ_SIZE)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass  # the peer reset the connection
    writer.close()


class Echo(asyncio.Protocol):
    __slots__ = ("transport",)

    def connection_made(self, transport):
        self.transport = transport
        nodelay(transport)

    def data_received(self, data):
        self.transport.write(data)


async def main(api, port):
    if api == "streams":
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=BACKLOG)
    else:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Echo, "127.0.0.1", port, backlog=BACKLOG)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def run():
    if len(sys.argv) not in (3, 4) or sys.argv[1] not in ("asyncio", "uvloop") \
            or sys.argv[2] not in ("streams", "protocol"):
        sys.exit(__doc__)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    port = int(sys.argv[3]) if len(sys.argv) == 4 else 0
    if sys.argv[1] == "uvloop":
        import uvloop
        uvloop.install()
    asyncio.run(main(sys.argv[2], port))


if __name__ == "__main__":
    run()
