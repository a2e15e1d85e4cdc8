// Lifetime matrix, a loop and the I/O objects still open on it (issue 8): the
// loop is closed and destroyed while transports, servers, stream pairs,
// datagram endpoints or subprocess pipes are open, and the user still holds
// their handles. The loop's close force-closes each of them (socket closed,
// connection_lost run once with "Event loop is closed" if connection_made
// ran, the loop's references released): no memory error (asan preset), no
// leak (LeakSanitizer, the fixture's fd count), and afterwards the handles are
// safe: what can no longer succeed throws "Event loop is closed", close() and
// friends are no-ops, is_closing() is true.
#include <tulip/net/socket_transport.hpp>
#include <tulip/tulip.hpp>

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cerrno>
#include <memory>
#include <string>
#include <utility>

#include "support/loop_test.hpp"

namespace lifetime_loop_close_io_test {

using namespace tulip;

namespace {

class LoopCloseIoTest : public test::IoLoopTest {
protected:
    // Closes and destroys the fixture's loop, as a program ending would.
    void close_and_destroy_loop() {
        loop_->close();
        loop_.reset();
    }
};

// What a protocol saw; outlives the protocol.
struct Events {
    int made = 0;
    int lost = 0;
    std::string lost_what;
    bool destroyed = false;
};

std::string what(std::exception_ptr e) {
    if (!e) return "(none)";
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        return x.what();
    }
}

struct Rec : Protocol {
    explicit Rec(Events* e) : e(e) {}
    ~Rec() override { e->destroyed = true; }
    void connection_made(Transport&) override { ++e->made; }
    void connection_lost(std::exception_ptr x) override {
        ++e->lost;
        e->lost_what = what(x);
    }
    int value = 42;
    Events* e;
};

// A protocol that holds its transport from connection_made to
// connection_lost: a cycle only connection_lost breaks.
struct Holder : Protocol {
    explicit Holder(Events* e) : e(e) {}
    ~Holder() override { e->destroyed = true; }
    void connection_made(Transport& t) override {
        ++e->made;
        self = Ref<Transport>(&t);
    }
    void connection_lost(std::exception_ptr) override {
        ++e->lost;
        self.reset();
    }
    Ref<Transport> self;
    Events* e;
};

// True when the peer of `s` has closed its end (EOF or reset), without blocking.
bool peer_closed(Socket& s) {
    char c;
    for (;;) {
        long n = ::recv(s.fileno(), &c, 1, MSG_DONTWAIT);
        if (n == 0) return true;
        if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
    }
}

template <class F>
void expect_loop_closed_error(F f) {
    try {
        f();
        ADD_FAILURE() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "Event loop is closed");
    }
}

// Runs an awaitable on a fresh loop (handles from a closed loop are safe to
// use from another one) and checks it fails with "Event loop is closed".
template <class A>
void expect_loop_closed_error_on_new_loop(A a) {
    auto l = new_event_loop();
    expect_loop_closed_error([&] { l->run_until_complete(std::move(a)); });
    l->close();
}

Coro<void> await_drain(StreamWriter::DrainAwaiter aw) { co_await std::move(aw); }
Coro<std::string> await_read(StreamReader::ReadAwaiter aw) { co_return co_await std::move(aw); }

Coro<StreamPair> streams_with_peer(Socket& peer) {
    auto [a, b] = Socket::pair();
    peer = std::move(b);
    co_return co_await open_connection(std::move(a));
}

// ---- transports and protocols ----------------------------------------------------------

