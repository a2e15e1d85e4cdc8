// src/http/client_connection.cpp — one pooled client connection (see
// client_connection.hpp).
#include "client_connection.hpp"

#include <algorithm>
#include <stdexcept>

#include <tulip/core/exceptions.hpp>
#include <tulip/http/client_errors.hpp>

namespace tulip::http::detail {

namespace {
// Body bytes buffered before reading from the socket pauses (aiohttp's
// StreamReader limit is 64 KiB; larger keeps a fast server streaming).
constexpr std::size_t kBodyHigh = 256 * 1024;
}  // namespace

ClientConnection::ClientConnection(Ref<SessionState> session, std::string key)
    : session_(std::move(session)), key_(std::move(key)),
      parser_(MessageParser::Kind::response, *this, session_->limits) {}

ClientConnection::~ClientConnection() = default;

// ---- the protocol's events ------------------------------------------------------------

void ClientConnection::made(Transport& t) { transport_ = Ref<Transport>(&t); }

void ClientConnection::data(std::string_view bytes) {
    if (lost_) return;
    if (tunnel_) {
        raw_.append(bytes);
        wake();
        return;
    }
    if (!in_request_ || complete_ || error_) {
        // Bytes nobody asked for (while idle, or after the response): the
        // connection's framing can no longer be trusted.
        broken_ = true;
        if (!in_request_ && transport_) transport_->close();
        return;
    }
    received_ = true;
    while (!bytes.empty() && !complete_ && !error_) {
        std::size_t n;
        try {
            n = parser_.feed(bytes);
        } catch (const std::exception& e) {  // ParseError, or a sink callback's (a bad header, memory)
            fail(std::make_exception_ptr(ClientResponseError(0, std::string("malformed response: ") + e.what(), "")));
            break;
        }
        bytes.remove_prefix(n);
        if (parser_.upgraded()) {
            fail(std::make_exception_ptr(ClientResponseError(0, "the server switched protocols unasked", "")));
            break;
        }
        if (n == 0) break;
    }
    if (complete_ && !bytes.empty()) broken_ = true;  // more than one response to one request
    update_reading();
    wake();
}

bool ClientConnection::eof() {
    eof_ = true;
    if (in_request_ && !complete_ && !error_) {
        try {
            parser_.feed_eof();  // ends a body delimited by the close
        } catch (const ParseError& e) {
            if (head_seen_)
                fail(std::make_exception_ptr(
                    ClientPayloadError(std::string("the response was cut short: ") + e.what())));
            else
                fail(std::make_exception_ptr(
                    ServerDisconnectedError("the server closed the connection in the middle of the response head")));
        }
    }
    wake();
    return false;
}

void ClientConnection::lost(std::exception_ptr exc) {
    if (lost_) return;
    lost_ = true;
    disarm();
    timer_.cancel();  // its callback holds us: a closed connection goes now
    timer_ = TimerHandle();
    if (in_request_ && !complete_ && !error_ && exc) {
        try {
            std::rethrow_exception(exc);
        } catch (const std::exception& e) {
            if (head_seen_)
                fail(std::make_exception_ptr(ClientPayloadError(std::string("the connection broke: ") + e.what())));
            else
                fail(
                    std::make_exception_ptr(ServerDisconnectedError(std::string("the connection broke: ") + e.what())));
        }
    }
    Ref<ClientConnection> keep(this);
    Ref<Transport> t = std::move(transport_);  // breaks the transport <-> connection cycle
    drop_slot();
    wake();
}

void ClientConnection::resume_writing() {
    write_paused_ = false;
    wake();
}

void ClientConnection::fail(std::exception_ptr e) {
    if (!error_) error_ = std::move(e);
    broken_ = true;
}

void ClientConnection::drop_slot() {
    if (!slot_) return;
    slot_ = false;
    session_->slot_freed(this);
}

// ---- MessageParser::Sink -----------------------------------------------------------------

void ClientConnection::on_head(MessageHead& head) {
    // 1xx interim responses (100 Continue, 103 Early Hints) come before the
    // final one and are skipped; 101 is an upgrade we never ask for.
    if (head.status < 200 && head.status != 101) {
        interim_ = true;
        return;
    }
    keep_alive_ = head.keep_alive;
    head_seen_ = true;
    head_ = std::move(head);
    wake();
}

void ClientConnection::on_body(std::string_view chunk) {
    if (body_pos_ == body_.size()) {
        body_.clear();
        body_pos_ = 0;
    }
    body_.append(chunk);
}

void ClientConnection::on_message_complete() {
    if (interim_) {
        interim_ = false;
        return;  // the parser stops here; data() feeds it the rest
    }
    complete_ = true;
    disarm();
}

void ClientConnection::update_reading() {
    if (lost_ || !transport_) return;
    bool full = body_buffered() > kBodyHigh;
    if (full && !reading_paused_) {
        transport_->pause_reading();
        reading_paused_ = true;
    } else if (!full && reading_paused_) {
        transport_->resume_reading();
        reading_paused_ = false;
    }
}

// ---- timers -------------------------------------------------------------------------------

// One timer, moved lazily (as the server's connections do): a later deadline
// only updates deadline_, and the timer re-arms itself when it fires early.
void ClientConnection::arm(std::optional<double> deadline) {
    // A deadline that passed while nobody waited (the caller was busy between
    // two reads) is not this wait's: each wait starts with its own.
    timed_out_ = false;
    if (!deadline || !transport_) {
        disarm();
        return;
    }
    deadline_ = *deadline;
    timer_armed_ = true;
    if (timer_ && !timer_.cancelled() && timer_.when() <= deadline_) return;
    timer_.cancel();
    Ref<ClientConnection> self(this);
    timer_ = transport_->get_loop().call_at(deadline_, [self] { self->on_timer(); });
}

void ClientConnection::disarm() noexcept { timer_armed_ = false; }

void ClientConnection::on_timer() {
    timer_ = TimerHandle();
    if (!timer_armed_ || !transport_) return;
    EventLoop& loop = transport_->get_loop();
    if (deadline_ - loop.time() > 1e-3) {
        Ref<ClientConnection> self(this);
        timer_ = loop.call_at(deadline_, [self] { self->on_timer(); });
        return;
    }
    timer_armed_ = false;
    timed_out_ = true;
    wake();
}

namespace {
std::optional<double> earliest(std::optional<double> deadline, std::optional<double> sock_read, EventLoop& loop) {
    if (!sock_read) return deadline;
    double d = loop.time() + *sock_read;
    return deadline ? std::min(*deadline, d) : d;
}
}  // namespace

void ClientConnection::check(const char* waiting_for) {
    if (timed_out_) {
        timed_out_ = false;
        broken_ = true;
        throw TimeoutError(std::string("timed out waiting for ") + waiting_for);
    }
}

// ---- one request --------------------------------------------------------------------------

void ClientConnection::begin(bool head_request) {
    ++requests;
    in_request_ = true;
    received_ = false;
    complete_ = false;
    interim_ = false;
    head_seen_ = false;
    head_.reset();
    body_.clear();
    body_pos_ = 0;
    timed_out_ = false;
    parser_.set_response_to_head(head_request);
}

Coro<void> ClientConnection::send(Ref<ClientConnection> self, std::string bytes, std::optional<double> deadline) {
    if (!self->usable()) {
        if (self->received_) co_return;  // the server answered (and closed) early: its response is what counts
        throw ServerDisconnectedError("the connection closed before the request was sent");
    }
    self->transport_->write(bytes);
    while (self->write_paused_ && !self->lost_) {
        self->arm(deadline);
        co_await OneWaiter::Wait(self->waiter_);
        self->check("the request to be sent");
    }
    if (self->lost_ && !self->received_) {
        if (self->error_) std::rethrow_exception(self->error_);
        throw ServerDisconnectedError("the server closed the connection while the request was being sent");
    }
}

Coro<MessageHead> ClientConnection::read_head(Ref<ClientConnection> self, std::optional<double> deadline,
                                              std::optional<double> sock_read) {
    while (!self->head_) {
        if (self->error_) std::rethrow_exception(self->error_);
        if (self->lost_ || self->eof_)
            throw ServerDisconnectedError("the server closed the connection without sending a response");
        self->arm(earliest(deadline, sock_read, self->transport_->get_loop()));
        co_await OneWaiter::Wait(self->waiter_);
        self->check("the response head");
    }
    self->disarm();
    MessageHead h = std::move(*self->head_);
    self->head_.reset();
    co_return h;
}

std::string ClientConnection::take_body(std::size_t max) {
    std::size_t n = std::min(max, body_buffered());
    std::string out;
    if (body_pos_ == 0 && n == body_.size()) {
        out.swap(body_);
    } else {
        out.assign(body_, body_pos_, n);
        body_pos_ += n;
        if (body_pos_ == body_.size()) {
            body_.clear();
            body_pos_ = 0;
        }
    }
    update_reading();
    return out;
}

Coro<std::string> ClientConnection::read_body(Ref<ClientConnection> self, std::size_t max,
                                              std::optional<double> deadline, std::optional<double> sock_read) {
    for (;;) {
        if (self->body_buffered() > 0) co_return self->take_body(max);
        if (self->complete_) co_return std::string();
        if (self->error_) std::rethrow_exception(self->error_);
        if (self->lost_ || self->eof_) throw ClientPayloadError("the response body was cut short");
        self->arm(earliest(deadline, sock_read, self->transport_->get_loop()));
        co_await OneWaiter::Wait(self->waiter_);
        self->check("the response body");
    }
}

bool ClientConnection::reusable() const noexcept {
    return complete_ && keep_alive_ && !broken_ && !error_ && usable() && body_buffered() == 0;
}

Coro<void> ClientConnection::open_tunnel(Ref<ClientConnection> self, std::string authority, std::string proxy_auth,
                                         std::optional<double> deadline) {
    self->tunnel_ = true;
    std::string req = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n";
    if (!proxy_auth.empty()) req += "Proxy-Authorization: " + proxy_auth + "\r\n";
    req += "\r\n";
    co_await send(self, std::move(req), deadline);
    std::size_t end;
    while ((end = self->raw_.find("\r\n\r\n")) == std::string::npos) {
        if (self->raw_.size() > 16 * 1024)
            throw ClientResponseError(0, "the proxy's answer to CONNECT is too long", "");
        if (self->lost_ || self->eof_)
            throw ServerDisconnectedError("the proxy closed the connection before answering CONNECT");
        self->arm(deadline);
        co_await OneWaiter::Wait(self->waiter_);
        self->check("the proxy's answer to CONNECT");
    }
    self->disarm();
    // "HTTP/1.1 200 Connection established": only the status matters.
    const std::string& r = self->raw_;
    int status = 0;
    if (r.size() >= 12 && r.compare(0, 7, "HTTP/1.") == 0 && r[8] == ' ') {
        for (std::size_t i = 9; i < 12 && r[i] >= '0' && r[i] <= '9'; ++i) status = status * 10 + (r[i] - '0');
    }
    if (status < 200 || status > 299) {
        std::string line = r.substr(0, r.find("\r\n"));
        throw ClientResponseError(status, "the proxy refused the tunnel to " + authority + ": " + line, "");
    }
    if (end + 4 != r.size()) throw ClientResponseError(0, "the proxy sent bytes after its answer to CONNECT", "");
    self->raw_.clear();
    self->raw_.shrink_to_fit();
    self->tunnel_ = false;
}

void ClientConnection::end_request() noexcept {
    in_request_ = false;
    disarm();
}

void ClientConnection::close() {
    broken_ = true;
    if (transport_ && !transport_->is_closing()) transport_->close();
}

void ClientConnection::abort() {
    broken_ = true;
    if (transport_) transport_->abort();
}

}  // namespace tulip::http::detail
