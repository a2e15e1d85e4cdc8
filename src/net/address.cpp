#include <tulip/net/address.hpp>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>
#include <stdexcept>

namespace tulip {

SocketAddress::SocketAddress() noexcept { std::memset(&ss_, 0, sizeof ss_); }

SocketAddress::SocketAddress(const sockaddr* sa, socklen_t len) : SocketAddress() {
    if (len > sizeof ss_) throw std::invalid_argument("socket address too long");
    std::memcpy(&ss_, sa, len);
    len_ = len;
}

namespace {

// An IPv6 zone: an interface name or a decimal index (RFC 4007 11.2). All of
// it: stoul would take "12abc" as 12 and "-1" as 4294967295.
unsigned scope_index(const std::string& scope, const std::string& address) {
    if (unsigned idx = ::if_nametoindex(scope.c_str()); idx != 0) return idx;
    unsigned long n = 0;
    bool digits = !scope.empty() && scope.size() <= 10;
    for (char c : scope) {
        if (c < '0' || c > '9') digits = false;
        if (!digits) break;
        n = n * 10 + static_cast<unsigned long>(c - '0');
    }
    if (!digits || n > 0xffffffffUL) throw std::invalid_argument("unknown IPv6 scope in address '" + address + "'");
    return static_cast<unsigned>(n);
}

}  // namespace

SocketAddress SocketAddress::from_ip(std::string_view host, std::uint16_t port) {
    SocketAddress a;
    std::string h(host);
    // inet_pton reads a C string: a NUL would make it parse a prefix.
    if (h.find('\0') != std::string::npos) throw std::invalid_argument("embedded null byte in IP address");
    if (!h.empty() && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    auto* v4 = reinterpret_cast<sockaddr_in*>(&a.ss_);
    if (::inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        a.len_ = sizeof(sockaddr_in);
        return a;
    }
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.ss_);
    std::string addr = h, scope;
    if (auto pct = h.find('%'); pct != std::string::npos) {
        addr = h.substr(0, pct);
        scope = h.substr(pct + 1);
    }
    if (::inet_pton(AF_INET6, addr.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        if (!scope.empty()) {
            v6->sin6_scope_id = scope_index(scope, h);
        }
        a.len_ = sizeof(sockaddr_in6);
        return a;
    }
    throw std::invalid_argument("not a numeric IP address: '" + h + "'");
}

SocketAddress SocketAddress::from_unix(std::string_view path) {
    SocketAddress a;
    auto* un = reinterpret_cast<sockaddr_un*>(&a.ss_);
    if (path.empty()) throw std::invalid_argument("empty Unix socket path");
    // A filesystem path ends at its first NUL; only an abstract name (which
    // starts with one) may hold more.
    if (path[0] != '\0' && path.find('\0') != std::string_view::npos)
        throw std::invalid_argument("embedded null byte in Unix socket path");
    if (path.size() >= sizeof un->sun_path)
        throw std::invalid_argument("Unix socket path too long (" + std::to_string(path.size()) + " bytes, max " +
                                    std::to_string(sizeof un->sun_path - 1) + ")");
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, path.data(), path.size());
    a.len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (path[0] == '\0' ? 0 : 1));
    return a;
}

std::string SocketAddress::host() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (ss_.ss_family == AF_INET) {
        ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss_)->sin_addr, buf, sizeof buf);
        return buf;
    }
    if (ss_.ss_family == AF_INET6) {
        ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&ss_)->sin6_addr, buf, sizeof buf);
        return buf;
    }
    return {};
}

std::uint16_t SocketAddress::port() const noexcept {
    if (ss_.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&ss_)->sin_port);
    if (ss_.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss_)->sin6_port);
    return 0;
}

std::string SocketAddress::path() const {
    if (ss_.ss_family != AF_UNIX || len_ <= offsetof(sockaddr_un, sun_path)) return {};
    const auto* un = reinterpret_cast<const sockaddr_un*>(&ss_);
    std::size_t n = len_ - offsetof(sockaddr_un, sun_path);
    std::string p(un->sun_path, n);
    if (!p.empty() && p[0] != '\0') p = p.c_str();  // drop the terminating NUL
    return p;
}

std::string SocketAddress::to_string() const {
    switch (ss_.ss_family) {
        case AF_INET:
            return host() + ":" + std::to_string(port());
        case AF_INET6: {
            // Built with append: GCC 12 -O3 gives a false -Wrestrict on
            // "[" + std::string (GCC bug 105329).
            std::string s("[");
            s.append(host()).append("]:").append(std::to_string(port()));
            return s;
        }
        case AF_UNIX: {
            std::string p = path();
            if (!p.empty() && p[0] == '\0') {
                std::string s("@");
                s.append(p, 1, std::string::npos);
                return s;
            }
            return p;
        }
        default:
            return "<unspecified address>";
    }
}

bool SocketAddress::operator==(const SocketAddress& o) const noexcept {
    return len_ == o.len_ && std::memcmp(&ss_, &o.ss_, len_) == 0;
}

}  // namespace tulip