TEST_F(LoopCloseIoTest, ClientConnectionOpenWhenTheLoopClosesIsClosedAndItsHandlesStaySafe) {
    Events e;
    Socket peer;
    auto [t, p] = run_io(([&]() -> Coro<ConnectionPair<Rec>> {
        auto [a, b] = Socket::pair();
        peer = std::move(b);
        auto factory = [&e] { return std::make_unique<Rec>(&e); };
        auto pair = co_await create_connection(factory, std::move(a));
        co_await sleep(0);
        co_return pair;
    })());
    ASSERT_EQ(e.made, 1);
    close_and_destroy_loop();
    EXPECT_EQ(e.lost, 1) << "connection_lost runs once, inside close()";
    EXPECT_EQ(e.lost_what, "Event loop is closed");
    EXPECT_FALSE(e.destroyed) << "the handles keep the protocol";
    EXPECT_TRUE(peer_closed(peer)) << "the socket was closed";
    EXPECT_TRUE(t->is_closing());
    EXPECT_EQ(p->value, 42);
    EXPECT_EQ(&t->get_protocol(), p.get());
    EXPECT_TRUE(t->get_extra_info("sockname").has_value());
    EXPECT_EQ(std::any_cast<int>(t->get_extra_info("socket")), -1);
    expect_loop_closed_error([&] { t->write("late"); });
    std::string_view parts[] = {"a", "b"};
    expect_loop_closed_error([&] { t->writelines(parts); });
    t->close();  // no-ops
    t->abort();
    t->write_eof();
    t->pause_reading();
    t->resume_reading();
    EXPECT_FALSE(t->is_reading());
    EXPECT_EQ(t->get_write_buffer_size(), 0u);
    EXPECT_EQ(e.lost, 1);
    t.reset();
    EXPECT_FALSE(e.destroyed);
    p = ProtocolRef<Rec, Transport>();
    EXPECT_TRUE(e.destroyed);
}

TEST_F(LoopCloseIoTest, TcpConnectionWithEveryHandleDroppedIsFreedWhenTheLoopCloses) {
    Events client, served;
    run_io(([&]() -> Coro<void> {
        auto server_factory = [&served] { return std::make_unique<Rec>(&served); };
        Server server = co_await create_server(server_factory, "127.0.0.1", 0);
        std::uint16_t port = server.addresses().at(0).port();
        auto client_factory = [&client] { return std::make_unique<Rec>(&client); };
        auto pair = co_await create_connection(client_factory, "127.0.0.1", port);
        (void)pair;
        co_await test::eventually([&] { return served.made == 1; });
    })());  // the Server, transport and protocol handles are all gone
    EXPECT_FALSE(client.destroyed) << "the loop keeps an open connection";
    close_and_destroy_loop();
    EXPECT_EQ(client.lost, 1);
    EXPECT_EQ(served.lost, 1);
    EXPECT_TRUE(client.destroyed);
    EXPECT_TRUE(served.destroyed);
}

TEST_F(LoopCloseIoTest, ProtocolHoldingItsTransportIsReleasedWhenTheLoopCloses) {
    Events e;
    Socket peer;
    run_io(([&]() -> Coro<void> {
        auto [a, b] = Socket::pair();
        peer = std::move(b);
        auto factory = [&e] { return std::make_unique<Holder>(&e); };
        auto pair = co_await create_connection(factory, std::move(a));
        (void)pair;
        co_await sleep(0);
    })());
    ASSERT_EQ(e.made, 1);
    close_and_destroy_loop();
    EXPECT_EQ(e.lost, 1);
    EXPECT_TRUE(e.destroyed) << "connection_lost broke the protocol's cycle";
    EXPECT_TRUE(peer_closed(peer));
}

TEST_F(LoopCloseIoTest, TransportWhoseConnectionMadeHasNotRunIsClosedWithoutCallbacks) {
    Events e;
    auto [a, b] = Socket::pair();
    Ref<Transport> t = make_socket_transport(*loop_, std::move(a), std::make_unique<Rec>(&e));
    close_and_destroy_loop();
    EXPECT_EQ(e.made, 0);
    EXPECT_EQ(e.lost, 0) << "no connection_lost without connection_made";
    EXPECT_TRUE(peer_closed(b));
    EXPECT_TRUE(t->is_closing());
    expect_loop_closed_error([&] { t->write("x"); });
    t.reset();
    EXPECT_TRUE(e.destroyed);
}

