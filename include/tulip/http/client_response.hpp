// tulip/http/client_response.hpp — http::ClientResponse, what a ClientSession
// request returns (aiohttp's ClientResponse; httpx's Response).
//
// The status line and headers are there when the request returns; the body
// is read afterwards, whole (read(), text()) or in parts (read_some(),
// readany(), readline(), iter_chunked()), decompressed when the server sent
// it gzip- or deflate-encoded. The connection goes back to the session's pool
// as soon as the body has been read to its end; a response dropped (or
// release()d) before that closes its connection, which is never reused
// half-read (aiohttp's behaviour).
//
// A ClientResponse is a handle: copies share one response. Loop thread only.
//
// Cancel safety: read() and text() are not safe: the parts already taken are
// lost (the body is kept only once read whole). read_some(), readany(),
// readline() and iter_chunked() are safe: bytes are taken only when they
// return, so what a cancelled call had not returned stays for the next one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tulip/core/ref.hpp>
#include <tulip/http/headers.hpp>
#include <tulip/http/url.hpp>
#include <tulip/task/async_generator.hpp>
#include <tulip/task/coro.hpp>

namespace tulip::http {

namespace detail {
class ResponseState;
}

class ClientResponse {
public:
    ClientResponse() = default;
    explicit ClientResponse(Ref<detail::ResponseState> s);
    ClientResponse(const ClientResponse&);
    ClientResponse(ClientResponse&&) noexcept;
    ClientResponse& operator=(const ClientResponse&);
    ClientResponse& operator=(ClientResponse&&) noexcept;
    ~ClientResponse();

    int status() const;
    const std::string& reason() const;
    // True below 400 (aiohttp's resp.ok).
    bool ok() const { return status() < 400; }
    const Headers& headers() const;
    // "HTTP/1.1" as (1, 1).
    int version_major() const;
    int version_minor() const;
    // The URL this response answers (after redirects, the last one).
    const URL& url() const;
    const std::string& method() const;
    // The redirect responses that led here, oldest first (bodies released).
    const std::vector<ClientResponse>& history() const;
    // Content-Length as received (of the encoded body), if any.
    std::optional<std::uint64_t> content_length() const;
    // "text/html" of "text/html; charset=utf-8", lowercased; "" if none.
    std::string content_type() const;
    // The charset parameter of Content-Type, lowercased; "" if none.
    std::string charset() const;

    // Throws ClientResponseError(status, reason, url, headers) for 4xx/5xx.
    void raise_for_status() const;

    // The whole body (decoded), kept: a second call returns it again.
    Coro<std::string> read();
    // read() as UTF-8 text, converted from the Content-Type's charset (none,
    // UTF-8 or ASCII: as received, unchecked). A body its charset cannot
    // have, or an unknown charset, throws ClientPayloadError.
    Coro<std::string> text();
    // Up to n bytes of the body as they arrive ("" at its end): aiohttp's
    // resp.content.read(n).
    Coro<std::string> read_some(std::size_t n = 64 * 1024);
    // What has arrived, at least one byte ("" at the end): content.readany().
    Coro<std::string> readany();
    // One line with its "\n" (the last may have none; "" at the end):
    // content.readline(). Throws ClientPayloadError for a line over `limit`.
    Coro<std::string> readline(std::size_t limit = 64 * 1024);
    // The body in parts of at most n bytes: content.iter_chunked(n).
    AsyncGenerator<std::string> iter_chunked(std::size_t n = 64 * 1024);
    // Whether the body has been read to its end.
    bool at_eof() const;

    // Done with this response: the connection returns to the pool if its
    // body was read to the end, else it is closed. Idempotent; the
    // destructor of the last copy does it too.
    void release();
    // Closes the connection at once, read or not (aiohttp's resp.close()).
    void close();

    explicit operator bool() const noexcept { return static_cast<bool>(s_); }

private:
    detail::ResponseState& state() const;
    Ref<detail::ResponseState> s_;
};

}  // namespace tulip::http
