// src/http/client_session.cpp — http::ClientSession: the pool (SessionState)
// and a request's course (connect or reuse, send, head, redirects).
#include <tulip/http/client_session.hpp>

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>

#include <algorithm>
#include <limits>
#include <memory>

#include <tulip/core/exceptions.hpp>
#include <tulip/loop/event_loop.hpp>
#include <tulip/net/connection.hpp>
#include <tulip/task/timeout.hpp>
#include <tulip/tls/ssl_context.hpp>
#include <tulip/tls/start_tls.hpp>

#include "client_connection.hpp"

namespace tulip::http {

namespace detail {

namespace {

std::string origin_key(const URL& u) { return u.scheme + "://" + u.host + ":" + std::to_string(u.port); }

// Connections are pooled per origin; through a proxy, plain http requests
// share the connections to the proxy, and https ones have tunnels per origin.
std::string pool_key(const URL& u, const std::optional<URL>& proxy) {
    if (!proxy) return origin_key(u);
    if (!u.is_secure()) return "proxy " + origin_key(*proxy);
    return origin_key(u) + " via " + origin_key(*proxy);
}

// "host:port", as CONNECT names its target (the port always, IPv6 in brackets).
std::string authority(const URL& u) {
    std::string h = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
    return h + ":" + std::to_string(u.port);
}

bool same_origin(const URL& a, const URL& b) { return a.scheme == b.scheme && a.host == b.host && a.port == b.port; }

bool idempotent(std::string_view m) {
    return m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "TRACE" || m == "PUT" || m == "DELETE";
}

URL parse_url(std::string_view s) {
    try {
        return URL::parse(s);
    } catch (const std::invalid_argument& e) {
        throw InvalidURL(std::string(s), e.what());
    }
}

bool has_scheme(std::string_view s) {
    auto colon = s.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    for (std::size_t i = 0; i < colon; ++i) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
        if (!ok) return false;
    }
    return true;
}

// RFC 3986 5.2, as far as HTTP references go: an absolute URL as it is,
// "//host/p" keeps the scheme, "/p" the origin, "?q" the path, "p" joins
// the base path's directory.
URL resolve(const URL& base, std::string_view ref) {
    if (has_scheme(ref)) return parse_url(ref);
    if (ref.substr(0, 2) == "//") return parse_url(base.scheme + ":" + std::string(ref));
    URL b = base;
    b.query.clear();
    b.fragment.clear();
    b.path = "/";
    std::string root = b.to_string();  // ends with "/"
    root.pop_back();
    if (ref.empty()) {
        URL u = base;
        u.fragment.clear();
        return u;
    }
    if (ref.front() == '/') return parse_url(root + std::string(ref));
    if (ref.front() == '?') return parse_url(root + base.path + std::string(ref));
    if (ref.front() == '#')
        return parse_url(root + base.path + (base.query.empty() ? "" : "?" + base.query) + std::string(ref));
    std::string dir = base.path.substr(0, base.path.rfind('/') + 1);
    return parse_url(root + remove_dot_segments(dir + std::string(ref)));
}

URL parse_proxy(std::string_view s) {
    URL u = parse_url(s);
    if (u.scheme != "http")
        throw InvalidURL(std::string(s), "a proxy is an http:// URL (https proxies are not supported)");
    return u;
}

std::string base64(std::string_view in) {
    std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

// Every field of `from` replaces the fields of that name in `into`.
void override_with(Headers& into, const Headers& from) {
    std::vector<std::string> seen;
    for (auto [name, value] : from) {
        bool first =
            std::none_of(seen.begin(), seen.end(), [&](const std::string& s) { return ascii_iequals(s, name); });
        if (first) {
            seen.emplace_back(name);
            into.remove(name);
        }
    }
    for (auto [name, value] : from) into.add(name, value);
}

std::optional<double> min_opt(std::optional<double> a, std::optional<double> b) {
    if (!a) return b;
    if (!b) return a;
    return std::min(*a, *b);
}

// What one request puts on the wire, and what a redirect changes.
struct Outgoing {
    std::string method;
    URL url;
    Headers headers;  // the caller's and the session's, merged
    std::optional<std::string> body;
    std::string content_type;  // from form/json, unless the caller set one
    std::string jar_cookies;   // the session's cookies for this URL
    std::optional<URL> proxy;
    // A body sent part by part after the head: a generator (once only) or a file.
    std::optional<AsyncGenerator<std::string>> stream;
    std::optional<std::uint64_t> length;  // the stream's or the file's
    std::optional<std::string> file;
    bool stream_started = false;
    bool replayable() const noexcept { return !stream; }
    void drop_body() {
        body.reset();
        stream.reset();
        length.reset();
        file.reset();
        content_type.clear();
    }
};

// A file to upload: its size now, and an error naming it if it cannot be read.
std::uint64_t file_size(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw_os_error(errno, "cannot upload " + path);
    if (!S_ISREG(st.st_mode)) throw std::invalid_argument("cannot upload " + path + ": not a regular file");
    return static_cast<std::uint64_t>(st.st_size);
}

// The request's bytes, written straight into one string: our defaults (Host,
// User-Agent, Accept, Accept-Encoding, Authorization from the URL) unless
// the caller's headers name them, then the caller's (the session's merged
// with the request's) but for the framing, which is ours.
std::string serialize(const Outgoing& o, const ClientSessionOptions& so) {
    const Headers& own = o.headers;
    const bool via_proxy = o.proxy && !o.url.is_secure();  // https goes through a tunnel: the proxy sees none of this
    const bool streamed = o.stream || o.file;
    const bool wants_length = o.body || o.method == "POST" || o.method == "PUT" || o.method == "PATCH";
    std::string out;
    out.reserve(192 + own.bytes() + 4 * own.size() + o.jar_cookies.size() + (o.body ? o.body->size() : 0));
    auto field = [&out](std::string_view name, std::string_view value) {
        out.append(name).append(": ").append(value).append("\r\n");
    };
    out.append(o.method).append(" ");
    if (via_proxy) out.append(o.url.scheme).append("://").append(o.url.host_header());  // absolute form
    out.append(o.url.request_target()).append(" HTTP/1.1\r\n");
    if (!own.contains("Host")) field("Host", o.url.host_header());
    if (!so.user_agent.empty() && !own.contains("User-Agent")) field("User-Agent", so.user_agent);
    if (!own.contains("Accept")) field("Accept", "*/*");
    if (so.auto_decompress && !own.contains("Accept-Encoding")) field("Accept-Encoding", "gzip, deflate");
    if ((!o.url.user.empty() || !o.url.password.empty()) && !own.contains("Authorization"))
        field("Authorization", "Basic " + base64(o.url.user + ":" + o.url.password));
    if (via_proxy && (!o.proxy->user.empty() || !o.proxy->password.empty()) && !own.contains("Proxy-Authorization"))
        field("Proxy-Authorization", "Basic " + base64(o.proxy->user + ":" + o.proxy->password));
    bool cookie_sent = false;
    for (auto [name, value] : own) {
        if (ascii_iequals(name, "Content-Length") || ascii_iequals(name, "Transfer-Encoding")) continue;
        if (!o.jar_cookies.empty() && ascii_iequals(name, "Cookie")) {
            if (cookie_sent) continue;  // the first Cookie line carries the jar's too
            cookie_sent = true;
            field(name, std::string(value) + "; " + o.jar_cookies);
            continue;
        }
        field(name, value);
    }
    if (!o.jar_cookies.empty() && !cookie_sent) field("Cookie", o.jar_cookies);
    if (!o.content_type.empty() && !own.contains("Content-Type")) field("Content-Type", o.content_type);
    if (streamed && !o.length)
        out.append("Transfer-Encoding: chunked\r\n");
    else if (streamed)
        out.append("Content-Length: ").append(std::to_string(*o.length)).append("\r\n");
    else if (wants_length)
        out.append("Content-Length: ").append(std::to_string(o.body ? o.body->size() : 0)).append("\r\n");
    out.append("\r\n");
    if (o.body) out.append(*o.body);
    return out;
}

// Waits for a pool slot, woken by wake_waiters or the deadline.
class ParkSlot {
public:
    explicit ParkSlot(SlotWaiter& s) noexcept : s_(s) {}
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) { s_.w.park(h); }
    void await_resume() { s_.w.raise_if_cancelled(); }

private:
    SlotWaiter& s_;
};

struct LinkedSlot {
    SlotWaiter sw;
    std::list<SlotWaiter*>* list;
    TimerHandle timer;
    bool timed_out = false;
    explicit LinkedSlot(std::list<SlotWaiter*>& l, std::string_view key) : list(&l) {
        sw.key = key;
        sw.pos = l.insert(l.end(), &sw);
        sw.linked = true;
    }
    LinkedSlot(const LinkedSlot&) = delete;
    ~LinkedSlot() {
        timer.cancel();
        if (sw.linked) list->erase(sw.pos);
    }
};

}  // namespace

// ---- SessionState: the pool ----------------------------------------------------------------

SessionState::SessionState(ClientSessionOptions o) : options(std::move(o)) {
    if (!options.base_url.empty()) base = parse_url(options.base_url);
    limits.max_line = options.max_line_size;
    limits.max_header_bytes = options.max_header_bytes;
    limits.max_headers = options.max_headers;
    limits.max_body = std::numeric_limits<std::uint64_t>::max();
    limits.require_host = false;
    tls = options.ssl;
    if (!options.proxy.empty()) proxy = parse_proxy(options.proxy);
}

SessionState::~SessionState() { expiry_.cancel(); }

bool SessionState::can_proceed(std::string_view key) const {
    auto it = hosts.find(std::string(key));
    if (it != hosts.end() && !it->second.idle.empty()) return true;
    std::size_t host_open = it == hosts.end() ? 0 : it->second.open;
    bool host_ok = options.limit_per_host == 0 || host_open < options.limit_per_host;
    bool total_ok = options.limit == 0 || open < options.limit || idle > 0;
    return host_ok && total_ok;
}

void SessionState::wake_waiters() {
    if (waiters.empty()) return;
    std::size_t budget = options.limit == 0 ? waiters.size() : (options.limit > open ? options.limit - open : 0) + idle;
    for (SlotWaiter* w : waiters) {
        if (budget == 0) break;
        if (w->w.done() || (!closed && !can_proceed(w->key))) continue;
        w->w.set_result();
        --budget;
    }
}

Ref<ClientConnection> SessionState::take_idle(const std::string& key) {
    auto it = hosts.find(key);
    if (it == hosts.end()) return {};
    auto& v = it->second.idle;
    while (!v.empty()) {
        Ref<ClientConnection> c = std::move(v.back());
        v.pop_back();
        --idle;
        c->in_pool = false;
        if (c->usable()) return c;
        c->close();
    }
    return {};
}

bool SessionState::evict_oldest_idle() {
    // The connection idle longest, whatever its origin (the caller's has
    // none idle, or wants a fresh one): closing it frees its slot now.
    Host* oldest = nullptr;
    for (auto& [k, h] : hosts) {
        if (h.idle.empty()) continue;
        if (!oldest || h.idle.front()->idle_since < oldest->idle.front()->idle_since) oldest = &h;
    }
    if (!oldest) return false;
    Ref<ClientConnection> c = std::move(oldest->idle.front());
    oldest->idle.erase(oldest->idle.begin());
    --idle;
    c->in_pool = false;
    c->drop_slot();
    c->close();
    return true;
}

Ref<ClientConnection> SessionState::try_idle(const URL& url, const std::optional<URL>& proxy) {
    if (closed || idle == 0 || loop != &get_running_loop()) return {};
    return take_idle(pool_key(url, proxy));
}

void SessionState::remove_idle(ClientConnection* c) {
    auto it = hosts.find(c->key());
    if (it == hosts.end()) return;
    auto& v = it->second.idle;
    for (auto i = v.begin(); i != v.end(); ++i) {
        if (i->get() == c) {
            c->in_pool = false;
            v.erase(i);
            --idle;
            return;
        }
    }
}

void SessionState::slot_freed(ClientConnection* c) {
    Ref<ClientConnection> keep(c);
    if (c->in_pool) remove_idle(c);
    auto it = hosts.find(c->key());
    if (it != hosts.end() && it->second.open > 0) --it->second.open;
    if (open > 0) --open;
    if (c->closing_idle && --closing == 0) {
        auto ws = std::move(close_waiters);
        close_waiters.clear();
        for (auto& f : ws)
            if (!f.done()) f.set_result();
    }
    if (it != hosts.end() && it->second.open == 0 && it->second.idle.empty()) hosts.erase(it);
    wake_waiters();
}

void SessionState::release(Ref<ClientConnection> c) {
    c->end_request();
    if (!closed && !dropped && options.keepalive_timeout > 0 && c->reusable() && !c->in_pool) {
        c->in_pool = true;
        c->idle_since = loop->time();
        hosts[c->key()].idle.push_back(c);
        ++idle;
        arm_expiry();
    } else if (!c->in_pool) {
        c->close();
    }
    wake_waiters();
}

void SessionState::close_idle() {
    expiry_.cancel();
    expiry_ = TimerHandle();
    std::vector<Ref<ClientConnection>> all;
    for (auto& [k, h] : hosts) {
        for (auto& c : h.idle) all.push_back(std::move(c));
        h.idle.clear();
    }
    idle = 0;
    for (auto& c : all) {
        c->in_pool = false;
        if (!c->closing_idle) {
            c->closing_idle = true;
            ++closing;
        }
        c->close();
    }
}

void SessionState::arm_expiry() {
    if (idle == 0 || options.keepalive_timeout <= 0) return;
    double first = std::numeric_limits<double>::infinity();
    for (auto& [k, h] : hosts)
        if (!h.idle.empty()) first = std::min(first, h.idle.front()->idle_since);
    double when = first + options.keepalive_timeout;
    if (expiry_ && !expiry_.cancelled() && expiry_when_ <= when) return;
    expiry_.cancel();
    expiry_when_ = when;
    Ref<SessionState> self(this);
    expiry_ = loop->call_at(when, [self] { self->on_expiry(); });
}

void SessionState::on_expiry() {
    expiry_ = TimerHandle();
    if (closed) return;
    double now = loop->time();
    std::vector<Ref<ClientConnection>> old;
    for (auto& [k, h] : hosts) {
        auto& v = h.idle;
        std::size_t n = 0;
        while (n < v.size() && v[n]->idle_since + options.keepalive_timeout <= now + 1e-3) ++n;
        for (std::size_t i = 0; i < n; ++i) old.push_back(std::move(v[i]));
        v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n));
        idle -= n;
    }
    for (auto& c : old) {
        c->in_pool = false;
        c->close();
    }
    arm_expiry();
}

