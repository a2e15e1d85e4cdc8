// tulip/net/sendfile.hpp — sending a file over a socket or a transport
// (asyncio loop.sock_sendfile and loop.sendfile).
//
// Both send `count` bytes (all up to end of file when nullopt) of the open
// file descriptor `file`, starting at `offset`, and return how many bytes
// were sent. The file is a plain fd (asyncio takes a binary file object):
// the caller keeps it open until the call finishes. As in asyncio, when
// something was sent the fd's position is left at offset + sent.
//
// Native first: sendfile(2), zero-copy, when the file is a regular file (or
// anything the kernel accepts). Otherwise, with fallback=true, the file is
// read in blocks on the default executor (asyncio's run_in_executor) and
// written; with fallback=false, SendfileNotAvailableError.
//
// sendfile(transport, ...) waits until the transport's write buffer is empty,
// pauses its reading, sends the file on its socket and resumes reading, as
// asyncio's _sendfile_native; transport.write() raises std::runtime_error
// meanwhile, and a close() waits for the file to be sent. Only tulip's stream
// socket transports support it (others: std::runtime_error, as asyncio's
// "sendfile is not supported for transport").
//
// Errors: offset < 0 or count <= 0 -> std::invalid_argument; a socket that is
// not SOCK_STREAM or is blocking -> std::invalid_argument (asyncio's
// ValueError; tulip checks blocking sockets always, a blocked loop being
// worse than a failed call); a closing transport -> std::runtime_error;
// OS errors as std::system_error (BrokenPipeError, ConnectionResetError ...).
// Cancel safety: not safe: a prefix of the file may have been sent; the file
// position is updated as for a finished call; the transport resumes reading.
// Thread safety: loop thread only. The socket / transport is borrowed (a Ref
// for the transport), and must stay open until the call finishes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include <tulip/core/ref.hpp>
#include <tulip/net/socket.hpp>
#include <tulip/net/transport.hpp>
#include <tulip/task/coro.hpp>
#include <tulip/task/future.hpp>

namespace tulip {

Coro<std::size_t> sock_sendfile(Socket& sock, int file, std::int64_t offset = 0,
                                std::optional<std::int64_t> count = std::nullopt, bool fallback = true);

Coro<std::size_t> sendfile(Ref<BaseTransport> transport, int file, std::int64_t offset = 0,
                           std::optional<std::int64_t> count = std::nullopt, bool fallback = true);

namespace detail {
// What a transport offers to sendfile (asyncio's _SendfileMode.TRY_NATIVE);
// tulip's stream socket transport implements it.
class SendfileTransport {
public:
    // The socket sendfile(2) writes to.
    virtual int sendfile_socket() const noexcept = 0;
    // Starts a sendfile: pauses reading, refuses user writes and defers
    // connection_lost until sendfile_end(). Throws if one is in progress.
    virtual void sendfile_begin() = 0;
    // Completes when the write buffer is empty and the socket writable;
    // fails (BrokenPipeError) if the connection is lost meanwhile.
    virtual Future<void> sendfile_wait_writable() = 0;
    // A write that bypasses the "sendfile in progress" refusal (the fallback).
    virtual void sendfile_write(std::string_view data) = 0;
    virtual void sendfile_end() noexcept = 0;

protected:
    ~SendfileTransport() = default;
};
}  // namespace detail

}  // namespace tulip
