// src/http/request.cpp — Request (see include/tulip/http/request.hpp).
#include <tulip/http/request.hpp>

#include <stdexcept>

#include <tulip/http/exceptions.hpp>

#include "connection.hpp"

namespace tulip::http {

Request::Request(detail::RequestInit&& init) : conn_(std::move(init.conn)) {
    detail::MessageHead& h = init.head;
    method_ = std::move(h.method);
    target_ = std::move(h.target);
    headers_ = std::move(h.headers);
    version_major_ = h.version_major;
    version_minor_ = h.version_minor;
    keep_alive_ = h.keep_alive;
    chunked_ = h.chunked;
    content_length_ = h.content_length;
    Target t = parse_target(target_);  // std::invalid_argument: the server answers 400
    path_ = std::move(t.path);
    raw_path_ = std::move(t.raw_path);
    query_string_ = std::move(t.query_string);
    remote_ = conn_->peer();
    secure_ = conn_->secure();
}

Request::~Request() = default;

const Query& Request::query() const {
    if (!query_) query_ = Query::parse(query_string_);
    return *query_;
}

std::string_view Request::host() const noexcept { return headers_.get("Host", ""); }

const std::string& Request::match_info(std::string_view name) const {
    for (auto& [k, v] : match_)
        if (k == name) return v;
    throw std::out_of_range("the route has no parameter '" + std::string(name) + "'");
}

Coro<std::string> Request::read() {
    if (!body_) body_ = co_await detail::Connection::read_all(conn_);
    co_return *body_;
}

Coro<std::string> Request::text() { return read(); }

Coro<Query> Request::post() {
    std::string_view type = headers_.get("Content-Type", "");
    std::string_view base = type.substr(0, type.find(';'));
    while (!base.empty() && (base.back() == ' ' || base.back() == '\t')) base.remove_suffix(1);
    bool form = base.size() == 33;
    for (std::size_t i = 0; form && i < base.size(); ++i) {
        char ch = base[i];
        if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
        form = ch == "application/x-www-form-urlencoded"[i];
    }
    if (!form && body_exists()) throw HTTPException(415, "expected an application/x-www-form-urlencoded body\n");
    std::string body = co_await read();
    try {
        co_return Query::parse(body);
    } catch (const std::invalid_argument&) {
        throw HTTPException(400, "malformed form body\n");
    }
}

Coro<std::string> Request::readany() {
    if (body_) {  // read() took it all already
        std::string rest = std::move(*body_);
        body_ = std::string();
        co_return rest;
    }
    co_return co_await detail::Connection::read_part(conn_);
}

AsyncGenerator<std::string> Request::chunks() {
    for (;;) {
        std::string part = co_await readany();
        if (part.empty()) co_return;
        co_yield std::move(part);
    }
}

}  // namespace tulip::http
