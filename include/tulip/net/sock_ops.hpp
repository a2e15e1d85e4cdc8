// tulip/net/sock_ops.hpp — the loop's low-level socket operations
// (asyncio loop.sock_recv, sock_recv_into, sock_recvfrom, sock_recvfrom_into, sock_sendall,
// sock_sendto, sock_connect, sock_accept).
//
// Each tries the syscall first and waits for readiness only on EAGAIN, as
// asyncio does. They are free functions on the running loop (asyncio has them
// as loop methods); the socket must be non-blocking (tulip::Socket is; in
// debug mode one made blocking behind its back raises std::invalid_argument,
// as asyncio's ValueError "the socket must be non-blocking").
//
// Cancel safety: sock_recv*, sock_accept, sock_sendto, wait_readable and
// wait_writable are safe: a cancelled sock_recv*/sock_accept has consumed
// nothing — no byte or connection is lost and the socket stays usable; a
// datagram is sent whole or not at all. sock_sendall is not: it may have sent
// a prefix of the data (in order). sock_connect is not: it leaves the socket
// in an unspecified state: close it.
// Errors: std::system_error (ConnectionResetError, BrokenPipeError,
// ConnectionRefusedError, ...) naming the call.
// Thread safety: loop thread only; one reader and one writer per socket at a time.
// Lifetimes: each returns a lazy coroutine that runs when awaited or when its
// task first runs, so it owns what it keeps (CP.53): data and addresses are
// taken by value (move a std::string in to avoid the copy). The Socket is
// borrowed: it must outlive the operation (asyncio's sock_* borrow theirs
// too), as must the buffer given to sock_recv_into.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <tulip/net/address.hpp>
#include <tulip/net/socket.hpp>
#include <tulip/task/coro.hpp>

namespace tulip {

// Up to n bytes; an empty string means the peer closed its end.
Coro<std::string> sock_recv(Socket& sock, std::size_t n);
// Reads into buf; returns the count (0: the peer closed). Borrows buf, as it
// borrows sock (filling the caller's buffer is the point of recv_into): both
// must outlive the returned Coro. Use sock_recv for an owned result.
Coro<std::size_t> sock_recv_into(Socket& sock, std::span<char> buf);
// A datagram of up to n bytes and its sender.
Coro<std::pair<std::string, SocketAddress>> sock_recvfrom(Socket& sock, std::size_t n);
// A datagram into buf (at most nbytes of it; 0: all of buf): its size and
// sender. Borrows buf as sock_recv_into does. std::invalid_argument if
// nbytes exceeds buf (asyncio: ValueError).
Coro<std::pair<std::size_t, SocketAddress>> sock_recvfrom_into(Socket& sock, std::span<char> buf,
                                                               std::size_t nbytes = 0);
// Sends all of data.
Coro<void> sock_sendall(Socket& sock, std::string data);
// Sends one datagram; returns the bytes sent.
Coro<std::size_t> sock_sendto(Socket& sock, std::string data, SocketAddress to);
// Connects to addr.
Coro<void> sock_connect(Socket& sock, SocketAddress addr);
// Connects to host:port, resolving host (numeric addresses skip the resolver).
Coro<void> sock_connect(Socket& sock, std::string host, std::uint16_t port);
// Accepts a connection: the new (non-blocking) socket and the peer's address.
Coro<std::pair<Socket, SocketAddress>> sock_accept(Socket& sock);

// Waits until fd is readable / writable (the building block of the above).
Coro<void> wait_readable(int fd);
Coro<void> wait_writable(int fd);

}  // namespace tulip
