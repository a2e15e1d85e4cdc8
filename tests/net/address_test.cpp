// Tests of SocketAddress: parsing numeric IPv4/IPv6 (with scope) and Unix
// addresses, formatting, comparison, and round trips through the kernel
// (what asyncio handles as (host, port) tuples and paths; CPython's
// test_base_events _ipaddr_info cases and test_unix_events address cases).
#include <tulip/net/address.hpp>

#include <net/if.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "support/loop_test.hpp"
#include "support/net.hpp"

namespace net_address_test {

using namespace tulip;
using test::ipv6_available;

namespace {

class SocketAddressTest : public test::LoopTest {};

TEST_F(SocketAddressTest, Ipv4AddressKeepsHostPortAndFormatsAsHostColonPort) {
    SocketAddress a = SocketAddress::from_ip("127.0.0.1", 8080);
    EXPECT_EQ(a.family(), AF_INET);
    EXPECT_EQ(a.size(), sizeof(sockaddr_in));
    EXPECT_EQ(a.host(), "127.0.0.1");
    EXPECT_EQ(a.port(), 8080);
    EXPECT_EQ(a.to_string(), "127.0.0.1:8080");
    EXPECT_EQ(a.path(), "");
    // The bytes are what the kernel expects (network order).
    const auto* in = reinterpret_cast<const sockaddr_in*>(a.data());
    EXPECT_EQ(in->sin_port, htons(8080));
    EXPECT_EQ(in->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
}

TEST_F(SocketAddressTest, PortZeroAndPort65535AreKeptExactly) {
    EXPECT_EQ(SocketAddress::from_ip("0.0.0.0", 0).port(), 0);
    EXPECT_EQ(SocketAddress::from_ip("255.255.255.255", 65535).port(), 65535);
    EXPECT_EQ(SocketAddress::from_ip("255.255.255.255", 65535).to_string(), "255.255.255.255:65535");
}

TEST_F(SocketAddressTest, Ipv6AddressIsBracketedWhenFormatted) {
    SocketAddress a = SocketAddress::from_ip("::1", 443);
    EXPECT_EQ(a.family(), AF_INET6);
    EXPECT_EQ(a.size(), sizeof(sockaddr_in6));
    EXPECT_EQ(a.host(), "::1");
    EXPECT_EQ(a.port(), 443);
    EXPECT_EQ(a.to_string(), "[::1]:443");
}

TEST_F(SocketAddressTest, Ipv6HostIsPrintedInCanonicalShortForm) {
    SocketAddress a = SocketAddress::from_ip("2001:0db8:0000:0000:0000:0000:0000:0001", 80);
    EXPECT_EQ(a.host(), "2001:db8::1");
    EXPECT_EQ(a.to_string(), "[2001:db8::1]:80");
}

TEST_F(SocketAddressTest, BracketedIpv6HostIsAccepted) {
    SocketAddress a = SocketAddress::from_ip("[::1]", 80);
    EXPECT_EQ(a, SocketAddress::from_ip("::1", 80));
}

TEST_F(SocketAddressTest, V4MappedIpv6AddressStaysIpv6) {
    SocketAddress a = SocketAddress::from_ip("::ffff:127.0.0.1", 1);
    EXPECT_EQ(a.family(), AF_INET6);
    EXPECT_EQ(a.host(), "::ffff:127.0.0.1");
}

TEST_F(SocketAddressTest, Ipv6ScopeGivenByInterfaceNameBecomesTheInterfaceIndex) {
    unsigned lo = ::if_nametoindex("lo");
    if (lo == 0) GTEST_SKIP() << "no loopback interface named 'lo'";
    SocketAddress a = SocketAddress::from_ip("fe80::1%lo", 5);
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a.data());
    EXPECT_EQ(in6->sin6_scope_id, lo);
    EXPECT_EQ(a.port(), 5);
}

TEST_F(SocketAddressTest, Ipv6ScopeGivenAsANumberIsTakenAsIs) {
    SocketAddress a = SocketAddress::from_ip("fe80::1%7", 5);
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a.data());
    EXPECT_EQ(in6->sin6_scope_id, 7u);
    // Two addresses that differ only by scope are different addresses.
    EXPECT_FALSE(a == SocketAddress::from_ip("fe80::1%8", 5));
}

TEST_F(SocketAddressTest, UnknownIpv6ScopeIsRejected) {
    EXPECT_THROW(SocketAddress::from_ip("fe80::1%no-such-interface", 1), std::invalid_argument);
}

// Found by fuzz/address: inet_pton reads a C string, so "127.0.0.1\0junk"
// was taken as 127.0.0.1; and stoul took "12abc" as scope 12, "-1" as
// 4294967295.
TEST_F(SocketAddressTest, AHostWithANulInsideIsRejectedNotCutAtIt) {
    EXPECT_THROW(SocketAddress::from_ip(std::string("127.0.0.1\0junk", 14), 1), std::invalid_argument);
    EXPECT_THROW(SocketAddress::from_ip(std::string("::1\0", 4), 1), std::invalid_argument);
}

TEST_F(SocketAddressTest, ANumericScopeMustBeAllDigitsAndFitThirtyTwoBits) {
    for (const char* bad : {"fe80::1%12abc", "fe80::1%-1", "fe80::1%+3", "fe80::1% 3", "fe80::1%4294967296"})
        EXPECT_THROW(SocketAddress::from_ip(bad, 1), std::invalid_argument) << bad;
    const SocketAddress widest = SocketAddress::from_ip("fe80::1%4294967295", 1);
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(widest.data());
    EXPECT_EQ(in6->sin6_scope_id, 4294967295u);
}

TEST_F(SocketAddressTest, AUnixPathWithANulInsideIsRejectedButAnAbstractNameMayHoldOne) {
    EXPECT_THROW(SocketAddress::from_unix(std::string("/tmp/a\0b", 8)), std::invalid_argument);
    std::string abstract("\0a\0b", 4);
    EXPECT_EQ(SocketAddress::from_unix(abstract).path(), abstract);
}

TEST_F(SocketAddressTest, NamesAndMalformedAddressesAreRejected) {
    for (const char* bad : {"localhost", "", "1.2.3", "256.0.0.1", "1.2.3.4.5", "::1::2", "[::1", "example.com",
                            " 127.0.0.1", "127.0.0.1 "}) {
        EXPECT_THROW(SocketAddress::from_ip(bad, 1), std::invalid_argument) << "'" << bad << "'";
    }
}

TEST_F(SocketAddressTest, RejectionMessageNamesTheOffendingHost) {
    try {
        SocketAddress::from_ip("not-an-ip", 1);
        ADD_FAILURE() << "no exception";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("not-an-ip"), std::string::npos) << e.what();
    }
}

