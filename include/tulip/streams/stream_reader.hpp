// tulip/streams/stream_reader.hpp — StreamReader (asyncio.StreamReader).
//
// Reads from a stream connection. A handle: copies share the same reader.
// Only one coroutine may wait for data at a time (a second gets
// std::runtime_error, as asyncio's RuntimeError).
//
// Backpressure: above 2 * limit unread bytes the transport stops reading;
// it resumes once the buffer is back under limit (default 64 KiB).
// Cancel safety: read(n), readline(), readexactly() and readuntil() are
// safe — a cancelled read consumes nothing; the bytes stay in the buffer for
// the next read. read() / read(-1) is not: the blocks it already took are
// lost (as asyncio's).
// Errors: the connection's error (ConnectionResetError, ...) is raised by
// every read from then on, even while bytes received before it are still
// buffered (as asyncio: set_exception() wins over the buffer).
// Thread safety: loop thread only.
#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include <tulip/core/ref.hpp>
#include <tulip/streams/stream_core.hpp>
#include <tulip/task/coro.hpp>

namespace tulip {

class StreamReader {
public:
    // A reader not attached to any transport (asyncio: StreamReader() and
    // StreamReader(limit=...)): feed it with feed_data/feed_eof, or hand it to
    // a StreamReaderProtocol (connect_read_pipe). limit <= 0 raises
    // std::invalid_argument (ValueError). Default-constructed, it is such a
    // reader with the default limit, never an empty handle.
    StreamReader() : StreamReader(static_cast<std::ptrdiff_t>(detail::kDefaultStreamLimit)) {}
    explicit StreamReader(std::ptrdiff_t limit) : core_(detail::make_stream_core(limit)) {}
    explicit StreamReader(Ref<detail::StreamCore> core) : core_(std::move(core)) {}

    // Lifetimes: every read returns an awaitable that holds the reader's
    // state, so it may outlive this handle (CP.53). Copies share one reader;
    // when the last reader and writer handle of a connection (and every read
    // or drain started from them) is gone, the connection is closed.

    // `co_await reader.read(n)`: what read(n) returns. An awaiter rather than
    // a coroutine: when bytes are buffered it takes them without suspending
    // and without a frame; otherwise it parks on the reader itself.
    class [[nodiscard]] ReadAwaiter {
    public:
        ReadAwaiter(detail::StreamRef c, std::ptrdiff_t n) noexcept : core_(std::move(c)), n_(n) {}
        // Movable before it is awaited (into wait_for, gather, create_task).
        ReadAwaiter(ReadAwaiter&& o) noexcept : core_(std::move(o.core_)), n_(o.n_), all_(std::move(o.all_)) {}
        ~ReadAwaiter();
        bool await_ready() const noexcept;
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> h);
        std::string await_resume();

    private:
        detail::StreamRef core_;
        std::ptrdiff_t n_;
        bool parked_ = false;
        detail::Waiter w_;
        Coro<std::string> all_;  // read(-1) runs read_all
    };
    // Up to n bytes (at least one unless at EOF); n < 0: everything until EOF.
    // Cancel safety: read(n) is safe; read(-1) is not (what it took is lost).
    ReadAwaiter read(std::ptrdiff_t n = -1) const { return ReadAwaiter(core_, n); }
    // A line ending in "\n" (or what is left at EOF). A line longer than the
    // limit raises std::invalid_argument and discards it (asyncio: ValueError).
    // Cancel safety: safe; a cancelled readline() consumes nothing.
    Coro<std::string> readline();
    // Exactly n bytes, or IncompleteReadError (with .partial) at EOF; n < 0
    // raises std::invalid_argument (asyncio: ValueError).
    // Cancel safety: safe; a cancelled readexactly() consumes nothing.
    Coro<std::string> readexactly(std::ptrdiff_t n);
    // Data up to and including the first separator found (of several, the one
    // that ends first). LimitOverrunError past the limit, leaving the data in
    // the buffer; IncompleteReadError at EOF (the buffer is consumed).
    // Cancel safety: safe; a cancelled readuntil() consumes nothing.
    Coro<std::string> readuntil(std::string separator = "\n");
    Coro<std::string> readuntil(std::vector<std::string> separators);

    bool at_eof() const noexcept { return core_->eof && core_->available() == 0; }
    void feed_data(std::string_view data) { core_->feed_data(data); }
    void feed_eof() { core_->feed_eof(); }
    void set_exception(std::exception_ptr e) { core_->set_exception(std::move(e)); }
    std::exception_ptr exception() const noexcept { return core_->error; }
    std::ptrdiff_t limit() const noexcept { return static_cast<std::ptrdiff_t>(core_->limit); }
    // Bytes received and not read yet.
    std::size_t buffered() const noexcept { return core_->available(); }
    const Ref<detail::StreamCore>& core() const noexcept { return core_.ref(); }

private:
    static Coro<std::string> read_all(StreamReader self);
    static Coro<std::string> readline_impl(StreamReader self);
    static Coro<std::string> readexactly_impl(StreamReader self, std::ptrdiff_t n);
    static Coro<std::string> readuntil_impl(StreamReader self, std::vector<std::string> separators);
    detail::StreamRef core_;
};

}  // namespace tulip