Coro<Ref<ClientConnection>> SessionState::acquire(Ref<SessionState> self, URL url, std::optional<URL> proxy,
                                                  std::optional<double> deadline, std::optional<double> connect_timeout,
                                                  bool fresh) {
    const std::string key = pool_key(url, proxy);
    EventLoop& loop = get_running_loop();
    if (!self->loop) self->loop = &loop;
    if (self->loop != &loop) throw std::logic_error("a ClientSession is used on one event loop only");
    std::optional<double> until = deadline;
    if (connect_timeout) until = min_opt(until, loop.time() + *connect_timeout);
    {
        std::optional<LinkedSlot> slot;
        for (;;) {
            if (self->closed) throw ClientError("the session is closed");
            if (!fresh) {
                if (Ref<ClientConnection> c = self->take_idle(key)) {
                    if (!self->waiters.empty()) self->wake_waiters();
                    co_return c;
                }
            }
            auto it = self->hosts.find(key);
            std::size_t host_open = it == self->hosts.end() ? 0 : it->second.open;
            bool host_ok = self->options.limit_per_host == 0 || host_open < self->options.limit_per_host;
            bool total_ok = self->options.limit == 0 || self->open < self->options.limit;
            if (host_ok && total_ok) break;
            if (host_ok && self->evict_oldest_idle()) continue;
            if (!host_ok && fresh && it != self->hosts.end() && !it->second.idle.empty()) {
                // A fresh connection is wanted and this host is at its limit:
                // one of its idle connections gives its slot up.
                if (Ref<ClientConnection> old = self->take_idle(key)) {
                    old->drop_slot();
                    old->close();
                }
                continue;
            }
            if (!slot) {
                slot.emplace(self->waiters, key);
                if (until) {
                    LinkedSlot* ls = &*slot;
                    slot->timer = loop.call_at(*until, [ls] {
                        ls->timed_out = true;
                        if (!ls->sw.w.done()) ls->sw.w.set_result();
                    });
                }
            }
            slot->sw.w.state = tulip::detail::Waiter::State::pending;
            try {
                co_await ParkSlot(slot->sw);
            } catch (...) {
                // Cancelled after a wake-up meant for it: pass the turn on.
                if (slot->sw.w.state == tulip::detail::Waiter::State::done) self->wake_waiters();
                throw;
            }
            if (slot->timed_out) throw TimeoutError("timed out waiting for a free connection to " + key);
        }
    }
    ++self->open;
    ++self->hosts[key].open;
    ++self->made;
    Ref<ClientConnection> c(new ClientConnection(self, key));
    ConnectOptions co;
    if (url.is_secure() && !self->tls) {
        ssl::SSLContext ctx = ssl::create_default_context();
        ctx.set_alpn_protocols({"http/1.1"});
        self->tls = ctx;
    }
    const bool tunnel = proxy && url.is_secure();
    if (url.is_secure() && !proxy) {
        co.ssl = *self->tls;
        co.server_hostname = url.host;
    }
    const URL& to = proxy ? *proxy : url;
    auto factory = [c]() { return std::make_unique<ClientProtocol>(c); };
    if (self->options.use_resolver && !self->resolver) {
        ResolverOptions ro;
        ro.servers = self->options.dns_servers;
        self->resolver = std::make_unique<Resolver>(loop, std::move(ro));
    }
    auto connect = [&](Timeout&) -> Coro<void> {
        std::vector<AddrInfo> addrs;
        if (self->resolver) {
            addrs = co_await self->resolver->resolve(to.host, to.port, AF_UNSPEC);
        } else {
            AddrInfoOptions gai;
            gai.type = SOCK_STREAM;
            addrs = co_await getaddrinfo(to.host, to.port, gai);
        }
        ConnectOptions race;
        race.happy_eyeballs_delay = 0.25;
        Socket sock = co_await open_tcp_socket(std::move(addrs), std::move(race));
        co_await create_connection(std::move(factory), std::move(sock), std::move(co));
        if (tunnel) {
            // CONNECT through the proxy, then TLS with the server inside the tunnel.
            std::string auth = proxy->user.empty() && proxy->password.empty()
                                   ? std::string()
                                   : "Basic " + base64(proxy->user + ":" + proxy->password);
            co_await ClientConnection::open_tunnel(c, authority(url), std::move(auth), until);
            StartTLSOptions so;
            so.server_hostname = url.host;
            Ref<Transport> secure = co_await start_tls(c->transport(), *self->tls, std::move(so));
            c->set_transport(std::move(secure));
        }
    };
    bool timed_out = false;
    std::exception_ptr failed;
    bool refused_by_proxy = false;
    try {
        co_await timeout_at(until, std::move(connect));
    } catch (const TimeoutError&) {
        timed_out = true;
    } catch (const CancelledError&) {
        c->abort();
        c->drop_slot();
        throw;
    } catch (const ClientResponseError&) {
        failed = std::current_exception();  // the proxy's answer: raised as it is
        refused_by_proxy = true;
    } catch (...) {
        failed = std::current_exception();
    }
    if (timed_out || failed) {
        c->abort();
        c->drop_slot();
        if (timed_out) throw TimeoutError("timed out connecting to " + to.host + ":" + std::to_string(to.port));
        if (refused_by_proxy) std::rethrow_exception(failed);
        throw ClientConnectorError(to.host, to.port, failed);
    }
    co_return c;
}

