// Tests of getaddrinfo/getnameinfo: the numeric fast path that never touches
// the resolver (asyncio base_events._ipaddr_info, tested in CPython's
// test_base_events.py), names resolved on the default executor ("localhost"
// only: no network), the resolver's errors, and cancellation.
#include <tulip/net/dns.hpp>

#include <netdb.h>

#include <string>
#include <system_error>
#include <vector>

#include "support/loop_test.hpp"

namespace net_dns_test {

using namespace tulip;

namespace {

class DnsTest : public test::IoLoopTest {};

bool is_loopback(const SocketAddress& a) {
    if (a.family() == AF_INET) return a.host().rfind("127.", 0) == 0;
    if (a.family() == AF_INET6) return a.host() == "::1";
    return false;
}

// The executor's threads show up in /proc/self/task: the fast path must not start any.
TEST_F(DnsTest, NumericIpv4IsAnsweredWithoutTheResolver) {
    std::size_t threads = test::thread_count();
    auto infos = run_io(getaddrinfo("127.0.0.1", 8080));
    EXPECT_EQ(test::thread_count(), threads) << "a numeric host went through the executor";
    ASSERT_EQ(infos.size(), 1u);
    EXPECT_EQ(infos[0].family, AF_INET);
    EXPECT_EQ(infos[0].type, SOCK_STREAM);
    EXPECT_EQ(infos[0].address, SocketAddress::from_ip("127.0.0.1", 8080));
}

TEST_F(DnsTest, NumericIpv6IsAnsweredWithoutTheResolver) {
    std::size_t threads = test::thread_count();
    AddrInfoOptions o;
    o.type = SOCK_DGRAM;
    o.protocol = IPPROTO_UDP;
    auto infos = run_io(getaddrinfo("::1", 53, o));
    EXPECT_EQ(test::thread_count(), threads);
    ASSERT_EQ(infos.size(), 1u);
    EXPECT_EQ(infos[0].family, AF_INET6);
    EXPECT_EQ(infos[0].type, SOCK_DGRAM);
    EXPECT_EQ(infos[0].protocol, IPPROTO_UDP);
    EXPECT_EQ(infos[0].address.to_string(), "[::1]:53");
}

TEST_F(DnsTest, NumericHostCompletesWithoutALoopIteration) {
    // The fast path never suspends: the coroutine is done in its first step.
    auto t = loop().create_task(getaddrinfo("10.1.2.3", 1));
    run_once();
    ASSERT_TRUE(t.done());
    EXPECT_EQ(t.result().at(0).address.host(), "10.1.2.3");
}

TEST_F(DnsTest, LocalhostResolvesToLoopbackAddressesWithThePort) {
    auto infos = run_io(getaddrinfo("localhost", 4321));
    ASSERT_FALSE(infos.empty());
    for (auto& ai : infos) {
        EXPECT_TRUE(is_loopback(ai.address)) << ai.address.to_string();
        EXPECT_EQ(ai.address.port(), 4321);
        EXPECT_EQ(ai.family, ai.address.family());
        EXPECT_EQ(ai.type, SOCK_STREAM);
    }
}

TEST_F(DnsTest, FamilyOptionRestrictsTheAnswer) {
    AddrInfoOptions o;
    o.family = AF_INET;
    auto infos = run_io(getaddrinfo("localhost", 80, o));
    ASSERT_FALSE(infos.empty());
    for (auto& ai : infos) {
        EXPECT_EQ(ai.family, AF_INET);
        EXPECT_EQ(ai.address.host(), "127.0.0.1");
    }
}

TEST_F(DnsTest, CanonicalNameIsReportedWhenAsked) {
    AddrInfoOptions o;
    o.family = AF_INET;
    o.flags = AI_CANONNAME;
    auto infos = run_io(getaddrinfo("localhost", 80, o));
    ASSERT_FALSE(infos.empty());
    EXPECT_FALSE(infos[0].canonname.empty());
}

TEST_F(DnsTest, EmptyHostWithPassiveFlagIsTheWildcard) {
    AddrInfoOptions o;
    o.family = AF_INET;
    o.flags = AI_PASSIVE;
    auto infos = run_io(getaddrinfo("", 9000, o));
    ASSERT_EQ(infos.size(), 1u);
    EXPECT_EQ(infos[0].address, SocketAddress::from_ip("0.0.0.0", 9000));
    // "*" means the same.
    auto star = run_io(getaddrinfo("*", 9000, o));
    ASSERT_EQ(star.size(), 1u);
    EXPECT_EQ(star[0].address, infos[0].address);
}

TEST_F(DnsTest, EmptyHostWithoutPassiveFlagIsLoopback) {
    auto infos = run_io(getaddrinfo("", 9000));
    ASSERT_FALSE(infos.empty());
    for (auto& ai : infos) EXPECT_TRUE(is_loopback(ai.address)) << ai.address.to_string();
}

TEST_F(DnsTest, ResolverErrorIsASystemErrorInTheGaiCategory) {
    AddrInfoOptions o;
    o.flags = AI_NUMERICHOST;  // a name with this flag fails at once, without any network
    try {
        run_io(getaddrinfo("not-a-number.invalid", 80, o));
        ADD_FAILURE() << "resolved a name with AI_NUMERICHOST";
    } catch (const std::system_error& e) {
        EXPECT_TRUE(e.code().category() == gai_category());
        EXPECT_EQ(e.code().value(), EAI_NONAME);
        EXPECT_NE(std::string(e.what()).find("not-a-number.invalid"), std::string::npos) << e.what();
    }
    EXPECT_STREQ(gai_category().name(), "getaddrinfo");
    EXPECT_FALSE(gai_category().message(EAI_NONAME).empty());
}

TEST_F(DnsTest, NumericHostOfTheWrongFamilyIsLeftToTheResolver) {
    // "127.0.0.1" asked as IPv6: not the fast path; the system resolver refuses it.
    AddrInfoOptions o;
    o.family = AF_INET6;
    o.flags = AI_NUMERICHOST;
    EXPECT_THROW(run_io(getaddrinfo("127.0.0.1", 80, o)), std::system_error);
}

TEST_F(DnsTest, BlockingVariantGivesTheSameAnswer) {
    AddrInfoOptions o;
    o.family = AF_INET;
    auto infos = getaddrinfo_blocking("127.0.0.1", 7, o);
    ASSERT_EQ(infos.size(), 1u);
    EXPECT_EQ(infos[0].address, SocketAddress::from_ip("127.0.0.1", 7));
}

TEST_F(DnsTest, GetnameinfoGivesNumericHostAndService) {
    auto hs = run_io(getnameinfo(SocketAddress::from_ip("127.0.0.1", 8080), NI_NUMERICHOST | NI_NUMERICSERV));
    EXPECT_EQ(hs.first, "127.0.0.1");
    EXPECT_EQ(hs.second, "8080");
}

TEST_F(DnsTest, GetnameinfoOfAnUnspecifiedAddressFails) {
    EXPECT_THROW(run_io(getnameinfo(SocketAddress(), NI_NUMERICHOST)), std::system_error);
}

TEST_F(DnsTest, CancellingALookupStopsTheWaitAtOnce) {
    run_io(([&]() -> Coro<void> {
        auto t = create_task(getaddrinfo("localhost", 80));
        co_await sleep(0);
        t.cancel();
        try {
            co_await t;
        } catch (const CancelledError&) {}
        EXPECT_TRUE(t.cancelled());
    })());
    // The lookup itself finishes on its thread; the fixture shuts the executor down.
}

}  // namespace

}  // namespace net_dns_test
