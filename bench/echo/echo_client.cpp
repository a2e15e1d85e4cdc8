// bench/echo/echo_client.cpp — the load generator of the echo benchmark: one
// thread, epoll, written like the raw epoll server so that it costs about
// what the fastest server costs.
//
//   echo_client load --port P --conns N --size S [--duration 3] [--warmup 0.5] [--server-pid PID]
//     N connections, each a closed loop: send a message of S bytes, wait
//     until all S bytes came back, send the next. After the warm-up, counts
//     the messages completed during `duration` seconds and the latency of
//     each (send of the first byte -> receipt of the last), then stops
//     sending, waits for the messages in flight and closes. With
//     --server-pid it also reads the server's CPU time (utime + stime from
//     /proc/PID/stat) at the start and the end of the measured window.
//     Prints one line:
//       RESULT msgs=.. secs=.. rate=.. p50_us=.. p99_us=.. p999_us=.. server_cpu_s=..
//              server_user_s=.. server_sys_s=.. client_cpu_s=.. window_s=..
//
//   echo_client idle --port P [--base 1000] [--conns 10000] --server-pid PID
//     Opens `base` connections, then `conns` more, each pinged once with one
//     byte (so the server has certainly accepted it and set it up), and reads
//     the server's VmRSS after each step (after a 1 s pause). Prints
//       IDLE base=.. conns=.. rss_base=.. rss_after=.. per_conn=..
//     then closes them all with a reset (SO_LINGER 0: no TIME_WAIT pile-up).
//
// Every message carries a sequence number in its first 8 bytes, checked on
// the way back, so a server that mixes up or drops bytes fails the run.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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
    std::fprintf(stderr, "echo_client: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}
[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "echo_client: %s\n", what.c_str());
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

// utime and stime of a process, in seconds (fields 14 and 15 of /proc/PID/stat).
struct CpuTimes {
    double user = 0, sys = 0;
    double total() const { return user + sys; }
};
CpuTimes proc_cpu(int pid) {
    CpuTimes t;
    if (pid <= 0) return t;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
    std::FILE* f = std::fopen(path, "r");
    if (!f) return t;
    char buf[1024];
    std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = 0;
    const char* p = std::strrchr(buf, ')');  // the command name may hold spaces
    if (!p) return t;
    unsigned long long utime = 0, stime = 0;
    // after ")": state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15)
    if (std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2) return t;
    double tck = static_cast<double>(::sysconf(_SC_CLK_TCK));
    t.user = static_cast<double>(utime) / tck;
    t.sys = static_cast<double>(stime) / tck;
    return t;
}

// A "Vm...:" line of /proc/PID/status, in bytes.
long proc_status_bytes(int pid, const char* key) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/status", pid);
    std::FILE* f = std::fopen(path, "r");
    if (!f) return -1;
    char line[256];
    long kb = -1;
    std::size_t klen = std::strlen(key);
    while (std::fgets(line, sizeof line, f))
        if (std::strncmp(line, key, klen) == 0 && line[klen] == ':') {
            kb = std::atol(line + klen + 1);
            break;
        }
    std::fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}

void raise_nofile() {
    rlimit r{};
    if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &r);
    }
}

// A blocking connect to 127.0.0.1:port (instant on loopback while the
// server's accept queue has room), then non-blocking with TCP_NODELAY.
int connect_to(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) die("connect");
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int fl = ::fcntl(fd, F_GETFL);
    ::fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    return fd;
}

struct Args {
    std::string mode;
    int port = 0, conns = 1, size = 64, server_pid = 0, base = 1000;
    double duration = 3, warmup = 0.5;
};

Args parse(int argc, char** argv) {
    Args a;
    if (argc < 2) fail("usage: echo_client load|idle --port P [options] (see the source)");
    a.mode = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
        std::string k = argv[i];
        const char* v = argv[i + 1];
        if (k == "--port")
            a.port = std::atoi(v);
        else if (k == "--conns")
            a.conns = std::atoi(v);
        else if (k == "--size")
            a.size = std::atoi(v);
        else if (k == "--duration")
            a.duration = std::atof(v);
        else if (k == "--warmup")
            a.warmup = std::atof(v);
        else if (k == "--server-pid")
            a.server_pid = std::atoi(v);
        else if (k == "--base")
            a.base = std::atoi(v);
        else
            fail("unknown option " + k);
    }
    if (a.port <= 0 || a.conns <= 0 || a.size < 8) fail("need --port, --conns > 0, --size >= 8");
    return a;
}

// ---- load -------------------------------------------------------------------

