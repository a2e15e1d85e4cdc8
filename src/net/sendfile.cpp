// sock_sendfile and sendfile: sendfile(2) first, the read/write fallback
// otherwise (asyncio's _sock_sendfile_native / _sock_sendfile_fallback and
// _sendfile_native / _sendfile_fallback).
#include <tulip/net/sendfile.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <string>

#include <tulip/core/exceptions.hpp>
#include <tulip/net/sock_ops.hpp>
#include <tulip/task/to_thread.hpp>

#include "../core/sys.hpp"

namespace tulip {

namespace {

// asyncio's SENDFILE_FALLBACK_READBUFFER_SIZE.
constexpr std::size_t kFallbackBlock = 256 * 1024;
// One sendfile(2) call sends at most this (asyncio caps at 1 GiB on 32-bit too).
constexpr std::size_t kMaxNativeBlock = std::size_t{1} << 30;

void check_params(std::int64_t offset, const std::optional<std::int64_t>& count) {
    if (count && *count <= 0)
        throw std::invalid_argument("count must be a positive integer (got " + std::to_string(*count) + ")");
    if (offset < 0)
        throw std::invalid_argument("offset must be a non-negative integer (got " + std::to_string(offset) + ")");
}

void check_stream_socket(const Socket& sock) {
    if (!sock) throw std::invalid_argument("sock_sendfile: the socket is closed");
    if (sock.type() != SOCK_STREAM) throw std::invalid_argument("only SOCK_STREAM type sockets are supported");
    int fl = ::fcntl(sock.fileno(), F_GETFL);
    if (fl < 0) throw_os_error(errno, "sock_sendfile: fcntl");
    if (!(fl & O_NONBLOCK)) throw std::invalid_argument("the socket must be non-blocking");
}

// However the send ends (result, error, cancellation), a file that was sent
// from is left positioned after the bytes sent, as asyncio leaves it.
struct FilePosition {
    int file;
    std::int64_t start;
    const std::size_t& sent;
    ~FilePosition() {
        if (sent > 0) (void)::lseek(file, static_cast<off_t>(start + static_cast<std::int64_t>(sent)), SEEK_SET);
    }
};

// Waits until sendfile(2) may write: the socket's writability, or for a
// transport its empty write buffer and writability.
Coro<void> wait_sendable(int sock_fd, detail::SendfileTransport* transport) {
    if (transport) {
        Future<void> ready = transport->sendfile_wait_writable();
        co_await ready;
    } else {
        co_await wait_writable(sock_fd);
    }
}

// sendfile(2) until count bytes or end of file. SendfileNotAvailableError when
// it fails before sending anything (not a regular file, a socket type it does
// not take...): the caller may fall back.
Coro<std::size_t> send_native(int sock_fd, detail::SendfileTransport* transport, int file, std::int64_t offset,
                              std::optional<std::int64_t> count) {
    struct stat st {};
    if (::fstat(file, &st) < 0) throw SendfileNotAvailableError("not a regular file");
    std::size_t block = count ? static_cast<std::size_t>(*count) : static_cast<std::size_t>(st.st_size);
    if (block == 0) co_return 0;  // an empty file
    std::size_t sent = 0;
    FilePosition restore{file, offset, sent};
    long pos = static_cast<long>(offset);
    if (transport) co_await wait_sendable(sock_fd, transport);  // its buffered data goes first
    for (;;) {
        if (count) {
            block = static_cast<std::size_t>(*count) - sent;
            if (block == 0) co_return sent;
        }
        long n = detail::sys::sendfile(sock_fd, file, &pos, std::min(block, kMaxNativeBlock));
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n == 0) co_return sent;  // end of file
        int err = errno;
        if (err == EINTR) continue;
        if (err == EAGAIN || err == EWOULDBLOCK) {
            co_await wait_sendable(sock_fd, transport);
            continue;
        }
        if (sent == 0)
            throw SendfileNotAvailableError("os.sendfile call failed: " +
                                            std::error_code(err, std::system_category()).message());
        throw_os_error(err, "sendfile");
    }
}

// Reads up to n bytes at the file's position, on the default executor as
// asyncio's run_in_executor(None, file.readinto, ...): the buffer is the
// worker's own, so a cancelled read cannot write into freed memory.
Coro<std::string> read_block(int file, std::size_t n) {
    auto read = [file, n] {
        std::string buf(n, '\0');
        long r;
        do {
            r = ::read(file, buf.data(), n);
        } while (r < 0 && errno == EINTR);
        if (r < 0) throw_os_error(errno, "sendfile fallback: read");
        buf.resize(static_cast<std::size_t>(r));
        return buf;
    };
    std::string data = co_await to_thread(read);
    co_return data;
}

void seek_to(int file, std::int64_t offset) {
    if (offset && ::lseek(file, static_cast<off_t>(offset), SEEK_SET) < 0) throw_os_error(errno, "sendfile: lseek");
}

std::size_t first_block(const std::optional<std::int64_t>& count) {
    return count ? std::min(static_cast<std::size_t>(*count), kFallbackBlock) : kFallbackBlock;
}

// The fallback (asyncio's _sock_sendfile_fallback and _sendfile_fallback):
// reads blocks and writes them to `sock`, or else to the transport `t`.
Coro<std::size_t> send_fallback(Socket* sock, Transport* t, detail::SendfileTransport* st, int file,
                                std::int64_t offset, std::optional<std::int64_t> count) {
    seek_to(file, offset);
    std::size_t block = first_block(count);
    std::size_t sent = 0;
    FilePosition restore{file, offset, sent};
    for (;;) {
        if (count) {
            block = std::min(static_cast<std::size_t>(*count) - sent, block);
            if (block == 0) break;
        }
        std::string data = co_await read_block(file, block);
        if (data.empty()) break;  // end of file
        std::size_t n = data.size();
        if (sock) {
            co_await sock_sendall(*sock, std::move(data));
        } else {
            // Flow control, as asyncio's fallback protocol drains: above the
            // high-water mark, wait for the buffer to empty.
            if (t->get_write_buffer_size() > t->get_write_buffer_limits().second) {
                Future<void> ready = st->sendfile_wait_writable();
                co_await ready;
            }
            st->sendfile_write(data);
        }
        sent += n;
    }
    co_return sent;
}

// Ends the transport's sendfile however the coroutine leaves.
struct SendfileScope {
    detail::SendfileTransport* st;
    ~SendfileScope() { st->sendfile_end(); }
};

}  // namespace

