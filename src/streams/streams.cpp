// Streams, ported from asyncio/streams.py (3.13: readuntil with several separators).
#include <tulip/streams/open_connection.hpp>

#include <algorithm>

#include <tulip/core/exceptions.hpp>
#include <tulip/net/socket_transport.hpp>
#include <tulip/task/sleep.hpp>
#include <tulip/task/task.hpp>

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
    return !core_->close_on_eof;
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

// ---- StreamReader -------------------------------------------------------------

// read(-1): blocks of up to `limit` bytes until EOF (asyncio's loop of reads).
Coro<std::string> StreamReader::read_all(StreamReader self) {
    const Ref<detail::StreamCore>& c = self.core();
    if (c->error) std::rethrow_exception(c->error);
    std::string all;
    for (;;) {
        std::string block = co_await self.read(static_cast<std::ptrdiff_t>(c->limit));
        if (block.empty()) break;
        all += block;
    }
    co_return all;
}

bool StreamReader::ReadAwaiter::await_ready() const noexcept {
    if (n_ < 0) return false;
    const detail::StreamCore& c = *core_;
    return c.error || n_ == 0 || c.available() > 0 || c.eof;
}

std::coroutine_handle<> StreamReader::ReadAwaiter::await_suspend(std::coroutine_handle<> h) {
    if (n_ < 0) {
        all_ = read_all(StreamReader(core_.ref()));
        auto aw = all_.operator co_await();
        (void)aw.await_ready();
        return aw.await_suspend(h);
    }
    core_->park_reader(w_, h, "read");
    parked_ = true;
    return std::noop_coroutine();
}

std::string StreamReader::ReadAwaiter::await_resume() {
    if (n_ < 0) return all_.operator co_await().await_resume();
    detail::StreamCore& c = *core_;
    if (parked_) {
        c.unpark_reader(w_);
        // Bytes that came before the error are still returned.
        if (c.error && c.available() == 0) std::rethrow_exception(c.error);
    } else {
        if (c.error) std::rethrow_exception(c.error);
        if (n_ == 0) return std::string();
    }
    return c.take(static_cast<std::size_t>(n_));
}

StreamReader::ReadAwaiter::~ReadAwaiter() {
    if (core_) core_->forget_reader(w_);
}

// The public reads are plain functions that hand a copy of the handle to the
// coroutine: a member coroutine would keep `this`, which may be gone by the
// time the coroutine first runs (CP.53).
Coro<std::string> StreamReader::readexactly(std::ptrdiff_t n) { return readexactly_impl(*this, n); }
Coro<std::string> StreamReader::readline() { return readline_impl(*this); }
Coro<std::string> StreamReader::readuntil(std::vector<std::string> separators) {
    return readuntil_impl(*this, std::move(separators));
}
Coro<std::string> StreamReader::readuntil(std::string separator) {
    std::vector<std::string> seps;
    seps.push_back(std::move(separator));
    return readuntil_impl(*this, std::move(seps));
}

Coro<std::string> StreamReader::readexactly_impl(StreamReader self, std::ptrdiff_t signed_n) {
    if (signed_n < 0) throw std::invalid_argument("readexactly size can not be less than zero");
    const std::size_t n = static_cast<std::size_t>(signed_n);
    const Ref<detail::StreamCore>& c = self.core();
    if (c->error) std::rethrow_exception(c->error);
    if (n == 0) co_return std::string();
    while (c->available() < n) {
        if (c->eof) {
            std::string partial(c->view());
            c->consume(c->available());
            throw IncompleteReadError(std::move(partial), n);
        }
        co_await c->wait_for_data("readexactly");
        if (c->error) std::rethrow_exception(c->error);
    }
    std::string data(c->view().substr(0, n));
    c->consume(n);
    co_return data;
}

Coro<std::string> StreamReader::readuntil_impl(StreamReader self, std::vector<std::string> separators) {
    const Ref<detail::StreamCore>& c = self.core();
    if (separators.empty()) throw std::invalid_argument("Separator should contain at least one element");
    std::sort(separators.begin(), separators.end(), [](auto& a, auto& b) { return a.size() < b.size(); });
    std::size_t min_len = separators.front().size(), max_len = separators.back().size();
    if (min_len == 0) throw std::invalid_argument("Separator should be at least one-byte string");
    if (c->error) std::rethrow_exception(c->error);
    std::size_t offset = 0;  // where the search resumes: separators may span chunks
    std::size_t match_start = 0, match_end = 0;
    bool found = false;
    for (;;) {
        std::string_view buf = c->view();
        if (buf.size() >= offset + min_len) {
            for (auto& sep : separators) {
                std::size_t i = buf.find(sep, offset);
                if (i != std::string_view::npos) {
                    std::size_t end = i + sep.size();
                    if (!found || end < match_end) {
                        match_end = end;
                        match_start = i;
                        found = true;
                    }
                }
            }
            if (found) break;
            offset = buf.size() + 1 > max_len ? buf.size() + 1 - max_len : 0;
            if (offset > c->limit)
                throw LimitOverrunError("Separator is not found, and chunk exceed the limit", offset);
        }
        if (c->eof) {
            std::string chunk(buf);
            c->consume(buf.size());
            throw IncompleteReadError(std::move(chunk), std::nullopt);
        }
        co_await c->wait_for_data("readuntil");
        if (c->error && !c->eof) std::rethrow_exception(c->error);
    }
    if (match_start > c->limit) throw LimitOverrunError("Separator is found, but chunk is longer than limit", match_start);
    std::string chunk(c->view().substr(0, match_end));
    c->consume(match_end);
    co_return chunk;
}

