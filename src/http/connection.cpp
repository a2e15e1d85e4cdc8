// src/http/connection.cpp — one HTTP/1.1 server connection (see connection.hpp).
#include "connection.hpp"

#include <cerrno>
#include <charconv>
#include <ctime>
#include <string_view>
#include <system_error>

#include <tulip/core/exceptions.hpp>
#include <tulip/http/exceptions.hpp>
#include <tulip/http/request.hpp>
#include <tulip/http/response.hpp>
#include <tulip/http/status.hpp>
#include <tulip/loop/event_loop.hpp>

namespace tulip::http::detail {

namespace {

// Body bytes the handler has not read, or pipelined bytes waiting for their
// turn, kept before the connection stops reading from the socket.
constexpr std::size_t kBufferHigh = 64 * 1024;

// How long a lingering close waits for the client's FIN (nginx: 5 s).
constexpr double kLingerSeconds = 2.0;

ConnectionResetError client_gone() {
    return ConnectionResetError(std::error_code(ECONNRESET, std::generic_category()),
                                "the client closed the connection");
}

void append_number(std::string& out, std::uint64_t n) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, n);
    out.append(buf, r.ptr);
}

bool bodyless_status(int status) { return status < 200 || status == 204 || status == 304; }

}  // namespace

// ---- ServerState ------------------------------------------------------------------

ServerState::ServerState(Application a, ServerOptions o) : app(std::move(a)), options(std::move(o)) {
    parser_limits.max_line = options.limits.max_request_line;
    parser_limits.max_header_bytes = options.limits.max_header_bytes;
    parser_limits.max_headers = options.limits.max_headers;
    parser_limits.max_body = options.limits.max_body;
}

ServerState::~ServerState() = default;

void ServerState::remove(Connection* c) {
    connections.erase(c);
    if (connections.empty()) wake_idle_waiters();
}

void ServerState::wake_idle_waiters() {
    auto waiters = std::move(idle_waiters);
    idle_waiters.clear();
    for (auto& w : waiters)
        if (!w.done()) w.set_result();
}

// ---- the protocol's events ------------------------------------------------------------

Connection::Connection(Ref<ServerState> state)
    : state_(std::move(state)), parser_(MessageParser::Kind::request, *this, state_->parser_limits),
      out_(state_->head_buf) {}

Connection::~Connection() = default;

void Connection::made(Transport& t) {
    transport_ = Ref<Transport>(&t);
    state_->connections.insert(this);
    try {
        std::any p = t.get_extra_info("peername");
        if (auto* a = std::any_cast<SocketAddress>(&p)) peer_ = *a;
    } catch (...) {}
    secure_ = t.get_extra_info("sslcontext").has_value();
    try {
        start_task();
    } catch (...) {
        // Out of memory: the transport closes (connection_lost follows); the
        // server must not keep counting a connection that has no task.
        state_->remove(this);
        throw;
    }
    if (state_->shutting_down) begin_shutdown();
}

void Connection::start_task() {
    EventLoop& loop = transport_->get_loop();
    task_ = loop.create_task(run(Ref<Connection>(this)));
    Ref<Connection> self(this);
    auto on_done = [self](Task<void>& t) {
        if (!t.cancelled()) {
            if (auto e = t.exception()) {
                t.get_loop().call_exception_handler({"Error in an HTTP connection", e, "http server", {}});
                self->abort();
            }
        } else {
            self->abort();
        }
        self->state_->remove(self.get());
        self->task_ = Task<void>();  // the task held us through its frame; now it is done
    };
    try {
        task_.add_done_callback(std::move(on_done));
    } catch (...) {
        // Nobody would see the task end: it must not run (it has not started).
        task_.cancel();
        task_ = Task<void>();
        throw;
    }
}

void Connection::data(std::string_view bytes) {
    if (lost_ || error_ || lingering_) return;
    if (parser_paused_ || !inbuf_.empty()) {
        inbuf_.append(bytes);
        feed_buffered();
    } else {
        feed(bytes);
    }
    update_reading();
}

bool Connection::eof() {
    if (lingering_) return false;  // the client is done too: close now
    eof_ = true;
    wake();
    // A client may half-close after its last request: answer what it sent,
    // then close (the task does, once nothing is left to answer).
    return in_request_ || head_ready_ || !inbuf_.empty();
}

