// src/http/client_connection.hpp — the HTTP client's internals: one pooled
// connection (ClientConnection, with its protocol), the session's pool
// (SessionState) and a response's state (ResponseState). Not installed.
//
// Ownership: the transport owns its protocol, which holds the connection;
// the connection holds the transport until connection_lost, which breaks
// that cycle. A connection holds its session's state (for giving itself
// back); the state holds only its idle connections, and drops them when it
// closes. A response holds its connection while its body is being read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <tulip/core/ref.hpp>
#include <tulip/http/client_response.hpp>
#include <tulip/http/client_session.hpp>
#include <tulip/http/cookie_jar.hpp>
#include <tulip/loop/handle.hpp>
#include <tulip/net/protocol.hpp>
#include <tulip/net/resolver.hpp>
#include <tulip/net/transport.hpp>
#include <tulip/sync/waiters.hpp>
#include <tulip/task/future.hpp>
#include <tulip/tls/ssl_context.hpp>

#include "inflater.hpp"
#include "message_parser.hpp"
#include "one_waiter.hpp"

namespace tulip::http::detail {

class SessionState;

class ClientConnection final : public RefCounted, public MessageParser::Sink {
public:
    ClientConnection(Ref<SessionState> session, std::string key);
    ~ClientConnection() override;

    // ---- the protocol's events -------------------------------------------------
    void made(Transport& t);
    void data(std::string_view bytes);
    bool eof();
    void lost(std::exception_ptr exc);
    void pause_writing() noexcept { write_paused_ = true; }
    void resume_writing();

    // ---- MessageParser::Sink ----------------------------------------------------
    void on_head(MessageHead& head) override;
    void on_body(std::string_view chunk) override;
    void on_message_complete() override;

    // ---- one request at a time ---------------------------------------------------
    // Readies the parser for the next response (HEAD: no body whatever it says).
    void begin(bool head_request);
    // Writes the request (head and body) and waits until the transport has
    // taken it below its high-water mark.
    static Coro<void> send(Ref<ClientConnection> self, std::string bytes, std::optional<double> deadline);
    // The response head (1xx interim responses skipped). Throws
    // ServerDisconnectedError, ClientResponseError (malformed), TimeoutError.
    static Coro<MessageHead> read_head(Ref<ClientConnection> self, std::optional<double> deadline,
                                       std::optional<double> sock_read);
    // The next body bytes (de-chunked, still encoded), at most max; "" at
    // the end of the body. Throws ClientPayloadError, TimeoutError.
    static Coro<std::string> read_body(Ref<ClientConnection> self, std::size_t max, std::optional<double> deadline,
                                       std::optional<double> sock_read);
    // Body bytes already here, at most max (no wait).
    std::string take_body(std::size_t max);
    std::size_t body_buffered() const noexcept { return body_.size() - body_pos_; }
    bool response_complete() const noexcept { return complete_; }
    // Whether, after its response was read whole, the connection can serve
    // another request.
    bool reusable() const noexcept;
    // Nothing went wrong on it yet and it is open (for the pool).
    bool usable() const noexcept { return transport_ && !lost_ && !eof_ && !broken_ && !transport_->is_closing(); }
    // Received no response byte for the current request yet (a stale
    // keep-alive connection the server closed meanwhile looks like this).
    bool nothing_received() const noexcept { return !received_; }
    // The response began before the request's body was all sent.
    bool response_started() const noexcept { return received_; }
    void mark_broken() noexcept { broken_ = true; }

    // The response is done with (read whole, or given up).
    void end_request() noexcept;
    // Asks an HTTP proxy for a tunnel to authority ("host:port") and waits for
    // its 2xx; the bytes that follow are the tunnel's. Throws
    // ClientResponseError with the proxy's status if it refuses.
    static Coro<void> open_tunnel(Ref<ClientConnection> self, std::string authority, std::string proxy_auth,
                                  std::optional<double> deadline);
    Ref<Transport> transport() const noexcept { return transport_; }
    // After start_tls: the secure transport carries the connection from now on.
    void set_transport(Ref<Transport> t) noexcept { transport_ = std::move(t); }
    void close();
    void abort();

    // ---- the pool's bookkeeping ----------------------------------------------------
    const std::string& key() const noexcept { return key_; }
    bool in_pool = false;
    double idle_since = 0;
    std::size_t requests = 0;   // requests begun on it
    bool closing_idle = false;  // closed from the pool by the session's close()
    // Gives the pool slot back (once: at connection_lost, or when connecting failed).
    void drop_slot();

private:
    void wake() noexcept { waiter_.wake(); }
    void arm(std::optional<double> deadline);
    void disarm() noexcept;
    void on_timer();
    void update_reading();
    void fail(std::exception_ptr e);
    // Throws what ended the wait for bytes: an error, a lost connection, the deadline.
    void check(const char* waiting_for);

