// Limits and slow peers on streams (the reliability program's part 7):
//
//   - StreamReader limit: 1,000 peers flood a server that does not read yet;
//     each reader stops at 2 x limit (+ one recv) and pauses its transport, so
//     the server holds connections x (2 x limit + one recv) at most; a line
//     over the limit raises and is discarded, and every byte after it arrives;
//   - reads larger than the limit (readexactly of 64 x limit, read to EOF)
//     resume the paused transport and complete; readuntil past the limit
//     raises LimitOverrunError;
//   - write high/low water: above the high-water mark drain() waits, and it
//     returns only at or below the low-water mark; the buffer never grows past
//     high + one write;
//   - 1,000 slow readers: a server writes to each with drain(); no
//     connection's write buffer passes high + one write, so the total stays
//     within connections x (high + one write), and every byte arrives.
//
// Connection counts scale with TULIP_STRESS_SCALE (tests/stress/stress.hpp).
#include <sys/socket.h>

#include <algorithm>
#include <any>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tulip/tulip.hpp>

#include "stress/stress.hpp"
#include "support/loop_test.hpp"
#include "support/net.hpp"

namespace stress_slow_peers_test {

using namespace tulip;
using stress::ByteSource;
using stress::figures;
using stress::Fnv1a;
using stress::mib;
using stress::scaled;

class SlowPeers : public stress::StressTest {};

// One recv of a socket transport takes at most this much (its read buffer).
constexpr std::size_t kMaxRecv = 256 * 1024;

void set_buffer(int fd, int opt, int bytes) { ::setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof bytes); }

int fd_of(const StreamWriter& w) { return std::any_cast<int>(w.get_extra_info("socket")); }

// ---- StreamReader limit ------------------------------------------------------------------

constexpr std::size_t kLimit = 16 * 1024;
constexpr std::size_t kLine = 100;  // every line but the first: 99 bytes and "\n"

struct FloodServer {
    std::vector<StreamReader> readers;
    std::vector<StreamWriter> writers;
    Event go;  // the handlers start reading
    int overruns = 0;
    std::vector<std::uint64_t> hashes;  // of the lines after the long one
};

// Waits for `go`, then reads: the first line is too long (ValueError, and it
// is dropped), the rest come intact; answers with their hash.
Coro<void> late_reader(StreamReader r, StreamWriter w, FloodServer* s) {
    s->readers.push_back(r);
    s->writers.push_back(w);
    co_await s->go.wait();
    bool overrun = false;
    try {
        (void)co_await r.readline();
    } catch (const std::invalid_argument&) {
        overrun = true;
    }
    s->overruns += overrun;
    Fnv1a h;
    for (;;) {
        std::string line = co_await r.readline();
        if (line.empty()) break;
        h.update(line);
    }
    s->hashes.push_back(h.value());
    w.write(std::to_string(h.value()) + "\n");
    co_await w.drain();
    w.close();
    co_await w.wait_closed();
}

// kLines lines of kLine bytes, made once: each connection sends them
// starting at a line of its own, so no two send the same stream.
constexpr std::size_t kLines = 4096;
const std::string& line_block() {
    static const std::string block = [] {
        ByteSource src(99);
        std::string b, line;
        for (std::size_t i = 0; i < kLines; ++i) {
            src.fill(line, kLine - 1);
            for (char& c : line) c = static_cast<char>('a' + static_cast<unsigned char>(c) % 26);
            b += line;
            b += '\n';
        }
        return b;
    }();
    return block;
}

// Sends a line of limit + 1,000 bytes, then `lines` lines; checks the answer.
Coro<bool> flood(std::uint16_t port, std::size_t first, std::size_t lines) {
    auto [r, w] = co_await open_connection("127.0.0.1", port);
    w.write(std::string(kLimit + 1000, 'x') + "\n");
    const std::string& block = line_block();
    Fnv1a h;
    for (std::size_t i = 0; i < lines;) {
        // Up to 160 lines (16,000 bytes) at a time, wrapping round the block.
        std::size_t at = (first + i) % kLines;
        std::size_t n = std::min({lines - i, kLines - at, std::size_t{160}});
        std::string_view batch(block.data() + at * kLine, n * kLine);
        h.update(batch);
        w.write(batch);
        i += n;
        co_await w.drain();
    }
    w.write_eof();
    std::string answer = co_await r.readline();
    w.close();
    co_await w.wait_closed();
    co_return answer == std::to_string(h.value()) + "\n";
}

