// bench/tls/tls_client.cpp — the load generator of the TLS benchmark, on
// OpenSSL directly: one thread, non-blocking sockets, epoll (the shape of
// bench/echo/echo_client.cpp, with an SSL object per connection). TLS 1.3
// only, TLS_AES_128_GCM_SHA256 only (the only suite offered, so every server
// negotiates it; checked after each handshake), no tickets, no session cache,
// no certificate verification (the bench cert is self-signed; skipping the
// chain check keeps the client's handshake cost down).
//
//   tls_client echo --port P --conns N --size S [--duration 3] [--warmup 0.5] [--server-pid PID]
//     N connections (all handshaken before the clock starts), each a closed
//     loop: SSL_write a message of S bytes, SSL_read until the S bytes came
//     back, send the next. Messages larger than 64 KiB go out in 64 KiB
//     SSL_writes interleaved with the reads (so S = 64 MiB with N = 1 is a
//     bulk round trip, its mbps the bytes echoed during the window). Prints
//       RESULT msgs=.. secs=.. rate=.. p50_us=.. p99_us=.. mbps=.. server_cpu_s=.. client_cpu_s=.. window_s=..
//
//   tls_client handshake --port P --conns K [--duration 3] [--warmup 0.5] [--server-pid PID]
//     K connections at a time, each: connect, full TLS 1.3 handshake,
//     close_notify, wait for the server to close, close with a reset (no
//     TIME_WAIT on either side: 10,000s of connections must not exhaust the
//     ephemeral ports). Counts the handshakes completed in the window.
//     Prints RESULT handshakes=.. rate=.. server_cpu_s=.. client_cpu_s=.. window_s=..
//
//   tls_client bulk --port P --bytes N [--server-pid PID]
//     One connection (retrying connect for up to 10 s: the server may be an
//     `openssl s_server` just starting); after the handshake, SSL_writes N
//     bytes in 16 KiB records (what `openssl s_client` and most servers
//     use: OpenSSL's maximum record), sends close_notify and waits for the
//     server's close, which says it has read everything. Time: first byte
//     written -> server's close. Prints
//       RESULT bytes=.. secs=.. mbps=.. server_cpu_s=.. client_cpu_s=..
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "tls_client: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}
[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "tls_client: %s\n", what.c_str());
    ERR_print_errors_fp(stderr);
    std::exit(1);
}

std::uint64_t now_ns() {
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

double own_cpu_s() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

// utime + stime of a process in seconds (fields 14 and 15 of /proc/PID/stat).
double proc_cpu(int pid) {
    if (pid <= 0) return 0;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
    std::FILE* f = std::fopen(path, "r");
    if (!f) return 0;
    char buf[1024];
    std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = 0;
    const char* p = std::strrchr(buf, ')');
    if (!p) return 0;
    unsigned long long utime = 0, stime = 0;
    if (std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2) return 0;
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

void raise_nofile() {
    rlimit r{};
    if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &r);
    }
}

// A blocking connect to 127.0.0.1:port, retried on ECONNREFUSED until
// `retry_ns` has passed; then TCP_NODELAY and, unless `blocking`, O_NONBLOCK.
int connect_to(int port, bool blocking = false, std::uint64_t retry_ns = 0) {
    std::uint64_t until = now_ns() + retry_ns;
    for (;;) {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) die("socket");
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) {
            if (errno == ECONNREFUSED && now_ns() < until) {
                ::close(fd);
                timespec ts{0, 10'000'000};
                ::nanosleep(&ts, nullptr);
                continue;
            }
            die("connect");
        }
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (!blocking) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
        return fd;
    }
}

void close_with_reset(int fd) {
    linger lg{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    ::close(fd);
}

SSL_CTX* make_ctx() {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) fail("SSL_CTX_new");
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    if (SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256") != 1) fail("set_ciphersuites");
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE);
    // One recv per batch of records instead of two per record (header, then
    // body): halves the client's syscalls, so that it is not the bottleneck.
    // Every read loops until WANT_READ, so nothing waits in OpenSSL's buffer.
    SSL_CTX_set_read_ahead(ctx, 1);
    return ctx;
}

void check_cipher(SSL* ssl) {
    const char* name = SSL_CIPHER_get_name(SSL_get_current_cipher(ssl));
    if (SSL_version(ssl) != TLS1_3_VERSION || std::strcmp(name, "TLS_AES_128_GCM_SHA256") != 0)
        fail(std::string("negotiated ") + SSL_get_version(ssl) + " " + name);
}