void Connection::lost(std::exception_ptr exc) {
    if (lost_) return;
    lost_ = true;
    lost_error_ = exc;
    timer_.cancel();
    timer_ = TimerHandle();
    timer_kind_ = TimerKind::none;
    Ref<Transport> t = std::move(transport_);  // breaks the transport <-> connection cycle
    Ref<Connection> keep(this);
    // Still counted by the server until the task ends: a handler may run on
    // after its client left, and a graceful shutdown waits for it (or
    // cancels it at the deadline).
    wake();
}

void Connection::resume_writing() {
    write_paused_ = false;
    wake();
}

// ---- parsing ------------------------------------------------------------------------------

void Connection::feed(std::string_view bytes) {
    std::size_t n = parse(bytes);
    if (n < bytes.size()) inbuf_.append(bytes.substr(n));
}

void Connection::feed_buffered() {
    if (inbuf_.empty() || parser_paused_ || error_) return;
    std::size_t n = parse(inbuf_);
    inbuf_.erase(0, n);
}

std::size_t Connection::parse(std::string_view bytes) {
    // After an Upgrade request the bytes are another protocol's; the
    // connection closes after its response (upgrades are not offered).
    if (parser_.upgraded()) return bytes.size();
    std::size_t n;
    try {
        n = parser_.feed(bytes);
    } catch (const ParseError& e) {
        error_ = e;
        inbuf_.clear();
        wake();
        return bytes.size();
    }
    // The first byte of a request ends the keep-alive wait and starts the
    // header timeout.
    if (timer_kind_ == TimerKind::idle && !head_ready_ && !in_request_ && parser_.in_message())
        arm(state_->options.timeouts.header, TimerKind::head);
    return n;
}

void Connection::on_head(MessageHead& head) {
    head_ = std::move(head);
    head_ready_ = true;
    message_done_ = false;
    body_.clear();
    if (timer_kind_ == TimerKind::head || timer_kind_ == TimerKind::idle) disarm();
    wake();
}

void Connection::on_body(std::string_view chunk) {
    if (!discarding_) body_.append(chunk);
    wake();
}

void Connection::on_message_complete() {
    message_done_ = true;
    parser_paused_ = true;
    wake();
}

void Connection::update_reading() {
    if (lost_ || !transport_ || lingering_) return;
    bool full = inbuf_.size() > kBufferHigh || (!discarding_ && body_.size() > kBufferHigh) || error_;
    if (full && !reading_paused_) {
        transport_->pause_reading();
        reading_paused_ = true;
    } else if (!full && reading_paused_) {
        transport_->resume_reading();
        reading_paused_ = false;
    }
}

// ---- timers ---------------------------------------------------------------------------------

// One timer per connection, moved lazily: a later deadline only updates
// deadline_ and the timer, when it fires early, re-arms itself for the rest.
// Answering a request thus costs no timer-heap operation.
void Connection::arm(double seconds, TimerKind kind) {
    if (seconds <= 0 || lost_ || !transport_) {
        timer_kind_ = TimerKind::none;
        return;
    }
    EventLoop& loop = transport_->get_loop();
    deadline_ = loop.time() + seconds;
    timer_kind_ = kind;
    if (timer_ && !timer_.cancelled() && timer_.when() <= deadline_) return;
    timer_.cancel();
    Ref<Connection> self(this);
    timer_ = loop.call_later(seconds, [self] { self->on_timer(); });
}

void Connection::on_timer() {
    timer_ = TimerHandle();
    if (timer_kind_ == TimerKind::none || lost_ || !transport_) return;
    EventLoop& loop = transport_->get_loop();
    double left = deadline_ - loop.time();
    if (left > 1e-3) {
        Ref<Connection> self(this);
        timer_ = loop.call_later(left, [self] { self->on_timer(); });
        return;
    }
    TimerKind k = timer_kind_;
    timer_kind_ = TimerKind::none;
    switch (k) {
        case TimerKind::idle:
            closing_ = true;
            close_transport();
            break;
        case TimerKind::head:
            error_ = ParseError(408, "the request's headers did not arrive in time");
            break;
        case TimerKind::body:
            body_timed_out_ = true;
            break;
        case TimerKind::send:
            abort();
            break;
        case TimerKind::linger:
            close_transport();
            break;
        case TimerKind::none:
            break;
    }
    wake();
}