TEST_F(SlowPeers, FloodedReadersStopAtTheirLimitAndLoseNothing) {
    const std::size_t conns = scaled(1000, 10);
    // Each peer sends far more than 2 x limit: every reader fills up and
    // pauses before the server reads (the rest waits in the kernel's buffers
    // and the peer's).
    const std::size_t lines = scaled(4000, 1000);  // 400 KB a connection at full scale
    if (auto why = stress::fd_shortfall(2 * conns + 64); !why.empty()) GTEST_SKIP() << why;
    FloodServer s;
    std::size_t paused = 0, max_buffered = 0, total_buffered = 0, intact = 0;
    stress::reset_peak_rss();
    stress::Stopwatch sw;
    run_bounded(([&]() -> Coro<void> {
        StreamOptions so;
        so.limit = static_cast<std::ptrdiff_t>(kLimit);
        so.server.backlog = static_cast<int>(conns) + 16;
        auto handler = [&s](StreamReader r, StreamWriter w) { return late_reader(r, w, &s); };
        Server server = co_await start_server(handler, "127.0.0.1", 0, so);
        std::vector<Task<bool>> clients;
        for (std::size_t i = 0; i < conns; ++i)
            clients.push_back(create_task(flood(test::port_of(server), i * 7, lines)));
        // Every server-side reader fills up to its limit and stops reading.
        co_await test::eventually([&] {
            if (s.readers.size() < conns) return false;
            for (auto& r : s.readers)
                if (r.buffered() <= 2 * kLimit) return false;
            return true;
        });
        co_await sleep(0.05);  // let anything still in flight land
        for (auto& r : s.readers) {
            max_buffered = std::max(max_buffered, r.buffered());
            total_buffered += r.buffered();
        }
        for (auto& w : s.writers) paused += !w.transport().is_reading();
        s.go.set();
        for (auto& c : clients) intact += co_await c;
        s.readers.clear();
        s.writers.clear();
        server.close();
        co_await server.wait_closed();
    })());
    const double elapsed = sw.seconds();
    EXPECT_LE(max_buffered, 2 * kLimit + kMaxRecv);
    EXPECT_LE(total_buffered, conns * (2 * kLimit + kMaxRecv));
    EXPECT_EQ(paused, conns) << "a reader over its limit kept its transport reading";
    EXPECT_EQ(s.overruns, static_cast<int>(conns)) << "a line over the limit did not raise";
    EXPECT_EQ(intact, conns) << "bytes after the long line were lost";
    figures("SlowPeers.ReaderLimit",
            "connections=" + std::to_string(conns) + " limit=" + std::to_string(kLimit) +
                " bytes_each=" + std::to_string(kLimit + 1001 + lines * kLine) +
                " max_buffered_per_reader=" + std::to_string(max_buffered) + " (bound " +
                std::to_string(2 * kLimit + kMaxRecv) + ") total_buffered_MiB=" + std::to_string(mib(total_buffered)) +
                " transports_paused=" + std::to_string(paused) + " overruns=" + std::to_string(s.overruns) +
                " hashes_matched=" + std::to_string(intact) + " peak_rss_MiB=" +
                std::to_string(mib(stress::peak_rss_bytes())) + " elapsed_s=" + std::to_string(elapsed));
}