TEST_F(LoopCloseIoTest, TransportWithAWriteQueuedWhenTheLoopClosesDropsIt) {
    Events e;
    Socket peer;
    auto [t, p] = run_io(([&]() -> Coro<ConnectionPair<Rec>> {
        auto [a, b] = Socket::pair();
        peer = std::move(b);
        auto factory = [&e] { return std::make_unique<Rec>(&e); };
        auto pair = co_await create_connection(factory, std::move(a));
        co_await sleep(0);
        pair.first->write(std::string(4 << 20, 'x'));  // far more than the socket buffer
        co_return pair;
    })());
    ASSERT_GT(t->get_write_buffer_size(), 0u);
    close_and_destroy_loop();
    EXPECT_EQ(t->get_write_buffer_size(), 0u);
    EXPECT_EQ(e.lost, 1);
    EXPECT_TRUE(t->is_closing());
    t->close();
    expect_loop_closed_error([&] { t->write("more"); });
}

TEST_F(LoopCloseIoTest, TransportClosingWithAWriteQueuedWhenTheLoopClosesIsForceClosed) {
    Events e;
    Socket peer;
    run_io(([&]() -> Coro<void> {
        auto [a, b] = Socket::pair();
        peer = std::move(b);
        auto factory = [&e] { return std::make_unique<Rec>(&e); };
        auto [t, p] = co_await create_connection(factory, std::move(a));
        co_await sleep(0);
        t->write(std::string(4 << 20, 'x'));
        t->close();  // waits for the buffer to drain: the peer never reads
    })());
    EXPECT_EQ(e.lost, 0);
    close_and_destroy_loop();
    EXPECT_EQ(e.lost, 1);
    EXPECT_TRUE(e.destroyed);
}

TEST_F(LoopCloseIoTest, AbortedTransportWhoseConnectionLostIsPendingGetsItOnceAtClose) {
    Events e;
    Socket peer;
    auto [t, p] = run_io(([&]() -> Coro<ConnectionPair<Rec>> {
        auto [a, b] = Socket::pair();
        peer = std::move(b);
        auto factory = [&e] { return std::make_unique<Rec>(&e); };
        auto pair = co_await create_connection(factory, std::move(a));
        co_await sleep(0);
        co_return pair;
    })());
    t->abort();  // connection_lost is scheduled, not yet run
    EXPECT_EQ(e.lost, 0);
    close_and_destroy_loop();
    EXPECT_EQ(e.lost, 1);
    EXPECT_TRUE(peer_closed(peer));
    t->abort();
    EXPECT_EQ(e.lost, 1);
}

// ---- streams -----------------------------------------------------------------------------

TEST_F(LoopCloseIoTest, StreamPairOpenWhenTheLoopClosesThenWriteCloseDrainAndRead) {
    Socket peer;
    StreamPair sp = run_io(streams_with_peer(peer));
    StreamReader r = sp.first;
    StreamWriter w = sp.second;
    sp = StreamPair();
    close_and_destroy_loop();
    EXPECT_TRUE(peer_closed(peer));
    EXPECT_TRUE(w.is_closing());
    expect_loop_closed_error([&] { w.write("late"); });
    w.close();  // no-ops
    w.write_eof();
    EXPECT_TRUE(w.get_extra_info("peername").has_value());
    EXPECT_EQ(what(r.exception()), "Event loop is closed");
    expect_loop_closed_error_on_new_loop(await_drain(w.drain()));
    expect_loop_closed_error_on_new_loop(await_read(r.read(100)));
    expect_loop_closed_error_on_new_loop(r.readline());
    expect_loop_closed_error_on_new_loop(w.wait_closed());
}

TEST_F(LoopCloseIoTest, StreamHandlesDroppedAfterTheLoopClosedReleaseTheConnection) {
    Socket peer;
    auto sp = std::make_unique<StreamPair>(run_io(streams_with_peer(peer)));
    sp->second.write("hello");
    close_and_destroy_loop();
    sp.reset();  // the last user handles: nothing left to close, nothing leaks
    EXPECT_TRUE(peer_closed(peer));
}

TEST_F(LoopCloseIoTest, ATaskReadingAStreamWhenTheLoopClosesLeavesNoLeak) {
    Socket peer;
    StreamPair sp = run_io(streams_with_peer(peer));
    Task<std::string> reading = loop_->create_task(sp.first.read(10));
    sp = StreamPair();  // only the task holds the streams now
    run_once();
    EXPECT_FALSE(reading.done());
    reading = Task<std::string>();
    close_and_destroy_loop();  // destroys the task, then its handles
    EXPECT_TRUE(peer_closed(peer));
}

