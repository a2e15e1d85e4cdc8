// The fail-count sweep and the other fault modes of tests/support/fail_count.hpp
// (Boost.Beast's test::fail_count through tulip's syscall seam, src/core/sys)
// over the net and streams scenarios: TCP, Unix and UDP, streams, sock_*,
// servers with several clients, half-close, sendfile and pipes. The loop's
// (signals, executor), the subprocess, TLS and HTTP scenarios are in their
// layers' fail_count_test.cpp.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <tulip/tulip.hpp>

#include "../../src/core/sys.hpp"
#include "support/fail_count.hpp"
#include "support/loop_test.hpp"
#include "support/net.hpp"

namespace net_fail_count_test {

using namespace tulip;
using test::fail_count::Scenario;

namespace {

class FailCount : public test::fail_count::FailCountTest {};

// Three messages each way, then a half-close and a close.
Coro<void> talk(StreamReader& reader, StreamWriter& writer, bool& corrupt) {
    for (int i = 0; i < 3; ++i) {
        std::string m = "message " + std::to_string(i) + "\n";
        writer.write(m);
        co_await writer.drain();
        std::string back = co_await reader.readline();
        if (back != m) {
            // A line cut by a reset is an error the caller sees (readline returns
            // a partial line only at EOF); anything else is corruption.
            if (!reader.at_eof()) corrupt = true;
            throw std::runtime_error("connection ended early");
        }
    }
    writer.write_eof();
    std::string rest = co_await reader.read();
    if (!rest.empty()) corrupt = true;
    writer.close();
    co_await writer.wait_closed();
}

// Runs body (which connects lazily, when awaited there), then closes the
// server however the body ended.
Coro<void> then_close(Server server, Coro<void> body) {
    std::exception_ptr failed;
    try {
        co_await std::move(body);
    } catch (...) {
        failed = std::current_exception();
    }
    server.close();
    co_await server.wait_closed();
    if (failed) std::rethrow_exception(failed);
}

Coro<void> connect_and_talk(Coro<StreamPair> connecting, bool& corrupt) {
    auto [reader, writer] = co_await std::move(connecting);
    co_await talk(reader, writer, corrupt);
}

// A Unix socket path of this process, unlinked however the run ends (a
// timed-out run's frame is destroyed too).
struct UnixPath {
    std::string path = "/tmp/tulip-failcount-" + std::to_string(::getpid()) + ".sock";
    UnixPath() { ::unlink(path.c_str()); }
    ~UnixPath() { ::unlink(path.c_str()); }
};

// An in-memory file of n pattern bytes, closed with the scenario's frame.
struct MemFile {
    int fd = -1;
    explicit MemFile(std::size_t n) {
        std::string data = test::pattern(0, n);  // (before the fd: it may throw)
        fd = ::memfd_create("tulip-failcount", MFD_CLOEXEC);
        if (fd < 0 || ::write(fd, data.data(), data.size()) != static_cast<long>(data.size()))
            throw std::runtime_error("memfd");
        ::lseek(fd, 0, SEEK_SET);  // as a file just opened (the fallback reads from here)
    }
    ~MemFile() {
        if (fd >= 0) ::close(fd);
    }
};

// Reads to EOF and checks the bytes are the pattern's; a short stream (a
// failure on the way) is a clean error, not corruption.
Coro<void> expect_pattern(StreamReader reader, std::size_t n, bool& corrupt) {
    std::string got = co_await reader.read();
    if (got != test::pattern(0, got.size())) corrupt = true;
    if (got.size() != n) throw std::runtime_error("short: " + std::to_string(got.size()));
}

// ---- streams ---------------------------------------------------------------------

TEST_F(FailCount, StreamsEchoOverTcp) {
    sweep({[](bool& corrupt) -> Coro<void> {
        Server server = co_await start_server(test::echo_lines, "127.0.0.1", 0);
        auto port = test::port_of(server);
        co_await then_close(server, connect_and_talk(open_connection("127.0.0.1", port), corrupt));
    }});
}

TEST_F(FailCount, StreamsEchoOverUnixSockets) {
    sweep({[](bool& corrupt) -> Coro<void> {
        UnixPath p;
        Server server = co_await start_unix_server(test::echo_lines, p.path);
        co_await then_close(server, connect_and_talk(open_unix_connection(p.path), corrupt));
    }});
}

TEST_F(FailCount, OpenConnectionRefused) {
    sweep({[](bool&) -> Coro<void> {
        SocketAddress nobody = test::closed_address();
        bool refused = false;
        try {
            auto pair = co_await open_connection("127.0.0.1", nobody.port());
        } catch (const ConnectionRefusedError&) {
            refused = true;
        }
        if (!refused) throw std::runtime_error("connected to a closed port");
    }});
}

// start_server's accept loop with four clients at once, each talking.
TEST_F(FailCount, ServerAcceptLoopWithFourClients) {
    Scenario s{[](bool& corrupt) -> Coro<void> {
        Server server = co_await start_server(test::echo_lines, "127.0.0.1", 0);
        auto port = test::port_of(server);
        co_await then_close(server, task_group([&](TaskGroup& tg) -> Coro<void> {
                                for (int i = 0; i < 4; ++i)
                                    tg.create_task(connect_and_talk(open_connection("127.0.0.1", port), corrupt));
                                co_return;
                            }));
    }};
    s.accept_emfile = true;  // the binary's one run that waits out the accept retry delay
    sweep(s);
}

// A framed reply read with readuntil, readexactly, read(n) and readuntil of
// several separators, then read() to EOF.
Coro<void> send_frames(StreamReader reader, StreamWriter writer) {
    (void)co_await reader.readline();  // the request
    std::string body = test::pattern(0, 5000);
    writer.write("HEAD\r\n");
    writer.write(std::to_string(body.size()) + ":");
    writer.write(body);
    writer.write("abcfield;other,rest");
    co_await writer.drain();
    writer.close();
    co_await writer.wait_closed();
}

Coro<void> read_frames(StreamPair pair, bool& corrupt) {
    StreamReader& reader = pair.first;
    StreamWriter& writer = pair.second;
    writer.write("GET\n");
    co_await writer.drain();
    // (No co_await inside a condition: GCC 12 miscompiles it.)
    std::string head = co_await reader.readuntil(std::string("\r\n"));
    if (head != "HEAD\r\n") corrupt = true;
    std::string len = co_await reader.readuntil(std::string(":"));
    std::size_t n = std::stoul(len.substr(0, len.size() - 1));
    if (n != 5000) corrupt = true;
    std::string body = co_await reader.readexactly(static_cast<std::ptrdiff_t>(n));
    if (body != test::pattern(0, n)) corrupt = true;
    // read(n) returns what is there, up to n: at least one byte before EOF.
    std::string abc = co_await reader.read(3);
    if (abc.empty()) throw std::runtime_error("EOF too early");
    if (abc.size() < 3) abc += co_await reader.readexactly(static_cast<std::ptrdiff_t>(3 - abc.size()));
    if (abc != "abc") corrupt = true;
    std::vector<std::string> separators;  // (no braced list in a co_await: GCC 12 rejects it)
    separators.emplace_back(",");
    separators.emplace_back(";");
    std::string field = co_await reader.readuntil(std::move(separators));
    if (field != "field;") corrupt = true;
    std::string other = co_await reader.readuntil(std::string(","));
    if (other != "other,") corrupt = true;
    std::string rest = co_await reader.read();
    if (rest != "rest") corrupt = true;
    writer.close();
    co_await writer.wait_closed();
}

TEST_F(FailCount, StreamReaderReadMethods) {
    sweep({[](bool& corrupt) -> Coro<void> {
        Server server = co_await start_server(send_frames, "127.0.0.1", 0);
        auto port = test::port_of(server);
        co_await then_close(server, [](std::uint16_t port, bool& corrupt) -> Coro<void> {
            co_await read_frames(co_await open_connection("127.0.0.1", port), corrupt);
        }(port, corrupt));
    }});
}

// 256 KiB written in 64 KiB pieces, each drained: the kernel buffers fill, so
// sends come back short and drain() waits for the buffer to go down.
constexpr std::size_t kLarge = 256 * 1024;

Coro<void> count_and_ack(StreamReader reader, StreamWriter writer) {
    std::string got = co_await reader.read();
    bool same = got == test::pattern(0, got.size());
    writer.write(std::to_string(got.size()) + (same ? " ok\n" : " bad\n"));
    co_await writer.drain();
    writer.close();
    co_await writer.wait_closed();
}

TEST_F(FailCount, StreamWriterDrainOfALargePayload) {
    Scenario s{[](bool& corrupt) -> Coro<void> {
        Server server = co_await start_server(count_and_ack, "127.0.0.1", 0);
        auto port = test::port_of(server);
        co_await then_close(server, [](std::uint16_t port, bool& corrupt) -> Coro<void> {
            auto [reader, writer] = co_await open_connection("127.0.0.1", port);
            for (std::size_t off = 0; off < kLarge; off += 65536) {
                writer.write(test::pattern(off, 65536));
                co_await writer.drain();
            }
            writer.write_eof();
            std::string ack = co_await reader.readline();
            if (ack.find("bad") != std::string::npos) corrupt = true;
            if (ack != std::to_string(kLarge) + " ok\n") throw std::runtime_error("server saw " + ack);
            writer.close();
            co_await writer.wait_closed();
        }(port, corrupt));
    }};
    s.short_io_limit = 4096;
    sweep(s);
}

// The client half-closes after its request; the server reads to EOF, answers
// and closes; the client reads the answer to EOF.
Coro<void> answer_at_eof(StreamReader reader, StreamWriter writer) {
    std::string req = co_await reader.read();
    writer.write(std::string(req.rbegin(), req.rend()));
    co_await writer.drain();
    writer.close();
    co_await writer.wait_closed();
}

TEST_F(FailCount, HalfCloseThenAnswer) {
    sweep({[](bool& corrupt) -> Coro<void> {
        Server server = co_await start_server(answer_at_eof, "127.0.0.1", 0);
        auto port = test::port_of(server);
        co_await then_close(server, [](std::uint16_t port, bool& corrupt) -> Coro<void> {
            auto [reader, writer] = co_await open_connection("127.0.0.1", port);
            std::string req = test::pattern(0, 3000);
            writer.write(req);
            writer.write_eof();
            co_await writer.drain();
            std::string answer = co_await reader.read();
            if (answer != std::string(req.rbegin(), req.rend()).substr(0, answer.size())) corrupt = true;
            if (answer.size() != req.size()) throw std::runtime_error("short answer");
            writer.close();
            co_await writer.wait_closed();
        }(port, corrupt));
    }});
}

// ---- sock_* ----------------------------------------------------------------------

TEST_F(FailCount, SockOpsOverTcp) {
    Scenario s{[](bool& corrupt) -> Coro<void> {
        Socket listener = test::listener();
        Socket client = Socket::create(AF_INET);
        co_await sock_connect(client, listener.getsockname());
        auto [conn, peer] = co_await sock_accept(listener);
        std::string data = test::pattern(0, 100000);
        co_await sock_sendall(client, data);
        std::string got;
        while (got.size() < data.size()) {
            std::string part = co_await sock_recv(conn, 65536);
            if (part.empty()) break;
            got += part;
        }
        if (got != data.substr(0, got.size())) corrupt = true;
        if (got.size() != data.size()) throw std::runtime_error("short");
    }};
    s.short_io_limit = 1000;
    sweep(s);
}

TEST_F(FailCount, SockSendallOfALargePayloadOverASocketpair) {
    Scenario s{[](bool& corrupt) -> Coro<void> {
        auto [a, b] = Socket::pair();
        std::string data = test::pattern(0, kLarge);
        std::string got;
        // A task group: the side that fails cancels the other.
        co_await task_group([&](TaskGroup& tg) -> Coro<void> {
            tg.create_task(sock_sendall(a, data));
            tg.create_task([](Socket& b, std::string& got) -> Coro<void> {
                std::vector<char> buf(65536);
                while (got.size() < kLarge) {
                    std::size_t n = co_await sock_recv_into(b, buf);
                    if (n == 0) break;
                    got.append(buf.data(), n);
                }
            }(b, got));
            co_return;
        });
        if (got != data.substr(0, got.size())) corrupt = true;
        if (got.size() != data.size()) throw std::runtime_error("short");
    }};
    s.short_io_limit = 4096;
    sweep(s);
}

TEST_F(FailCount, SockConnectRefused) {
    sweep({[](bool&) -> Coro<void> {
        SocketAddress nobody = test::closed_address();
        Socket s = Socket::create(AF_INET);
        bool refused = false;
        try {
            co_await sock_connect(s, nobody);
        } catch (const ConnectionRefusedError&) {
            refused = true;
        }
        if (!refused) throw std::runtime_error("connected to a closed port");
    }});
}

TEST_F(FailCount, SockOpsOverUdp) {
    sweep({[](bool& corrupt) -> Coro<void> {
        Socket a = Socket::create(AF_INET, SOCK_DGRAM);
        Socket b = Socket::create(AF_INET, SOCK_DGRAM);
        a.bind(SocketAddress::from_ip("127.0.0.1", 0));
        b.bind(SocketAddress::from_ip("127.0.0.1", 0));
        for (int i = 0; i < 3; ++i) {
            std::string m = "datagram " + std::to_string(i);
            co_await sock_sendto(a, m, b.getsockname());
            auto [got, from] = co_await sock_recvfrom(b, 100);
            if (got != m || from.port() != a.getsockname().port()) corrupt = true;
        }
    }});
}

// ---- UDP endpoints ---------------------------------------------------------------

// A datagram protocol that echoes (server) or collects (client).
struct Udp : DatagramProtocol {
    explicit Udp(bool echo) : echo(echo) {}
    void connection_made(DatagramTransport& tr) override { t = &tr; }
    void datagram_received(std::string_view d, const SocketAddress& from) override {
        if (echo) {
            t->sendto(d, &from);
        } else {
            got.emplace_back(d);
        }
    }
    void error_received(std::exception_ptr e) override { error = e; }
    void connection_lost(std::exception_ptr) override { lost = true; }
    bool echo;
    DatagramTransport* t = nullptr;
    std::vector<std::string> got;
    std::exception_ptr error;
    bool lost = false;
};

// Both sides are create_datagram_endpoint's; a lost datagram (UDP's right) is
// sent again, up to 20 times.
TEST_F(FailCount, DatagramEndpointsBothSides) {
    sweep({[](bool& corrupt) -> Coro<void> {
        DatagramOptions so;
        so.local_addr = SocketAddress::from_ip("127.0.0.1", 0);
        auto server = co_await create_datagram_endpoint([] { return std::make_unique<Udp>(true); }, so);
        struct Closer {
            Ref<DatagramTransport> t;
            ~Closer() { t->close(); }
        } close_server{server.first};
        DatagramOptions co;
        co.remote_addr = std::any_cast<SocketAddress>(server.first->get_extra_info("sockname"));
        auto client = co_await create_datagram_endpoint([] { return std::make_unique<Udp>(false); }, co);
        Closer close_client{client.first};
        Udp& c = *client.second;
        for (int i = 0; i < 3; ++i) {
            std::string m = "datagram " + std::to_string(i);
            for (int tries = 0; tries < 20; ++tries) {
                if (c.error) std::rethrow_exception(c.error);
                if (c.lost) throw std::runtime_error("client endpoint lost");
                c.got.clear();
                client.first->sendto(m);
                for (int w = 0; w < 20 && c.got.empty() && !c.error; ++w) co_await sleep(0.001);
                if (!c.got.empty()) break;
            }
            if (c.got.empty()) throw std::runtime_error("no echo after 20 tries");
            if (c.got.front() != m) corrupt = true;
        }
    }});
}

// ---- sendfile --------------------------------------------------------------------

constexpr std::size_t kFileSize = 256 * 1024;

TEST_F(FailCount, LoopSendfileOverAStreamTransport) {
    Scenario s{[](bool& corrupt) -> Coro<void> {
        MemFile file(kFileSize);
        Server server = co_await start_server(count_and_ack, "127.0.0.1", 0);
        auto port = test::port_of(server);
        co_await then_close(server, [](std::uint16_t port, int fd, bool& corrupt) -> Coro<void> {
            auto [reader, writer] = co_await open_connection("127.0.0.1", port);
            std::size_t n = co_await sendfile(Ref<BaseTransport>(&writer.transport()), fd);
            if (n != kFileSize) corrupt = true;
            writer.write_eof();
            std::string ack = co_await reader.readline();
            if (ack.find("bad") != std::string::npos) corrupt = true;
            if (ack != std::to_string(kFileSize) + " ok\n") throw std::runtime_error("server saw " + ack);
            writer.close();
            co_await writer.wait_closed();
        }(port, file.fd, corrupt));
    }};
    s.short_io_limit = 4096;
    sweep(s);
}

TEST_F(FailCount, SockSendfile) {
    Scenario s{[](bool& corrupt) -> Coro<void> {
        MemFile file(kFileSize);
        auto [a, b] = co_await test::tcp_pair();
        std::string got;
        co_await task_group([&](TaskGroup& tg) -> Coro<void> {
            tg.create_task([](Socket& a, int fd) -> Coro<void> {
                std::size_t n = co_await sock_sendfile(a, fd);
                if (n != kFileSize) throw std::runtime_error("sock_sendfile sent " + std::to_string(n));
                a.shutdown(SHUT_WR);
            }(a, file.fd));
            tg.create_task(
                [](Socket& b, std::string& got) -> Coro<void> { got = co_await test::recv_until_eof(b); }(b, got));
            co_return;
        });
        if (got != test::pattern(0, got.size())) corrupt = true;
        if (got.size() != kFileSize) throw std::runtime_error("short");
    }};
    s.short_io_limit = 4096;
    sweep(s);
}

// ---- pipes -----------------------------------------------------------------------

// 200 kB through a pipe, both ends pipe transports (their I/O is read(2)
// and write(2)), the writer drained then closed, the reader read to EOF.
TEST_F(FailCount, StreamsOverAPipe) {
    Scenario s{[](bool& corrupt) -> Coro<void> {
        int p[2];
        if (::pipe2(p, O_CLOEXEC) < 0) throw std::system_error(errno, std::generic_category(), "pipe2");
        // Each end is owned here until its transport takes it over.
        struct Fd {
            int fd;
            ~Fd() {
                if (fd >= 0) ::close(fd);
            }
        } r{p[0]}, w{p[1]};
        StreamWriter writer = co_await open_write_pipe(w.fd);
        w.fd = -1;
        StreamReader reader = co_await open_read_pipe(r.fd);
        r.fd = -1;
        constexpr std::size_t n = 200000;
        co_await task_group([&](TaskGroup& tg) -> Coro<void> {
            tg.create_task([](StreamWriter writer) -> Coro<void> {
                for (std::size_t off = 0; off < n; off += 10000) {
                    writer.write(test::pattern(off, 10000));
                    co_await writer.drain();
                }
                writer.close();
                co_await writer.wait_closed();
            }(writer));
            tg.create_task(expect_pattern(reader, n, corrupt));
            co_return;
        });
    }};
    s.short_io_limit = 512;
    sweep(s);
}

// ---- what the sweeps found ---------------------------------------------------------
// (The sweep runs that found each bug are named in docs/reliability.md, section 3.)

// sendfile(2) to a TCP socket whose peer has closed sends its first 64 KiB,
// then returns that count and raises SIGPIPE: the seam consumed the signal
// only when the call failed with EPIPE, so it was delivered when the seam
// unblocked it, and killed the process.
TEST(FailCountFindings, ASendfileCutShortByAClosedPeerLeavesNoSigpipe) {
    struct sigaction sa {};
    ::sigaction(SIGPIPE, nullptr, &sa);
    if (sa.sa_handler != SIG_DFL) GTEST_SKIP() << "SIGPIPE is not at its default disposition";
    Socket l = test::listener();
    int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(c, 0);
    SocketAddress to = l.getsockname();
    ASSERT_EQ(::connect(c, to.data(), to.size()), 0);
    int s = ::accept4(l.fileno(), nullptr, nullptr, SOCK_CLOEXEC);
    ASSERT_GE(s, 0);
    ::close(s);  // the peer goes away; its FIN arrives
    pollfd pf{c, POLLIN, 0};
    ASSERT_EQ(::poll(&pf, 1, 5000), 1);
    int file = ::memfd_create("tulip-sigpipe", MFD_CLOEXEC);
    ASSERT_GE(file, 0);
    ASSERT_EQ(::ftruncate(file, 8 << 20), 0);
    long off = 0;
    long n = 1;
    for (int i = 0; i < 10 && n > 0; ++i) n = detail::sys::sendfile(c, file, &off, (8 << 20) - off);
    EXPECT_EQ(n, -1);
    EXPECT_EQ(errno, EPIPE);
    // Still alive here; and no SIGPIPE left pending for later.
    sigset_t pending;
    ::sigpending(&pending);
    EXPECT_FALSE(::sigismember(&pending, SIGPIPE));
    ::close(file);
    ::close(c);
}

// TaskGroup::create_task schedules the task, then adopts it: a bad_alloc in
// between left the task running with nobody to wait for it or see its
// failure. Now it is cancelled before it runs.
TEST(FailCountFindings, ATaskTheGroupCannotAdoptIsCancelled) {
    using test::fail_count::alloc_fault;
    using test::fail_count::AllocFault;
    for (long k = 1; k <= 8; ++k) {
        auto loop = new_event_loop();
        bool threw = false;
        bool ran = false;
        loop->run_until_complete(task_group([&](TaskGroup& tg) -> Coro<void> {
            Coro<void> child = [](bool& ran) -> Coro<void> {
                ran = true;
                co_return;
            }(ran);
            alloc_fault = AllocFault{true, 0, k, false};
            try {
                tg.create_task(std::move(child));
            } catch (const std::bad_alloc&) {
                threw = true;
            }
            alloc_fault = AllocFault{};
            co_return;
        }));
        loop->run_until_complete(sleep(0));
        EXPECT_TRUE(all_tasks(*loop).empty()) << "k=" << k;
        if (threw) {
            EXPECT_FALSE(ran) << "k=" << k << ": create_task threw, yet the task ran";
        }
        loop->close();
    }
}

// task_group()'s wait for its children allocated (exit()'s coroutine frame, a
// Future per wait): a bad_alloc there ended task_group() while the children
// still ran on the body's locals (a use after free, found under ASan by the
// sock_sendfile scenario). Now every allocation fails from the moment the
// body returns until a child has finished: the group still waits, and the
// child's write to the body's local lands before task_group() returns. (Under
// ASan coroutine frames and futures come from operator new, so the old code
// fails here; elsewhere the frame pool may have hidden it.)
TEST(FailCountFindings, TaskGroupWaitsForItsChildrenWithoutAllocating) {
    using test::fail_count::alloc_fault;
    using test::fail_count::AllocFault;
    auto loop = new_event_loop();
    bool attempted = false;
    int written = 0;
    auto main = [&]() -> Coro<void> {
        int local = 0;
        co_await task_group([&](TaskGroup& tg) -> Coro<void> {
            tg.create_task([](int& out, bool& attempted) -> Coro<void> {
                co_await sleep(0.01);
                // Whether the wait tried to allocate; stop failing, then finish.
                attempted = alloc_fault.failed;
                alloc_fault = AllocFault{};
                out = 42;
            }(local, attempted));
            co_await sleep(0);                            // the child is parked on its timer
            alloc_fault = AllocFault{true, 0, 1, false};  // the next allocation fails
            co_return;
        });
        written = local;
    };
    loop->run_until_complete(main());
    alloc_fault = AllocFault{};
    EXPECT_FALSE(attempted) << "task_group() allocated while it waited for its children";
    EXPECT_EQ(written, 42);
    EXPECT_TRUE(all_tasks(*loop).empty());
    loop->close();
}

// close() scheduled connection_lost with call_soon: when that allocation
// failed the transport was left closing, its fd open and the peer waiting
// for EOF forever (the StreamReader scenario hung), and a close() in a
// destructor (the UDP scenario's) ended in std::terminate. Now
// connection_lost's node is part of the transport. The next allocation after
// close() fails: close() must not make one. (Under ASan the nodes come from
// operator new, so the old code fails here; elsewhere the frame pool may have
// hidden it.)
TEST(FailCountFindings, ClosingATransportAllocatesNothing) {
    using test::fail_count::alloc_fault;
    using test::fail_count::AllocFault;
    auto loop = new_event_loop();
    bool attempted = true;
    std::string after_close = "not read";
    bool lost = false;
    loop->run_until_complete([](bool& attempted, std::string& after_close, bool& lost) -> Coro<void> {
        auto [a, b] = co_await test::tcp_pair();
        struct Proto : Protocol {
            explicit Proto(bool* lost) : lost(lost) {}
            void data_received(std::string_view) override {}
            void connection_lost(std::exception_ptr) override { *lost = true; }
            bool* lost;
        };
        Ref<Transport> t = make_socket_transport(get_running_loop(), std::move(a), std::make_unique<Proto>(&lost));
        co_await sleep(0);  // connection_made has run, the transport reads
        attempted = test::fail_count::next_allocation_fails_in([&] { t->close(); });
        after_close = co_await test::recv_until_eof(b);
    }(attempted, after_close, lost));
    alloc_fault = AllocFault{};
    EXPECT_FALSE(attempted) << "close() allocated";
    EXPECT_EQ(after_close, "") << "the peer saw EOF";
    EXPECT_TRUE(lost) << "connection_lost ran";

    // The datagram transport shares the close path.
    bool udp_attempted = true;
    bool udp_lost = false;
    loop->run_until_complete([](bool& attempted, bool& lost) -> Coro<void> {
        DatagramOptions o;
        o.local_addr = SocketAddress::from_ip("127.0.0.1", 0);
        auto [t, udp] = co_await create_datagram_endpoint([] { return std::make_unique<Udp>(false); }, o);
        attempted = test::fail_count::next_allocation_fails_in([&] { t->close(); });
        for (int i = 0; i < 10 && !udp->lost; ++i) co_await sleep(0);
        lost = udp->lost;
    }(udp_attempted, udp_lost));
    alloc_fault = AllocFault{};
    EXPECT_FALSE(udp_attempted) << "a datagram transport's close() allocated";
    EXPECT_TRUE(udp_lost) << "the datagram protocol's connection_lost ran";
    loop->close();
}

// resume_reading() watches the fd again, which allocates: when that failed
// inside a destructor (sendfile's scope, resuming the reading it paused) the
// process ended in std::terminate, and elsewhere the transport was left
// neither paused nor reading. Now the transport closes, as when it cannot
// start reading, and nothing escapes resume_reading().
TEST(FailCountFindings, AResumeReadingThatCannotWatchTheFdClosesTheTransport) {
    using test::fail_count::alloc_fault;
    using test::fail_count::AllocFault;
    auto loop = new_event_loop();
    bool failed = false;
    test::Record rec;
    loop->run_until_complete([](bool& failed, test::Record& rec) -> Coro<void> {
        auto [a, b] = co_await test::tcp_pair();
        Ref<Transport> t =
            make_socket_transport(get_running_loop(), std::move(a), std::make_unique<test::Recorder>(&rec));
        co_await sleep(0);  // connection_made has run
        t->pause_reading();
        failed = test::fail_count::next_allocation_fails_in([&] { t->resume_reading(); });
        if (failed) {
            EXPECT_EQ(co_await test::recv_until_eof(b), "") << "the transport closed";
            co_await test::eventually([&] { return rec.lost > 0; });
        } else {  // the pool served it (no ASan): the transport simply reads again
            co_await sock_sendall(b, "x");
            co_await test::eventually([&] { return rec.data == "x"; });
            t->close();
            co_await test::eventually([&] { return rec.lost > 0; });
        }
    }(failed, rec));
    alloc_fault = AllocFault{};
    EXPECT_EQ(rec.lost, 1);
#if defined(__SANITIZE_ADDRESS__)
    EXPECT_TRUE(failed) << "resume_reading() made no allocation to fail";
#endif
    loop->close();
}

}  // namespace

}  // namespace net_fail_count_test

// The enomem mode's allocator hook, for the whole net_tests binary (it counts
// only while a sweep runs a scenario).
TULIP_FAIL_COUNT_ALLOC_HOOK();
