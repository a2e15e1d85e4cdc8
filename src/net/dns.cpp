#include <tulip/net/dns.hpp>

#include <netdb.h>

#include <cstring>

#include <tulip/task/to_thread.hpp>

namespace tulip {

namespace {
class GaiCategory final : public std::error_category {
public:
    const char* name() const noexcept override { return "getaddrinfo"; }
    std::string message(int ev) const override { return ::gai_strerror(ev); }
};
}  // namespace

const std::error_category& gai_category() noexcept {
    static GaiCategory c;
    return c;
}

std::vector<AddrInfo> getaddrinfo_blocking(const std::string& host, std::uint16_t port, const AddrInfoOptions& o) {
    addrinfo hints{};
    hints.ai_family = o.family;
    hints.ai_socktype = o.type;
    hints.ai_protocol = o.protocol;
    hints.ai_flags = o.flags;
    addrinfo* res = nullptr;
    std::string service = std::to_string(port);
    const char* h = (host.empty() || host == "*") ? nullptr : host.c_str();
    if (!h && !(o.flags & AI_PASSIVE)) h = "localhost";
    int rc = ::getaddrinfo(h, service.c_str(), &hints, &res);
    if (rc != 0) {
        if (rc == EAI_SYSTEM) throw std::system_error(errno, std::generic_category(), "getaddrinfo(" + host + ")");
        throw std::system_error(rc, gai_category(), "getaddrinfo(" + host + ":" + service + ")");
    }
    std::vector<AddrInfo> out;
    for (addrinfo* p = res; p; p = p->ai_next) {
        AddrInfo ai;
        ai.family = p->ai_family;
        ai.type = p->ai_socktype;
        ai.protocol = p->ai_protocol;
        if (p->ai_canonname) ai.canonname = p->ai_canonname;
        ai.address = SocketAddress(p->ai_addr, p->ai_addrlen);
        out.push_back(std::move(ai));
    }
    ::freeaddrinfo(res);
    return out;
}

Coro<std::vector<AddrInfo>> getaddrinfo(std::string host, std::uint16_t port, AddrInfoOptions options) {
    // Numeric hosts need no resolver (asyncio's _ipaddr_info).
    try {
        SocketAddress a = SocketAddress::from_ip(host, port);
        if (options.family == AF_UNSPEC || options.family == a.family()) {
            AddrInfo ai;
            ai.family = a.family();
            ai.type = options.type;
            ai.protocol = options.protocol;
            ai.address = a;
            co_return std::vector<AddrInfo>{ai};
        }
    } catch (const std::invalid_argument&) {}
    // GCC 12.2: a lambda with a non-trivial capture (the std::string) used as a
    // temporary inside a co_await expression is moved from a wrong address and
    // destroyed twice; naming it first avoids the bug.
    auto resolve = [host, port, options] { return getaddrinfo_blocking(host, port, options); };
    co_return co_await to_thread(std::move(resolve));
}

Coro<std::pair<std::string, std::string>> getnameinfo(SocketAddress address, int flags) {
    // GCC 12.2: name the lambda before co_await (see getaddrinfo above).
    auto lookup = [address, flags] {
        char host[NI_MAXHOST], serv[NI_MAXSERV];
        int rc = ::getnameinfo(address.data(), address.size(), host, sizeof host, serv, sizeof serv, flags);
        if (rc != 0) throw std::system_error(rc, gai_category(), "getnameinfo(" + address.to_string() + ")");
        return std::pair<std::string, std::string>(host, serv);
    };
    co_return co_await to_thread(std::move(lookup));
}

}  // namespace tulip
