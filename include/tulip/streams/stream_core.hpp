// tulip/streams/stream_core.hpp — the state shared by a StreamReader, its
// StreamWriter and the transport's protocol (internal; asyncio's
// StreamReader buffer + StreamReaderProtocol + FlowControlMixin).
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <string_view>

#include <tulip/core/ref.hpp>
#include <tulip/net/protocol.hpp>
#include <tulip/net/transport.hpp>
#include <tulip/sync/waiters.hpp>
#include <tulip/task/coro.hpp>
#include <tulip/task/future.hpp>

namespace tulip {

class StreamReader;
class StreamWriter;

namespace detail {

inline constexpr std::size_t kDefaultStreamLimit = 64 * 1024;  // asyncio streams _DEFAULT_LIMIT

class StreamCore final : public RefCounted {
public:
    explicit StreamCore(std::size_t limit);  // limit > 0 (make_stream_core checks)
    ~StreamCore() override;

    // ---- reader side (asyncio StreamReader) -----------------------------------
    std::size_t limit;
    std::string buffer;  // unread bytes start at buffer[offset]
    std::size_t offset = 0;
    bool eof = false;
    bool paused = false;  // we paused the transport's reading (backpressure)
    std::exception_ptr error;
    Waiter* data_waiter = nullptr;

    std::size_t available() const noexcept { return buffer.size() - offset; }
    std::string_view view() const noexcept { return std::string_view(buffer).substr(offset); }
    void consume(std::size_t n);  // drops n unread bytes, then resumes reading if below the limit
    void feed_data(std::string_view data);
    void feed_eof();
    void set_exception(std::exception_ptr e);
    void maybe_resume_transport();
    void wakeup_waiter();
    // Takes up to n unread bytes (n > 0). When they are the whole buffer, the
    // buffer itself is handed over instead of copied (one copy per message:
    // the socket's bytes into the buffer).
    std::string take(std::size_t n);

    // Parking the one reader that waits for data (asyncio's _wait_for_data):
    // park_reader in await_suspend (throws if another reader waits, resumes a
    // paused transport), unpark_reader in await_resume (raises CancelledError
    // if the wait was cancelled), forget_reader from the awaiter's destructor.
    void park_reader(Waiter& w, std::coroutine_handle<> h, const char* func_name);
    void unpark_reader(Waiter& w) {
        forget_reader(w);
        w.raise_if_cancelled();
    }
    void forget_reader(Waiter& w) noexcept {
        if (data_waiter == &w) data_waiter = nullptr;
    }
    // `co_await core.wait_for_data("read")`: suspends until data, EOF or an
    // error arrives. An awaiter, so waiting costs no coroutine frame.
    class DataAwaiter {
    public:
        // Not an aggregate: see the GCC 12.2 note in sync/waiters.hpp.
        DataAwaiter(StreamCore& c, const char* func_name) noexcept : core_(c), func_(func_name) {}
        DataAwaiter(const DataAwaiter&) = delete;
        ~DataAwaiter() { core_.forget_reader(w_); }
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> h) { core_.park_reader(w_, h, func_); }
        void await_resume() { core_.unpark_reader(w_); }

    private:
        StreamCore& core_;
        const char* func_;
        Waiter w_;
    };
    DataAwaiter wait_for_data(const char* func_name) noexcept { return DataAwaiter(*this, func_name); }

    // ---- writer side (FlowControlMixin) -------------------------------------
    Ref<Transport> transport;
    bool write_paused = false;
    bool connection_lost = false;
    std::exception_ptr lost_error;
    WaiterList drain_waiters;
    Future<void> closed;  // done when connection_lost ran
    Coro<void> drain_helper();

    // ---- protocol events ------------------------------------------------------
    void on_connection_made(Transport& t);
    void on_connection_lost(std::exception_ptr exc);
    // A read-only stream (a child's stdout/stderr): the transport closes at
    // EOF instead of staying half-open for writes.
    bool close_on_eof = false;
    // The transport is a TLS one (asyncio's _over_ssl): EOF closes it, as
    // TLS has no half-close. Set at connection_made and by start_tls.
    bool over_ssl = false;
    // A stream start_server made: start_tls upgrades it as the server side.
    bool server_side = false;
    // For start_server: called from connection_made with the new streams.
    std::function<void(StreamReader, StreamWriter)> on_client;

    // ---- user handles ---------------------------------------------------------
    // How many StreamReader/StreamWriter handles (and operations started from
    // them) are alive. The transport and this core refer to each other until
    // connection_lost; when the last user handle goes while the connection is
    // still open, nobody can ever read or close it, so the transport is closed
    // (asyncio's StreamWriter.__del__ closes it too). Internal references
    // (the protocol, awaiters' helpers) are plain Refs and do not count.
    std::uint32_t users = 0;
    void add_user() noexcept { ++users; }
    void drop_user() noexcept {
        if (--users == 0) last_user_gone();
    }

private:
    void last_user_gone() noexcept;
};

// A stream limit as a size; <= 0 raises std::invalid_argument (asyncio's ValueError).
std::size_t checked_stream_limit(std::ptrdiff_t limit);
// A new core with that limit.
Ref<StreamCore> make_stream_core(std::ptrdiff_t limit);
// A new core for a stream over a transport (a socket or a pipe): as
// make_stream_core, with the `closed` future wait_closed() awaits, on the
// running loop.
Ref<StreamCore> make_transport_stream_core(std::ptrdiff_t limit);

// A counted user handle on a StreamCore (see StreamCore::users).
class StreamRef {
public:
    StreamRef() noexcept = default;
    explicit StreamRef(Ref<StreamCore> c) noexcept : core_(std::move(c)) {
        if (core_) core_->add_user();
    }
    StreamRef(const StreamRef& o) noexcept : StreamRef(o.core_) {}
    StreamRef(StreamRef&& o) noexcept : core_(std::move(o.core_)) {}
    StreamRef& operator=(StreamRef o) noexcept {
        core_.swap(o.core_);
        return *this;
    }
    ~StreamRef() {
        if (core_) core_->drop_user();
    }
    StreamCore* operator->() const noexcept { return core_.get(); }
    StreamCore& operator*() const noexcept { return *core_; }
    StreamCore* get() const noexcept { return core_.get(); }
    const Ref<StreamCore>& ref() const noexcept { return core_; }
    explicit operator bool() const noexcept { return static_cast<bool>(core_); }

private:
    Ref<StreamCore> core_;
};

// The protocol a stream transport drives; forwards to the StreamCore.
class StreamProtocol final : public Protocol {
public:
    explicit StreamProtocol(Ref<StreamCore> core) : core_(std::move(core)) {}
    // asyncio's StreamReaderProtocol(reader): feeds that reader.
    explicit StreamProtocol(const StreamReader& reader);
    void connection_made(Transport& t) override;
    void data_received(std::string_view data) override;
    bool eof_received() override;
    void connection_lost(std::exception_ptr exc) override;
    void pause_writing() override;
    void resume_writing() override;

private:
    Ref<StreamCore> core_;
};

}  // namespace detail
}  // namespace tulip
