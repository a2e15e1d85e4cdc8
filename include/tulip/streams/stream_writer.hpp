// tulip/streams/stream_writer.hpp — StreamWriter (asyncio.StreamWriter).
//
// Writes to a stream connection. write() never blocks: call drain() to wait
// while the transport's buffer is above its high-water mark (64 KiB); drain
// wakes when it falls to the low-water mark (16 KiB), and raises the
// connection's error (ConnectionResetError("Connection lost") if none).
// close() closes after the buffered data is sent; wait_closed() waits until
// the connection is gone, and raises the error it ended with (if any).
// Cancel safety: drain() is safe: a cancelled drain() leaves the data queued,
// and it is still sent; wait_closed() is safe: the close goes on. start_tls()
// is not: on cancellation the connection is closed.
// Thread safety: loop thread only.
#pragma once

#include <any>
#include <coroutine>
#include <span>
#include <string_view>
#include <utility>

#include <tulip/core/ref.hpp>
#include <tulip/net/transport.hpp>
#include <tulip/streams/stream_core.hpp>
#include <tulip/task/coro.hpp>
#include <tulip/tls/start_tls.hpp>

namespace tulip {

class StreamWriter {
public:
    StreamWriter() = default;
    explicit StreamWriter(Ref<detail::StreamCore> core) : core_(std::move(core)) {}

    // Lifetimes: drain() and wait_closed() return awaitables that hold the
    // stream, so they may outlive this handle (CP.53). write() copies what
    // the transport cannot send at once. When the last reader and writer
    // handle of a connection is gone, the connection is closed (as asyncio's
    // StreamWriter.__del__ does): call close() to choose the moment.

    void write(std::string_view data) { core_->transport->write(data); }
    void writelines(std::span<const std::string_view> data) { core_->transport->writelines(data); }
    bool can_write_eof() const noexcept { return core_->transport->can_write_eof(); }
    void write_eof() { core_->transport->write_eof(); }
    void close() { core_->transport->close(); }
    bool is_closing() const noexcept { return core_->transport->is_closing(); }
    Coro<void> wait_closed() { return wait_closed_impl(core_); }
    // `co_await writer.drain()`: what drain() returns. Ready at once, with no
    // frame, unless writing is paused or the connection is closing or lost;
    // then it runs the waiting path (asyncio's drain and _drain_helper).
    class [[nodiscard]] DrainAwaiter {
    public:
        explicit DrainAwaiter(detail::StreamRef c) noexcept : core_(std::move(c)) {}
        DrainAwaiter(DrainAwaiter&& o) noexcept : core_(std::move(o.core_)), slow_(std::move(o.slow_)) {}
        bool await_ready() const noexcept {
            const detail::StreamCore& c = *core_;
            return !c.error && !c.connection_lost && !c.write_paused && !c.transport->is_closing();
        }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> h) {
            slow_ = drain_slow(core_);
            auto aw = slow_.operator co_await();
            (void)aw.await_ready();
            return aw.await_suspend(h);
        }
        void await_resume() {
            if (slow_) slow_.operator co_await().await_resume();
        }

    private:
        // A counted reference (it was a raw pointer): the awaiter may outlive
        // the writer it came from, e.g. create_task(StreamWriter(w).drain()).
        detail::StreamRef core_;
        Coro<void> slow_;
    };
    DrainAwaiter drain() const noexcept { return DrainAwaiter(core_); }
    std::any get_extra_info(std::string_view name) const { return core_->transport->get_extra_info(name); }
    // Upgrades the connection to TLS (asyncio 3.11 StreamWriter.start_tls):
    // drains, then runs the handshake; reads and writes go through TLS from
    // then on. A stream of start_server upgrades as the server side
    // (options.server_side is ignored). Bytes already in the reader's buffer
    // stay plain text. On failure the connection is closed.
    Coro<void> start_tls(ssl::SSLContext sslcontext, StartTLSOptions options = {}) {
        return start_tls_impl(core_, std::move(sslcontext), std::move(options));
    }
    Transport& transport() const noexcept { return *core_->transport; }
    explicit operator bool() const noexcept { return static_cast<bool>(core_); }

private:
    static Coro<void> drain_slow(detail::StreamRef c);
    static Coro<void> wait_closed_impl(detail::StreamRef c);
    static Coro<void> start_tls_impl(detail::StreamRef c, ssl::SSLContext ctx, StartTLSOptions options);
    detail::StreamRef core_;
};

}  // namespace tulip
