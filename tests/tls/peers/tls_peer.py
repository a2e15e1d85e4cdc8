#!/usr/bin/python3
# A TLS peer for tests/tls/tls_peers_test.cpp, written on Python's ssl module
# (a TLS stack nobody here wrote). One connection, then it exits.
#
# server: listens on 127.0.0.1 port 0, prints "PORT <n>" on stdout, serves
#   one connection per --action, then prints one JSON line describing what it
#   saw ({"error": ...} on failure, exit status 1).
# client: connects to --port, says one line, prints one JSON line likewise.
# exec PROGRAM ARGS...: runs PROGRAM (openssl s_server) with the same guard.
# Every socket has a timeout, so the peer never hangs; and the peer dies with
# the test process (PR_SET_PDEATHSIG), even when that one crashes.
import argparse
import ctypes
import hashlib
import json
import os
import signal
import socket
import ssl
import sys

TIMEOUT = 10


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def readline(sock):
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = sock.recv(1)
        if not chunk:
            break
        buf += chunk
    return buf


def peer_cn(tls):
    cert = tls.getpeercert()
    if not cert:
        return None
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return None


def info(tls):
    return {
        "version": tls.version(),
        "cipher": tls.cipher()[0],
        "alpn": tls.selected_alpn_protocol(),
        "peer_cn": peer_cn(tls),
    }


def server_context(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    if args.cafile:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(args.cafile)
    if args.alpn:
        ctx.set_alpn_protocols(args.alpn.split(","))
    return ctx


def echo_lines(tls, result):
    lines = 0
    while True:
        line = readline(tls)
        if not line:
            break
        tls.sendall(line)
        lines += 1
    result["lines"] = lines


def bulk(tls, size, result):
    # Receives `size` bytes and answers their SHA-256; then sends `size`
    # random bytes followed by their SHA-256.
    h = hashlib.sha256()
    got = 0
    while got < size:
        chunk = tls.recv(min(1 << 20, size - got))
        if not chunk:
            raise ConnectionError("EOF after %d of %d bytes" % (got, size))
        h.update(chunk)
        got += len(chunk)
    tls.sendall((h.hexdigest() + "\n").encode())
    h2 = hashlib.sha256()
    block = os.urandom(1 << 20)
    sent = 0
    while sent < size:
        piece = block[: min(len(block), size - sent)]
        # Vary the data per block, so a repeated block would be caught.
        piece = sent.to_bytes(8, "big") + piece[8:]
        tls.sendall(piece)
        h2.update(piece)
        sent += len(piece)
    tls.sendall((h2.hexdigest() + "\n").encode())
    result["received"] = got
    # Wait for the client to close, so nothing is cut short.
    readline(tls)


def serve(args):
    ctx = server_context(args)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(TIMEOUT)
    sys.stdout.write("PORT %d\n" % listener.getsockname()[1])
    sys.stdout.flush()
    status = 0
    for _ in range(args.count):
        conn, _ = listener.accept()
        status = max(status, serve_one(args, ctx, conn))
    return status


def serve_one(args, ctx, conn):
    conn.settimeout(TIMEOUT)
    result = {}
    try:
        if args.action == "starttls":
            # A plain line protocol first; TLS after "STARTTLS".
            conn.sendall(b"220 plain hello\n")
            line = readline(conn)
            result["plain"] = line.decode().strip()
            if line.strip() != b"STARTTLS":
                raise ValueError("expected STARTTLS, got %r" % line)
            conn.sendall(b"220 go ahead\n")
        tls = ctx.wrap_socket(conn, server_side=True)
        result.update(info(tls))
        result["reused"] = tls.session_reused
        if args.action in ("echo", "starttls"):
            echo_lines(tls, result)
        elif args.action == "bulk":
            bulk(tls, args.size, result)
        elif args.action == "abrupt":
            tls.sendall(b"hello\n")
            # SSLSocket.shutdown drops the TLS layer and shuts the TCP
            # socket down: a FIN without close_notify.
            tls.shutdown(socket.SHUT_RDWR)
            tls.close()
            out(result)
            return 0
        try:
            tls.unwrap()
        except (OSError, ValueError):
            pass
        tls.close()
    except Exception as e:  # report every failure to the test
        result["error"] = "%s: %s" % (type(e).__name__, e)
        out(result)
        return 1
    out(result)
    return 0


def client(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(args.cafile)
    if args.cert:
        ctx.load_cert_chain(args.cert, args.key)
    if args.alpn:
        ctx.set_alpn_protocols(args.alpn.split(","))
    result = {}
    try:
        raw = socket.create_connection(("127.0.0.1", args.port), timeout=TIMEOUT)
        tls = ctx.wrap_socket(raw, server_hostname=args.server_hostname)
        result.update(info(tls))
        tls.sendall(b"hello from python\n")
        result["reply"] = readline(tls).decode()
        if not result["reply"]:
            raise ConnectionError("EOF instead of a reply")
        tls.close()
    except Exception as e:
        result["error"] = "%s: %s" % (type(e).__name__, e)
        out(result)
        return 1
    out(result)
    return 0


def die_with_parent():
    PR_SET_PDEATHSIG = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # the parent is already gone
        os._exit(1)


def main():
    die_with_parent()
    if len(sys.argv) > 2 and sys.argv[1] == "exec":
        # The death signal survives execve.
        os.execv(sys.argv[2], sys.argv[2:])
    p = argparse.ArgumentParser()
    p.add_argument("role", choices=["server", "client"])
    p.add_argument("--action", default="echo", choices=["echo", "bulk", "abrupt", "starttls"])
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--cafile")
    p.add_argument("--alpn")
    p.add_argument("--port", type=int)
    p.add_argument("--server-hostname", default="localhost")
    p.add_argument("--size", type=int, default=0)
    p.add_argument("--count", type=int, default=1, help="server: connections to serve, one after the other")
    args = p.parse_args()
    return serve(args) if args.role == "server" else client(args)


if __name__ == "__main__":
    sys.exit(main())
