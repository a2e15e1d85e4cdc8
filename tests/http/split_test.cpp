// tests/http/split_test.cpp — valid requests sent to a real http::Server cut
// at every byte offset into two sends (TCP_NODELAY and a 1 ms pause between,
// so they arrive apart), and one byte at a time: the answers must be the same
// as when the request is sent whole. Keep-alive variants reuse one
// connection for all their cuts, to stay within a few seconds.
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <tulip/http/server.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "http/http_client.hpp"
#include "support/loop_test.hpp"

namespace http_split_test {

using namespace tulip;
using tulip::test::RawClient;
using tulip::test::Reply;

namespace {

constexpr double kPause = 0.001;

struct Variant {
    const char* name;
    std::string bytes;
    int replies;       // responses the bytes ask for
    bool closes;       // the server closes after them (HTTP/1.0)
    const char* last;  // the last answer's body
};

[[maybe_unused]] void PrintTo(const Variant& v, std::ostream* os) { *os << v.name; }

std::vector<Variant> variants() {
    return {
        {"get", "GET /?q=1 HTTP/1.1\r\nHost: x\r\nX-A: alpha\r\n\r\n", 1, false, "get /?q=1 a=alpha"},
        {"post_length", "POST /echo HTTP/1.1\r\nHost: x\r\nX-A: beta\r\nContent-Length: 11\r\n\r\nhello world", 1,
         false, "post /echo length a=beta body=hello world"},
        {"chunked_with_trailers",
         "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
         "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n",
         1, false, "post /echo chunked a=- body=hello world"},
        {"pipelined",
         "GET /?n=1 HTTP/1.1\r\nHost: x\r\n\r\n"
         "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
         "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n"
         "GET /?n=4 HTTP/1.1\r\nHost: x\r\nX-A: last\r\n\r\n",
         4, false, "get /?n=4 a=last"},
        {"http10_keep_alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\nX-A: ten\r\n\r\n", 1, false, "get / a=ten"},
        {"http10", "GET / HTTP/1.0\r\nX-A: ten\r\n\r\n", 1, true, "get / a=ten"},
        {"http10_post", "POST /echo HTTP/1.0\r\nContent-Length: 4\r\n\r\nbody", 1, true,
         "post /echo length a=- body=body"},
    };
}

// A reply as text, without its Date (which may change between sends).
std::string canonical(const Reply& r) {
    std::string s = std::to_string(r.status) + " " + r.reason + "\n";
    for (auto& [k, v] : r.headers)
        if (k != "date") s += k + ": " + v + "\n";
    s += r.chunked ? "(chunked)\n" : "\n";
    return s + r.body;
}

class SplitTest : public test::IoLoopTest, public ::testing::WithParamInterface<Variant> {
protected:
    static http::Application app() {
        http::Application a;
        a.get("/", [](http::Request& r) -> Coro<http::Response> {
            co_return http::Response::text("get " + r.target() + " a=" + std::string(r.headers().get("X-A", "-")));
        });
        a.post("/echo", [](http::Request& r) -> Coro<http::Response> {
            std::string body = co_await r.read();
            co_return http::Response::text("post " + r.target() + (r.chunked() ? " chunked" : " length") +
                                           " a=" + std::string(r.headers().get("X-A", "-")) + " body=" + body);
        });
        return a;
    }

    static Coro<RawClient> connect(SocketAddress addr) {
        RawClient c = co_await RawClient::connect(addr);
        c.socket().set_nodelay(true);
        co_return c;
    }

    // Sends `parts` with a pause between them and reads n replies.
    static Coro<std::vector<std::string>> exchange(RawClient* c, std::vector<std::string> parts, int n) {
        for (std::size_t i = 0; i < parts.size(); ++i) {
            if (i) co_await sleep(kPause);
            co_await c->send(parts[i]);
        }
        std::vector<std::string> out;
        for (int i = 0; i < n; ++i) {
            Reply r = co_await c->reply();
            out.push_back(canonical(r));
        }
        co_return out;
    }
};

TEST_P(SplitTest, SameAnswersWhateverTheCuts) {
    const Variant& v = GetParam();
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await http::start_server(app(), "127.0.0.1", 0);
        SocketAddress addr = server.addresses().at(0);
        std::vector<std::string> expected;
        {
            RawClient whole = co_await connect(addr);
            std::vector<std::string> all{v.bytes};
            expected = co_await exchange(&whole, std::move(all), v.replies);
            EXPECT_EQ(static_cast<int>(expected.size()), v.replies);
            for (auto& e : expected) EXPECT_EQ(e.rfind("200 OK\n", 0), 0u) << e;
            if (!expected.empty()) {
                EXPECT_TRUE(expected.back().ends_with(std::string("\n") + v.last)) << expected.back();
            }
            if (v.closes) {
                bool closed = co_await whole.closed();
                EXPECT_TRUE(closed);
            }
        }
        std::optional<RawClient> kept;  // keep-alive variants: one connection for all
        for (std::size_t k = 1; k < v.bytes.size(); ++k) {
            // A fresh connection now and then: max_requests_per_connection
            // (1000) would otherwise close it, changing the answer.
            if (v.closes || !kept || k % 64 == 0) {
                RawClient fresh = co_await connect(addr);
                kept.emplace(std::move(fresh));
            }
            std::vector<std::string> two{v.bytes.substr(0, k), v.bytes.substr(k)};
            std::vector<std::string> got = co_await exchange(&*kept, std::move(two), v.replies);
            EXPECT_EQ(got, expected) << "cut after byte " << k;
            if (v.closes) {
                bool closed = co_await kept->closed();
                EXPECT_TRUE(closed) << "cut after byte " << k;
                kept.reset();
            }
        }
        std::vector<std::string> bytes;
        for (char ch : v.bytes) bytes.emplace_back(1, ch);
        if (v.closes || !kept) {
            RawClient fresh = co_await connect(addr);
            kept.emplace(std::move(fresh));
        }
        std::vector<std::string> got = co_await exchange(&*kept, bytes, v.replies);
        EXPECT_EQ(got, expected) << "one byte at a time";
        kept.reset();
        co_await server.shutdown(1.0);
    })());
}

INSTANTIATE_TEST_SUITE_P(Requests, SplitTest, ::testing::ValuesIn(variants()),
                         [](const ::testing::TestParamInfo<Variant>& i) { return std::string(i.param.name); });

}  // namespace

}  // namespace http_split_test
