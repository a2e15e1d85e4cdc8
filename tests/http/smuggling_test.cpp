// tests/http/smuggling_test.cpp — every malformed or ambiguous request of
// tests/http/bad_requests.hpp (plus a few only the server sees: request-target
// forms, bad escapes, the default size limits) sent to a real http::Server,
// each on its own connection: the exact status, Connection: close, the
// connection closed by the server, and no handler run — except for the chunk
// framing errors (after_head), where the head was valid: the handler reading
// the body sees the error with the same status.
#include <tulip/http/server.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <tulip/http/exceptions.hpp>

#include "http/bad_requests.hpp"
#include "http/http_client.hpp"
#include "support/loop_test.hpp"

namespace http_smuggling_test {

using namespace tulip;
using tulip::test::RawClient;
using tulip::test::Reply;

namespace {

struct Case {
    std::string name;
    std::string bytes;
    int status;
    bool after_head;
};

// gtest prints a failing case by its name, not its bytes.
[[maybe_unused]] void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::string many_headers(int n) {
    std::string s = "GET / HTTP/1.1\r\nHost: a\r\n";
    for (int i = 1; i < n; ++i) s += "X-" + std::to_string(i) + ": v\r\n";
    return s + "\r\n";
}

std::vector<Case> all_cases() {
    std::vector<Case> v;
    for (const auto& b : http::test::bad_requests) v.push_back({b.name, std::string(b.bytes), b.status, b.after_head});
    // Only the server can tell: the request-target's form must suit the
    // method (RFC 9112 3.2), and its escapes must decode.
    v.push_back({"target_authority_form_for_get", "GET a:80 HTTP/1.1\r\nHost: a\r\n\r\n", 400, false});
    v.push_back({"target_asterisk_for_post", "POST * HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", 400, false});
    v.push_back({"target_asterisk_for_get", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400, false});
    v.push_back({"target_relative", "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", 400, false});
    v.push_back({"target_bad_escape", "GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n", 400, false});
    v.push_back({"target_short_escape", "GET /a%4 HTTP/1.1\r\nHost: a\r\n\r\n", 400, false});
    v.push_back({"target_with_fragment", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", 400, false});
    v.push_back({"target_absolute_other_scheme", "GET ftp://a/b HTTP/1.1\r\nHost: a\r\n\r\n", 400, false});
    v.push_back({"host_missing_with_body", "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nab", 400, false});
    v.push_back({"host_duplicate_empty", "GET / HTTP/1.1\r\nHost: \r\nHost: \r\n\r\n", 400, false});
    // The default limits (ServerLimits): 8 KiB of target, 100 header lines,
    // 16 KiB of header bytes.
    v.push_back({"target_over_8k", "GET /" + std::string(8 * 1024, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", 414, false});
    v.push_back({"headers_over_100", many_headers(101), 431, false});
    v.push_back({"header_bytes_over_16k",
                 "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(16 * 1024, 'v') + "\r\n\r\n", 431, false});
    return v;
}

class SmugglingTest : public test::IoLoopTest, public ::testing::WithParamInterface<Case> {
protected:
    int calls = 0;                   // requests that reached the application
    std::optional<int> seen_status;  // what the handler's body read raised

    http::Application app() {
        http::Application a;
        a.middleware([this](http::Request& r, const http::Handler& next) -> Coro<http::Response> {
            ++calls;
            co_return co_await next(r);
        });
        a.route("*", "/", [this](http::Request& r) -> Coro<http::Response> {
            try {
                std::string body = co_await r.read();
            } catch (const http::HTTPException& e) {
                seen_status = e.status();
                throw;
            }
            co_return http::Response::text("ok");
        });
        return a;
    }
};

TEST_P(SmugglingTest, AnsweredExactlyAndClosed) {
    const Case& c = GetParam();
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await http::start_server(app(), "127.0.0.1", 0);
        RawClient client = co_await RawClient::connect(server.addresses().at(0));
        co_await client.send(c.bytes);
        Reply r = co_await client.reply();
        EXPECT_EQ(r.status, c.status) << c.name;
        EXPECT_EQ(r.header("connection"), "close") << c.name;
        bool closed = co_await wait_for(client.closed(), 2.0);
        EXPECT_TRUE(closed) << c.name << ": the server left the connection open";
        if (c.after_head) {
            // The handler may run (the head was fine); reading the body it
            // must have seen the framing error, not a truncated body.
            EXPECT_LE(calls, 1);
            if (calls == 1) {
                EXPECT_EQ(seen_status, c.status) << c.name;
            }
        } else {
            EXPECT_EQ(calls, 0) << c.name << ": the handler ran";
        }
        // Our side closes too, so the server's lingering close ends now
        // instead of at shutdown's deadline.
        client.socket().close();
        co_await server.shutdown(1.0);
    })());
}

INSTANTIATE_TEST_SUITE_P(BadRequests, SmugglingTest, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& i) { return i.param.name; });

}  // namespace

}  // namespace http_smuggling_test
