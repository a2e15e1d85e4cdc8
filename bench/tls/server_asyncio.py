#!/usr/bin/python3
"""TLS echo servers on Python's asyncio and on uvloop (bench/tls/run.py runs them).

Usage: server_asyncio.py asyncio|uvloop streams|protocol --cert C --key K [--sink] [port]

  streams:  asyncio.start_server(ssl=ctx); per connection: data = await
            reader.read(65536); writer.write(data); await writer.drain()
  protocol: loop.create_server(ssl=ctx); data_received -> transport.write
  --sink:   read and drop (the bulk test)

The context: TLS 1.3 only, no tickets (num_tickets = 0), the bench cert.
Python has no TLS 1.3 suite setter (set_ciphers is TLS 1.2 only): the load
generator offers TLS_AES_128_GCM_SHA256 alone and checks that it was
agreed. Prints "PORT <n>" and serves until killed. Needs Debian's
/usr/bin/python3 (the one with python3-uvloop).
"""
import argparse
import asyncio
import resource
import socket
import ssl

BACKLOG = 4096
READ_SIZE = 64 * 1024
SINK = False


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
            if SINK:
                continue
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass  # the peer reset the connection
    writer.close()


class Echo(asyncio.Protocol):
    __slots__ = ("transport",)

    def connection_made(self, transport):
        self.transport = transport
        nodelay(transport)

    def data_received(self, data):
        self.transport.write(data)


class Sink(asyncio.Protocol):
    def data_received(self, data):
        pass


async def main(args, ctx):
    if args.api == "streams":
        server = await asyncio.start_server(handle, "127.0.0.1", args.port, backlog=BACKLOG, ssl=ctx)
    else:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Sink if SINK else Echo, "127.0.0.1", args.port, backlog=BACKLOG, ssl=ctx)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def run():
    global SINK
    ap = argparse.ArgumentParser()
    ap.add_argument("loop", choices=["asyncio", "uvloop"])
    ap.add_argument("api", choices=["streams", "protocol"])
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--sink", action="store_true")
    ap.add_argument("port", type=int, nargs="?", default=0)
    args = ap.parse_args()
    SINK = args.sink
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.num_tickets = 0
    ctx.load_cert_chain(args.cert, args.key)
    if args.loop == "uvloop":
        import uvloop
        uvloop.install()
    asyncio.run(main(args, ctx))


if __name__ == "__main__":
    run()
