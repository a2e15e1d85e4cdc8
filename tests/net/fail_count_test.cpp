// The fail-count sweep (Boost.Beast's test::fail_count, through tulip's
// syscall seam, src/core/sys): a scenario is run once to count the syscalls it
// makes through the seam (n), then n more times, the k-th run failing the
// k-th call with the errno a misbehaving peer or kernel gives there. Every run
// must end in the scenario's correct result or a clean exception, within a
// bound (no hang), with every fd it opened closed; data that arrives must be
// right. Each run has a loop of its own.
#include <sys/socket.h>

#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <functional>
#include <string>

#include <tulip/tulip.hpp>

#include "support/loop_test.hpp"
#include "support/net.hpp"

namespace net_fail_count_test {

using namespace tulip;

namespace {

struct Sweep {
    int calls = 0;       // seam calls seen in this run
    int fail_at = 0;     // the call to fail (1-based); 0: none
    std::string failed;  // the syscall that was failed
};
Sweep sweep;

// The errno each call gets when it is the one to fail: what a peer's reset,
// a refused connect or the kernel's interruptions give there.
int errno_for(const char* name) {
    if (std::strcmp(name, "epoll_wait") == 0) return EINTR;  // must be invisible
    if (std::strcmp(name, "recv") == 0) return ECONNRESET;
    if (std::strcmp(name, "send") == 0 || std::strcmp(name, "writev") == 0) return EPIPE;
    if (std::strcmp(name, "sendfile") == 0) return EPIPE;
    if (std::strcmp(name, "accept4") == 0) return ECONNABORTED;
    if (std::strcmp(name, "connect") == 0) return ECONNREFUSED;
    if (std::strcmp(name, "recvfrom") == 0) return ECONNREFUSED;
    if (std::strcmp(name, "sendto") == 0) return ENOBUFS;
    return EIO;
}

int sweep_hook(const char* name) {
    if (++sweep.calls != sweep.fail_at) return 0;
    sweep.failed = name;
    return errno_for(name);
}

using Scenario = std::function<Coro<void>(bool& corrupt)>;

struct Outcome {
    int seam_calls = 0;
    bool completed = false;
    bool timed_out = false;
    bool corrupt = false;
    std::string error;
};

Outcome run_with_fault(const Scenario& scenario, int fail_at) {
    Outcome out;
    sweep = Sweep{0, fail_at, {}};
    auto loop = new_event_loop();
    // Failures on the server side are reported to the handler (as asyncio's
    // "Unhandled exception in client_connected_cb"): expected here.
    loop->set_exception_handler([](EventLoop&, const ExceptionContext&) {});
    detail::sys::fault_hook = &sweep_hook;
    try {
        loop->run_until_complete(wait_for(scenario(out.corrupt), test::kLoopbackTimeout));
        out.completed = true;
    } catch (const TimeoutError&) {
        out.timed_out = true;
    } catch (const std::exception& e) {
        out.error = e.what();
    }
    detail::sys::fault_hook = nullptr;
    out.seam_calls = sweep.calls;
    loop->close();
    return out;
}

class FailCount : public test::RealTimeLoopTest {
protected:
    // Runs the sweep; returns n, the scenario's seam calls.
    int run_sweep(const Scenario& scenario) {
        expect_handler_calls = true;
        std::size_t fds = test::open_fd_count();
        Outcome clean = run_with_fault(scenario, 0);
        EXPECT_TRUE(clean.completed) << "the scenario fails with no fault injected: " << clean.error;
        EXPECT_FALSE(clean.corrupt);
        EXPECT_EQ(test::open_fd_count(), fds);
        int n = clean.seam_calls;
        EXPECT_GT(n, 0) << "the scenario makes no call through the seam";
        for (int k = 1; k <= n; ++k) {
            Outcome o = run_with_fault(scenario, k);
            std::string where = "failing call " + std::to_string(k) + " of " + std::to_string(n) + " (" + sweep.failed +
                                "): " + (o.completed ? "completed" : o.error);
            EXPECT_FALSE(o.timed_out) << "hung, " << where;
            EXPECT_FALSE(o.corrupt) << "wrong data, " << where;
            EXPECT_EQ(test::open_fd_count(), fds) << "fd leak, " << where;
            // An EINTR from epoll_wait must be invisible.
            if (sweep.failed == "epoll_wait") {
                EXPECT_TRUE(o.completed) << where;
            }
        }
        return n;
    }
};

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

// Connects (lazily, when awaited here), talks, and closes the server however
// the talk ended.
Coro<void> talk_then_close(Server server, Coro<StreamPair> connecting, bool& corrupt) {
    std::exception_ptr failed;
    try {
        auto [reader, writer] = co_await std::move(connecting);
        co_await talk(reader, writer, corrupt);
    } catch (...) {
        failed = std::current_exception();
    }
    server.close();
    co_await server.wait_closed();
    if (failed) std::rethrow_exception(failed);
}

TEST_F(FailCount, StreamsEchoOverTcp) {
    int n = run_sweep([](bool& corrupt) -> Coro<void> {
        Server server = co_await start_server(test::echo_lines, "127.0.0.1", 0);
        auto port = test::port_of(server);
        co_await talk_then_close(server, open_connection("127.0.0.1", port), corrupt);
    });
    RecordProperty("seam_calls", n);
}

TEST_F(FailCount, StreamsEchoOverUnixSockets) {
    int n = run_sweep([](bool& corrupt) -> Coro<void> {
        std::string path = "/tmp/tulip-failcount-" + std::to_string(::getpid()) + ".sock";
        ::unlink(path.c_str());
        // Gone however the run ends (a timed-out run's frame is destroyed too).
        struct Unlink {
            std::string path;
            ~Unlink() { ::unlink(path.c_str()); }
        } unlink_at_end{path};
        Server server = co_await start_unix_server(test::echo_lines, path);
        co_await talk_then_close(server, open_unix_connection(path), corrupt);
    });
    RecordProperty("seam_calls", n);
}

TEST_F(FailCount, SockOpsOverTcp) {
    int n = run_sweep([](bool& corrupt) -> Coro<void> {
        Socket listener = test::listener();
        Socket client = Socket::create(AF_INET);
        co_await sock_connect(client, listener.getsockname());
        auto [conn, peer] = co_await sock_accept(listener);
        std::string data(100000, 'x');
        for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
        co_await sock_sendall(client, data);
        std::string got;
        while (got.size() < data.size()) {
            std::string part = co_await sock_recv(conn, 65536);
            if (part.empty()) break;
            got += part;
        }
        if (got != data.substr(0, got.size())) corrupt = true;
        if (got.size() != data.size()) throw std::runtime_error("short");
    });
    RecordProperty("seam_calls", n);
}

TEST_F(FailCount, SockOpsOverUdp) {
    int n = run_sweep([](bool& corrupt) -> Coro<void> {
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
    });
    RecordProperty("seam_calls", n);
}

}  // namespace

}  // namespace net_fail_count_test
