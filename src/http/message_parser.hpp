// tulip::http::detail::MessageParser: incremental HTTP/1.x message parsing on
// llhttp, with the size limits and request-smuggling checks (RFC 9112) that
// the server and the client share. Internal: not installed.
#pragma once

#include <tulip/http/headers.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tulip::http::detail {

// Defaults as nginx's; the server exposes them as settings.
struct ParserLimits {
    std::size_t max_line = 8 * 1024;           // request-target (responses: reason phrase) bytes -> 414
    std::size_t max_header_bytes = 16 * 1024;  // all header (and trailer) names + values -> 431
    std::size_t max_headers = 100;             // header (and trailer) lines -> 431
    std::uint64_t max_body = 1024 * 1024;      // Content-Length above it -> 413 at once; chunked total too
    bool require_host = true;                  // an HTTP/1.1 request without Host -> 400 (RFC 9112 3.2)
};

struct MessageHead {
    std::string method;  // requests: "GET"...
    std::string target;  // requests: the raw request-target
    int status = 0;      // responses
    std::string reason;  // responses
    int version_major = 1, version_minor = 1;
    Headers headers;
    bool keep_alive = true;  // llhttp_should_keep_alive at the end of the head (1.0 vs 1.1, Connection)
    bool chunked = false;
    std::optional<std::uint64_t> content_length;
    bool upgrade = false;          // the connection changes protocol after this message (Upgrade, CONNECT)
    bool expect_continue = false;  // requests: "Expect: 100-continue"
};

// Malformed input: status() is the HTTP status a server answers with
// (400, 413, 414, 431, 501, 505), what() names the problem.
class ParseError : public std::runtime_error {
public:
    ParseError(int status, const std::string& what) : std::runtime_error(what), status_(status) {}
    [[nodiscard]] int status() const noexcept { return status_; }

private:
    int status_;
};

class MessageParser {
public:
    enum class Kind { request, response };

    // The parser's callbacks. An exception thrown by one is caught (it must not
    // cross llhttp's C frames), parsing stops, and feed() rethrows it; the
    // parser is dead after that.
    struct Sink {
        virtual ~Sink() = default;
        // Start line and headers parsed. The sink may std::move(head).
        virtual void on_head(MessageHead& head) = 0;
        // Body bytes (de-chunked), lent for the call.
        virtual void on_body(std::string_view chunk) = 0;
        // Trailer fields of a chunked message, before on_message_complete.
        virtual void on_trailers(Headers& trailers) { (void)trailers; }
        virtual void on_message_complete() = 0;
    };

    MessageParser(Kind kind, Sink& sink, ParserLimits limits = {});
    ~MessageParser();
    MessageParser(const MessageParser&) = delete;
    MessageParser& operator=(const MessageParser&) = delete;

    // Parses as much of `data` as it can and returns the bytes consumed. It
    // stops after each complete message (a server answers pipelined requests
    // one at a time): the caller feeds the rest again later. After a message
    // with head.upgrade the bytes that follow are not HTTP: feed() consumes
    // none of them and upgraded() is true (feeding more throws logic_error).
    // Throws ParseError on malformed input; the parser is dead after that
    // (feed throws the same error again).
    std::size_t feed(std::string_view data);
    // The peer closed: completes a message whose end is the EOF (a response
    // without length), or throws ParseError if a message was cut short.
    void feed_eof();

    // Between the first byte of a message and its end.
    [[nodiscard]] bool in_message() const noexcept;
    // Between the first byte of a message and the end of its head (what a
    // server's header-read timeout covers).
    [[nodiscard]] bool in_head() const noexcept;
    // After a message whose head had upgrade set.
    [[nodiscard]] bool upgraded() const noexcept;
    // Responses: the request was HEAD (or the sink knows otherwise that the
    // response has no body): the next response's body is skipped whatever its
    // headers say. Set before feeding that response.
    void set_response_to_head(bool yes) noexcept;
    [[nodiscard]] const ParserLimits& limits() const noexcept;
    // As new (for another connection), keeping the buffers' capacity.
    void reset() noexcept;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace tulip::http::detail
