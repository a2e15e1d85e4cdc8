// tulip/net/resolver.hpp — tulip::Resolver: DNS on the event loop with
// c-ares (Debian's libc-ares), with a cache that keeps each answer for its
// TTL. asyncio has no counterpart (it resolves with getaddrinfo on the
// executor, as tulip::getaddrinfo does); aiohttp's AsyncResolver (aiodns,
// c-ares too) is the model.
//
//     Resolver r(loop);
//     std::vector<AddrInfo> addrs = co_await r.resolve("example.org", 443);
//
// c-ares reads /etc/resolv.conf and /etc/hosts; its sockets are watched by
// the loop, no thread is used. A numeric host is answered at once. When
// c-ares fails (no server answers, the name is not found, the channel
// cannot start), the lookup falls back to getaddrinfo on the executor, which
// also sees what nsswitch adds (mDNS, LDAP...). Errors: std::system_error
// in gai_category (as tulip::getaddrinfo).
//
// Cancel safety (resolve()): safe; the caller stops waiting, nothing else
// changes.
// Thread safety: the loop's thread only. Lookups in flight keep what they
// need alive: the resolver may be dropped while they run.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <tulip/net/dns.hpp>
#include <tulip/task/coro.hpp>

namespace tulip {

class EventLoop;

struct ResolverOptions {
    // "host:port,host:port" of DNS servers to ask instead of resolv.conf's.
    std::string servers;
    // Seconds per try and tries per server (c-ares': 5 s... here 2 s, 2).
    double timeout = 2.0;
    int tries = 2;
    // Answers are kept for their TTL, at most max_ttl seconds; 0: no cache.
    double max_ttl = 300.0;
    // Entries kept at most (the oldest go first).
    std::size_t max_entries = 1024;
    // Fall back to getaddrinfo on the executor when c-ares fails.
    bool fallback = true;
};

class Resolver {
public:
    explicit Resolver(EventLoop& loop, ResolverOptions options = {});
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;
    ~Resolver();

    // Stream-socket addresses of host (family AF_UNSPEC, AF_INET or
    // AF_INET6), each with `port`; c-ares' order (IPv6 first where it has
    // both), from the cache while their TTL lasts.
    Coro<std::vector<AddrInfo>> resolve(std::string host, std::uint16_t port, int family = AF_UNSPEC);

    // Lookups c-ares answered / the cache answered / getaddrinfo answered.
    std::size_t queries() const noexcept;
    std::size_t cache_hits() const noexcept;
    std::size_t fallbacks() const noexcept;
    void clear_cache();

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace tulip
