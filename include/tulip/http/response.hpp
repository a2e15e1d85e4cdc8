// tulip/http/response.hpp — what a handler answers (aiohttp's web.Response
// and web.StreamResponse in one class).
//
// Two ways to use it:
// - whole: set status, headers and body, and return it from the handler;
//   the server adds Content-Length, Date, Server and Connection.
// - streaming (aiohttp's StreamResponse): co_await prepare(request) sends
//   the status line and headers, each co_await write(data) sends a part
//   (chunked, or up to set_content_length), waiting while the client is
//   slow to read (backpressure), and write_eof() ends it; then return it.
//
// Content-Length and Transfer-Encoding are the server's to set; headers()
// refuses neither, but a response carrying them raises at send time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <tulip/core/ref.hpp>
#include <tulip/http/headers.hpp>
#include <tulip/task/coro.hpp>

namespace tulip::http {

class Request;
class Application;
namespace detail {
class Connection;

// A file add_static opened already (inside its root, race-free), with what
// fstat said of it; the response owns the descriptor.
class OpenedFile {
public:
    OpenedFile() = default;
    OpenedFile(int fd, std::uint64_t size, std::int64_t mtime) noexcept : fd_(fd), size_(size), mtime_(mtime) {}
    OpenedFile(OpenedFile&& o) noexcept : fd_(o.release()), size_(o.size_), mtime_(o.mtime_) {}
    OpenedFile& operator=(OpenedFile&& o) noexcept;
    ~OpenedFile();
    int fd() const noexcept { return fd_; }
    std::uint64_t size() const noexcept { return size_; }
    std::int64_t mtime() const noexcept { return mtime_; }
    int release() noexcept {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }

private:
    int fd_ = -1;
    std::uint64_t size_ = 0;
    std::int64_t mtime_ = 0;
};
}  // namespace detail

class Response {
public:
    // An empty body with this status (100..999).
    explicit Response(int status = 200);
    // A body with its Content-Type.
    Response(int status, std::string body, std::string_view content_type = "text/plain; charset=utf-8");
    Response(Response&&) noexcept;
    Response& operator=(Response&&) noexcept;
    ~Response();

    static Response text(std::string body, int status = 200);
    static Response html(std::string body, int status = 200);
    // body is JSON text already (Content-Type application/json).
    static Response json(std::string body, int status = 200);
    // A file (aiohttp's web.FileResponse), sent with sendfile(2) when the
    // response goes out: Content-Type from its extension (unless set),
    // ETag and Last-Modified, 304 for If-None-Match / If-Modified-Since, a
    // single Range as 206 (If-Range honoured; several ranges get the whole
    // file), 416 past the end, 404 if it is missing or not a regular file,
    // 403 if it cannot be read. path is used as given: serving a
    // client-chosen name safely is Application::add_static's job.
    static Response file(std::string path);
    bool is_file() const noexcept { return !file_path_.empty(); }
    const std::string& file_path() const noexcept { return file_path_; }

    int status() const noexcept { return status_; }
    // reason: the reason phrase; empty for the standard one.
    void set_status(int status, std::string reason = {});
    std::string_view reason() const noexcept;
    Headers& headers() noexcept { return headers_; }
    const Headers& headers() const noexcept { return headers_; }
    const std::string& body() const noexcept { return body_; }
    void set_body(std::string body) {
        body_ = std::move(body);
        file_path_.clear();
        opened_ = {};
    }
    void set_content_type(std::string_view type);
    // Close the connection after this response (Connection: close).
    void force_close() noexcept { force_close_ = true; }
    bool will_close() const noexcept { return force_close_; }

    // ---- streaming --------------------------------------------------------------
    // Known length (the parts written must add up to it), else chunked
    // encoding (HTTP/1.1) or until-close (HTTP/1.0).
    void set_content_length(std::uint64_t n) { content_length_ = n; }
    std::optional<std::uint64_t> content_length() const noexcept { return content_length_; }
    // Sends the status line and headers now. Once only.
    Coro<void> prepare(Request& request);
    bool prepared() const noexcept { return static_cast<bool>(conn_); }
    // Sends a part of the body; suspends while the client is slow to read.
    Coro<void> write(std::string data);
    // Ends the body. Returning the response from the handler ends it too.
    Coro<void> write_eof();
    bool eof_written() const noexcept { return eof_written_; }

private:
    friend class detail::Connection;
    friend class Application;  // add_static's opened files
    int status_;
    std::string reason_;
    Headers headers_;
    std::string body_;
    std::string file_path_;      // a file response: sent instead of body_
    detail::OpenedFile opened_;  // file_path_ opened already (add_static), else fd -1
    std::optional<std::uint64_t> content_length_;
    Ref<detail::Connection> conn_;  // set by prepare()
    std::uint64_t sent_ = 0;        // streamed body bytes
    bool chunked_ = false;
    bool head_only_ = false;  // the request was HEAD: no body goes out
    bool eof_written_ = false;
    bool force_close_ = false;
};

}  // namespace tulip::http
