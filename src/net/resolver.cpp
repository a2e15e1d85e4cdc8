// src/net/resolver.cpp — tulip::Resolver on c-ares (see resolver.hpp).
#include <tulip/net/resolver.hpp>

#include <ares.h>
#include <arpa/inet.h>
#include <netdb.h>

#include <algorithm>
#include <cmath>
#include <list>
#include <mutex>
#include <set>
#include <stdexcept>
#include <unordered_map>

#include <tulip/core/exceptions.hpp>
#include <tulip/loop/event_loop.hpp>
#include <tulip/task/future.hpp>

namespace tulip {

namespace {

// c-ares' process-wide init, once (it is reference-counted, never undone here).
void library_init() {
    static std::once_flag once;
    std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

bool is_numeric(const std::string& host) {
    unsigned char buf[sizeof(in6_addr)];
    std::string h = host.substr(0, host.find('%'));  // fe80::1%lo
    return inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

// One lookup's outcome, shared by the waiting coroutine and c-ares' callback
// (which may come after the waiter gave up, or from ares_destroy).
struct Lookup {
    Future<void> done;
    int status = ARES_SUCCESS;
    std::vector<SocketAddress> addrs;
    int ttl = 0;  // the smallest of the answers'
};

}  // namespace

struct Resolver::Impl {
    EventLoop* loop;
    ResolverOptions options;
    ares_channel channel = nullptr;
    std::string init_error;
    std::set<int> readers, writers;
    TimerHandle timer;
    struct Entry {
        std::vector<SocketAddress> addrs;
        double expires;
        std::list<std::string>::iterator order;
    };
    std::unordered_map<std::string, Entry> cache;
    std::list<std::string> order;  // oldest first
    std::size_t queries = 0, hits = 0, fallbacks = 0;

    Impl(EventLoop& l, ResolverOptions o) : loop(&l), options(std::move(o)) {
        library_init();
        ares_options ao{};
        ao.sock_state_cb = &Impl::sock_state;
        ao.sock_state_cb_data = this;
        ao.timeout = static_cast<int>(std::lround(options.timeout * 1000));  // ms with ARES_OPT_TIMEOUTMS
        ao.tries = options.tries;
        int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
        int rc = ares_init_options(&channel, &ao, mask);
        if (rc != ARES_SUCCESS) {
            init_error = ares_strerror(rc);
            channel = nullptr;
            return;
        }
        if (!options.servers.empty()) {
            rc = ares_set_servers_ports_csv(channel, options.servers.c_str());
            if (rc != ARES_SUCCESS) {
                ares_destroy(channel);
                channel = nullptr;
                throw std::invalid_argument("Resolver: bad servers '" + options.servers + "': " + ares_strerror(rc));
            }
        }
    }

    ~Impl() {
        timer.cancel();
        if (channel) ares_destroy(channel);
        try {
            for (int fd : readers) loop->remove_reader(fd);
            for (int fd : writers) loop->remove_writer(fd);
        } catch (const std::exception&) {  // the loop is closed: it watches nothing any more
        }
    }

    // c-ares says which of its sockets to watch.
    static void sock_state(void* data, ares_socket_t fd, int readable, int writable) {
        auto* self = static_cast<Impl*>(data);
        if (readable && !self->readers.count(fd)) {
            self->readers.insert(fd);
            self->loop->add_reader(fd, [self, fd] { self->process(fd, ARES_SOCKET_BAD); });
        } else if (!readable && self->readers.erase(fd)) {
            self->loop->remove_reader(fd);
        }
        if (writable && !self->writers.count(fd)) {
            self->writers.insert(fd);
            self->loop->add_writer(fd, [self, fd] { self->process(ARES_SOCKET_BAD, fd); });
        } else if (!writable && self->writers.erase(fd)) {
            self->loop->remove_writer(fd);
        }
    }

    void process(ares_socket_t r, ares_socket_t w) {
        ares_process_fd(channel, r, w);
        reschedule();
    }

    // c-ares' next timeout (a retry, a server to give up on), as a loop timer.
    void reschedule() {
        timer.cancel();
        timer = TimerHandle();
        if (!channel) return;
        timeval tv{};
        timeval* next = ares_timeout(channel, nullptr, &tv);
        if (!next) return;
        double delay = static_cast<double>(next->tv_sec) + static_cast<double>(next->tv_usec) * 1e-6;
        timer = loop->call_later(delay, [this] {
            timer = TimerHandle();
            process(ARES_SOCKET_BAD, ARES_SOCKET_BAD);
        });
    }

    static void on_result(void* arg, int status, int /*timeouts*/, ares_addrinfo* res) {
        std::unique_ptr<std::shared_ptr<Lookup>> holder(static_cast<std::shared_ptr<Lookup>*>(arg));
        Lookup& l = **holder;
        l.status = status;
        if (status == ARES_SUCCESS && res) {
            int ttl = -1;
            for (ares_addrinfo_node* n = res->nodes; n; n = n->ai_next) {
                if (n->ai_family != AF_INET && n->ai_family != AF_INET6) continue;
                SocketAddress a(n->ai_addr, static_cast<socklen_t>(n->ai_addrlen));
                if (std::find(l.addrs.begin(), l.addrs.end(), a) == l.addrs.end()) l.addrs.push_back(a);
                ttl = ttl < 0 ? n->ai_ttl : std::min(ttl, n->ai_ttl);
            }
            l.ttl = std::max(ttl, 0);
        }
        if (res) ares_freeaddrinfo(res);
        if (!l.done.done()) l.done.set_result();
    }

    void remember(const std::string& key, const std::vector<SocketAddress>& addrs, int ttl) {
        double keep = std::min(static_cast<double>(ttl), options.max_ttl);
        if (keep <= 0 || addrs.empty() || options.max_entries == 0) return;
        auto it = cache.find(key);
        if (it != cache.end()) {
            order.erase(it->second.order);
            cache.erase(it);
        }
        while (cache.size() >= options.max_entries && !order.empty()) {
            cache.erase(order.front());
            order.pop_front();
        }
        order.push_back(key);
        cache.emplace(key, Entry{addrs, loop->time() + keep, std::prev(order.end())});
    }

    const std::vector<SocketAddress>* cached(const std::string& key) {
        auto it = cache.find(key);
        if (it == cache.end()) return nullptr;
        if (it->second.expires <= loop->time()) {
            order.erase(it->second.order);
            cache.erase(it);
            return nullptr;
        }
        return &it->second.addrs;
    }
};

namespace {

std::vector<AddrInfo> with_port(const std::vector<SocketAddress>& addrs, std::uint16_t port) {
    std::vector<AddrInfo> out;
    for (const SocketAddress& a : addrs) {
        AddrInfo ai;
        ai.family = a.family();
        ai.type = SOCK_STREAM;
        ai.protocol = IPPROTO_TCP;
        ai.address = SocketAddress::from_ip(a.host(), port);
        out.push_back(std::move(ai));
    }
    return out;
}

}  // namespace

Resolver::Resolver(EventLoop& loop, ResolverOptions options)
    : impl_(std::make_shared<Impl>(loop, std::move(options))) {}

Resolver::~Resolver() = default;

Coro<std::vector<AddrInfo>> Resolver::resolve(std::string host, std::uint16_t port, int family) {
    std::shared_ptr<Impl> impl = impl_;
    if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
        throw std::invalid_argument("Resolver::resolve: family must be AF_UNSPEC, AF_INET or AF_INET6");
    AddrInfoOptions gai;
    gai.family = family;
    gai.type = SOCK_STREAM;
    if (is_numeric(host)) co_return co_await getaddrinfo(std::move(host), port, gai);
    const std::string key = host + "/" + std::to_string(family);
    if (const auto* hit = impl->cached(key)) {
        ++impl->hits;
        co_return with_port(*hit, port);
    }
    std::string failure;
    if (impl->channel) {
        auto l = std::make_shared<Lookup>();
        l->done = Future<void>::create(*impl->loop);
        ares_addrinfo_hints hints{};
        hints.ai_family = family;
        hints.ai_socktype = SOCK_STREAM;
        ares_getaddrinfo(impl->channel, host.c_str(), nullptr, &hints, &Impl::on_result,
                         new std::shared_ptr<Lookup>(l));
        impl->reschedule();
        co_await l->done;
        if (l->status == ARES_SUCCESS && !l->addrs.empty()) {
            ++impl->queries;
            impl->remember(key, l->addrs, l->ttl);
            co_return with_port(l->addrs, port);
        }
        failure = l->status == ARES_SUCCESS ? "no addresses" : ares_strerror(l->status);
        if (l->status == ARES_EDESTRUCTION) throw std::system_error(EAI_AGAIN, gai_category(), "resolver destroyed");
    } else {
        failure = impl->init_error;
    }
    if (!impl->options.fallback)
        throw std::system_error(EAI_NONAME, gai_category(), "cannot resolve " + host + ": " + failure);
    ++impl->fallbacks;
    co_return co_await getaddrinfo(std::move(host), port, gai);
}

std::size_t Resolver::queries() const noexcept { return impl_->queries; }
std::size_t Resolver::cache_hits() const noexcept { return impl_->hits; }
std::size_t Resolver::fallbacks() const noexcept { return impl_->fallbacks; }
void Resolver::clear_cache() {
    impl_->cache.clear();
    impl_->order.clear();
}

}  // namespace tulip