// ---- servers -----------------------------------------------------------------------------

TEST_F(LoopCloseIoTest, ServerServingWithLiveConnectionsWhenTheLoopClosesThenCloseAndWaitClosed) {
    struct Side {
        std::vector<StreamWriter> writers;
    } side;
    auto cb = [&side](StreamReader, StreamWriter w) -> Coro<void> {
        side.writers.push_back(w);
        co_return;
    };
    auto [server, client] = run_io(([&]() -> Coro<std::pair<Server, StreamPair>> {
        Server s = co_await start_server(cb, "127.0.0.1", 0);
        StreamPair c = co_await open_connection("127.0.0.1", s.addresses().at(0).port());
        co_await test::eventually([&] { return side.writers.size() == 1; });
        co_return std::pair<Server, StreamPair>(std::move(s), std::move(c));
    })());
    ASSERT_TRUE(server.is_serving());
    close_and_destroy_loop();
    EXPECT_FALSE(server.is_serving());
    EXPECT_TRUE(server.sockets().empty()) << "the listening socket is closed";
    server.close();  // no-ops
    server.close_clients();
    server.abort_clients();
    EXPECT_TRUE(side.writers.at(0).is_closing());
    EXPECT_TRUE(client.second.is_closing());
    expect_loop_closed_error([&] { side.writers.at(0).write("x"); });
    // wait_closed: the server is closed and has no connection left: it
    // returns at once (on any loop; the closed one cannot run anything).
    auto l = new_event_loop();
    l->run_until_complete(server.wait_closed());
    l->close();
    EXPECT_THROW(l->run_until_complete(server.serve_forever()), std::runtime_error);
}

TEST_F(LoopCloseIoTest, ServerHandleDroppedWhileServingWhenTheLoopClosesLeavesNoLeak) {
    Events served;
    Socket client;
    run_io(([&]() -> Coro<void> {
        auto factory = [&served] { return std::make_unique<Rec>(&served); };
        Server server = co_await create_server(factory, "127.0.0.1", 0);
        client = co_await open_tcp_socket("127.0.0.1", server.addresses().at(0).port());
        co_await test::eventually([&] { return served.made == 1; });
    })());
    close_and_destroy_loop();
    EXPECT_EQ(served.lost, 1);
    EXPECT_TRUE(served.destroyed);
    EXPECT_TRUE(peer_closed(client));
}

TEST_F(LoopCloseIoTest, ServeForeverRunningWhenTheLoopClosesLeavesTheServerClosed) {
    auto cb = [](StreamReader, StreamWriter) -> Coro<void> { co_return; };
    Server server = run_io(start_server(cb, "127.0.0.1", 0));
    Task<void> serving = loop_->create_task(server.serve_forever());
    Task<void> waiting = loop_->create_task(server.wait_closed());
    run_once();
    serving = Task<void>();
    waiting = Task<void>();
    close_and_destroy_loop();
    EXPECT_FALSE(server.is_serving());
    server.close();
}

// ---- datagrams ---------------------------------------------------------------------------

struct Dgram : DatagramProtocol {
    explicit Dgram(Events* e) : e(e) {}
    ~Dgram() override { e->destroyed = true; }
    void connection_made(DatagramTransport&) override { ++e->made; }
    void connection_lost(std::exception_ptr x) override {
        ++e->lost;
        e->lost_what = what(x);
    }
    Events* e;
};

TEST_F(LoopCloseIoTest, DatagramEndpointOpenWhenTheLoopClosesIsClosedAndStaysSafe) {
    Events e;
    auto [t, p] = run_io(([&]() -> Coro<std::pair<Ref<DatagramTransport>, ProtocolRef<Dgram, DatagramTransport>>> {
        DatagramOptions o;
        o.local_addr = SocketAddress::from_ip("127.0.0.1", 0);
        auto factory = [&e] { return std::make_unique<Dgram>(&e); };
        co_return co_await create_datagram_endpoint(factory, o);
    })());
    ASSERT_EQ(e.made, 1);
    SocketAddress self = std::any_cast<SocketAddress>(t->get_extra_info("sockname"));
    close_and_destroy_loop();
    EXPECT_EQ(e.lost, 1);
    EXPECT_EQ(e.lost_what, "Event loop is closed");
    EXPECT_TRUE(t->is_closing());
    expect_loop_closed_error([&] { t->sendto("x", &self); });
    t->close();
    t->abort();
    EXPECT_EQ(t->get_write_buffer_size(), 0u);
    t.reset();
    p = ProtocolRef<Dgram, DatagramTransport>();
    EXPECT_TRUE(e.destroyed);
}

