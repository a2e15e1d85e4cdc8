// tulip/net/address.hpp — SocketAddress: an IPv4, IPv6 or Unix socket address
// (what asyncio passes around as a (host, port) tuple or a path).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace tulip {

class SocketAddress {
public:
    SocketAddress() noexcept;
    SocketAddress(const sockaddr* sa, socklen_t len);

    // A numeric IPv4 or IPv6 address ("127.0.0.1", "::1", "fe80::1%lo").
    // Throws std::invalid_argument for anything else (names need getaddrinfo).
    static SocketAddress from_ip(std::string_view host, std::uint16_t port);
    // A Unix socket path; a leading '\0' names the abstract namespace.
    static SocketAddress from_unix(std::string_view path);

    int family() const noexcept { return ss_.ss_family; }
    const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&ss_); }
    sockaddr* data() noexcept { return reinterpret_cast<sockaddr*>(&ss_); }
    socklen_t size() const noexcept { return len_; }
    void set_size(socklen_t n) noexcept { len_ = n; }
    static constexpr socklen_t capacity() noexcept { return sizeof(sockaddr_storage); }

    // IP addresses: the numeric host and the port; Unix: the path.
    std::string host() const;
    std::uint16_t port() const noexcept;
    std::string path() const;
    // "127.0.0.1:8080", "[::1]:8080", "/run/x.sock", "@abstract".
    std::string to_string() const;

    bool operator==(const SocketAddress& o) const noexcept;

private:
    sockaddr_storage ss_;
    socklen_t len_ = 0;
};

}  // namespace tulip