struct Args {
    std::string mode;
    int port = 0, conns = 1, server_pid = 0;
    long long size = 1024, bytes = 64ll << 20;
    double duration = 3, warmup = 0.5;
};

Args parse(int argc, char** argv) {
    Args a;
    if (argc < 2) fail("usage: tls_client echo|handshake|bulk --port P [options] (see the source)");
    a.mode = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
        std::string k = argv[i];
        const char* v = argv[i + 1];
        if (k == "--port")
            a.port = std::atoi(v);
        else if (k == "--conns")
            a.conns = std::atoi(v);
        else if (k == "--size")
            a.size = std::atoll(v);
        else if (k == "--bytes")
            a.bytes = std::atoll(v);
        else if (k == "--duration")
            a.duration = std::atof(v);
        else if (k == "--warmup")
            a.warmup = std::atof(v);
        else if (k == "--server-pid")
            a.server_pid = std::atoi(v);
        else
            fail("unknown option " + k);
    }
    if (a.port <= 0 || a.conns <= 0 || a.size < 8) fail("need --port, --conns > 0, --size >= 8");
    return a;
}

// The window in which completions count, and the CPU readings at its ends.
struct Window {
    std::uint64_t start = 0, end = 0, w0 = 0, w1 = 0;
    double srv0 = 0, srv1 = 0, cli0 = 0, cli1 = 0;
    bool started = false, over = false;
    int pid = 0;

    void init(const Args& a) {
        pid = a.server_pid;
        start = now_ns() + static_cast<std::uint64_t>(a.warmup * 1e9);
        end = start + static_cast<std::uint64_t>(a.duration * 1e9);
    }
    // Called every loop turn; true once the window is over.
    bool tick(std::uint64_t t) {
        if (!started && t >= start) {
            started = true;
            srv0 = proc_cpu(pid);
            cli0 = own_cpu_s();
            w0 = now_ns();
        }
        if (started && !over && t >= end) {
            w1 = now_ns();
            srv1 = proc_cpu(pid);
            cli1 = own_cpu_s();
            over = true;
        }
        return over;
    }
    bool in(std::uint64_t t) const { return t >= start && t < end; }
    void print_cpu() const {
        std::printf(" server_cpu_s=%.3f client_cpu_s=%.3f window_s=%.6f\n", pid > 0 ? srv1 - srv0 : -1.0, cli1 - cli0,
                    static_cast<double>(w1 - w0) * 1e-9);
    }
};

// ---- echo -------------------------------------------------------------------

constexpr long long kChunk = 64 * 1024;  // the largest SSL_write of a big message

struct Conn {
    int fd = -1;
    SSL* ssl = nullptr;
    bool handshaken = false;
    std::uint64_t seq = 0, sent_at = 0;
    long long sent = 0, rcvd = 0;
    int pending = 0;      // the length of an SSL_write to retry (OpenSSL wants the same arguments)
    bool active = false;  // a message is in flight
    unsigned events = 0;  // what epoll watches
    char* out = nullptr;
};

struct Echo {
    Args a;
    int ep = -1;
    SSL_CTX* ctx = nullptr;
    std::vector<Conn> conns;
    std::vector<char> scratch;
    std::vector<std::uint32_t> lat;
    Window win;
    long count = 0;
    // Bulk round trips (messages > 64 KiB): the bytes echoed back during the
    // window, counted as they arrive (a handful of 64 MiB messages per window
    // would make msgs/s too coarse).
    bool big = false;
    long long window_bytes = 0;
    int inflight = 0, handshaking = 0;
    bool stopping = false;

