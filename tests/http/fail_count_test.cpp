// The fail-count sweep and the other fault modes of tests/support/fail_count.hpp
// over HTTP: http::ClientSession GETs against tulip's http::Server on
// 127.0.0.1 (a keep-alive connection, three requests, a 20 kB body), every
// socket call of both sides faulted in turn.
#include <string>

#include <tulip/http/client_session.hpp>
#include <tulip/http/server.hpp>
#include <tulip/tulip.hpp>

#include "support/fail_count.hpp"
#include "support/loop_test.hpp"
#include "support/net.hpp"

namespace http_fail_count_test {

using namespace tulip;

namespace {

class FailCount : public test::fail_count::FailCountTest {};

// The body of /body/<n>: n, then 20 kB of text.
std::string body_of(const std::string& n) {
    std::string b = n;
    for (int i = 0; i < 20000; ++i) b += static_cast<char>('a' + i % 26);
    return b;
}

Coro<void> get_three(std::uint16_t port, bool& corrupt) {
    http::ClientSessionOptions o;
    o.base_url = "http://127.0.0.1:" + std::to_string(port);
    http::ClientSession session(std::move(o));
    std::exception_ptr failed;
    try {
        for (int i = 0; i < 3; ++i) {
            http::ClientResponse r = co_await session.get("/body/" + std::to_string(i));
            std::string body = co_await r.read();
            if (r.status() != 200) throw std::runtime_error("status " + std::to_string(r.status()));
            if (body != body_of(std::to_string(i))) corrupt = true;
        }
    } catch (...) {
        failed = std::current_exception();
    }
    co_await session.close();
    if (failed) std::rethrow_exception(failed);
}

TEST_F(FailCount, HttpClientGetsFromTheServer) {
    test::fail_count::Scenario s{[](bool& corrupt) -> Coro<void> {
        http::Application app;
        app.get("/body/{n}", [](http::Request& r) -> Coro<http::Response> {
            co_return http::Response::text(body_of(r.match_info("n")));
        });
        http::ServerOptions so;  // (a named variable: a temporary in a co_await is miscompiled by GCC 12)
        http::Server server = co_await http::start_server(std::move(app), "127.0.0.1", 0, std::move(so));
        std::exception_ptr failed;
        try {
            co_await get_three(server.addresses().at(0).port(), corrupt);
        } catch (...) {
            failed = std::current_exception();
        }
        co_await server.shutdown(1.0);
        if (failed) std::rethrow_exception(failed);
    }};
    s.short_io_limit = 64;
    sweep(s);
}

}  // namespace

}  // namespace http_fail_count_test

// The enomem mode's allocator hook, for the whole http_tests binary (it
// counts only while a sweep runs a scenario).
TULIP_FAIL_COUNT_ALLOC_HOOK();
