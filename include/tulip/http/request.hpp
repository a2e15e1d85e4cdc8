// tulip/http/request.hpp — one HTTP request as a handler sees it
// (aiohttp's web.Request).
//
// The server parses the request line and headers before calling the
// handler; the body stays on the connection until the handler reads it
// (read(), text(), post(), readany()), so a handler that never reads a body
// never buffers it. A Request is lent to the handler for the call: it lives
// until the response has been sent.
//
// Cancel safety: read(), text() and post() are not safe: the parts of the
// body already taken are lost (the body is kept only once read whole).
// readany() takes bytes only when it returns.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tulip/core/ref.hpp>
#include <tulip/http/headers.hpp>
#include <tulip/http/url.hpp>
#include <tulip/net/address.hpp>
#include <tulip/task/async_generator.hpp>
#include <tulip/task/coro.hpp>

namespace tulip::http {

namespace detail {
class Connection;
struct RequestInit;
}  // namespace detail

class Request {
public:
    explicit Request(detail::RequestInit&& init);
    Request(const Request&) = delete;
    Request& operator=(const Request&) = delete;
    ~Request();

    // ---- the request line and headers ----------------------------------------
    const std::string& method() const noexcept { return method_; }
    // The request-target as sent ("/a%20b?x=1").
    const std::string& target() const noexcept { return target_; }
    // The path, percent-decoded and with dot segments removed ("/a b").
    const std::string& path() const noexcept { return path_; }
    // The path as sent, without the query ("/a%20b").
    const std::string& raw_path() const noexcept { return raw_path_; }
    const std::string& query_string() const noexcept { return query_string_; }
    // The query string parsed (aiohttp's request.query).
    const Query& query() const;
    const Headers& headers() const noexcept { return headers_; }
    // (1, 1) or (1, 0).
    std::pair<int, int> version() const noexcept { return {version_major_, version_minor_}; }
    // Whether the connection may stay open after this request (HTTP version and
    // Connection header; the server may still close it).
    bool keep_alive() const noexcept { return keep_alive_; }
    std::optional<std::uint64_t> content_length() const noexcept { return content_length_; }
    bool chunked() const noexcept { return chunked_; }
    // The Host header ("" if absent, as an HTTP/1.0 request may be).
    std::string_view host() const noexcept;
    // The peer's address.
    const SocketAddress& remote() const noexcept { return remote_; }
    // True over TLS.
    bool secure() const noexcept { return secure_; }

    // ---- routing --------------------------------------------------------------
    // A path parameter of the matched route ("/users/{id}": match_info("id")).
    // Throws std::out_of_range naming the parameter if the route has none.
    const std::string& match_info(std::string_view name) const;
    const std::vector<std::pair<std::string, std::string>>& match_info_all() const noexcept { return match_; }

    // ---- the body ---------------------------------------------------------------
    // True if the request has a body (Content-Length > 0 or chunked).
    bool body_exists() const noexcept { return chunked_ || content_length_.value_or(0) > 0; }
    // The whole body (at most the server's max_body, or 413). A second call
    // returns the same bytes.
    Coro<std::string> read();
    // read() as text (UTF-8 is not checked).
    Coro<std::string> text();
    // The body as an application/x-www-form-urlencoded form (aiohttp's
    // post()); 415 if the Content-Type is another.
    Coro<Query> post();
    // The next part of the body as it arrives; "" at its end (aiohttp's
    // request.content.readany()).
    Coro<std::string> readany();
    // The body part by part as it arrives (aiohttp's `async for chunk in
    // request.content.iter_any()`): `while (auto c = co_await gen.next())`.
    // The generator reads through this Request, which must outlive it.
    AsyncGenerator<std::string> chunks();

    // The connection this request came on (for StreamResponse::prepare and
    // the server's internals).
    detail::Connection& connection() const noexcept { return *conn_; }

private:
    friend class Response;
    Ref<detail::Connection> conn_;
    std::string method_;
    std::string target_;
    std::string path_;
    std::string raw_path_;
    std::string query_string_;
    mutable std::optional<Query> query_;
    Headers headers_;
    std::vector<std::pair<std::string, std::string>> match_;
    std::string allow_;  // the methods the path takes, when the request's is not one (405)
    SocketAddress remote_;
    std::optional<std::uint64_t> content_length_;
    std::optional<std::string> body_;  // read() keeps what it read
    int version_major_ = 1;
    int version_minor_ = 1;
    bool keep_alive_ = true;
    bool chunked_ = false;
    bool secure_ = false;

    friend class Application;
    friend class detail::Connection;
};

}  // namespace tulip::http
