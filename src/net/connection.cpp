// create_connection's socket part, ported from asyncio base_events
// (_connect_sock, the staggered race of happy eyeballs, _interleave_addrinfos).
#include <tulip/net/connection.hpp>

#include <algorithm>
#include <map>

#include <tulip/core/exceptions.hpp>
#include <tulip/net/dns.hpp>
#include <tulip/net/sock_ops.hpp>
#include <tulip/task/future.hpp>
#include <tulip/task/sleep.hpp>
#include <tulip/task/task.hpp>
#include <tulip/task/wait.hpp>

namespace tulip {

namespace {

// Reorders addresses alternating families (RFC 8305 section 4).
std::vector<AddrInfo> interleave(std::vector<AddrInfo> infos, int first_family_count) {
    std::vector<int> order;
    std::map<int, std::vector<AddrInfo>> by_family;
    for (auto& ai : infos) {
        if (!by_family.count(ai.family)) order.push_back(ai.family);
        by_family[ai.family].push_back(ai);
    }
    std::vector<AddrInfo> out;
    auto& first = by_family[order[0]];
    std::size_t fi = 0;
    for (; fi < first.size() && fi < static_cast<std::size_t>(first_family_count - 1); ++fi) out.push_back(first[fi]);
    std::vector<std::pair<std::vector<AddrInfo>*, std::size_t>> queues;
    queues.emplace_back(&first, fi);
    for (std::size_t k = 1; k < order.size(); ++k) queues.emplace_back(&by_family[order[k]], 0);
    bool any = true;
    while (any) {
        any = false;
        for (auto& [q, i] : queues)
            if (i < q->size()) {
                out.push_back((*q)[i++]);
                any = true;
            }
    }
    return out;
}

Coro<Socket> connect_one(AddrInfo ai, std::optional<SocketAddress> local) {
    Socket s = Socket::create(ai.family, SOCK_STREAM, ai.protocol);
    if (local) s.bind(*local);
    co_await sock_connect(s, ai.address);
    s.set_nodelay(true);
    co_return s;
}

std::exception_ptr combine_errors(const std::vector<std::exception_ptr>& errors, bool all_errors) {
    // asyncio 3.12 all_errors=True: every attempt's error, in an ExceptionGroup.
    if (all_errors) return std::make_exception_ptr(ExceptionGroup("create_connection failed", errors));
    if (errors.size() == 1) return errors[0];
    std::string msg = "Multiple exceptions: ";
    std::string first = describe_exception(errors[0]);
    bool same = true;
    for (std::size_t i = 0; i < errors.size(); ++i) {
        std::string d = describe_exception(errors[i]);
        same = same && d == first;
        msg += (i ? ", " : "") + d;
    }
    if (same) return errors[0];
    return std::make_exception_ptr(std::system_error(std::error_code(ECONNREFUSED, std::generic_category()), msg));
}

}  // namespace

Coro<Socket> open_tcp_socket(std::string host, std::uint16_t port, ConnectOptions options) {
    AddrInfoOptions o;
    o.family = options.family;
    o.type = SOCK_STREAM;
    auto infos = co_await getaddrinfo(host, port, o);
    if (infos.empty())
        throw std::system_error(EAI_NONAME, gai_category(), "getaddrinfo returned empty list for " + host);
    co_return co_await open_tcp_socket(std::move(infos), std::move(options));
}

Coro<Socket> open_tcp_socket(std::vector<AddrInfo> infos, ConnectOptions options) {
    if (infos.empty()) throw std::invalid_argument("open_tcp_socket: no addresses to connect to");
    int inter = options.interleave ? options.interleave : (options.happy_eyeballs_delay ? 1 : 0);
    if (inter) infos = interleave(std::move(infos), inter);

    std::vector<std::exception_ptr> errors;
    if (!options.happy_eyeballs_delay) {
        for (auto& ai : infos) {
            try {
                co_return co_await connect_one(ai, options.local_addr);
            } catch (const std::exception&) {
                errors.push_back(std::current_exception());
            }
        }
        std::rethrow_exception(combine_errors(errors, options.all_errors));
    }

    // Happy eyeballs: a staggered race.
    std::vector<Task<Socket>> running;
    std::size_t next = 0;
    auto start_next = [&] { running.push_back(create_task(connect_one(infos[next++], options.local_addr))); };
    start_next();
    std::exception_ptr cancelled;
    while (!running.empty() || next < infos.size()) {
        if (running.empty()) start_next();
        WaitOptions wo;
        wo.return_when = FIRST_COMPLETED;
        if (next < infos.size()) wo.timeout = Seconds(*options.happy_eyeballs_delay);
        WaitResult<Task<Socket>> r;
        try {
            r = co_await wait(running, wo);
        } catch (const CancelledError&) {
            cancelled = std::current_exception();
        }
        if (cancelled) break;
        bool failed = false;
        for (auto& t : r.done) {
            running.erase(std::find(running.begin(), running.end(), t));
            if (t.cancelled()) continue;
            if (auto e = t.exception()) {
                errors.push_back(e);
                failed = true;
                continue;
            }
            // The winner: cancel the rest and wait for them (their sockets close).
            Socket s = std::move(t.result());
            for (auto& other : running) other.cancel();
            for (auto& other : running) {
                try {
                    co_await other;
                } catch (...) {}
            }
            co_return s;
        }
        if ((r.done.empty() || failed) && next < infos.size()) start_next();
    }
    for (auto& other : running) other.cancel();
    for (auto& other : running) {
        try {
            co_await other;
        } catch (...) {}
    }
    if (cancelled) std::rethrow_exception(cancelled);
    std::rethrow_exception(combine_errors(errors, options.all_errors));
}

Coro<Socket> open_unix_socket(std::string path) {
    Socket s = Socket::create(AF_UNIX, SOCK_STREAM);
    co_await sock_connect(s, SocketAddress::from_unix(path));
    co_return s;
}

namespace detail {

void require_stream_socket(const Socket& sock, const char* what) {
    if (!sock) throw std::invalid_argument(std::string(what) + ": the socket is closed");
    if (sock.type() != SOCK_STREAM)
        throw std::invalid_argument(std::string(what) + ": A Stream Socket was expected, got a socket of type " +
                                    std::to_string(sock.type()));
}

ClientTls client_tls(const ConnectOptions& o, const std::string& host) {
    const double* hs = o.ssl_handshake_timeout ? &*o.ssl_handshake_timeout : nullptr;
    const double* sd = o.ssl_shutdown_timeout ? &*o.ssl_shutdown_timeout : nullptr;
    check_ssl_timeouts(static_cast<bool>(o.ssl), hs, sd);
    ClientTls tls;
    if (!o.ssl) {
        if (o.server_hostname) throw std::invalid_argument("server_hostname is only meaningful with ssl");
        return tls;
    }
    if (!o.server_hostname && host.empty())
        throw std::invalid_argument("You must set server_hostname when using ssl without a host");
    tls.ssl = o.ssl;
    tls.params.server_hostname = o.server_hostname ? *o.server_hostname : host;
    if (hs) tls.params.handshake_timeout = *hs;
    if (sd) tls.params.shutdown_timeout = *sd;
    return tls;
}

Coro<Ref<Transport>> connect_transport(Socket sock, std::unique_ptr<BaseProtocol> protocol, ClientTls tls) {
    EventLoop& loop = get_running_loop();
    if (tls.ssl) {
        auto waiter = Future<Ref<Transport>>::create(loop);
        auto wrapped = tls.ssl.layer()->wrap(loop, std::move(protocol), tls.params, waiter);
        Ref<Transport> raw = make_socket_transport(loop, std::move(sock), std::move(wrapped));
        try {
            Ref<Transport> secure = co_await std::move(waiter);
            co_return secure;
        } catch (...) {
            raw->close();
            throw;
        }
    }
    Ref<Transport> t = make_socket_transport(loop, std::move(sock), std::move(protocol));
    // connection_made was scheduled with call_soon: one yield lets it run
    // before the caller sees the transport (asyncio awaits a waiter future).
    // Cancelled there, the transport is closed (as asyncio's
    // _create_connection_transport): nobody else would ever close it.
    try {
        co_await sleep(0);
    } catch (...) {
        t->close();
        throw;
    }
    co_return t;
}

}  // namespace detail

}  // namespace tulip