    Ref<SessionState> session_;
    std::string key_;
    Ref<Transport> transport_;  // null once lost
    MessageParser parser_;
    OneWaiter waiter_;
    TimerHandle timer_;
    double deadline_ = 0;
    bool timer_armed_ = false;
    bool timed_out_ = false;

    std::optional<MessageHead> head_;
    std::string body_;  // received, not yet taken (from body_pos_)
    std::size_t body_pos_ = 0;
    std::exception_ptr error_;  // a malformed response, or the connection's end
    bool in_request_ = false;
    bool interim_ = false;     // the message being parsed is a 1xx
    bool received_ = false;    // a byte of the current response arrived
    bool head_seen_ = false;   // the current response's head arrived
    bool complete_ = false;    // the current response ended
    bool keep_alive_ = false;  // the response allows another request after it
    bool broken_ = false;      // not reusable (junk after a response, an error)
    bool eof_ = false;
    bool lost_ = false;
    bool write_paused_ = false;
    bool reading_paused_ = false;
    bool slot_ = true;     // holds a pool slot
    bool tunnel_ = false;  // waiting for a proxy's answer to CONNECT: bytes go to raw_
    std::string raw_;
};

// The protocol the transport drives: forwards to the connection.
using ClientProtocol = ForwardingProtocol<ClientConnection>;

// A request waiting for a connection (limit reached).
struct SlotWaiter {
    tulip::detail::Waiter w;
    std::string_view key;
    std::list<SlotWaiter*>::iterator pos;
    bool linked = false;
    SlotWaiter() = default;
    SlotWaiter(const SlotWaiter&) = delete;
};

class SessionState final : public RefCounted {
public:
    explicit SessionState(ClientSessionOptions o);
    ~SessionState() override;

    ClientSessionOptions options;
    std::optional<URL> base;
    CookieJar jar;
    ParserLimits limits;
    std::optional<ssl::SSLContext> tls;  // options.ssl, or the default context once https is used
    std::optional<URL> proxy;            // options.proxy, parsed
    std::unique_ptr<Resolver> resolver;  // made on the loop of the first request

    // A connection to url's scheme://host:port: an idle one, else a new one
    // (waiting for a slot if at the limits).
    // Through `proxy` when set: a connection to the proxy for http, a CONNECT
    // tunnel with TLS inside for https.
    static Coro<Ref<ClientConnection>> acquire(Ref<SessionState> self, URL url, std::optional<URL> proxy,
                                               std::optional<double> deadline, std::optional<double> connect_timeout,
                                               bool fresh);
    // An idle connection to url's origin (through proxy), if the pool has one.
    Ref<ClientConnection> try_idle(const URL& url, const std::optional<URL>& proxy);
    // A response is done with its connection: back to the pool if it can
    // serve again, else closed.
    void release(Ref<ClientConnection> c);
    // The connection's slot is free (it closed, or never connected).
    void slot_freed(ClientConnection* c);
    void close_idle();
    void wake_waiters();

    struct Host {
        std::vector<Ref<ClientConnection>> idle;  // oldest first
        std::size_t open = 0;
    };
    std::unordered_map<std::string, Host> hosts;
    EventLoop* loop = nullptr;  // the loop of the first request
    std::size_t open = 0;
    std::size_t idle = 0;
    std::size_t made = 0;
    std::size_t closing = 0;  // idle connections close() closed, not yet gone
    bool closed = false;      // close(): requests are refused
    bool dropped = false;     // the session object is gone: requests made run on, nothing is pooled
    std::list<SlotWaiter*> waiters;
    std::vector<Future<void>> close_waiters;  // woken when `closing` reaches 0

private:
    bool can_proceed(std::string_view key) const;
    Ref<ClientConnection> take_idle(const std::string& key);
    bool evict_oldest_idle();
    void arm_expiry();
    void on_expiry();
    void remove_idle(ClientConnection* c);
    TimerHandle expiry_;
    double expiry_when_ = 0;
};

// One response: its head, and the connection while its body is read.
class ResponseState final : public RefCounted {
public:
    ~ResponseState() override;
    Ref<SessionState> session;
    Ref<ClientConnection> conn;  // null once released
    std::string method;
    URL url;
    int status = 0;
    std::string reason;
    int version_major = 1, version_minor = 1;
    Headers headers;
    std::optional<std::uint64_t> content_length;
    std::vector<ClientResponse> history;
    std::optional<double> deadline;  // the total timeout's
    std::optional<double> sock_read;
    std::optional<Inflater> inflater;
    std::string pending;              // decoded bytes not yet returned
    std::optional<std::string> body;  // read() kept it
    bool eof = false;                 // the body (decoded) is at its end, nothing pending
    bool raw_done = false;

    // Decoded bytes, up to max (at least one unless at the end).
    static Coro<std::string> next(Ref<ResponseState> self, std::size_t max);
    void release();
    void close();
};

}  // namespace tulip::http::detail