// ---- closing --------------------------------------------------------------------------------

void Connection::close_transport() {
    if (transport_ && !transport_->is_closing()) transport_->close();
}

// Closing while the client may still be sending (an error, a body left
// unread, pipelined requests): close() with unread bytes in the socket makes
// the kernel send RST, which can destroy the response before the client has
// read it. So, as nginx's lingering close: send FIN, read and drop what
// still comes until the client's FIN or kLingerSeconds, then close.
void Connection::linger_close() {
    if (!transport_ || transport_->is_closing()) return;
    if (!transport_->can_write_eof()) {  // TLS: close_notify does the job
        close_transport();
        return;
    }
    lingering_ = true;
    transport_->write_eof();
    if (reading_paused_) {
        transport_->resume_reading();
        reading_paused_ = false;
    }
    arm(kLingerSeconds, TimerKind::linger);
}

void Connection::abort() {
    if (transport_) transport_->abort();
}

void Connection::kill() {
    Ref<Connection> keep(this);
    abort();
    if (task_ && !task_.done()) task_.cancel();
}

void Connection::begin_shutdown() {
    closing_ = true;
    if (!in_request_ && !head_ready_ && !parser_.in_message()) close_transport();
    wake();
}

bool Connection::wants_close() const noexcept {
    return closing_ || state_->shutting_down || !req_keep_alive_ ||
           requests_ >= state_->options.limits.max_requests_per_connection || error_.has_value() || body_timed_out_ ||
           req_upgrade_ || (expect_continue_ && !continue_sent_ && !message_done_);
}

// ---- the connection's task -------------------------------------------------------------------

Coro<void> Connection::run(Ref<Connection> self) {
    Connection& c = *self;
    ServerState& st = *c.state_;
    for (;;) {
        // Wait for the next request (or an error, the end, a timeout).
        c.feed_buffered();
        c.update_reading();
        while (!c.head_ready_ && !c.error_ && !c.lost_ && !c.closing_) {
            if (c.eof_ && !c.parser_.in_message()) break;
            if (c.timer_kind_ == TimerKind::none) {
                if (c.parser_.in_message())
                    c.arm(st.options.timeouts.header, TimerKind::head);
                else
                    c.arm(st.options.timeouts.keep_alive, TimerKind::idle);
            }
            OneWaiter::Wait w(c.waiter_);
            co_await w;
        }
        if (c.lost_) co_return;
        if (!c.head_ready_) {
            if (c.error_)
                c.send_error_and_close(c.error_->status());
            else
                c.close_transport();
            co_return;
        }
        c.disarm();
        c.head_ready_ = false;
        c.in_request_ = true;
        c.streaming_ = false;
        c.discarding_ = false;
        c.body_timed_out_ = false;
        c.continue_sent_ = false;
        c.req_keep_alive_ = c.head_.keep_alive;
        c.req_is_head_ = c.head_.method == "HEAD";
        c.req_upgrade_ = c.head_.upgrade;
        c.req_http10_ = c.head_.version_major == 1 && c.head_.version_minor == 0;
        c.expect_continue_ = c.head_.expect_continue && !c.req_http10_;
        ++c.requests_;

        // The request is answered in a coroutine of its own, so that its
        // locals (request, response, errors) live in that frame only while
        // it is answered: an idle connection keeps just this one.
        bool go_on = co_await answer(self);
        if (!go_on) co_return;

        // What the handler left of the body is read and dropped, so the next
        // request starts where it should.
        if (!c.message_done_ && !c.error_ && c.keep_alive_) {
            c.discarding_ = true;
            c.body_.clear();
            c.update_reading();
            while (!c.message_done_ && !c.error_ && !c.lost_ && !c.body_timed_out_) {
                if (c.timer_kind_ == TimerKind::none) c.arm(st.options.timeouts.body_idle, TimerKind::body);
                OneWaiter::Wait w(c.waiter_);
                co_await w;
            }
            c.disarm();
        }
        if (c.lost_) co_return;
        c.in_request_ = false;
        if (!c.keep_alive_ || !c.message_done_ || c.error_) {
            if (!c.message_done_ || c.error_ || !c.inbuf_.empty())
                c.linger_close();
            else
                c.close_transport();
            co_return;
        }
        c.message_done_ = false;
        c.parser_paused_ = false;
        c.discarding_ = false;
        c.body_.clear();
    }
}