Coro<std::string> StreamReader::readline_impl(StreamReader self) {
    const Ref<detail::StreamCore>& c = self.core();
    std::size_t consumed = 0;
    std::string overrun_msg;
    try {
        std::vector<std::string> seps;
        seps.push_back("\n");
        co_return co_await readuntil_impl(self, std::move(seps));
    } catch (const IncompleteReadError& e) {
        co_return e.partial;
    } catch (const LimitOverrunError& e) {
        consumed = e.consumed;
        overrun_msg = e.what();
    }
    // A line over the limit is dropped (asyncio raises ValueError).
    std::string_view buf = c->view();
    if (buf.size() > consumed && buf[consumed] == '\n')
        c->consume(consumed + 1);
    else
        c->consume(buf.size());
    throw std::invalid_argument(overrun_msg);
}

// ---- StreamWriter -------------------------------------------------------------

Coro<void> StreamWriter::drain_slow(detail::StreamRef c) {
    if (c->error && !c->connection_lost) std::rethrow_exception(c->error);
    if (c->transport->is_closing()) {
        // Let connection_lost run so that write(); drain() in a loop sees the error.
        co_await sleep(0);
    }
    co_await c->drain_helper();
}

Coro<void> StreamWriter::wait_closed_impl(detail::StreamRef c) {
    // Await the future even when the connection is already gone: asyncio's
    // wait_closed() raises the connection's error whenever it is called, not
    // only when it was waiting at the time (returning early hid a reset).
    if (!c->closed) co_return;
    Future<void> closed = c->closed;
    co_await closed;  // raises the connection's error, if it ended with one (as asyncio)
}

// ---- open_connection / start_server -------------------------------------------

namespace {

Ref<detail::StreamCore> new_core(std::ptrdiff_t limit) {
    Ref<detail::StreamCore> core = detail::make_stream_core(limit);
    core->closed = Future<void>::create(get_running_loop());
    return core;
}

}  // namespace

Coro<StreamPair> detail::streams_over(Socket sock, std::ptrdiff_t limit, bool read_only) {
    auto core = new_core(limit);
    core->close_on_eof = read_only;
    Ref<Transport> t = co_await detail::connect_transport(std::move(sock),
                                                          std::make_unique<detail::StreamProtocol>(core));
    (void)t;
    co_return StreamPair(StreamReader(core), StreamWriter(core));
}

namespace {

ProtocolFactory client_factory(ClientConnected cb, std::ptrdiff_t limit) {
    (void)detail::checked_stream_limit(limit);  // a bad limit fails start_server, not each connection
    auto shared = std::make_shared<ClientConnected>(std::move(cb));
    return [shared, limit]() -> std::unique_ptr<BaseProtocol> {
        auto core = new_core(limit);
        core->on_client = [shared](StreamReader r, StreamWriter w) {
            // A plain callback runs inside connection_made, as asyncio's does
            // when client_connected_cb returns no coroutine; if it throws, the
            // transport reports it and closes the connection.
            if (shared->plain) return shared->plain(std::move(r), std::move(w));
            EventLoop& loop = get_running_loop();
            Task<void> task = loop.create_task(shared->coro(r, w));
            task.add_done_callback([w](Task<void>& t) mutable {
                if (t.cancelled()) {
                    w.close();
                    return;
                }
                if (auto e = t.exception()) {
                    t.get_loop().call_exception_handler({"Unhandled exception in client_connected_cb", e, "stream server", {}});
                    w.close();
                }
            });
        };
        return std::make_unique<detail::StreamProtocol>(core);
    };
}

}  // namespace

Coro<StreamPair> open_connection(std::string host, std::uint16_t port, StreamOptions options) {
    (void)detail::checked_stream_limit(options.limit);  // before connecting, as asyncio
    Socket s = co_await open_tcp_socket(std::move(host), port, options.connect);
    co_return co_await detail::streams_over(std::move(s), options.limit, false);
}

Coro<StreamPair> open_unix_connection(std::string path, StreamOptions options) {
    (void)detail::checked_stream_limit(options.limit);
    Socket s = co_await open_unix_socket(std::move(path));
    co_return co_await detail::streams_over(std::move(s), options.limit, false);
}

Coro<StreamPair> open_connection(Socket sock, StreamOptions options) {
    co_return co_await detail::streams_over(std::move(sock), options.limit, false);
}

Coro<Server> start_server(ClientConnected cb, std::string host, std::uint16_t port, StreamOptions options) {
    std::vector<std::string> hosts;
    hosts.push_back(std::move(host));
    co_return co_await start_server(std::move(cb), std::move(hosts), port, std::move(options));
}

Coro<Server> start_server(ClientConnected cb, std::vector<std::string> hosts, std::uint16_t port,
                          StreamOptions options) {
    co_return co_await detail::create_server_impl(client_factory(std::move(cb), options.limit), std::move(hosts), port,
                                                  options.server);
}

Coro<Server> start_unix_server(ClientConnected cb, std::string path, StreamOptions options) {
    co_return co_await detail::create_unix_server_impl(client_factory(std::move(cb), options.limit), std::move(path),
                                                       options.server);
}

}  // namespace tulip