// ---- ResponseState -------------------------------------------------------------------------

ResponseState::~ResponseState() {
    try {
        release();
    } catch (...) {  // a destructor must not throw; the connection is closed below
        if (conn) conn->abort();
    }
}

void ResponseState::release() {
    if (!conn) return;
    Ref<ClientConnection> c = std::move(conn);
    if (c->response_complete()) {
        (void)c->take_body(std::numeric_limits<std::size_t>::max());  // read or not, it is all here
        session->release(std::move(c));
    } else {
        c->end_request();
        c->close();
    }
}

void ResponseState::close() {
    if (!conn) return;
    Ref<ClientConnection> c = std::move(conn);
    c->end_request();
    c->close();
}

namespace {

// The parts of a streamed body, chunk-framed unless its length is known. A
// server that answers before the upload ends (a 413, a redirect) stops it:
// the connection is then not reused.
Coro<void> send_stream(Ref<ClientConnection> c, Outgoing& o, std::optional<double> deadline) {
    o.stream_started = true;
    const bool chunked = !o.length;
    std::uint64_t sent = 0;
    while (auto part = co_await o.stream->next()) {
        if (c->response_started()) {
            c->mark_broken();
            co_return;
        }
        if (part->empty()) continue;
        sent += part->size();
        if (!chunked && sent > *o.length)
            throw std::invalid_argument("the body stream yielded more than content_length (" +
                                        std::to_string(*o.length) + ") bytes");
        if (chunked) {
            char size[32];
            int n = std::snprintf(size, sizeof size, "%zx\r\n", part->size());
            std::string framed;
            framed.reserve(part->size() + static_cast<std::size_t>(n) + 2);
            framed.append(size, static_cast<std::size_t>(n)).append(*part).append("\r\n");
            co_await ClientConnection::send(c, std::move(framed), deadline);
        } else {
            co_await ClientConnection::send(c, std::move(*part), deadline);
        }
    }
    if (!chunked && sent != *o.length)
        throw std::invalid_argument("the body stream yielded " + std::to_string(sent) + " bytes, content_length said " +
                                    std::to_string(*o.length));
    if (chunked) co_await ClientConnection::send(c, std::string("0\r\n\r\n"), deadline);
}

// A file in 64 KiB parts (regular files read from the page cache: a read
// blocks the loop no longer than a memcpy). It must still be as long as it
// was when the head said so.
Coro<void> send_file(Ref<ClientConnection> c, std::string path, std::uint64_t length, std::optional<double> deadline) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw_os_error(errno, "cannot upload " + path);
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    std::uint64_t off = 0;
    while (off < length) {
        if (c->response_started()) {
            c->mark_broken();
            co_return;
        }
        std::string buf(static_cast<std::size_t>(std::min<std::uint64_t>(64 * 1024, length - off)), '\0');
        ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(off));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_os_error(errno, "cannot read " + path);
        if (n == 0) throw std::runtime_error("the file " + path + " got shorter while it was being sent");
        buf.resize(static_cast<std::size_t>(n));
        off += static_cast<std::uint64_t>(n);
        co_await ClientConnection::send(c, std::move(buf), deadline);
    }
}

