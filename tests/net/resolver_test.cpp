// tests/net/resolver_test.cpp — tulip::Resolver (c-ares on the loop) against
// the tests' DNS server (support/fake_dns.hpp, UDP on 127.0.0.1): answers and their TTL in the
// cache, numeric hosts, NXDOMAIN with and without the getaddrinfo fallback,
// a server that never answers, and the resolver dropped mid-lookup.
#include <tulip/net/resolver.hpp>

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "support/coro_helpers.hpp"
#include "support/fake_dns.hpp"
#include "support/loop_test.hpp"

namespace net_resolver_test {

using namespace tulip;

namespace {

class ResolverTest : public test::IoLoopTest {
protected:
    test::DnsServer server_;
    test::FakeDns& dns = server_.dns;
    std::string server;  // "127.0.0.1:port"

    Coro<void> start_dns() {
        co_await server_.start();
        server = server_.servers();
    }
    void TearDown() override {
        server_.close();
        if (loop_ && !loop_->is_closed()) run_briefly();
        test::IoLoopTest::TearDown();
    }
};

std::vector<std::string> hosts_of(const std::vector<AddrInfo>& v) {
    std::vector<std::string> out;
    for (const auto& a : v) out.push_back(a.address.to_string());
    return out;
}

TEST_F(ResolverTest, AnswersComeFromTheServerThenFromTheCacheUntilTheTtlEnds) {
    run_io(([&]() -> Coro<void> {
        co_await start_dns();
        dns.records["svc.test"] = {"10.1.2.3", 60};
        ResolverOptions o;
        o.servers = server;
        o.max_ttl = 1.0;  // the TTL says 60 s; keep it 1 s for the test (the second lookup comes well before)
        Resolver r(loop(), o);
        auto first = co_await r.resolve("svc.test", 8080, AF_INET);
        EXPECT_EQ(hosts_of(first), std::vector<std::string>{"10.1.2.3:8080"});
        auto second = co_await r.resolve("svc.test", 443, AF_INET);
        EXPECT_EQ(hosts_of(second), std::vector<std::string>{"10.1.2.3:443"});
        EXPECT_EQ(dns.a_queries["svc.test"], 1);
        EXPECT_EQ(r.queries(), 1u);
        EXPECT_EQ(r.cache_hits(), 1u);
        co_await sleep(1.1);
        (void)co_await r.resolve("svc.test", 80, AF_INET);
        EXPECT_EQ(dns.a_queries["svc.test"], 2);  // expired: asked again
    })());
}

TEST_F(ResolverTest, AZeroTtlIsNotCachedAndNumericHostsAskNobody) {
    run_io(([&]() -> Coro<void> {
        co_await start_dns();
        dns.records["fresh.test"] = {"10.9.9.9", 0};
        ResolverOptions o;
        o.servers = server;
        Resolver r(loop(), o);
        (void)co_await r.resolve("fresh.test", 1, AF_INET);
        (void)co_await r.resolve("fresh.test", 1, AF_INET);
        EXPECT_EQ(dns.a_queries["fresh.test"], 2);
        auto v4 = co_await r.resolve("127.0.0.1", 5);
        auto v6 = co_await r.resolve("::1", 6);
        EXPECT_EQ(hosts_of(v4), std::vector<std::string>{"127.0.0.1:5"});
        EXPECT_EQ(hosts_of(v6), std::vector<std::string>{"[::1]:6"});
        EXPECT_EQ(dns.a_queries.size(), 1u);
    })());
}

TEST_F(ResolverTest, AnUnknownNameIsAClearErrorWithoutTheFallback) {
    run_io(([&]() -> Coro<void> {
        co_await start_dns();
        ResolverOptions o;
        o.servers = server;
        o.fallback = false;
        Resolver r(loop(), o);
        std::string what;
        try {
            (void)co_await r.resolve("nowhere.test", 80, AF_INET);
        } catch (const std::system_error& e) {
            what = e.what();
        }
        EXPECT_NE(what.find("nowhere.test"), std::string::npos) << what;
        EXPECT_EQ(r.fallbacks(), 0u);
    })());
}

TEST_F(ResolverTest, WhenNoServerAnswersGetaddrinfoDoes) {
    run_io(([&]() -> Coro<void> {
        co_await start_dns();
        dns.silent = true;
        ResolverOptions o;
        o.servers = server;
        o.timeout = 0.05;
        o.tries = 1;
        Resolver r(loop(), o);
        // localhost is in /etc/hosts: c-ares may answer it from there, or,
        // asking the silent server, give up and fall back to getaddrinfo.
        auto v = co_await r.resolve("localhost", 80, AF_INET);
        CO_ASSERT(!v.empty());
        EXPECT_EQ(v[0].address.to_string(), "127.0.0.1:80");
        EXPECT_EQ(r.queries() + r.fallbacks(), 1u);
        // A name only the silent server could know: it times out, and the
        // error (with no fallback) says so.
        ResolverOptions strict = o;
        strict.fallback = false;
        Resolver s(loop(), strict);
        bool failed = false;
        try {
            (void)co_await s.resolve("silent.test", 80, AF_INET);
        } catch (const std::system_error&) {
            failed = true;
        }
        EXPECT_TRUE(failed);
    })());
}

TEST_F(ResolverTest, TheResolverDroppedWhileALookupWaits) {
    run_io(([&]() -> Coro<void> {
        co_await start_dns();
        dns.silent = true;
        ResolverOptions o;
        o.servers = server;
        o.timeout = 0.05;
        o.tries = 1;
        o.fallback = false;
        std::optional<Resolver> r(std::in_place, loop(), o);
        auto t = create_task(r->resolve("late.test", 80, AF_INET));
        co_await sleep(0.01);
        r.reset();  // the lookup keeps the channel until it ends
        bool failed = false;
        try {
            (void)co_await t;
        } catch (const std::system_error&) {
            failed = true;
        }
        EXPECT_TRUE(failed);
    })());
}

TEST_F(ResolverTest, BadServersAndFamiliesAreRefused) {
    ResolverOptions o;
    o.servers = "not an address";
    EXPECT_THROW(Resolver(loop(), o), std::invalid_argument);
    run_io(([&]() -> Coro<void> {
        Resolver r(loop());
        bool refused = false;
        try {
            (void)co_await r.resolve("x.test", 80, AF_UNIX);
        } catch (const std::invalid_argument&) {
            refused = true;
        }
        EXPECT_TRUE(refused);
    })());
}

}  // namespace
}  // namespace net_resolver_test
