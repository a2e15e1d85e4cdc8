// tulip/net/dns.hpp — getaddrinfo / getnameinfo that never block the loop
// (asyncio loop.getaddrinfo / loop.getnameinfo).
//
// A numeric host is answered at once (asyncio's _ipaddr_info fast path);
// names are resolved by the system resolver on the default executor.
// Errors: std::system_error with the resolver's message (socket.gaierror).
// Cancel safety: safe; the caller stops waiting; the lookup finishes on its
// thread and its answer is dropped.
#pragma once

#include <netdb.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <tulip/net/address.hpp>
#include <tulip/task/coro.hpp>

namespace tulip {

struct AddrInfo {
    int family = 0;
    int type = 0;
    int protocol = 0;
    std::string canonname;
    SocketAddress address;
};

struct AddrInfoOptions {
    int family = AF_UNSPEC;
    int type = SOCK_STREAM;
    int protocol = 0;
    int flags = 0;  // AI_PASSIVE, AI_CANONNAME, ...
};

// The error category of getaddrinfo's EAI_* codes.
const std::error_category& gai_category() noexcept;

// Resolves host ("" or "*" with AI_PASSIVE: the wildcard) and port.
Coro<std::vector<AddrInfo>> getaddrinfo(std::string host, std::uint16_t port, AddrInfoOptions options = {});
// The blocking call itself, for executors.
std::vector<AddrInfo> getaddrinfo_blocking(const std::string& host, std::uint16_t port, const AddrInfoOptions& options);
// (host, service) names for an address.
Coro<std::pair<std::string, std::string>> getnameinfo(SocketAddress address, int flags = 0);

}  // namespace tulip