// One exchange on one connection: connect or reuse, send, read the head.
Coro<Ref<ResponseState>> exchange(Ref<SessionState> s, Outgoing& o, std::optional<double> deadline,
                                  const ClientTimeout& t) {
    std::string wire = serialize(o, s->options);
    const bool head_request = o.method == "HEAD";
    for (int attempt = 0;; ++attempt) {
        // An idle connection of the origin needs no wait and no coroutine.
        Ref<ClientConnection> c = attempt == 0 ? s->try_idle(o.url, o.proxy) : Ref<ClientConnection>();
        if (!c) c = co_await SessionState::acquire(s, o.url, o.proxy, deadline, t.connect, attempt > 0);
        const bool reused = c->requests > 0;
        const bool may_retry =
            s->options.retry_stale_connections && reused && attempt == 0 && idempotent(o.method) && o.replayable();
        c->begin(head_request);
        std::string bytes = may_retry ? wire : std::move(wire);
        bool retry = false;
        std::optional<MessageHead> head;
        try {
            co_await ClientConnection::send(c, std::move(bytes), deadline);
            if (o.stream) {
                co_await send_stream(c, o, deadline);
            } else if (o.file) {
                co_await send_file(c, *o.file, *o.length, deadline);
            }
            head = co_await ClientConnection::read_head(c, deadline, t.sock_read);
        } catch (const ServerDisconnectedError&) {
            c->end_request();
            c->abort();
            if (!(may_retry && c->nothing_received())) throw;
            retry = true;
        } catch (...) {
            c->end_request();
            c->abort();
            throw;
        }
        if (retry) continue;
        Ref<ResponseState> r(new ResponseState());
        r->session = s;
        r->method = o.method;
        r->url = o.url;
        r->status = head->status;
        r->reason = std::move(head->reason);
        r->version_major = head->version_major;
        r->version_minor = head->version_minor;
        r->headers = std::move(head->headers);
        r->content_length = head->content_length;
        r->deadline = deadline;
        r->sock_read = t.sock_read;
        Inflater::Coding coding;
        if (s->options.auto_decompress && !head_request) {
            if (auto ce = r->headers.get("Content-Encoding"); ce && Inflater::coding_of(*ce, coding))
                r->inflater.emplace(coding);
        }
        r->conn = std::move(c);
        if (r->conn->response_complete() && r->conn->body_buffered() == 0) {
            r->raw_done = true;
            r->eof = true;
            r->release();
        }
        co_return r;
    }
}