// Reads past the limit: readexactly(n) and read() (to EOF) for n far above
// it must resume the paused transport and complete (asyncio's
// _wait_for_data resumes reading), and readuntil() with the separator beyond
// the limit must raise LimitOverrunError, not wait forever.
Coro<void> big_reads(StreamReader r, StreamWriter w, std::size_t n, std::string* verdict) {
    std::string head = co_await r.readexactly(static_cast<std::ptrdiff_t>(n));
    bool overrun = false;
    const std::string newline = "\n";
    try {
        (void)co_await r.readuntil(newline);
    } catch (const LimitOverrunError&) {
        overrun = true;
    }
    std::string rest = co_await r.read();
    Fnv1a h;
    h.update(head);
    h.update(rest);
    *verdict = std::to_string(head.size()) + "+" + std::to_string(rest.size()) + " " + std::to_string(h.value()) +
               (overrun ? " overrun" : " no-overrun");
    w.close();
    co_await w.wait_closed();
}

TEST_F(SlowPeers, ReadsLargerThanTheLimitResumeReadingAndComplete) {
    const std::size_t conns = scaled(100, 2);
    const std::size_t n = scaled(1u << 20, 256u << 10);  // 64 x the limit at full scale
    const std::size_t tail = n / 4;                      // no separator in it: over the limit
    if (auto why = stress::fd_shortfall(2 * conns + 64); !why.empty()) GTEST_SKIP() << why;
    std::vector<std::string> verdicts(conns);
    std::vector<std::string> expected(conns);
    stress::Stopwatch sw;
    run_bounded(([&]() -> Coro<void> {
        StreamOptions so;
        so.limit = static_cast<std::ptrdiff_t>(kLimit);
        std::size_t next = 0;
        auto handler = [&](StreamReader r, StreamWriter w) { return big_reads(r, w, n, &verdicts[next++]); };
        Server server = co_await start_server(handler, "127.0.0.1", 0, so);
        std::vector<Coro<void>> clients;
        for (std::size_t i = 0; i < conns; ++i) {
            clients.push_back(
                ([](std::uint16_t port, std::size_t seed, std::size_t total, std::string* exp) -> Coro<void> {
                    auto [r, w] = co_await open_connection("127.0.0.1", port);
                    std::string data;
                    ByteSource(seed).fill(data, total);
                    for (char& c : data)
                        if (c == '\n') c = ' ';
                    Fnv1a h;
                    h.update(data);
                    *exp = std::to_string(total - total / 5) + "+" + std::to_string(total / 5) + " " +
                           std::to_string(h.value()) + " overrun";
                    w.write(data);
                    w.write_eof();
                    co_await w.drain();
                    std::string eof = co_await r.read();
                    EXPECT_EQ(eof, "");
                    w.close();
                    co_await w.wait_closed();
                })(test::port_of(server), i + 1, n + tail, &expected[i]));
        }
        co_await gather(std::move(clients));
        server.close();
        co_await server.wait_closed();
    })());
    const double elapsed = sw.seconds();
    std::size_t ok = 0;
    for (std::size_t i = 0; i < conns; ++i) ok += verdicts[i] == expected[i];
    EXPECT_EQ(ok, conns) << "first: " << verdicts[0] << " (expected " << expected[0] << ")";
    figures("SlowPeers.ReadsPastTheLimit",
            "connections=" + std::to_string(conns) + " limit=" + std::to_string(kLimit) +
                " readexactly=" + std::to_string(n) + " then_read_to_eof=" + std::to_string(tail) +
                " complete=" + std::to_string(ok) + " elapsed_s=" + std::to_string(elapsed));
}

// ---- write high/low water -----------------------------------------------------------------

// Reads `total` bytes slowly (4 KiB, then a 1 ms pause), hashing them.
Coro<std::uint64_t> slow_read(Socket& s, std::size_t total, std::size_t* got) {
    Fnv1a h;
    while (*got < total) {
        std::string chunk = co_await sock_recv(s, 4096);
        if (chunk.empty()) break;
        h.update(chunk);
        *got += chunk.size();
        co_await sleep(0.001);
    }
    co_return h.value();
}