// Answers the request whose head is ready: the handler, then the response.
// false: the connection is done (closed, lost or failed).
Coro<bool> Connection::answer(Ref<Connection> self) {
    Connection& c = *self;
    ServerState& st = *c.state_;
    // (A missing or repeated Host was refused by the parser already.)
    int bad = 0;
    // RFC 9112 3.2: the target's form must suit the method. "*" is
    // OPTIONS' only; other methods but CONNECT take origin- or
    // absolute-form (else "GET *" would reach the router with no path).
    const std::string& target = c.head_.target;
    if (c.head_.method != "CONNECT" && !target.empty() && target.front() != '/' &&
        target.find("://") == std::string::npos && !(target == "*" && c.head_.method == "OPTIONS"))
        bad = 400;
    // Tunnels are not offered (RFC 9110 9.3.6 leaves CONNECT to proxies).
    if (!bad && c.head_.method == "CONNECT") bad = 501;
    std::optional<Request> req;
    if (!bad) {
        try {
            req.emplace(RequestInit{self, std::move(c.head_)});
        } catch (const std::invalid_argument&) {
            bad = 400;  // a request-target we cannot make sense of
        }
    }
    if (bad) {
        c.send_error_and_close(bad);
        co_return false;
    }

    Response resp(200);
    std::exception_ptr failure;
    std::optional<HTTPException> http_error;
    try {
        resp = co_await st.app.handle(*req);
    } catch (const CancelledError&) {
        throw;
    } catch (const HTTPException& e) {
        http_error.emplace(e);
    } catch (...) {
        failure = std::current_exception();
    }
    if (c.lost_) co_return false;
    if (failure && c.peer_gone() && is_disconnect(failure)) {
        c.abort();  // the handler wrote to a client that had left: that client's affair, not an error
        co_return false;
    }
    if (failure) {
        transport_loop_log(c, failure);
        if (c.streaming_) {  // half a response is out: nothing valid can follow
            c.abort();
            co_return false;
        }
        resp = Response(500, std::string(reason_phrase(500)) + "\n");
        resp.force_close();
    } else if (http_error) {
        if (c.streaming_) {
            c.abort();
            co_return false;
        }
        resp = error_response(*http_error);
    }
    std::exception_ptr send_failure;
    try {
        co_await finish(self, &resp, &*req);
    } catch (const CancelledError&) {
        throw;
    } catch (...) {
        send_failure = std::current_exception();
    }
    if (c.lost_) co_return false;
    if (send_failure) {
        // The client left while its response went out (wrk ends its run so):
        // nothing to report.
        if (!(c.peer_gone() && is_disconnect(send_failure))) transport_loop_log(c, send_failure);
        c.abort();
        co_return false;
    }
    req.reset();
    co_return true;
}

bool Connection::peer_gone() const noexcept { return lost_ || !transport_ || transport_->is_closing(); }

bool Connection::is_disconnect(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const ConnectionError&) {
        return true;
    } catch (const std::runtime_error& re) {
        return std::string_view(re.what()) == "Transport is closing";
    } catch (...) {}
    return false;
}

void Connection::transport_loop_log(Connection& c, std::exception_ptr e) {
    if (c.transport_)
        c.transport_->get_loop().call_exception_handler({"Error handling an HTTP request", e, "http server", {}});
}

// ---- reading the body ------------------------------------------------------------------------

void Connection::maybe_send_continue() {
    if (expect_continue_ && !continue_sent_ && !message_done_ && transport_ && !lost_) {
        continue_sent_ = true;
        transport_->write("HTTP/1.1 100 Continue\r\n\r\n");
    }
}

