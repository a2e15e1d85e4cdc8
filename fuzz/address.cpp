// Fuzz target: SocketAddress::from_ip and from_unix. Properties: bad input is
// std::invalid_argument, never a crash or another exception; an accepted
// string holds no NUL (C's parsers would have read a prefix of it); an
// accepted address survives host()/port()/path() and back unchanged.
#include <tulip/net/address.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

[[noreturn]] void fail(const char* what, std::string_view input) {
    std::fprintf(stderr, "address: %s (input of %zu bytes)\n", what, input.size());
    std::abort();
}

void check_ip(std::string_view host, std::uint16_t port) {
    tulip::SocketAddress a;
    try {
        a = tulip::SocketAddress::from_ip(host, port);
    } catch (const std::invalid_argument&) {
        return;
    }
    if (host.find('\0') != std::string_view::npos) fail("from_ip accepted a host with a NUL in it", host);
    if (a.family() != AF_INET && a.family() != AF_INET6) fail("from_ip made neither IPv4 nor IPv6", host);
    if (a.port() != port) fail("from_ip lost the port", host);
    tulip::SocketAddress b = tulip::SocketAddress::from_ip(a.host(), a.port());
    if (a.family() == AF_INET) {
        if (!(a == b)) fail("an IPv4 address does not survive host()", host);
    } else {
        // host() has no scope: compare the rest.
        auto* x = reinterpret_cast<const sockaddr_in6*>(a.data());
        auto* y = reinterpret_cast<const sockaddr_in6*>(b.data());
        if (std::memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) != 0 || x->sin6_port != y->sin6_port)
            fail("an IPv6 address does not survive host()", host);
    }
}

void check_unix(std::string_view path) {
    tulip::SocketAddress a;
    try {
        a = tulip::SocketAddress::from_unix(path);
    } catch (const std::invalid_argument&) {
        return;
    }
    if (path.empty()) fail("from_unix accepted an empty path", path);
    if (a.family() != AF_UNIX) fail("from_unix made another family", path);
    if (a.path() != path) fail("a Unix path does not survive path()", path);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    auto port = static_cast<std::uint16_t>(data[0] << 8 | data[1]);
    std::string_view s(reinterpret_cast<const char*>(data + 2), size - 2);
    check_ip(s, port);
    check_unix(s);
    return 0;
}