struct Conn {
    int fd = -1;
    std::uint64_t seq = 0;
    std::uint64_t sent_at = 0;
    unsigned sent = 0, rcvd = 0;
    bool want_out = false;
    bool active = false;  // a message is in flight
    char* out = nullptr;  // this connection's message
};

struct Load {
    Args a;
    int ep = -1;
    std::vector<Conn> conns;
    std::vector<char> scratch;
    std::vector<std::uint32_t> lat;  // ns, of messages completed in the window
    std::uint64_t t_start = 0, t_end = 0;
    long count = 0;
    int inflight = 0;
    bool stopping = false;

    void set_out(Conn& c, bool on) {
        if (c.want_out == on) return;
        c.want_out = on;
        epoll_event ev{};
        ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
        ev.data.ptr = &c;
        if (::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev) < 0) die("epoll_ctl");
    }

    void try_send(Conn& c) {
        unsigned size = static_cast<unsigned>(a.size);
        while (c.sent < size) {
            ssize_t w = ::send(c.fd, c.out + c.sent, size - c.sent, MSG_NOSIGNAL);
            if (w < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                    set_out(c, true);
                    return;
                }
                die("send");
            }
            c.sent += static_cast<unsigned>(w);
        }
        set_out(c, false);
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
        unsigned size = static_cast<unsigned>(a.size);
        if (!c.active) {  // nothing expected: only EOF or an error can be here
            ssize_t n = ::recv(c.fd, scratch.data(), scratch.size(), 0);
            if (n > 0) fail("the server sent bytes nobody asked for");
            if (n == 0) fail("the server closed a connection");
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) die("recv");
            return;
        }
        ssize_t n = ::recv(c.fd, scratch.data(), std::min<std::size_t>(scratch.size(), size - c.rcvd), 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
            die("recv");
        }
        if (n == 0) fail("the server closed a connection");
        // Check the sequence number in the first 8 bytes.
        for (unsigned i = c.rcvd; i < 8 && i < c.rcvd + static_cast<unsigned>(n); ++i)
            if (scratch[i - c.rcvd] != c.out[i]) fail("the echo does not match what was sent");
        c.rcvd += static_cast<unsigned>(n);
        if (c.rcvd < size) return;
        std::uint64_t t = now_ns();
        c.active = false;
        --inflight;
        if (t >= t_start && t < t_end) {
            ++count;
            std::uint64_t d = t - c.sent_at;
            lat.push_back(static_cast<std::uint32_t>(std::min<std::uint64_t>(d, UINT32_MAX)));
        }
        if (!stopping) begin(c, t);
    }

    void run() {
        raise_nofile();
        ep = ::epoll_create1(EPOLL_CLOEXEC);
        if (ep < 0) die("epoll_create1");
        scratch.resize(std::max(a.size, 64 * 1024));
        conns.resize(static_cast<std::size_t>(a.conns));
        std::vector<char> outs(static_cast<std::size_t>(a.conns) * static_cast<std::size_t>(a.size));
        for (std::size_t i = 0; i < outs.size(); ++i) outs[i] = static_cast<char>('a' + i % 26);
        for (int i = 0; i < a.conns; ++i) {
            Conn& c = conns[static_cast<std::size_t>(i)];
            c.fd = connect_to(a.port);
            c.out = outs.data() + static_cast<std::size_t>(i) * static_cast<std::size_t>(a.size);
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.ptr = &c;
            if (::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev) < 0) die("epoll_ctl");
        }
        lat.reserve(1 << 20);
        std::uint64_t t0 = now_ns();
        t_start = t0 + static_cast<std::uint64_t>(a.warmup * 1e9);
        t_end = t_start + static_cast<std::uint64_t>(a.duration * 1e9);
        for (Conn& c : conns) begin(c, t0);

        CpuTimes srv0, srv1;
        double cli0 = 0, cli1 = 0;
        std::uint64_t w0 = 0, w1 = 0, drain_deadline = 0;
        bool started = false;
        epoll_event evs[256];
        for (;;) {
            std::uint64_t t = now_ns();
            if (!started && t >= t_start) {
                started = true;
                srv0 = proc_cpu(a.server_pid);
                cli0 = own_cpu_s();
                w0 = now_ns();
            }
            if (started && !stopping && t >= t_end) {
                w1 = now_ns();
                srv1 = proc_cpu(a.server_pid);
                cli1 = own_cpu_s();
                stopping = true;
                drain_deadline = t + 5'000'000'000ull;
            }
            if (stopping && (inflight == 0 || t >= drain_deadline)) break;
            int n = ::epoll_wait(ep, evs, 256, 2);
            if (n < 0) {
                if (errno == EINTR) continue;
                die("epoll_wait");
            }
            for (int i = 0; i < n; ++i) {
                Conn& c = *static_cast<Conn*>(evs[i].data.ptr);
                if (evs[i].events & EPOLLOUT) try_send(c);
                if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_in(c);
            }
        }
        if (inflight) fail("messages still in flight 5 s after the end");
        for (Conn& c : conns) ::close(c.fd);
        ::close(ep);

        std::sort(lat.begin(), lat.end());
        auto pct = [&](double q) {
            if (lat.empty()) return 0.0;
            std::size_t i = static_cast<std::size_t>(q * static_cast<double>(lat.size() - 1));
            return lat[i] / 1000.0;
        };
        bool srv = a.server_pid > 0;
        std::printf(
            "RESULT msgs=%ld secs=%.6f rate=%.1f p50_us=%.2f p99_us=%.2f p999_us=%.2f "
            "server_cpu_s=%.3f server_user_s=%.3f server_sys_s=%.3f client_cpu_s=%.3f window_s=%.6f\n",
            count, a.duration, static_cast<double>(count) / a.duration, pct(0.50), pct(0.99), pct(0.999),
            srv ? srv1.total() - srv0.total() : -1.0, srv ? srv1.user - srv0.user : -1.0,
            srv ? srv1.sys - srv0.sys : -1.0, cli1 - cli0, static_cast<double>(w1 - w0) * 1e-9);
        std::fflush(stdout);
    }
};

