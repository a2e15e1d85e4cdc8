// tulip/http/client_session.hpp — http::ClientSession, an HTTP/1.1 client with
// a connection pool (aiohttp's ClientSession + TCPConnector; httpx's
// AsyncClient).
//
//     http::ClientSession session;
//     http::ClientResponse r = co_await session.get("http://127.0.0.1:8080/users/1");
//     r.raise_for_status();
//     std::string body = co_await r.read();
//     co_await session.close();
//
// Connections are kept alive and reused per scheme, host and port (the most
// recently used first), up to `limit` in all and `limit_per_host` each;
// a request past the limits waits for a connection (within the connect
// timeout). An idle connection is closed after keepalive_timeout, or when
// the server closes it. A connection is reused only after a response read
// to its end that the server did not mark Connection: close.
//
// Redirects are followed (301/302/303 turn a POST into a GET without body,
// as browsers do; 307/308 repeat the request), Authorization and Cookie are
// dropped when the redirect leaves the origin. A streamed body (body_stream,
// a multipart body with files) cannot be sent twice: a 307/308 after it is
// returned as it is.
//
// No request is sent twice behind the caller's back (retrying is the
// caller's policy): a reused keep-alive connection that the server closed
// just as the request went out raises ServerDisconnectedError, as aiohttp
// does, unless retry_stale_connections asks for one more try.
//
// Through an HTTP proxy (proxy=), plain requests are sent to it in absolute
// form and https ones through a CONNECT tunnel.
//
// Cancel safety: request() (get(), post(), ...) is not safe: a request
// cancelled after it went out may have reached the server (it is not resent),
// and a connection left mid-exchange is closed, never reused half-read; one
// cancelled while connecting is aborted. close() is safe.
//
// Loop thread only; a session belongs to the loop it was first used on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <tulip/core/ref.hpp>
#include <tulip/http/client_errors.hpp>
#include <tulip/http/client_response.hpp>
#include <tulip/http/cookie_jar.hpp>
#include <tulip/http/form_data.hpp>
#include <tulip/http/headers.hpp>
#include <tulip/http/url.hpp>
#include <tulip/task/async_generator.hpp>
#include <tulip/task/coro.hpp>
#include <tulip/tls/ssl_context.hpp>

