// src/http/connection.hpp — one HTTP/1.1 server connection (internal;
// aiohttp's RequestHandler + its protocol).
//
// Shared (Ref) by the transport's protocol, the connection's task, and the
// Request and prepared Response handed to the handler. The protocol feeds
// the parser; the task answers the requests one at a time, in order:
// pipelined bytes wait in `inbuf_` with the parser paused between messages.
// The transport and the connection refer to each other until
// connection_lost, which breaks the cycle.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include <tulip/core/ref.hpp>
#include <tulip/http/application.hpp>
#include <tulip/http/date.hpp>
#include <tulip/http/exceptions.hpp>
#include <tulip/http/server.hpp>
#include <tulip/loop/handle.hpp>
#include <tulip/net/protocol.hpp>
#include <tulip/net/transport.hpp>
#include <tulip/sync/waiters.hpp>
#include <tulip/task/task.hpp>

#include "message_parser.hpp"
#include "one_waiter.hpp"

namespace tulip::http::detail {

class Connection;

// What the server's connections share.
class ServerState final : public RefCounted {
public:
    ServerState(Application a, ServerOptions o);
    ~ServerState() override;
    Application app;
    ServerOptions options;
    ParserLimits parser_limits;
    DateCache dates;
    // Where connections build a response head: each writes it to its
    // transport at once, so one buffer serves them all and an idle
    // connection keeps none.
    std::string head_buf;
    std::string
        file_buf;  // a small file read whole (static_files.cpp); the transport copies what it cannot send at once
    std::unordered_set<Connection*> connections;  // each removes itself at connection_lost
    bool shutting_down = false;
    bool closed = false;
    std::vector<Future<void>> idle_waiters;  // woken when `connections` empties
    void remove(Connection* c);
    void wake_idle_waiters();
};

// Everything a Request is made of, moved out of the parser's head.
struct RequestInit {
    Ref<Connection> conn;
    MessageHead head;
};

class Connection final : public RefCounted, public MessageParser::Sink {
public:
    explicit Connection(Ref<ServerState> state);
    ~Connection() override;

    // ---- the protocol's events -------------------------------------------------
    void made(Transport& t);
    void data(std::string_view bytes);
    // True: keep our side open to answer what was received.
    bool eof();
    void lost(std::exception_ptr exc);
    void pause_writing() noexcept { write_paused_ = true; }
    void resume_writing();

    // ---- MessageParser::Sink ----------------------------------------------------
    void on_head(MessageHead& head) override;
    void on_body(std::string_view chunk) override;
    void on_message_complete() override;

    // ---- for Request ------------------------------------------------------------
    // The next part of the body ("" at its end); throws HTTPException for a
    // bad or too large body (400/413) or a body timeout (408), and
    // ConnectionResetError if the client went away.
    static Coro<std::string> read_part(Ref<Connection> self);
    // The rest of the body, at most max_body bytes in all.
    static Coro<std::string> read_all(Ref<Connection> self);
    const SocketAddress& peer() const noexcept { return peer_; }
    bool secure() const noexcept { return secure_; }

    // ---- for Response (streaming) -----------------------------------------------
    static Coro<void> prepare(Ref<Connection> self, Response* resp);
    static Coro<void> write_part(Ref<Connection> self, Response* resp, std::string data);
    static Coro<void> write_eof(Ref<Connection> self, Response* resp);

    // ---- for the server ---------------------------------------------------------
    // Graceful shutdown: an idle connection closes now, a busy one after its
    // response.
    void begin_shutdown();
    void abort();
    // abort(), and the handler still running is cancelled.
    void kill();

private:
    enum class TimerKind : std::uint8_t { none, idle, head, body, send, linger };

    static Coro<void> run(Ref<Connection> self);
    static Coro<bool> answer(Ref<Connection> self);
    void start_task();
    void wake() noexcept { waiter_.wake(); }
    void feed(std::string_view bytes);
    void feed_buffered();
    std::size_t parse(std::string_view bytes);
    static void transport_loop_log(Connection& c, std::exception_ptr e);
    // The client closed or reset, or our side is closing: a response cannot reach it.
    bool peer_gone() const noexcept;
    // An error that says the connection is gone (ConnectionError, "Transport is closing").
    static bool is_disconnect(const std::exception_ptr& e);
    void update_reading();
    void arm(double seconds, TimerKind kind);
    void disarm() noexcept { timer_kind_ = TimerKind::none; }
    void on_timer();
    void close_transport();
    void linger_close();
    // Sends `resp` whole (not prepared) or ends it (prepared).
    static Coro<void> finish(Ref<Connection> self, Response* resp, const Request* req);
    // A file response (static_files.cpp).
    static Coro<void> send_file(Ref<Connection> self, Response* resp, const Request* req);
    // Sends an error response to a request the handler never saw, then closes.
    void send_error_and_close(int status);
    static Response error_response(const HTTPException& e);
    void write_head(Response& resp, bool chunked, std::optional<std::uint64_t> length);
    static Coro<void> drain(Ref<Connection> self);
    void maybe_send_continue();
    bool wants_close() const noexcept;

    Ref<ServerState> state_;
    Ref<Transport> transport_;  // null once lost
    MessageParser parser_;
    Task<void> task_;
    OneWaiter waiter_;
    SocketAddress peer_;

    // Bytes received while the parser waits between messages.
    std::string inbuf_;
    // The current request.
    MessageHead head_;
    std::string body_;  // body bytes not yet read by the handler
    std::uint64_t body_seen_ = 0;
    std::optional<ParseError> error_;  // the parser's (or a timeout's) verdict
    std::string& out_;                 // a response head being built (state_->head_buf)
    std::exception_ptr lost_error_;

    TimerHandle timer_;
    double deadline_ = 0;
    TimerKind timer_kind_ = TimerKind::none;

    std::size_t requests_ = 0;
    bool streaming_ = false;      // the current request's response was prepared
    bool req_keep_alive_ = true;  // what the current request asked for
    bool req_is_head_ = false;
    bool req_http10_ = false;
    bool req_upgrade_ = false;
    bool head_ready_ = false;     // head_ holds a request the task has not taken yet
    bool in_request_ = false;     // the task is answering a request
    bool message_done_ = false;   // the current request's body has been read in full
    bool parser_paused_ = false;  // the parser stopped after a message; bytes wait in inbuf_
    bool discarding_ = false;     // the handler is done: drop what is left of the body
    bool expect_continue_ = false;
    bool continue_sent_ = false;
    bool body_timed_out_ = false;
    bool keep_alive_ = true;  // the current request's keep-alive, as the response says it
    bool reading_paused_ = false;
    bool write_paused_ = false;
    bool lost_ = false;
    bool closing_ = false;  // close after the current response
    bool secure_ = false;
    bool eof_ = false;
    bool lingering_ = false;  // FIN sent: what still comes is dropped (linger_close)
};

// The protocol the transport drives: forwards to the Connection.
using HttpProtocol = ForwardingProtocol<Connection>;

}  // namespace tulip::http::detail