TEST_F(SlowPeers, DrainWaitsAboveHighWaterAndReturnsAtLowWater) {
    constexpr std::size_t kHigh = 8 * 1024, kLow = 2 * 1024, kChunk = 1024;
    const std::size_t total = scaled(4u << 20, 256u << 10);
    std::pair<std::size_t, std::size_t> defaults{0, 0}, limits{0, 0};
    std::size_t max_size = 0, waits = 0, returned_above_low = 0, got = 0;
    std::uint64_t sent = 0, received = 0;
    stress::Stopwatch sw;
    run_bounded(([&]() -> Coro<void> {
        Socket l = test::listener();
        Socket peer = Socket::create(AF_INET);
        set_buffer(peer.fileno(), SO_RCVBUF, 4096);  // before connecting: a small window
        co_await sock_connect(peer, l.getsockname());
        auto accepted = co_await sock_accept(l);
        set_buffer(accepted.first.fileno(), SO_SNDBUF, 4096);
        auto [r, w] = co_await open_connection(std::move(accepted.first));
        Transport& t = w.transport();
        defaults = t.get_write_buffer_limits();
        t.set_write_buffer_limits(kHigh, kLow);
        limits = t.get_write_buffer_limits();
        Task<std::uint64_t> reader = create_task(slow_read(peer, total, &got));
        ByteSource src(7);
        Fnv1a h;
        std::string chunk;
        for (std::size_t n = 0; n < total; n += kChunk) {
            src.fill(chunk, kChunk);
            h.update(chunk);
            w.write(chunk);
            max_size = std::max(max_size, t.get_write_buffer_size());
            bool above = t.get_write_buffer_size() > kHigh;
            co_await w.drain();
            if (above) {
                ++waits;
                returned_above_low += t.get_write_buffer_size() > kLow;
            }
        }
        sent = h.value();
        received = co_await reader;
        w.close();
        co_await w.wait_closed();
    })());
    const double elapsed = sw.seconds();
    // (low, high), as asyncio's get_write_buffer_limits.
    EXPECT_EQ(defaults, (std::pair<std::size_t, std::size_t>(16 * 1024, 64 * 1024)));
    EXPECT_EQ(limits, (std::pair<std::size_t, std::size_t>(kLow, kHigh)));
    EXPECT_LE(max_size, kHigh + kChunk) << "the write buffer grew past high water + one write";
    EXPECT_GT(waits, 0u) << "the peer never pushed back: the test did not reach high water";
    EXPECT_EQ(returned_above_low, 0u) << "drain() returned above the low-water mark";
    EXPECT_EQ(got, total);
    EXPECT_EQ(received, sent);
    figures("SlowPeers.WaterMarks",
            "bytes=" + std::to_string(total) + " high=" + std::to_string(kHigh) + " low=" + std::to_string(kLow) +
                " max_buffer=" + std::to_string(max_size) + " drain_waits=" + std::to_string(waits) +
                " hash_matched=" + (received == sent ? "yes" : "no") + " elapsed_s=" + std::to_string(elapsed));
}

// ---- 1,000 slow readers -------------------------------------------------------------------

constexpr std::size_t kWrite = 16 * 1024;

struct WriterServer {
    std::size_t per_conn = 0;
    std::size_t max_per_conn = 0;  // the largest write buffer seen on any connection
    std::size_t total = 0;         // sum of the connections' write buffers, as last seen
    std::size_t max_total = 0;
    std::size_t waits = 0;
    std::vector<std::uint64_t> hashes;
};

// Writes per_conn bytes with drain() after each write, watching the buffer.
Coro<void> write_to_slow_reader(StreamReader, StreamWriter w, WriterServer* s, std::uint64_t seed) {
    set_buffer(fd_of(w), SO_SNDBUF, 4096);
    Transport& t = w.transport();
    const std::size_t high = t.get_write_buffer_limits().second;  // (low, high)
    std::size_t mine = 0;                                         // this connection's share of s->total
    ByteSource src(seed);
    Fnv1a h;
    std::string chunk;
    for (std::size_t n = 0; n < s->per_conn; n += kWrite) {
        src.fill(chunk, kWrite);
        h.update(chunk);
        w.write(chunk);
        std::size_t now = t.get_write_buffer_size();
        s->total = s->total - mine + now;
        mine = now;
        s->max_per_conn = std::max(s->max_per_conn, now);
        s->max_total = std::max(s->max_total, s->total);
        s->waits += now > high;
        co_await w.drain();
        now = t.get_write_buffer_size();
        s->total = s->total - mine + now;
        mine = now;
    }
    s->hashes.push_back(h.value());
    w.close();
    co_await w.wait_closed();
    s->total -= mine;
}