Coro<std::string> Connection::read_part(Ref<Connection> self) {
    Connection& c = *self;
    if (!c.in_request_) co_return std::string();
    c.maybe_send_continue();
    while (c.body_.empty() && !c.message_done_ && !c.error_ && !c.lost_ && !c.body_timed_out_) {
        if (c.timer_kind_ == TimerKind::none) c.arm(c.state_->options.timeouts.body_idle, TimerKind::body);
        OneWaiter::Wait w(c.waiter_);
        co_await w;
    }
    if (c.timer_kind_ == TimerKind::body) c.disarm();
    if (!c.body_.empty()) {
        std::string out = std::move(c.body_);
        c.body_.clear();
        c.update_reading();
        co_return out;
    }
    if (c.message_done_) co_return std::string();
    if (c.error_) throw HTTPException(c.error_->status());
    if (c.body_timed_out_) throw HTTPException(408);
    throw client_gone();
}

Coro<std::string> Connection::read_all(Ref<Connection> self) {
    std::string all;
    for (;;) {
        std::string part = co_await read_part(self);
        if (part.empty()) break;
        if (all.empty())
            all = std::move(part);
        else
            all += part;
    }
    co_return all;
}

// ---- writing the response -----------------------------------------------------------------------

void Connection::write_head(Response& resp, bool chunked, std::optional<std::uint64_t> length) {
    ServerState& st = *state_;

    bool bodyless = bodyless_status(resp.status_);
    keep_alive_ = !wants_close() && !resp.force_close_ && (bodyless || req_is_head_ || chunked || length);

    out_.clear();
    out_ += "HTTP/1.1 ";
    append_number(out_, static_cast<std::uint64_t>(resp.status_));
    out_ += ' ';
    out_ += resp.reason();
    out_ += "\r\n";
    // One pass over the handler's headers: copied, and checked for the ones
    // the server writes itself.
    bool has_date = false, has_server = false;
    for (auto [name, value] : resp.headers_) {
        if (ascii_iequals(name, "Content-Length"))
            throw std::logic_error("a Response's Content-Length is the server's to set (use set_content_length())");
        if (ascii_iequals(name, "Transfer-Encoding"))
            throw std::logic_error("a Response's Transfer-Encoding is the server's to set");
        if (ascii_iequals(name, "Connection"))
            throw std::logic_error("a Response's Connection header is the server's to set (use force_close())");
        has_date = has_date || ascii_iequals(name, "Date");
        has_server = has_server || ascii_iequals(name, "Server");
        out_ += name;
        out_ += ": ";
        out_ += value;
        out_ += "\r\n";
    }
    if (!bodyless) {
        if (length) {
            out_ += "Content-Length: ";
            append_number(out_, *length);
            out_ += "\r\n";
        } else if (chunked) {
            out_ += "Transfer-Encoding: chunked\r\n";
        }
    }
    if (!has_date) {
        out_ += "Date: ";
        out_ += st.dates.now(std::time(nullptr));
        out_ += "\r\n";
    }
    if (!has_server && !st.options.server_name.empty()) {
        out_ += "Server: ";
        out_ += st.options.server_name;
        out_ += "\r\n";
    }
    if (!keep_alive_)
        out_ += "Connection: close\r\n";
    else if (req_http10_)
        out_ += "Connection: keep-alive\r\n";
    out_ += "\r\n";
}

Coro<void> Connection::finish(Ref<Connection> self, Response* resp, const Request* req) {
    Connection& c = *self;
    if (resp->conn_) {  // prepared: end the stream
        if (!resp->eof_written_) co_await write_eof(self, resp);
        co_return;
    }
    if (c.lost_) co_return;
    if (resp->is_file()) {
        co_await send_file(self, resp, req);
        co_return;
    }
    if (resp->status_ < 200) throw std::logic_error("a handler's response cannot be 1xx");
    bool bodyless = bodyless_status(resp->status_);
    const std::string& body = resp->body_;
    c.write_head(*resp, false, bodyless ? std::nullopt : std::optional<std::uint64_t>(body.size()));
    if (bodyless || c.req_is_head_ || body.empty()) {
        c.transport_->write(c.out_);
    } else if (body.size() <= 16 * 1024) {
        c.out_ += body;  // one small write: one send
        c.transport_->write(c.out_);
    } else {
        std::string_view parts[2] = {c.out_, body};
        c.transport_->writelines(parts);
    }
    if (c.write_paused_) co_await drain(self);
}