    void watch(Conn& c, unsigned ev) {
        if (c.events == ev) return;
        c.events = ev;
        epoll_event e{};
        e.events = ev;
        e.data.ptr = &c;
        if (::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &e) < 0) die("epoll_ctl");
    }

    // After a WANT_READ/WANT_WRITE: wait for that; a read is always wanted
    // (EOF or an alert must not go unnoticed).
    void want(Conn& c, int err) { watch(c, EPOLLIN | (err == SSL_ERROR_WANT_WRITE ? EPOLLOUT : 0u)); }

    void handshake(Conn& c) {
        int r = SSL_do_handshake(c.ssl);
        if (r == 1) {
            check_cipher(c.ssl);
            c.handshaken = true;
            --handshaking;
            watch(c, EPOLLIN);
            return;
        }
        int e = SSL_get_error(c.ssl, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) fail("handshake failed");
        want(c, e);
    }

    void try_send(Conn& c) {
        while (c.sent < a.size) {
            int len = c.pending ? c.pending : static_cast<int>(std::min(kChunk, a.size - c.sent));
            int w = SSL_write(c.ssl, c.out + c.sent, len);
            if (w <= 0) {
                int e = SSL_get_error(c.ssl, w);
                if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
                    c.pending = len;
                    want(c, e);
                    return;
                }
                fail("SSL_write failed");
            }
            c.pending = 0;
            c.sent += w;
        }
        watch(c, EPOLLIN);
    }

    void begin(Conn& c, std::uint64_t t) {
        ++c.seq;
        std::memcpy(c.out, &c.seq, sizeof c.seq);
        c.sent = c.rcvd = 0;
        c.sent_at = t;
        c.active = true;
        ++inflight;
        try_send(c);
    }

    void on_in(Conn& c) {
        for (;;) {
            int want_n = static_cast<int>(
                std::min<long long>(static_cast<long long>(scratch.size()), c.active ? a.size - c.rcvd : 1));
            int n = SSL_read(c.ssl, scratch.data(), want_n);
            if (n <= 0) {
                int e = SSL_get_error(c.ssl, n);
                if (e == SSL_ERROR_WANT_READ) return;
                if (e == SSL_ERROR_WANT_WRITE) {
                    want(c, e);
                    return;
                }
                fail(e == SSL_ERROR_ZERO_RETURN ? "the server closed a connection" : "SSL_read failed");
            }
            if (!c.active) fail("the server sent bytes nobody asked for");
            for (long long i = c.rcvd; i < 8 && i < c.rcvd + n; ++i)
                if (scratch[static_cast<std::size_t>(i - c.rcvd)] != c.out[i])
                    fail("the echo does not match what was sent");
            c.rcvd += n;
            if (big && win.in(now_ns())) window_bytes += n;
            if (c.rcvd < a.size) continue;
            std::uint64_t t = now_ns();
            c.active = false;
            --inflight;
            if (win.in(t)) {
                ++count;
                lat.push_back(static_cast<std::uint32_t>(std::min<std::uint64_t>(t - c.sent_at, UINT32_MAX)));
            }
            if (!stopping) begin(c, t);
            // The echo is complete: a further SSL_read would only cost a
            // recv() that fails with EAGAIN, unless OpenSSL holds bytes
            // already (level-triggered epoll reports the socket's).
            if (!SSL_has_pending(c.ssl)) return;
        }
    }

    void run() {
        raise_nofile();
        ctx = make_ctx();
        ep = ::epoll_create1(EPOLL_CLOEXEC);
        if (ep < 0) die("epoll_create1");
        big = a.size > kChunk;
        scratch.resize(static_cast<std::size_t>(std::min<long long>(std::max<long long>(a.size, 16 * 1024), kChunk)));
        conns.resize(static_cast<std::size_t>(a.conns));
        std::vector<char> outs(static_cast<std::size_t>(a.conns) * static_cast<std::size_t>(a.size));
        for (std::size_t i = 0; i < outs.size(); ++i) outs[i] = static_cast<char>('a' + i % 26);
        for (int i = 0; i < a.conns; ++i) {
            Conn& c = conns[static_cast<std::size_t>(i)];
            c.fd = connect_to(a.port);
            c.ssl = SSL_new(ctx);
            SSL_set_fd(c.ssl, c.fd);
            SSL_set_connect_state(c.ssl);
            c.out = outs.data() + static_cast<std::size_t>(i) * static_cast<std::size_t>(a.size);
            c.events = EPOLLIN | EPOLLOUT;
            epoll_event ev{};
            ev.events = c.events;
            ev.data.ptr = &c;
            if (::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev) < 0) die("epoll_ctl");
        }
        // Every handshake first (bounded: 30 s).
        handshaking = a.conns;
        std::uint64_t hs_deadline = now_ns() + 30'000'000'000ull;
        epoll_event evs[256];
        for (Conn& c : conns) handshake(c);
        while (handshaking > 0) {
            if (now_ns() > hs_deadline) fail("handshakes not done after 30 s");
            int n = ::epoll_wait(ep, evs, 256, 100);
            if (n < 0 && errno != EINTR) die("epoll_wait");
            for (int i = 0; i < n; ++i) {
                Conn& c = *static_cast<Conn*>(evs[i].data.ptr);
                if (!c.handshaken) handshake(c);
            }
        }
        lat.reserve(1 << 20);
        win.init(a);
        std::uint64_t t0 = now_ns(), drain_deadline = 0;
        for (Conn& c : conns) begin(c, t0);
        for (;;) {
            std::uint64_t t = now_ns();
            if (win.tick(t) && !stopping) {
                stopping = true;
                drain_deadline = t + 10'000'000'000ull;
            }
            if (stopping && (inflight == 0 || t >= drain_deadline)) break;
            int n = ::epoll_wait(ep, evs, 256, 2);
            if (n < 0) {
                if (errno == EINTR) continue;
                die("epoll_wait");
            }
            for (int i = 0; i < n; ++i) {
                Conn& c = *static_cast<Conn*>(evs[i].data.ptr);
                if ((evs[i].events & EPOLLOUT) && c.active && c.sent < a.size) try_send(c);
                if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_in(c);
                // A big message: keep writing while the echo comes back.
                if (c.active && c.sent < a.size && !c.pending) try_send(c);
            }
        }
        if (inflight) fail("messages still in flight 10 s after the end");
        for (Conn& c : conns) {
            SSL_free(c.ssl);
            close_with_reset(c.fd);
        }
        ::close(ep);
        std::sort(lat.begin(), lat.end());
        auto pct = [&](double q) {
            if (lat.empty()) return 0.0;
            return lat[static_cast<std::size_t>(q * static_cast<double>(lat.size() - 1))] / 1000.0;
        };
        double secs = static_cast<double>(win.w1 - win.w0) * 1e-9;
        std::printf(
            "RESULT msgs=%ld secs=%.6f rate=%.1f p50_us=%.2f p99_us=%.2f mbps=%.1f", count, a.duration,
            static_cast<double>(count) / a.duration, pct(0.50), pct(0.99),
            (big ? static_cast<double>(window_bytes) : static_cast<double>(count) * static_cast<double>(a.size)) /
                secs / 1e6);
        win.print_cpu();
        std::fflush(stdout);
    }
};