// A slow reader over a raw socket with a small receive buffer.
Coro<std::uint64_t> slow_client(SocketAddress addr, std::size_t total, std::size_t* got) {
    Socket c = Socket::create(AF_INET);
    set_buffer(c.fileno(), SO_RCVBUF, 4096);
    co_await sock_connect(c, addr);
    std::uint64_t h = co_await slow_read(c, total, got);
    std::string rest = co_await sock_recv(c, 1);
    EXPECT_EQ(rest, "");
    co_return h;
}

TEST_F(SlowPeers, AThousandSlowReadersKeepServerMemoryBounded) {
    const std::size_t conns = scaled(1000, 20);
    if (auto why = stress::fd_shortfall(2 * conns + 64); !why.empty()) GTEST_SKIP() << why;
    WriterServer s;
    s.per_conn = scaled(256 * 1024, 128 * 1024);
    std::vector<std::size_t> got(conns, 0);
    std::vector<std::uint64_t> client_hashes;
    std::size_t high = 0, rss_before = stress::rss_bytes();
    stress::reset_peak_rss();
    stress::Stopwatch sw;
    run_bounded(([&]() -> Coro<void> {
        std::uint64_t next_seed = 1;
        auto handler = [&s, &next_seed](StreamReader r, StreamWriter w) {
            return write_to_slow_reader(r, w, &s, next_seed++);
        };
        StreamOptions so;
        so.server.backlog = static_cast<int>(conns) + 16;
        Server server = co_await start_server(handler, "127.0.0.1", 0, so);
        high = 64 * 1024;
        std::vector<Coro<std::uint64_t>> clients;
        for (std::size_t i = 0; i < conns; ++i)
            clients.push_back(slow_client(server.addresses().at(0), s.per_conn, &got[i]));
        client_hashes = co_await gather(std::move(clients));
        co_await test::eventually([&] { return s.hashes.size() == conns; });
        server.close();
        co_await server.wait_closed();
    })());
    const double elapsed = sw.seconds();
    const std::size_t peak = stress::peak_rss_bytes();
    std::size_t complete = 0;
    for (auto g : got) complete += g == s.per_conn;
    std::sort(client_hashes.begin(), client_hashes.end());
    std::sort(s.hashes.begin(), s.hashes.end());
    EXPECT_EQ(complete, conns);
    EXPECT_EQ(client_hashes, s.hashes) << "a slow reader got other bytes than were written to it";
    EXPECT_LE(s.max_per_conn, high + kWrite) << "a write buffer grew past high water + one write";
    EXPECT_LE(s.max_total, conns * (high + kWrite)) << "the server's buffered bytes were not bounded";
    EXPECT_GT(s.waits, 0u) << "no reader was slow enough to push back";
    EXPECT_EQ(s.total, 0u);
    figures("SlowPeers.SlowReaders",
            "connections=" + std::to_string(conns) + " bytes_each=" + std::to_string(s.per_conn) +
                " write=" + std::to_string(kWrite) + " high=" + std::to_string(high) + " max_buffer_per_conn=" +
                std::to_string(s.max_per_conn) + " max_total_buffered_MiB=" + std::to_string(mib(s.max_total)) +
                " (bound " + std::to_string(mib(conns * (high + kWrite))) + ") drain_waits=" + std::to_string(s.waits) +
                " complete=" + std::to_string(complete) + " rss_before_MiB=" + std::to_string(mib(rss_before)) +
                " peak_rss_MiB=" + std::to_string(mib(peak)) + " elapsed_s=" + std::to_string(elapsed));
}

}  // namespace stress_slow_peers_test