Coro<std::size_t> sock_sendfile(Socket& sock, int file, std::int64_t offset, std::optional<std::int64_t> count,
                                bool fallback) {
    check_stream_socket(sock);
    check_params(offset, count);
    std::optional<std::size_t> native;
    try {
        std::size_t n = co_await send_native(sock.fileno(), nullptr, file, offset, count);
        native = n;
    } catch (const SendfileNotAvailableError&) {
        if (!fallback) throw;
    }
    if (native) co_return *native;
    std::size_t n = co_await send_fallback(&sock, nullptr, nullptr, file, offset, count);
    co_return n;
}

Coro<std::size_t> sendfile(Ref<BaseTransport> transport, int file, std::int64_t offset,
                           std::optional<std::int64_t> count, bool fallback) {
    if (!transport) throw std::invalid_argument("sendfile: no transport");
    if (transport->is_closing()) throw std::runtime_error("Transport is closing");
    auto* st = dynamic_cast<detail::SendfileTransport*>(transport.get());
    auto* stream = dynamic_cast<Transport*>(transport.get());
    if (!st || !stream) throw std::runtime_error("sendfile is not supported for this transport");
    check_params(offset, count);
    // A transport with no socket of its own (TLS) can only take the fallback.
    if (st->sendfile_socket() < 0 && !fallback)
        throw SendfileNotAvailableError("the transport has no socket sendfile(2) can write to (TLS)");
    st->sendfile_begin();
    SendfileScope scope{st};
    std::optional<std::size_t> native;
    if (st->sendfile_socket() >= 0) {
        try {
            std::size_t n = co_await send_native(st->sendfile_socket(), st, file, offset, count);
            native = n;
        } catch (const SendfileNotAvailableError&) {
            if (!fallback) throw;
        }
    }
    if (native) co_return *native;
    std::size_t n = co_await send_fallback(nullptr, stream, st, file, offset, count);
    co_return n;
}

}  // namespace tulip