// ---- handshake ----------------------------------------------------------------

struct Handshakes {
    enum State { kHandshake, kShutdown, kWaitClose };
    struct HConn {
        int fd = -1;
        SSL* ssl = nullptr;
        State st = kHandshake;
        unsigned events = 0;
    };
    Args a;
    int ep = -1;
    SSL_CTX* ctx = nullptr;
    std::vector<HConn> conns;
    Window win;
    long count = 0;
    bool stopping = false;
    char scratch[16 * 1024];

    void watch(HConn& c, unsigned ev) {
        if (c.events == ev) return;
        c.events = ev;
        epoll_event e{};
        e.events = ev;
        e.data.ptr = &c;
        if (::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &e) < 0) die("epoll_ctl");
    }

    void open(HConn& c) {
        c.fd = connect_to(a.port);
        c.ssl = SSL_new(ctx);
        SSL_set_fd(c.ssl, c.fd);
        SSL_set_connect_state(c.ssl);
        c.st = kHandshake;
        c.events = EPOLLIN;
        epoll_event e{};
        e.events = c.events;
        e.data.ptr = &c;
        if (::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &e) < 0) die("epoll_ctl");
        step(c);
    }

    void finish(HConn& c) {
        ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
        SSL_free(c.ssl);
        c.ssl = nullptr;
        close_with_reset(c.fd);
        c.fd = -1;
        if (!stopping) open(c);
    }

    void step(HConn& c) {
        for (;;) {
            if (c.st == kHandshake) {
                int r = SSL_do_handshake(c.ssl);
                if (r != 1) {
                    int e = SSL_get_error(c.ssl, r);
                    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) fail("handshake failed");
                    watch(c, EPOLLIN | (e == SSL_ERROR_WANT_WRITE ? EPOLLOUT : 0u));
                    return;
                }
                check_cipher(c.ssl);
                if (win.in(now_ns())) ++count;
                c.st = kShutdown;
            } else if (c.st == kShutdown) {
                int r = SSL_shutdown(c.ssl);  // sends close_notify (0: sent, the peer's not yet seen)
                if (r < 0) {
                    int e = SSL_get_error(c.ssl, r);
                    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
                        watch(c, EPOLLIN | (e == SSL_ERROR_WANT_WRITE ? EPOLLOUT : 0u));
                        return;
                    }
                    fail("SSL_shutdown failed");
                }
                c.st = kWaitClose;
                watch(c, EPOLLIN);
            } else {
                // The server's close_notify or EOF (or a reset) ends it; anything else is a bug.
                ssize_t n = ::recv(c.fd, scratch, sizeof scratch, 0);
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
                if (n != 0 && n >= 0) continue;  // a close_notify record: read on until EOF
                finish(c);
                return;
            }
        }
    }

    void run() {
        raise_nofile();
        ctx = make_ctx();
        ep = ::epoll_create1(EPOLL_CLOEXEC);
        if (ep < 0) die("epoll_create1");
        conns.resize(static_cast<std::size_t>(a.conns));
        win.init(a);
        for (HConn& c : conns) open(c);
        epoll_event evs[256];
        std::uint64_t deadline = 0;
        for (;;) {
            std::uint64_t t = now_ns();
            if (win.tick(t) && !stopping) {
                stopping = true;
                deadline = t + 10'000'000'000ull;
            }
            if (stopping) {
                bool any = false;
                for (HConn& c : conns) any = any || c.fd >= 0;
                if (!any) break;
                if (t >= deadline) fail("connections still open 10 s after the end");
            }
            int n = ::epoll_wait(ep, evs, 256, 2);
            if (n < 0) {
                if (errno == EINTR) continue;
                die("epoll_wait");
            }
            for (int i = 0; i < n; ++i) step(*static_cast<HConn*>(evs[i].data.ptr));
        }
        ::close(ep);
        std::printf("RESULT handshakes=%ld secs=%.6f rate=%.1f", count, a.duration,
                    static_cast<double>(count) / a.duration);
        win.print_cpu();
        std::fflush(stdout);
    }
};