// ---- subprocesses ------------------------------------------------------------------------

TEST_F(LoopCloseIoTest, SubprocessWithPipesOpenWhenTheLoopClosesKeepsItsHandleSafe) {
    SubprocessOptions o;
    o.std_in = PIPE;
    o.std_out = PIPE;
    Process p = run_io(create_subprocess_exec("cat", {}, o));
    int pid = p.pid();
    close_and_destroy_loop();
    EXPECT_FALSE(p.returncode().has_value());
    EXPECT_TRUE(p.std_in->is_closing());
    expect_loop_closed_error([&] { p.std_in->write("x"); });
    p.std_in->close();
    expect_loop_closed_error_on_new_loop(p.wait());
    expect_loop_closed_error_on_new_loop(await_read(p.std_out->read()));
    p.kill();  // still reaches the child (its pidfd is open)
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid) << "nothing else reaps it once the loop is gone";
    EXPECT_TRUE(WIFEXITED(status) || WIFSIGNALED(status));
}

// ---- sock_* operations -------------------------------------------------------------------

TEST_F(LoopCloseIoTest, SocketWithASockRecvPendingWhenTheLoopClosesStaysUsable) {
    auto [a, b] = Socket::pair();
    Task<std::string> receiving = loop_->create_task(sock_recv(a, 10));
    run_once();
    receiving = Task<std::string>();
    close_and_destroy_loop();
    EXPECT_EQ(::send(b.fileno(), "x", 1, 0), 1);
    char c = 0;
    EXPECT_EQ(::recv(a.fileno(), &c, 1, 0), 1) << "the socket is the user's, still open";
    a.close();
    EXPECT_TRUE(peer_closed(b));
}

// ---- run() and Runner ---------------------------------------------------------------------

// What a program keeps past run(): a static, or a heap object.
StreamWriter& kept_writer() {
    static StreamWriter w;
    return w;
}

TEST(LoopCloseIoRun, RunFinishingWhileAConnectionIsOpenLeavesNoLeak) {
    std::size_t fds = test::open_fd_count();
    Socket peer;
    tulip::run(([&]() -> Coro<void> {
        auto [r, w] = co_await streams_with_peer(peer);
        w.write("hello");
        kept_writer() = w;  // outlives run()
    })());
    EXPECT_TRUE(kept_writer().is_closing());
    expect_loop_closed_error([&] { kept_writer().write("x"); });
    kept_writer() = StreamWriter();  // the last handle: nothing leaks
    EXPECT_TRUE(peer_closed(peer));
    peer.close();
    EXPECT_EQ(test::open_fd_count(), fds);
}

TEST(LoopCloseIoRun, RunnerClosedWhileAProtocolConnectionIsOpenKeepsItsHandlesSafe) {
    std::size_t fds = test::open_fd_count();
    Events e;
    Socket peer;
    auto kept = std::make_unique<ConnectionPair<Rec>>();
    {
        Runner runner;
        runner.run(([&]() -> Coro<void> {
            auto [a, b] = Socket::pair();
            peer = std::move(b);
            auto factory = [&e] { return std::make_unique<Rec>(&e); };
            *kept = co_await create_connection(factory, std::move(a));
            co_await sleep(0);
        })());
    }  // the runner closes its loop
    EXPECT_EQ(e.lost, 1);
    EXPECT_TRUE(kept->first->is_closing());
    kept->first->close();
    kept.reset();
    EXPECT_TRUE(e.destroyed);
    peer.close();
    EXPECT_EQ(test::open_fd_count(), fds);
}

}  // namespace

}  // namespace lifetime_loop_close_io_test