Coro<void> Connection::drain(Ref<Connection> self) {
    Connection& c = *self;
    while (c.write_paused_ && !c.lost_) {
        if (c.timer_kind_ == TimerKind::none) c.arm(c.state_->options.timeouts.send_idle, TimerKind::send);
        OneWaiter::Wait w(c.waiter_);
        co_await w;
    }
    if (c.timer_kind_ == TimerKind::send) c.disarm();
    if (c.lost_) throw client_gone();
}

Coro<void> Connection::prepare(Ref<Connection> self, Response* resp) {
    Connection& c = *self;
    if (resp->conn_) throw std::logic_error("Response::prepare() was already called");
    if (!c.in_request_ || c.streaming_) throw std::logic_error("this request has been answered already");
    if (c.lost_) throw client_gone();
    if (resp->status_ < 200) throw std::logic_error("a handler's response cannot be 1xx");
    bool bodyless = bodyless_status(resp->status_);
    resp->head_only_ = bodyless || c.req_is_head_;
    resp->chunked_ = !bodyless && !resp->content_length_ && !c.req_http10_;
    c.write_head(*resp, resp->chunked_, bodyless ? std::nullopt : resp->content_length_);
    resp->conn_ = self;
    c.streaming_ = true;
    c.transport_->write(c.out_);
    if (c.write_paused_) co_await drain(self);
}

Coro<void> Connection::write_part(Ref<Connection> self, Response* resp, std::string data) {
    Connection& c = *self;
    if (!resp->conn_) throw std::logic_error("Response::write() before prepare()");
    if (resp->eof_written_) throw std::logic_error("Response::write() after write_eof()");
    if (c.lost_) throw client_gone();
    if (data.empty() || resp->head_only_) co_return;
    if (resp->content_length_ && resp->sent_ + data.size() > *resp->content_length_)
        throw std::logic_error("Response::write() past the Content-Length set");
    resp->sent_ += data.size();
    if (resp->chunked_) {
        char size[20];
        auto r = std::to_chars(size, size + 16, data.size(), 16);
        *r.ptr++ = '\r';
        *r.ptr++ = '\n';
        std::string_view parts[3] = {std::string_view(size, static_cast<std::size_t>(r.ptr - size)), data, "\r\n"};
        c.transport_->writelines(parts);
    } else {
        c.transport_->write(data);
    }
    if (c.write_paused_) co_await drain(self);
}

Coro<void> Connection::write_eof(Ref<Connection> self, Response* resp) {
    Connection& c = *self;
    if (!resp->conn_) throw std::logic_error("Response::write_eof() before prepare()");
    if (resp->eof_written_) co_return;
    resp->eof_written_ = true;
    if (c.lost_) throw client_gone();
    if (resp->content_length_ && !resp->head_only_ && resp->sent_ < *resp->content_length_) {
        // Fewer bytes than promised: the client would wait for the rest.
        c.abort();
        throw std::logic_error("Response::write_eof() before the Content-Length set was written");
    }
    if (resp->chunked_ && !resp->head_only_) c.transport_->write("0\r\n\r\n");
    if (!resp->content_length_ && !resp->chunked_ && !resp->head_only_) c.keep_alive_ = false;  // ends at close
    if (c.write_paused_) co_await drain(self);
}

Response Connection::error_response(const HTTPException& e) {
    int status = e.status();
    Response r(status,
               e.text().empty() ? std::to_string(status) + " " + std::string(reason_phrase(status)) + "\n" : e.text());
    for (auto [name, value] : e.headers()) r.headers().add(name, value);
    return r;
}

void Connection::send_error_and_close(int status) {
    if (!transport_ || lost_) return;
    closing_ = true;
    req_keep_alive_ = false;
    req_is_head_ = false;
    Response r(status, std::to_string(status) + " " + std::string(reason_phrase(status)) + "\n");
    try {
        write_head(r, false, r.body_.size());
        out_ += r.body_;
        transport_->write(out_);
    } catch (...) {}
    close_transport();
}

}  // namespace tulip::http::detail