// ---- bulk ---------------------------------------------------------------------

void bulk(const Args& a) {
    SSL_CTX* ctx = make_ctx();
    int fd = connect_to(a.port, true, 10'000'000'000ull);
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) fail("handshake failed");
    check_cipher(ssl);
    std::vector<char> buf(16 * 1024, 'x');
    double srv0 = proc_cpu(a.server_pid), cli0 = own_cpu_s();
    std::uint64_t t0 = now_ns();
    for (long long left = a.bytes; left > 0;) {
        int len = static_cast<int>(std::min<long long>(left, static_cast<long long>(buf.size())));
        int w = SSL_write(ssl, buf.data(), len);
        if (w <= 0) fail("SSL_write failed");
        left -= w;
    }
    if (SSL_shutdown(ssl) < 0) fail("SSL_shutdown failed");
    // The server closes (close_notify and/or EOF) once it has read it all.
    for (;;) {
        int n = SSL_read(ssl, buf.data(), static_cast<int>(buf.size()));
        if (n > 0) fail("the sink sent data");
        break;
    }
    std::uint64_t t1 = now_ns();
    double srv1 = proc_cpu(a.server_pid), cli1 = own_cpu_s();
    double secs = static_cast<double>(t1 - t0) * 1e-9;
    std::printf("RESULT bytes=%lld secs=%.6f mbps=%.1f server_cpu_s=%.3f client_cpu_s=%.3f\n", a.bytes, secs,
                static_cast<double>(a.bytes) / secs / 1e6, a.server_pid > 0 ? srv1 - srv0 : -1.0, cli1 - cli0);
    std::fflush(stdout);
    SSL_free(ssl);
    close_with_reset(fd);
    SSL_CTX_free(ctx);
}

}  // namespace

int main(int argc, char** argv) {
    Args a = parse(argc, argv);
    if (a.mode == "echo") {
        Echo e;
        e.a = a;
        e.run();
    } else if (a.mode == "handshake") {
        Handshakes h;
        h.a = a;
        h.run();
    } else if (a.mode == "bulk") {
        bulk(a);
    } else {
        fail("mode must be echo, handshake or bulk");
    }
    return 0;
}