namespace tulip::http {

namespace detail {
class SessionState;
}

// Seconds; nullopt: no limit (aiohttp's ClientTimeout).
struct ClientTimeout {
    // The whole request: connecting, sending, the response head and reading
    // its body (aiohttp's default, 5 minutes).
    std::optional<double> total = 300.0;
    // Getting a connection: waiting for a free one in the pool and
    // connecting (with the TLS handshake).
    std::optional<double> connect;
    // The longest wait for the next bytes of the response (head or body).
    std::optional<double> sock_read;
};

struct ClientSessionOptions {
    // Relative request URLs ("/users/1", "users?id=1") resolve against it.
    std::string base_url;
    // Sent with every request (a request's own header of the same name wins).
    Headers headers;
    ClientTimeout timeout;
    // Connections open at once, in all (0: no limit) and per scheme, host and
    // port (0: no limit) (aiohttp's TCPConnector limit=100, limit_per_host=0).
    std::size_t limit = 100;
    std::size_t limit_per_host = 0;
    // An idle connection is closed after this many seconds (aiohttp: 15);
    // 0: none is kept (each request connects).
    double keepalive_timeout = 15.0;
    // For https: the TLS context (certificate checks, a custom CA). Empty:
    // ssl::create_default_context(), which verifies against the system's CAs.
    std::optional<ssl::SSLContext> ssl;
    // An HTTP proxy, "http://[user:password@]host:port": http requests go
    // to it in absolute form, https ones through a CONNECT tunnel (TLS end
    // to end with the server). Its credentials go as Proxy-Authorization
    // (Basic).
    std::string proxy;
    // Names resolve with c-ares on the loop, each answer kept for its TTL
    // (tulip::Resolver; getaddrinfo on the executor when c-ares fails), and
    // the addresses are raced as happy eyeballs (250 ms apart) as aiohttp
    // does. dns_servers: "host:port,..." instead of /etc/resolv.conf's.
    bool use_resolver = true;
    std::string dns_servers;
    // raise_for_status() on every final response.
    bool raise_for_status = false;
    std::size_t max_redirects = 10;
    // Decode gzip and deflate bodies (and ask for them with Accept-Encoding).
    bool auto_decompress = true;
    // Keep the cookies responses set and send them back (cookie_jar()).
    bool use_cookie_jar = true;
    // An idempotent request (RFC 9110 9.2.2) whose reused connection the
    // server had closed (nothing came back) is sent once more, on a new
    // connection. Off by default: retrying is the caller's choice.
    bool retry_stale_connections = false;
    std::string user_agent = "tulip-http";
    // Response head limits: the status line and each header line, and all
    // header lines together (aiohttp: 8190 per line).
    std::size_t max_line_size = 8 * 1024;
    std::size_t max_header_bytes = 64 * 1024;
    std::size_t max_headers = 256;
};

struct RequestOptions {
    // Added to the URL's query string (percent-encoded).
    Query params;
    Headers headers;
    // The body as bytes (Content-Type is the caller's header; none is sent
    // unless set)...
    std::optional<std::string> data;
    // ... or a form: application/x-www-form-urlencoded.
    std::optional<Query> form;
    // ... or JSON text: application/json (http::set_json in json.hpp makes
    // it from an nlohmann::json).
    std::optional<std::string> json;
    // ... or a body sent as it is produced, without holding it whole: the
    // parts an async generator yields (chunked, unless content_length says
    // how long it is) ...
    std::optional<AsyncGenerator<std::string>> body_stream;
    std::optional<std::uint64_t> content_length;
    // ... or a file, by path, read in 64 KiB parts as the connection takes
    // them (Content-Length from its size).
    std::optional<std::string> body_file;
    // ... or a multipart/form-data body (fields in memory, files read as it
    // is sent).
    std::optional<FormData> multipart;
    bool allow_redirects = true;
    std::optional<std::size_t> max_redirects;  // the session's if unset
    std::optional<ClientTimeout> timeout;      // the session's if unset
    std::optional<bool> raise_for_status;      // the session's if unset
    std::optional<std::string> proxy;          // the session's if unset ("": none)
};

class ClientSession {
public:
    ClientSession();
    explicit ClientSession(ClientSessionOptions options);
    ClientSession(ClientSession&&) noexcept;
    ClientSession& operator=(ClientSession&&) noexcept;
    ClientSession(const ClientSession&) = delete;
    ClientSession& operator=(const ClientSession&) = delete;
    // A session not closed: its idle connections close; requests already
    // made (awaited or not) run to their end, and their connections close
    // when their responses are released.
    ~ClientSession();

    // Sends the request and returns once the response head has arrived.
    // Throws InvalidURL, ClientConnectorError, ServerDisconnectedError,
    // ClientResponseError, TooManyRedirects, TimeoutError, or
    // std::invalid_argument for a bad method or header.
    Coro<ClientResponse> request(std::string method, std::string url, RequestOptions opts);
    Coro<ClientResponse> request(std::string method, std::string url);
    Coro<ClientResponse> get(std::string url);
    Coro<ClientResponse> get(std::string url, RequestOptions opts);
    Coro<ClientResponse> head(std::string url);
    Coro<ClientResponse> head(std::string url, RequestOptions opts);
    Coro<ClientResponse> post(std::string url, RequestOptions opts);
    Coro<ClientResponse> put(std::string url, RequestOptions opts);
    Coro<ClientResponse> patch(std::string url, RequestOptions opts);
    Coro<ClientResponse> delete_(std::string url);
    Coro<ClientResponse> delete_(std::string url, RequestOptions opts);
    Coro<ClientResponse> options(std::string url);

    // Closes the idle connections and refuses new requests; responses still
    // held close their connection when released. Waits until the idle ones
    // are closed.
    Coro<void> close();
    bool closed() const noexcept;

    // Connections open (idle or in use) and idle ones, all hosts.
    std::size_t connection_count() const noexcept;
    std::size_t idle_count() const noexcept;
    // Connections made since the session began (to check reuse).
    std::size_t connections_made() const noexcept;

    // The cookies the session keeps (empty and unused without use_cookie_jar).
    CookieJar& cookie_jar();

    const ClientSessionOptions& settings() const;

private:
    Ref<detail::SessionState> s_;
};

}  // namespace tulip::http
