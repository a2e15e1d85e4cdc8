// src/http/response.cpp — Response (see include/tulip/http/response.hpp).
#include <tulip/http/response.hpp>

#include <unistd.h>

#include <stdexcept>
#include <string>

#include <tulip/http/request.hpp>
#include <tulip/http/status.hpp>

#include "connection.hpp"

namespace tulip::http {

namespace {
int checked_status(int status) {
    if (status < 100 || status > 999)
        throw std::invalid_argument("HTTP status " + std::to_string(status) + " is not in 100..999");
    return status;
}
}  // namespace

namespace detail {
OpenedFile& OpenedFile::operator=(OpenedFile&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = o.release();
        size_ = o.size_;
        mtime_ = o.mtime_;
    }
    return *this;
}
OpenedFile::~OpenedFile() {
    if (fd_ >= 0) ::close(fd_);
}
}  // namespace detail

Response::Response(int status) : status_(checked_status(status)) {}

Response::Response(int status, std::string body, std::string_view content_type)
    : status_(checked_status(status)), body_(std::move(body)) {
    if (!content_type.empty()) headers_.set("Content-Type", content_type);
}

Response::Response(Response&&) noexcept = default;
Response& Response::operator=(Response&&) noexcept = default;
Response::~Response() = default;

Response Response::text(std::string body, int status) { return Response(status, std::move(body)); }
Response Response::html(std::string body, int status) {
    return Response(status, std::move(body), "text/html; charset=utf-8");
}
Response Response::json(std::string body, int status) { return Response(status, std::move(body), "application/json"); }

Response Response::file(std::string path) {
    if (path.empty()) throw std::invalid_argument("Response::file(): an empty path");
    Response r(200);
    r.file_path_ = std::move(path);
    return r;
}

void Response::set_status(int status, std::string reason) {
    if (reason.find_first_of("\r\n") != std::string::npos)
        throw std::invalid_argument("an HTTP reason phrase cannot hold CR or LF");
    status_ = checked_status(status);
    reason_ = std::move(reason);
}

std::string_view Response::reason() const noexcept {
    if (!reason_.empty()) return reason_;
    std::string_view r = reason_phrase(status_);
    return r.empty() ? std::string_view("Unknown") : r;
}

void Response::set_content_type(std::string_view type) { headers_.set("Content-Type", type); }

Coro<void> Response::prepare(Request& request) { return detail::Connection::prepare(request.conn_, this); }

Coro<void> Response::write(std::string data) {
    if (!conn_) throw std::logic_error("Response::write() before prepare()");
    return detail::Connection::write_part(conn_, this, std::move(data));
}

Coro<void> Response::write_eof() {
    if (!conn_) throw std::logic_error("Response::write_eof() before prepare()");
    return detail::Connection::write_eof(conn_, this);
}

}  // namespace tulip::http
