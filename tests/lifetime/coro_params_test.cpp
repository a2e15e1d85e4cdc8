// CP.53 (issue 8, finding 3): a coroutine starts when it is first awaited or
// its task first runs, after the full expression that created it is gone.
// Each test hands an API a temporary (or a handle that dies at once), starts
// the task later, and checks the operation still works. On the old
// signatures (std::string_view, const&, member coroutines keeping `this`)
// these are heap-use-after-free reports under the asan preset.
#include <tulip/tulip.hpp>

#include <sys/socket.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/coro_helpers.hpp"
#include "support/loop_test.hpp"

namespace lifetime_coro_params_test {

using namespace tulip;
using test::eventually;
using test::value_after;

namespace {

class CoroParamsTest : public test::IoLoopTest {};

// Long enough to live on the heap (no small-string buffer).
std::string payload(char c) { return std::string(3000, c) + "!"; }

Coro<std::string> recv_exactly(Socket& s, std::size_t n) {
    std::string got;
    while (got.size() < n) {
        std::string part = co_await sock_recv(s, n - got.size());
        if (part.empty()) break;
        got += part;
    }
    co_return got;
}

TEST_F(CoroParamsTest, SockSendallKeepsATemporaryStringUntilItsTaskRuns) {
    run_io(([]() -> Coro<void> {
        auto [a, b] = Socket::pair();
        Task<void> send = create_task(sock_sendall(a, payload('s')));  // the temporary dies here
        std::string got = co_await recv_exactly(b, payload('s').size());
        co_await send;
        EXPECT_EQ(got, payload('s'));
    })());
}

TEST_F(CoroParamsTest, SockSendtoKeepsItsDataAndAddressUntilItsTaskRuns) {
    run_io(([]() -> Coro<void> {
        Socket rx = Socket::create(AF_INET, SOCK_DGRAM);
        rx.bind(SocketAddress::from_ip("127.0.0.1", 0));
        Socket tx = Socket::create(AF_INET, SOCK_DGRAM);
        auto to = std::make_unique<SocketAddress>(rx.getsockname());
        Task<std::size_t> send = create_task(sock_sendto(tx, std::string(2000, 'd'), *to));
        to.reset();  // the caller's address is gone before the task runs
        auto [data, from] = co_await sock_recvfrom(rx, 4096);
        EXPECT_EQ(co_await send, 2000u);
        EXPECT_EQ(data, std::string(2000, 'd'));
    })());
}

TEST_F(CoroParamsTest, SockConnectKeepsItsAddressUntilItsTaskRuns) {
    run_io(([]() -> Coro<void> {
        Socket listener = Socket::create(AF_INET);
        listener.bind(SocketAddress::from_ip("127.0.0.1", 0));
        listener.listen();
        Socket c = Socket::create(AF_INET);
        auto addr = std::make_unique<SocketAddress>(listener.getsockname());
        Task<void> connect = create_task(sock_connect(c, *addr));
        addr.reset();
        auto [conn, peer] = co_await sock_accept(listener);
        co_await connect;
        EXPECT_EQ(c.getpeername(), listener.getsockname());
    })());
}

TEST_F(CoroParamsTest, OpenConnectionAndStartServerKeepTheirTemporaryHost) {
    run_io(([]() -> Coro<void> {
        auto cb = [](StreamReader, StreamWriter w) -> Coro<void> {
            w.close();
            co_return;
        };
        Task<Server> starting = create_task(start_server(cb, std::string("127.0.0.1"), 0));
        Server server = co_await starting;
        auto port = server.addresses().at(0).port();
        Task<StreamPair> opening = create_task(open_connection(std::string("127.0.0.1"), port));
        auto [r, w] = co_await opening;
        EXPECT_EQ(co_await r.read(), "");
        w.close();
        co_await w.wait_closed();
        server.close();
        co_await server.wait_closed();
    })());
}

// ---- stream reads and writes on a handle that is gone ----------------------------------

// A stream pair over a socketpair; `peer` is the other end.
Coro<StreamPair> streams_with_peer(Socket& peer) {
    auto [a, b] = Socket::pair();
    peer = std::move(b);
    co_return co_await open_connection(std::move(a));
}

TEST_F(CoroParamsTest, ReaduntilKeepsItsReaderWhenTheHandleIsGone) {
    run_io(([]() -> Coro<void> {
        Socket peer;
        auto [r, w] = co_await streams_with_peer(peer);
        auto handle = std::make_unique<StreamReader>(r);
        Task<std::string> reading = create_task(handle->readuntil(std::string("\r\n")));
        handle.reset();  // the StreamReader the member was called on is freed
        co_await sock_sendall(peer, "line one\r\nrest");
        EXPECT_EQ(co_await reading, "line one\r\n");
        w.close();
        co_await w.wait_closed();
    })());
}

TEST_F(CoroParamsTest, ReadexactlyAndReadlineKeepTheirReaderWhenTheHandleIsGone) {
    run_io(([]() -> Coro<void> {
        Socket peer;
        auto [r, w] = co_await streams_with_peer(peer);
        auto h1 = std::make_unique<StreamReader>(r);
        Task<std::string> exact = create_task(h1->readexactly(4));
        h1.reset();
        co_await sock_sendall(peer, "abcd");
        EXPECT_EQ(co_await exact, "abcd");
        auto h2 = std::make_unique<StreamReader>(r);
        Task<std::string> line = create_task(h2->readline());
        h2.reset();
        co_await sock_sendall(peer, "a line\n");
        EXPECT_EQ(co_await line, "a line\n");
        w.close();
        co_await w.wait_closed();
    })());
}

TEST_F(CoroParamsTest, WaitClosedKeepsItsWriterWhenTheHandleIsGone) {
    run_io(([]() -> Coro<void> {
        Socket peer;
        auto [r, w] = co_await streams_with_peer(peer);
        auto h = std::make_unique<StreamWriter>(w);
        Task<void> closed = create_task(h->wait_closed());
        h.reset();
        w.close();
        co_await closed;
    })());
}

TEST_F(CoroParamsTest, DrainKeepsTheStreamWhenEveryHandleIsGone) {
    // The drain awaiter held a raw StreamCore*: with the connection lost and
    // the handles dropped, the core was freed under it.
    run_io(([]() -> Coro<void> {
        Socket peer;
        auto pair = std::make_unique<StreamPair>(co_await streams_with_peer(peer));
        pair->second.close();
        co_await pair->second.wait_closed();
        auto drain = pair->second.drain();
        pair.reset();  // the last reader and writer handles
        co_await sleep(0);
        EXPECT_THROW(co_await std::move(drain), ConnectionResetError);
    })());
}

// ---- servers and processes ---------------------------------------------------------------

TEST_F(CoroParamsTest, ServerWaitClosedAndStartServingKeepTheServerWhenTheHandleIsGone) {
    run_io(([]() -> Coro<void> {
        auto factory = [] { return std::make_unique<Protocol>(); };
        ServerOptions o;
        o.start_serving = false;
        Server keep = co_await create_server(factory, "127.0.0.1", 0, o);
        auto h = std::make_unique<Server>(keep);
        Task<void> starting = create_task(h->start_serving());
        h.reset();
        co_await starting;
        EXPECT_TRUE(keep.is_serving());
        h = std::make_unique<Server>(keep);
        Task<void> closed = create_task(h->wait_closed());
        h.reset();
        keep.close();
        keep = Server();  // no handle left at all
        co_await closed;
    })());
}

TEST_F(CoroParamsTest, ProcessWaitAndCommunicateKeepTheProcessWhenTheHandleIsGone) {
    run_io(([]() -> Coro<void> {
        SubprocessOptions o;
        o.std_in = PIPE;
        o.std_out = PIPE;
        auto p = std::make_unique<Process>(co_await create_subprocess_exec("cat", {}, o));
        Task<std::pair<std::optional<std::string>, std::optional<std::string>>> talk =
            create_task(p->communicate(std::string(5000, 'c')));
        auto waiter = std::make_unique<Process>(*p);
        Task<int> waiting = create_task(waiter->wait());
        p.reset();
        waiter.reset();
        auto [out, err] = co_await talk;
        EXPECT_EQ(out, std::string(5000, 'c'));
        EXPECT_EQ(co_await waiting, 0);
    })());
}

}  // namespace

namespace {

AsyncGenerator<int> count_up(std::vector<int>* log) {
    for (int i = 0;; ++i) {
        try {
            co_yield i;
        } catch (const GeneratorExit&) {
            log->push_back(-1);  // the cleanup ran
            throw;
        }
    }
}

TEST_F(CoroParamsTest, AsCompletedNextKeepsItsStateWhenTheIteratorIsGone) {
    run_io(([]() -> Coro<void> {
        std::vector<Task<int>> tasks;
        tasks.push_back(create_task(value_after(0.002, 7)));
        auto it = std::make_unique<AsCompleted<Task<int>>>(as_completed(tasks));
        Task<Task<int>> first = create_task(it->next());
        it.reset();  // the iterator is gone before next()'s task runs
        Task<int> done = co_await first;
        EXPECT_EQ(co_await done, 7);
    })());
}

TEST_F(CoroParamsTest, AcloseTakesTheGeneratorFrameWhenCalledNotWhenRun) {
    run_io(([]() -> Coro<void> {
        std::vector<int> log;
        AsyncGenerator<int> gen = count_up(&log);
        auto first = co_await gen.next();
        EXPECT_EQ(first, std::optional<int>(0));
        Coro<void> closing = gen.aclose();
        AsyncGenerator<int> moved = std::move(gen);  // moved before aclose runs
        co_await std::move(closing);
        EXPECT_EQ(log, std::vector<int>{-1});
        EXPECT_TRUE(moved.finished());
    })());
}

}  // namespace

}  // namespace lifetime_coro_params_test