bool is_redirect(int status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// Reads and drops a redirect's body so that its connection can serve again;
// a large one is not worth it: the connection closes.
Coro<void> discard(Ref<ResponseState> r) {
    std::size_t total = 0;
    while (r->conn && total < 64 * 1024) {
        std::string part = co_await ResponseState::next(r, 64 * 1024);
        if (part.empty()) break;
        total += part.size();
    }
    r->release();
}

}  // namespace

Coro<ClientResponse> do_request(Ref<SessionState> s, std::string method, std::string url, RequestOptions opts) {
    if (s->closed) throw ClientError("the session is closed");
    if (!is_token(method)) throw std::invalid_argument("invalid HTTP method '" + method + "'");
    Outgoing o;
    o.method = std::move(method);
    if (has_scheme(url))
        o.url = parse_url(url);
    else if (s->base)
        o.url = resolve(*s->base, url);
    else
        throw InvalidURL(url, "a relative URL needs the session's base_url");
    if (!opts.params.empty()) o.url.query += (o.url.query.empty() ? "" : "&") + urlencode(opts.params);
    if (opts.proxy)
        o.proxy = opts.proxy->empty() ? std::optional<URL>() : std::optional<URL>(parse_proxy(*opts.proxy));
    else
        o.proxy = s->proxy;
    o.headers = s->options.headers;
    override_with(o.headers, opts.headers);
    int bodies = (opts.data ? 1 : 0) + (opts.form ? 1 : 0) + (opts.json ? 1 : 0) + (opts.body_stream ? 1 : 0) +
                 (opts.body_file ? 1 : 0) + (opts.multipart ? 1 : 0);
    if (bodies > 1)
        throw std::invalid_argument("a request takes one of data, form, json, body_stream, body_file and multipart");
    if (opts.multipart) {
        o.content_type = opts.multipart->content_type();
        if (opts.multipart->has_files()) {
            o.length = opts.multipart->content_length();  // stats the files: a missing one fails here
            o.stream = opts.multipart->stream();
        } else {
            o.body = opts.multipart->encode();
        }
    }
    if (opts.content_length && !opts.body_stream)
        throw std::invalid_argument("content_length is for body_stream (other bodies know their length)");
    if (opts.body_stream) {
        o.stream = std::move(opts.body_stream);
        o.length = opts.content_length;
    }
    if (opts.body_file) {
        o.length = file_size(*opts.body_file);
        o.file = std::move(opts.body_file);
    }
    if (opts.data) o.body = std::move(*opts.data);
    if (opts.form) {
        o.body = urlencode(*opts.form);
        o.content_type = "application/x-www-form-urlencoded";
    }
    if (opts.json) {
        o.body = std::move(*opts.json);
        o.content_type = "application/json";
    }
    const ClientTimeout t = opts.timeout ? *opts.timeout : s->options.timeout;
    std::optional<double> deadline;
    if (t.total) deadline = get_running_loop().time() + *t.total;
    const std::size_t max_redirects = opts.max_redirects ? *opts.max_redirects : s->options.max_redirects;
    const bool raise = opts.raise_for_status ? *opts.raise_for_status : s->options.raise_for_status;

    std::vector<ClientResponse> history;
    for (;;) {
        if (s->options.use_cookie_jar) o.jar_cookies = s->jar.header_for(o.url, std::time(nullptr));
        Ref<ResponseState> r = co_await exchange(s, o, deadline, t);
        if (s->options.use_cookie_jar) s->jar.update_from(r->headers, o.url, std::time(nullptr));
        std::optional<std::string_view> location = r->headers.get("Location");
        // A 307/308 sends the body again: a stream already sent cannot be.
        const bool keeps_body =
            r->status == 307 || r->status == 308 || ((r->status == 301 || r->status == 302) && o.method != "POST");
        const bool cannot_resend = keeps_body && o.stream && o.stream_started;
        if (!opts.allow_redirects || !is_redirect(r->status) || !location || cannot_resend) {
            r->history = std::move(history);
            ClientResponse resp(r);
            if (raise) resp.raise_for_status();
            co_return resp;
        }
        if (history.size() >= max_redirects) {
            r->close();
            throw TooManyRedirects(r->status, "more than " + std::to_string(max_redirects) + " redirects",
                                   o.url.to_string(), r->headers);
        }
        URL next = resolve(o.url, *location);
        if (next.fragment.empty()) next.fragment = o.url.fragment;
        co_await discard(r);
        history.emplace_back(r);
        // Browsers' method rewriting (RFC 9110 15.4): 303 makes every method
        // but HEAD a GET; 301/302 make a POST a GET. 307/308 keep it all.
        if ((r->status == 303 && o.method != "HEAD") ||
            ((r->status == 301 || r->status == 302) && o.method == "POST")) {
            o.method = "GET";
            o.drop_body();
            o.headers.remove("Content-Type");
        }
        if (!same_origin(o.url, next)) {
            o.headers.remove("Authorization");
            o.headers.remove("Cookie");
        }
        o.url = std::move(next);
    }
}

}  // namespace detail