TEST_F(SocketAddressTest, UnixPathRoundTripsAndFormatsAsThePath) {
    SocketAddress a = SocketAddress::from_unix("/run/tulip/x.sock");
    EXPECT_EQ(a.family(), AF_UNIX);
    EXPECT_EQ(a.path(), "/run/tulip/x.sock");
    EXPECT_EQ(a.to_string(), "/run/tulip/x.sock");
    // The length covers the path and its terminating NUL.
    EXPECT_EQ(a.size(), offsetof(sockaddr_un, sun_path) + std::string("/run/tulip/x.sock").size() + 1);
    EXPECT_EQ(a.host(), "");
    EXPECT_EQ(a.port(), 0);
}

TEST_F(SocketAddressTest, AbstractUnixNameKeepsItsLeadingNulAndPrintsWithAt) {
    std::string name("\0tulip-abstract", 15);
    SocketAddress a = SocketAddress::from_unix(name);
    EXPECT_EQ(a.family(), AF_UNIX);
    EXPECT_EQ(a.path(), name);
    EXPECT_EQ(a.to_string(), "@tulip-abstract");
    // No terminating NUL in the abstract namespace: the length is exact.
    EXPECT_EQ(a.size(), offsetof(sockaddr_un, sun_path) + name.size());
}

TEST_F(SocketAddressTest, EmptyAndOverlongUnixPathsAreRejected) {
    EXPECT_THROW(SocketAddress::from_unix(""), std::invalid_argument);
    std::string longest(sizeof(sockaddr_un::sun_path) - 1, 'x');
    EXPECT_NO_THROW(SocketAddress::from_unix(longest));
    EXPECT_THROW(SocketAddress::from_unix(longest + "x"), std::invalid_argument);
}

