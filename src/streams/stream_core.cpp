// The state a stream's reader, writer and protocol share (asyncio/streams.py:
// StreamReader's buffer, StreamReaderProtocol, FlowControlMixin).
#include <tulip/streams/stream_core.hpp>

#include <stdexcept>
#include <string>
#include <utility>

#include <tulip/core/exceptions.hpp>
#include <tulip/streams/stream_reader.hpp>
#include <tulip/streams/stream_writer.hpp>
#include <tulip/task/future.hpp>

namespace tulip {

namespace detail {

StreamCore::StreamCore(std::size_t lim) : limit(lim) {
    if (lim == 0) throw std::invalid_argument("Limit cannot be <= 0");
}

StreamCore::~StreamCore() = default;

std::size_t checked_stream_limit(std::ptrdiff_t limit) {
    if (limit <= 0) throw std::invalid_argument("Limit cannot be <= 0");
    return static_cast<std::size_t>(limit);
}

Ref<StreamCore> make_stream_core(std::ptrdiff_t limit) {
    return Ref<StreamCore>(new StreamCore(checked_stream_limit(limit)));
}

Ref<StreamCore> make_transport_stream_core(std::ptrdiff_t limit) {
    Ref<StreamCore> core = make_stream_core(limit);
    core->closed = create_future<void>();  // for wait_closed()
    return core;
}

void StreamCore::consume(std::size_t n) {
    offset += n;
    if (offset == buffer.size()) {
        buffer.clear();
        offset = 0;
    } else if (offset > 4096 && offset * 2 > buffer.size()) {
        buffer.erase(0, offset);  // compact once the dead prefix dominates
        offset = 0;
    }
    maybe_resume_transport();
}

void StreamCore::wakeup_waiter() {
    if (Waiter* w = std::exchange(data_waiter, nullptr))
        if (!w->done()) w->set_result();
}

void StreamCore::feed_data(std::string_view data) {
    if (data.empty()) return;
    buffer.append(data);
    wakeup_waiter();
    if (transport && !paused && available() > 2 * limit) {
        transport->pause_reading();
        paused = true;
    }
}

void StreamCore::feed_eof() {
    eof = true;
    wakeup_waiter();
}

void StreamCore::set_exception(std::exception_ptr e) {
    error = std::move(e);
    wakeup_waiter();
}

void StreamCore::maybe_resume_transport() {
    if (paused && available() <= limit) {
        paused = false;
        if (transport) transport->resume_reading();
    }
}

void StreamCore::park_reader(Waiter& w, std::coroutine_handle<> h, const char* func_name) {
    if (data_waiter)
        throw std::runtime_error(std::string(func_name) +
                                 "() called while another coroutine is already waiting for incoming data");
    if (paused) {
        paused = false;
        if (transport) transport->resume_reading();
    }
    data_waiter = &w;
    w.park(h);
}

std::string StreamCore::take(std::size_t n) {
    std::size_t k = std::min(n, available());
    std::string data;
    // Hand the buffer over when it is exactly what is asked for and not
    // oversized (a buffer grown under backpressure is copied from instead).
    if (offset == 0 && k == buffer.size() && buffer.capacity() / 2 <= k) {
        data.swap(buffer);
        maybe_resume_transport();
        return data;
    }
    data.assign(view().substr(0, k));
    consume(k);
    return data;
}

namespace {
struct DrainAwaiter {
    explicit DrainAwaiter(StreamCore& c) noexcept : core(c) {}
    StreamCore& core;
    LinkedWaiter lw;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
        lw.list = &core.drain_waiters;
        core.drain_waiters.push_back(&lw.w);
        lw.w.park(h);
    }
    void await_resume() {
        core.drain_waiters.remove(&lw.w);
        lw.w.raise_if_cancelled();
    }
};
}  // namespace

Coro<void> StreamCore::drain_helper() {
    Ref<StreamCore> keep(this);
    if (connection_lost) {
        if (lost_error) std::rethrow_exception(lost_error);
        throw ConnectionResetError(std::error_code(ECONNRESET, std::generic_category()), "Connection lost");
    }
    if (!write_paused) co_return;
    co_await DrainAwaiter(*this);
    if (connection_lost && lost_error) std::rethrow_exception(lost_error);
}

void StreamCore::on_connection_made(Transport& t) {
    transport = Ref<Transport>(&t);
    over_ssl = t.get_extra_info("sslcontext").has_value();
    if (on_client) {
        auto cb = std::move(on_client);
        on_client = nullptr;
        cb(StreamReader(Ref<StreamCore>(this)), StreamWriter(Ref<StreamCore>(this)));
    }
}

void StreamCore::on_connection_lost(std::exception_ptr exc) {
    if (exc)
        set_exception(exc);
    else
        feed_eof();
    if (closed && !closed.done()) {
        if (exc) {
            closed.set_exception(exc);
            (void)closed.exception();  // nobody has to look: do not report it as unretrieved
        } else {
            closed.set_result();
        }
    }
    connection_lost = true;
    lost_error = exc;
    drain_waiters.for_each([](Waiter* w) {
        if (!w->done()) w->set_result();
    });
}

void StreamCore::last_user_gone() noexcept {
    // Nobody can read, write or close this connection any more: close it, so
    // the peer sees EOF, the fd is released and the transport <-> core cycle
    // ends at connection_lost. A loop's close force-closes its transports
    // (connection_lost runs then), so after it we return here before
    // touching the transport's (perhaps destroyed) loop.
    if (!transport || connection_lost || transport->is_closing()) return;
    try {
        transport->close();
    } catch (...) {
        // close() only schedules work on the running loop; nothing to report here
    }
}

StreamProtocol::StreamProtocol(const StreamReader& reader) : core_(reader.core()) {}

// After connection_lost the protocol holds no core: a transport that calls it
// again (a second connection_lost, data after close) finds nothing to feed,
// as asyncio's StreamReaderProtocol drops its reader there.
void StreamProtocol::connection_made(Transport& t) {
    if (core_) core_->on_connection_made(t);
}

void StreamProtocol::data_received(std::string_view data) {
    if (core_) core_->feed_data(data);
}

bool StreamProtocol::eof_received() {
    if (!core_) return false;
    core_->feed_eof();
    // Keep our side open so the writer may still write (half-close), unless
    // nobody will ever write.
    return !core_->close_on_eof && !core_->over_ssl;
}

void StreamProtocol::pause_writing() {
    if (core_) core_->write_paused = true;
}

void StreamProtocol::connection_lost(std::exception_ptr exc) {
    if (!core_) return;
    Ref<StreamCore> core = std::move(core_);  // break the transport -> protocol -> core -> transport cycle
    core->on_connection_lost(exc);
}

void StreamProtocol::resume_writing() {
    if (!core_) return;
    core_->write_paused = false;
    core_->drain_waiters.for_each([](Waiter* w) {
        if (!w->done()) w->set_result();
    });
}

}  // namespace detail

}  // namespace tulip