// ---- idle -------------------------------------------------------------------

void sleep_s(double s) {
    timespec ts{static_cast<time_t>(s), static_cast<long>((s - static_cast<double>(static_cast<time_t>(s))) * 1e9)};
    while (::nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

// Opens `count` connections and pings each with one byte, in batches (so the
// server's accept queue never fills), appending the fds to `fds`.
void open_pinged(int port, int count, std::vector<int>& fds) {
    constexpr int kBatch = 250;
    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    for (int done = 0; done < count;) {
        int k = std::min(kBatch, count - done);
        for (int i = 0; i < k; ++i) {
            int fd = connect_to(port);
            fds.push_back(fd);
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.fd = fd;
            if (::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
            if (::send(fd, "x", 1, MSG_NOSIGNAL) != 1) die("send");
        }
        int left = k;
        std::uint64_t deadline = now_ns() + 60'000'000'000ull;
        epoll_event evs[256];
        while (left > 0) {
            if (now_ns() > deadline) fail("the server did not answer the pings within 60 s");
            int n = ::epoll_wait(ep, evs, 256, 100);
            if (n < 0 && errno != EINTR) die("epoll_wait");
            for (int i = 0; i < n; ++i) {
                char b;
                ssize_t r = ::recv(evs[i].data.fd, &b, 1, 0);
                if (r == 1) {
                    --left;
                    ::epoll_ctl(ep, EPOLL_CTL_DEL, evs[i].data.fd, nullptr);
                } else if (r == 0) {
                    fail("the server closed an idle connection");
                } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                    die("recv");
                }
            }
        }
        done += k;
    }
    ::close(ep);
}

void idle(const Args& a) {
    if (a.server_pid <= 0) fail("idle needs --server-pid");
    raise_nofile();
    std::vector<int> fds;
    fds.reserve(static_cast<std::size_t>(a.base + a.conns));
    open_pinged(a.port, a.base, fds);
    sleep_s(1.0);
    long rss0 = proc_status_bytes(a.server_pid, "VmRSS");
    open_pinged(a.port, a.conns, fds);
    sleep_s(1.0);
    long rss1 = proc_status_bytes(a.server_pid, "VmRSS");
    std::printf("IDLE base=%d conns=%d rss_base=%ld rss_after=%ld per_conn=%.1f\n", a.base, a.conns, rss0, rss1,
                static_cast<double>(rss1 - rss0) / a.conns);
    std::fflush(stdout);
    linger lg{1, 0};  // close with a reset: no TIME_WAIT for 11,000 sockets
    for (int fd : fds) {
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        ::close(fd);
    }
}

}  // namespace

int main(int argc, char** argv) {
    Args a = parse(argc, argv);
    if (a.mode == "load") {
        Load l;
        l.a = a;
        l.run();
    } else if (a.mode == "idle") {
        idle(a);
    } else {
        fail("mode must be load or idle");
    }
    return 0;
}