TEST_F(SocketAddressTest, DefaultAddressIsUnspecified) {
    SocketAddress a;
    EXPECT_EQ(a.family(), AF_UNSPEC);
    EXPECT_EQ(a.size(), 0u);
    EXPECT_EQ(a.host(), "");
    EXPECT_EQ(a.port(), 0);
    EXPECT_EQ(a.to_string(), "<unspecified address>");
    EXPECT_EQ(a, SocketAddress());
}

TEST_F(SocketAddressTest, EqualityComparesFamilyHostAndPort) {
    EXPECT_EQ(SocketAddress::from_ip("127.0.0.1", 1), SocketAddress::from_ip("127.0.0.1", 1));
    EXPECT_FALSE(SocketAddress::from_ip("127.0.0.1", 1) == SocketAddress::from_ip("127.0.0.1", 2));
    EXPECT_FALSE(SocketAddress::from_ip("127.0.0.1", 1) == SocketAddress::from_ip("127.0.0.2", 1));
    EXPECT_FALSE(SocketAddress::from_ip("::1", 1) == SocketAddress::from_ip("127.0.0.1", 1));
    EXPECT_EQ(SocketAddress::from_unix("/a"), SocketAddress::from_unix("/a"));
    EXPECT_FALSE(SocketAddress::from_unix("/a") == SocketAddress::from_unix("/b"));
}

TEST_F(SocketAddressTest, ConstructingFromSockaddrCopiesItAndRejectsOversizedLengths) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(9);
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    SocketAddress a(reinterpret_cast<const sockaddr*>(&in), sizeof in);
    in.sin_port = htons(10);  // a copy: later changes to the source do not show
    EXPECT_EQ(a, SocketAddress::from_ip("127.0.0.1", 9));
    EXPECT_THROW(SocketAddress(reinterpret_cast<const sockaddr*>(&in), SocketAddress::capacity() + 1),
                 std::invalid_argument);
}

TEST_F(SocketAddressTest, BoundIpv4AddressComesBackFromTheKernelUnchanged) {
    Socket s = Socket::create(AF_INET);
    s.bind(SocketAddress::from_ip("127.0.0.1", 0));
    SocketAddress got = s.getsockname();
    EXPECT_EQ(got.family(), AF_INET);
    EXPECT_EQ(got.host(), "127.0.0.1");
    EXPECT_NE(got.port(), 0);
    EXPECT_EQ(got, SocketAddress::from_ip("127.0.0.1", got.port()));
}

TEST_F(SocketAddressTest, BoundIpv6AddressComesBackFromTheKernelUnchanged) {
    if (!ipv6_available()) GTEST_SKIP() << "IPv6 is not available on ::1";
    Socket s = Socket::create(AF_INET6);
    s.bind(SocketAddress::from_ip("::1", 0));
    SocketAddress got = s.getsockname();
    EXPECT_EQ(got.to_string(), "[::1]:" + std::to_string(got.port()));
    EXPECT_EQ(got, SocketAddress::from_ip("::1", got.port()));
}

TEST_F(SocketAddressTest, BoundUnixPathAndAbstractNameComeBackFromTheKernel) {
    char dir[] = "/tmp/tulip-addr-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    std::string path = std::string(dir) + "/s";
    {
        Socket s = Socket::create(AF_UNIX);
        s.bind(SocketAddress::from_unix(path));
        EXPECT_EQ(s.getsockname().path(), path);
        EXPECT_EQ(s.getsockname().to_string(), path);
    }
    ::unlink(path.c_str());
    ::rmdir(dir);

    std::string name = std::string(1, '\0') + "tulip-addr-" + std::to_string(::getpid());
    Socket s = Socket::create(AF_UNIX);
    s.bind(SocketAddress::from_unix(name));
    EXPECT_EQ(s.getsockname().path(), name);
    EXPECT_EQ(s.getsockname(), SocketAddress::from_unix(name));
}

TEST_F(SocketAddressTest, UnnamedUnixSocketHasAnEmptyPath) {
    auto [a, b] = Socket::pair();
    SocketAddress name = a.getsockname();
    EXPECT_EQ(name.family(), AF_UNIX);
    EXPECT_EQ(name.path(), "");
    EXPECT_EQ(name.to_string(), "");
}

}  // namespace

}  // namespace net_address_test
