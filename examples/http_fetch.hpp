// http_fetch.hpp — what the HTTP examples use as their client: one HTTP/1.1
// request on a kept-alive stream connection, the response read by its
// Content-Length or its chunks. (tulip's HTTP client is a later piece; the
// examples speak the protocol by hand meanwhile, which also shows it.)
#pragma once

#include <cstdlib>
#include <functional>
#include <string>

#include <tulip/tulip.hpp>

namespace examples {

struct HttpReply {
    int status = 0;
    std::string head;  // the status line and headers, as received
    std::string body;
    // The value of a header (case as the server sends it; tulip's are canonical).
    std::string header(const std::string& name) const {
        std::size_t p = head.find("\r\n" + name + ": ");
        if (p == std::string::npos) return "";
        p += name.size() + 4;
        return head.substr(p, head.find("\r\n", p) - p);
    }
};

class HttpConnection {
public:
    static tulip::Coro<HttpConnection> open(std::uint16_t port) {
        tulip::StreamPair p = co_await tulip::open_connection("127.0.0.1", port);
        co_return HttpConnection(std::move(p));
    }
    // Sends one request; extra_headers are "Name: value\r\n" lines. For a
    // chunked response, on_chunk sees each chunk as it arrives.
    tulip::Coro<HttpReply> request(std::string method, std::string target, std::string extra_headers, std::string body,
                                   std::function<void(const std::string&)> on_chunk) {
        std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers;
        if (!body.empty()) req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
        req += "\r\n" + body;
        conn_.second.write(req);
        co_await conn_.second.drain();
        HttpReply r;
        r.head = co_await conn_.first.readuntil("\r\n\r\n");
        r.status = std::atoi(r.head.c_str() + 9);
        if (method == "HEAD" || r.status == 204 || r.status == 304) co_return r;
        if (std::string len = r.header("Content-Length"); !len.empty()) {
            r.body = co_await conn_.first.readexactly(std::atoll(len.c_str()));
        } else if (r.header("Transfer-Encoding") == "chunked") {
            for (;;) {
                std::string size_line = co_await conn_.first.readuntil("\r\n");
                std::size_t n = std::strtoull(size_line.c_str(), nullptr, 16);
                std::string chunk = co_await conn_.first.readexactly(static_cast<std::ptrdiff_t>(n + 2));
                chunk.resize(n);
                if (n == 0) break;
                if (on_chunk) on_chunk(chunk);
                r.body += chunk;
            }
        }
        co_return r;
    }
    tulip::Coro<HttpReply> get(std::string target, std::string extra_headers) {
        return request("GET", std::move(target), std::move(extra_headers), "", nullptr);
    }
    tulip::Coro<void> close() {
        conn_.second.close();
        co_await conn_.second.wait_closed();
    }

private:
    explicit HttpConnection(tulip::StreamPair p) : conn_(std::move(p)) {}
    tulip::StreamPair conn_;
};

}  // namespace examples
