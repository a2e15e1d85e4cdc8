// tests/http/http_client.hpp — a small HTTP/1.1 client over a raw socket for
// the server tests: sends bytes exactly as given and reads responses strictly
// (so a test sees what the server really put on the wire).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <tulip/tulip.hpp>

namespace tulip::test {

struct Reply {
    int status = 0;
    std::string reason;
    std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
    std::string body;
    bool chunked = false;
    std::optional<std::string> header(std::string name) const {
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        for (auto& [k, v] : headers)
            if (k == name) return v;
        return std::nullopt;
    }
    std::size_t count(std::string name) const {
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return static_cast<std::size_t>(
            std::count_if(headers.begin(), headers.end(), [&](auto& kv) { return kv.first == name; }));
    }
};

// A connection to the server under test; keeps the bytes read past the
// last response.
class RawClient {
public:
    static Coro<RawClient> connect(SocketAddress addr) {
        Socket s = Socket::create(addr.family());
        co_await sock_connect(s, addr);
        co_return RawClient(std::move(s));
    }
    explicit RawClient(Socket s) : s_(std::move(s)) {}

    Coro<void> send(std::string bytes) { co_await sock_sendall(s_, bytes); }

    // Reads one response. head: it answers a HEAD request (no body follows).
    Coro<Reply> reply(bool head = false) {
        Reply r;
        std::size_t end;
        while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
            std::string more = co_await sock_recv(s_, 65536);
            if (more.empty()) throw std::runtime_error("EOF before a response's headers; got: " + buf_);
            buf_ += more;
        }
        std::string head_text = buf_.substr(0, end);
        buf_.erase(0, end + 4);
        std::size_t line_end = head_text.find("\r\n");
        std::string status_line = head_text.substr(0, line_end);
        if (status_line.rfind("HTTP/1.1 ", 0) != 0) throw std::runtime_error("bad status line: " + status_line);
        r.status = std::atoi(status_line.c_str() + 9);
        r.reason = status_line.size() > 13 ? status_line.substr(13) : "";
        std::size_t pos = line_end == std::string::npos ? head_text.size() : line_end + 2;
        while (pos < head_text.size()) {
            std::size_t e = head_text.find("\r\n", pos);
            if (e == std::string::npos) e = head_text.size();
            std::string line = head_text.substr(pos, e - pos);
            std::size_t colon = line.find(':');
            if (colon == std::string::npos) throw std::runtime_error("bad header line: " + line);
            std::string name = line.substr(0, colon);
            for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            std::string value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.erase(0, 1);
            r.headers.emplace_back(std::move(name), std::move(value));
            pos = e + 2;
        }
        if (head || r.status < 200 || r.status == 204 || r.status == 304) co_return r;
        if (auto cl = r.header("content-length")) {
            std::size_t n = std::stoull(*cl);
            co_await fill(n);
            r.body = buf_.substr(0, n);
            buf_.erase(0, n);
        } else if (r.header("transfer-encoding") == "chunked") {
            r.chunked = true;
            for (;;) {
                std::size_t e;
                while ((e = buf_.find("\r\n")) == std::string::npos) co_await fill(buf_.size() + 1);
                std::size_t n = std::stoull(buf_.substr(0, e), nullptr, 16);
                buf_.erase(0, e + 2);
                co_await fill(n + 2);
                r.body += buf_.substr(0, n);
                if (buf_.substr(n, 2) != "\r\n") throw std::runtime_error("chunk without CRLF");
                buf_.erase(0, n + 2);
                if (n == 0) break;
            }
        } else {
            // Delimited by the close.
            for (;;) {
                std::string more = co_await sock_recv(s_, 65536);
                if (more.empty()) break;
                buf_ += more;
            }
            r.body = std::move(buf_);
            buf_.clear();
        }
        co_return r;
    }

    // True when the server closes the connection (EOF or reset) with nothing
    // more sent.
    Coro<bool> closed() {
        if (!buf_.empty()) co_return false;
        try {
            std::string more = co_await sock_recv(s_, 65536);
            buf_ += more;
            co_return more.empty();
        } catch (const ConnectionResetError&) {
            co_return true;
        }
    }
    const std::string& pending() const noexcept { return buf_; }
    Socket& socket() noexcept { return s_; }

private:
    Coro<void> fill(std::size_t n) {
        while (buf_.size() < n) {
            std::string more = co_await sock_recv(s_, 65536);
            if (more.empty()) throw std::runtime_error("EOF inside a response body");
            buf_ += more;
        }
    }
    Socket s_;
    std::string buf_;
};

}  // namespace tulip::test