// ---- ClientSession --------------------------------------------------------------------------

ClientSession::ClientSession() : ClientSession(ClientSessionOptions()) {}
ClientSession::ClientSession(ClientSessionOptions options) : s_(new detail::SessionState(std::move(options))) {}
ClientSession::ClientSession(ClientSession&&) noexcept = default;
// A session dropped without close(): its idle connections close now; the
// requests already made run to their end and close their connections then.
static void drop(detail::SessionState& s) {
    if (s.closed || s.dropped) return;
    s.dropped = true;
    s.close_idle();
}

ClientSession& ClientSession::operator=(ClientSession&& o) noexcept {
    if (this != &o) {
        if (s_) drop(*s_);
        s_ = std::move(o.s_);
    }
    return *this;
}

ClientSession::~ClientSession() {
    if (s_) drop(*s_);
}

Coro<ClientResponse> ClientSession::request(std::string method, std::string url, RequestOptions opts) {
    if (!s_) throw ClientError("the session was moved from");
    return detail::do_request(s_, std::move(method), std::move(url), std::move(opts));
}
Coro<ClientResponse> ClientSession::request(std::string method, std::string url) {
    RequestOptions o;
    return request(std::move(method), std::move(url), std::move(o));
}
Coro<ClientResponse> ClientSession::get(std::string url) { return request("GET", std::move(url)); }
Coro<ClientResponse> ClientSession::get(std::string url, RequestOptions opts) {
    return request("GET", std::move(url), std::move(opts));
}
Coro<ClientResponse> ClientSession::head(std::string url) { return request("HEAD", std::move(url)); }
Coro<ClientResponse> ClientSession::head(std::string url, RequestOptions opts) {
    return request("HEAD", std::move(url), std::move(opts));
}
Coro<ClientResponse> ClientSession::post(std::string url, RequestOptions opts) {
    return request("POST", std::move(url), std::move(opts));
}
Coro<ClientResponse> ClientSession::put(std::string url, RequestOptions opts) {
    return request("PUT", std::move(url), std::move(opts));
}
Coro<ClientResponse> ClientSession::patch(std::string url, RequestOptions opts) {
    return request("PATCH", std::move(url), std::move(opts));
}
Coro<ClientResponse> ClientSession::delete_(std::string url) { return request("DELETE", std::move(url)); }
Coro<ClientResponse> ClientSession::delete_(std::string url, RequestOptions opts) {
    return request("DELETE", std::move(url), std::move(opts));
}
Coro<ClientResponse> ClientSession::options(std::string url) { return request("OPTIONS", std::move(url)); }

Coro<void> ClientSession::close() {
    Ref<detail::SessionState> s = s_;
    if (!s) co_return;
    s->closed = true;
    // Waiters see `closed` and give up.
    for (auto* w : s->waiters)
        if (!w->w.done()) w->w.set_result();
    s->close_idle();
    if (s->closing > 0) {
        // The idle connections are closing (a TLS one sends close_notify
        // first); those held by responses close when they are released.
        auto f = Future<void>::create(get_running_loop());
        s->close_waiters.push_back(f);
        co_await f;
    }
}

bool ClientSession::closed() const noexcept { return !s_ || s_->closed; }
std::size_t ClientSession::connection_count() const noexcept { return s_ ? s_->open : 0; }
std::size_t ClientSession::idle_count() const noexcept { return s_ ? s_->idle : 0; }
std::size_t ClientSession::connections_made() const noexcept { return s_ ? s_->made : 0; }
CookieJar& ClientSession::cookie_jar() {
    if (!s_) throw ClientError("the session was moved from");
    return s_->jar;
}

const ClientSessionOptions& ClientSession::settings() const {
    if (!s_) throw ClientError("the session was moved from");
    return s_->options;
}

}  // namespace tulip::http
