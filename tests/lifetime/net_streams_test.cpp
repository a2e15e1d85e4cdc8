// Lifetime matrix, network and streams (issue 8): servers and their
// connections, transports and their protocols, stream readers/writers and
// their transports. Each case closes or drops one of two related objects
// before, during or after the other's operation and checks: no memory error
// (asan preset), no leak (LeakSanitizer, and the fixture's fd count), no hang
// (run_io's bound), and a clear exception where the operation cannot succeed.
#include <tulip/tulip.hpp>

#include <sys/socket.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "support/loop_test.hpp"
#include "support/net.hpp"

namespace lifetime_net_streams_test {

using namespace tulip;
using test::close_and_wait;
using test::eventually;
using test::recv_until_eof;
using test::reset_on_close;

namespace {

class NetLifetimeTest : public test::IoLoopTest {};

// What a protocol saw; outlives the protocol. `act` runs at each event.
struct Events {
    std::vector<std::string> seen;
    std::string data;
    int lost = 0;
    std::exception_ptr lost_exc;
    bool keep_open = false;
    bool destroyed = false;
    Transport* t = nullptr;
    std::function<void(Transport&, const std::string&)> act;
    void note(const std::string& ev) {
        seen.push_back(ev);
        if (act && t) act(*t, ev);
    }
};

struct Rec : Protocol {
    explicit Rec(Events* e) : e(e) {}
    ~Rec() override { e->destroyed = true; }
    void connection_made(Transport& t) override {
        e->t = &t;
        e->note("made");
    }
    void data_received(std::string_view d) override {
        e->data.append(d);
        e->note("data");
    }
    bool eof_received() override {
        e->note("eof");
        return e->keep_open;
    }
    void pause_writing() override { e->note("pause"); }
    void resume_writing() override { e->note("resume"); }
    void connection_lost(std::exception_ptr x) override {
        ++e->lost;
        e->lost_exc = x;
        e->note("lost");
        e->t = nullptr;
    }
    int value = 42;
    Events* e;
};

// A transport over one end of a socketpair; `peer` gets the other end.
Coro<ConnectionPair<Rec>> connect_rec(Events& e, Socket& peer) {
    auto [a, b] = Socket::pair();
    peer = std::move(b);
    auto factory = [&e] { return std::make_unique<Rec>(&e); };
    co_return co_await create_connection(factory, std::move(a));
}

// Streams over one end of a socketpair.
Coro<StreamPair> streams_with_peer(Socket& peer) {
    auto [a, b] = Socket::pair();
    peer = std::move(b);
    co_return co_await open_connection(std::move(a));
}

Coro<void> await_drain(StreamWriter::DrainAwaiter aw) { co_await std::move(aw); }
Coro<std::string> await_read(StreamReader::ReadAwaiter aw) { co_return co_await std::move(aw); }

// ---- server and its connections ---------------------------------------------------------

struct ServerSide {
    int made = 0, lost = 0;
    std::vector<StreamWriter> writers;
};

auto keep_streams(ServerSide& s) {
    return [&s](StreamReader, StreamWriter w) -> Coro<void> {
        ++s.made;
        s.writers.push_back(w);
        co_return;
    };
}

TEST_F(NetLifetimeTest, ServerClosedAndDroppedBeforeItsConnectionCloses) {
    run_io(([]() -> Coro<void> {
        ServerSide s;
        auto server = std::make_unique<Server>(co_await start_server(keep_streams(s), "127.0.0.1", 0));
        auto [r, w] = co_await open_connection("127.0.0.1", server->addresses().at(0).port());
        co_await eventually([&] { return s.made == 1; });
        server->close();
        server.reset();
        co_await close_and_wait(s.writers.at(0));  // the server side closes after its server is gone
        EXPECT_EQ(co_await r.read(), "");
        co_await close_and_wait(w);
    })());
}

TEST_F(NetLifetimeTest, ServerClosedAndDroppedFromInsideConnectionMade) {
    run_io(([]() -> Coro<void> {
        Events e;
        std::unique_ptr<Server> server;
        e.act = [&server](Transport&, const std::string& ev) {
            if (ev == "made" && server) {
                server->close();
                server.reset();
            }
        };
        auto factory = [&e] { return std::make_unique<Rec>(&e); };
        server = std::make_unique<Server>(co_await create_server(factory, "127.0.0.1", 0));
        Socket c = Socket::create(AF_INET);
        co_await sock_connect(c, server->addresses().at(0));
        co_await eventually([&] { return !server; });
        c.close();
        co_await eventually([&] { return e.lost == 1; });
    })());
}

TEST_F(NetLifetimeTest, ServerClosedAfterItsConnectionsAreGoneWaitClosedReturnsAtOnce) {
    run_io(([]() -> Coro<void> {
        ServerSide s;
        Server server = co_await start_server(keep_streams(s), "127.0.0.1", 0);
        {
            auto [r, w] = co_await open_connection("127.0.0.1", server.addresses().at(0).port());
            co_await eventually([&] { return s.made == 1; });
            co_await close_and_wait(s.writers.at(0));
            co_await close_and_wait(w);
        }
        s.writers.clear();
        server.close();
        Task<void> waiting = create_task(server.wait_closed());
        co_await sleep(0);
        co_await sleep(0);
        EXPECT_TRUE(waiting.done());
        co_await waiting;
    })());
}

TEST_F(NetLifetimeTest, ConnectionsClosedWhileTheServerIsClosingEndWaitClosed) {
    run_io(([]() -> Coro<void> {
        ServerSide s;
        Server server = co_await start_server(keep_streams(s), "127.0.0.1", 0);
        auto [r, w] = co_await open_connection("127.0.0.1", server.addresses().at(0).port());
        co_await eventually([&] { return s.made == 1; });
        server.close();
        Task<void> waiting = create_task(server.wait_closed());
        co_await sleep(0.01);
        EXPECT_FALSE(waiting.done());
        server.close_clients();
        co_await waiting;
        EXPECT_EQ(co_await r.read(), "");
        co_await close_and_wait(w);
    })());
}

TEST_F(NetLifetimeTest, ServerAbortsItsClientsAndIsDroppedBeforeConnectionLostRuns) {
    run_io(([]() -> Coro<void> {
        ServerSide s;
        auto server = std::make_unique<Server>(co_await start_server(keep_streams(s), "127.0.0.1", 0));
        auto [r, w] = co_await open_connection("127.0.0.1", server->addresses().at(0).port());
        co_await eventually([&] { return s.made == 1; });
        server->close();
        server->abort_clients();  // connection_lost is scheduled, not run
        server.reset();
        s.writers.clear();
        std::string got;
        try {
            got = co_await r.read();
        } catch (const ConnectionResetError&) {}
        EXPECT_EQ(got, "");
        w.close();
        try {
            co_await w.wait_closed();
        } catch (const ConnectionResetError&) {}
    })());
}

TEST_F(NetLifetimeTest, ServerHandleDroppedWhileServeForeverRunsThenCancelled) {
    run_io(([]() -> Coro<void> {
        auto factory = [] { return std::make_unique<Protocol>(); };
        ServerOptions o;
        o.start_serving = false;
        auto server = std::make_unique<Server>(co_await create_server(factory, "127.0.0.1", 0, o));
        SocketAddress addr = server->addresses().at(0);
        Task<void> serving = create_task(server->serve_forever());
        server.reset();
        co_await sleep(0.01);
        Socket c = Socket::create(AF_INET);
        co_await sock_connect(c, addr);  // still serving: held by serve_forever
        c.close();
        serving.cancel();  // closes the server and waits for its connection
        EXPECT_THROW(co_await serving, CancelledError);
    })());
}

TEST_F(NetLifetimeTest, ServerWaitClosedWaitsForAConnectionAfterEveryServerHandleIsGone) {
    run_io(([]() -> Coro<void> {
        ServerSide s;
        auto server = std::make_unique<Server>(co_await start_server(keep_streams(s), "127.0.0.1", 0));
        auto [r, w] = co_await open_connection("127.0.0.1", server->addresses().at(0).port());
        co_await eventually([&] { return s.made == 1; });
        server->close();
        Task<void> waiting = create_task(server->wait_closed());
        server.reset();
        co_await sleep(0.01);
        EXPECT_FALSE(waiting.done());
        co_await close_and_wait(w);
        s.writers.clear();  // the server side's last handle: it closes
        co_await waiting;
    })());
}

// ---- transport and protocol -------------------------------------------------------------

// Runs one connection whose protocol calls `action` (close or abort) at `event`.
Coro<void> act_at(Events& e, std::string event, bool abort, std::string peer_sends, bool peer_shuts_down) {
    e.act = [event, abort](Transport& t, const std::string& ev) {
        if (ev != event) return;
        if (abort)
            t.abort();
        else
            t.close();
    };
    Socket peer;
    auto conn = co_await connect_rec(e, peer);
    if (!peer_sends.empty()) co_await sock_sendall(peer, std::move(peer_sends));
    if (peer_shuts_down) peer.shutdown(SHUT_WR);
    co_await eventually([&] { return e.lost == 1; });
    EXPECT_TRUE(conn.first->is_closing());
    EXPECT_EQ(conn.second->value, 42) << "the protocol lives while its handle is held";
    EXPECT_EQ(co_await recv_until_eof(peer), "");
}

TEST_F(NetLifetimeTest, TransportClosedFromConnectionMade) {
    Events e;
    run_io(act_at(e, "made", false, "", false));
    EXPECT_EQ(e.seen, (std::vector<std::string>{"made", "lost"}));
    EXPECT_TRUE(e.destroyed);
}

TEST_F(NetLifetimeTest, TransportAbortedFromConnectionMade) {
    Events e;
    run_io(act_at(e, "made", true, "", false));
    EXPECT_EQ(e.seen, (std::vector<std::string>{"made", "lost"}));
    EXPECT_TRUE(e.destroyed);
}

TEST_F(NetLifetimeTest, TransportClosedFromDataReceived) {
    Events e;
    run_io(act_at(e, "data", false, "hello", false));
    EXPECT_EQ(e.data, "hello");
    EXPECT_EQ(e.lost, 1);
    EXPECT_TRUE(e.destroyed);
}

TEST_F(NetLifetimeTest, TransportAbortedFromDataReceived) {
    Events e;
    run_io(act_at(e, "data", true, "hello", false));
    EXPECT_EQ(e.lost, 1);
    EXPECT_TRUE(e.destroyed);
}

TEST_F(NetLifetimeTest, TransportClosedFromEofReceivedWhileKeepingItOpen) {
    Events e;
    e.keep_open = true;
    run_io(act_at(e, "eof", false, "", true));
    EXPECT_EQ(e.seen, (std::vector<std::string>{"made", "eof", "lost"}));
    EXPECT_TRUE(e.destroyed);
}

TEST_F(NetLifetimeTest, TransportAbortedFromConnectionLostIsANoOp) {
    Events e;
    run_io(act_at(e, "lost", true, "", true));
    EXPECT_EQ(e.lost, 1) << "connection_lost runs once";
    EXPECT_TRUE(e.destroyed);
}

TEST_F(NetLifetimeTest, TransportAbortedFromPauseWritingDropsTheQueue) {
    Events e;
    e.act = [](Transport& t, const std::string& ev) {
        if (ev == "pause") t.abort();
    };
    run_io(([&]() -> Coro<void> {
        Socket peer;
        auto conn = co_await connect_rec(e, peer);
        conn.first->set_write_buffer_limits(1024);
        conn.first->write(std::string(4 << 20, 'x'));  // more than the socket takes: pause, abort
        co_await eventually([&] { return e.lost == 1; });
        EXPECT_EQ(conn.first->get_write_buffer_size(), 0u);
        (void)co_await recv_until_eof(peer);
    })());
    EXPECT_TRUE(e.destroyed);
}

TEST_F(NetLifetimeTest, HandlesDroppedAfterCloseWhileAWriteIsQueuedStillDeliverIt) {
    Events e;
    std::size_t got = 0;
    run_io(([&]() -> Coro<void> {
        Socket peer;
        {
            auto conn = co_await connect_rec(e, peer);
            conn.first->write(std::string(4 << 20, 'q'));
            EXPECT_GT(conn.first->get_write_buffer_size(), 0u);
            conn.first->close();
        }  // the transport and the protocol handle are dropped with data queued
        got = (co_await recv_until_eof(peer)).size();
        co_await eventually([&] { return e.lost == 1; });
    })());
    EXPECT_EQ(got, std::size_t(4 << 20));
    EXPECT_TRUE(e.destroyed);
}

TEST_F(NetLifetimeTest, AbortWhileAWriteIsQueuedFreesTheTransportAndProtocol) {
    Events e;
    run_io(([&]() -> Coro<void> {
        Socket peer;
        {
            auto conn = co_await connect_rec(e, peer);
            conn.first->write(std::string(4 << 20, 'a'));
            conn.first->abort();
        }
        (void)co_await recv_until_eof(peer);
        co_await eventually([&] { return e.lost == 1; });
    })());
    EXPECT_TRUE(e.destroyed);
}

TEST_F(NetLifetimeTest, ProtocolHandleOutlivesTheTransportHandleAndTheConnection) {
    // create_connection used to return a raw P*: freed with the transport
    // once the connection was lost and the transport's last Ref dropped.
    Events e;
    run_io(([&]() -> Coro<void> {
        Socket peer;
        auto [t, p] = co_await connect_rec(e, peer);
        t->close();
        t.reset();
        co_await eventually([&] { return e.lost == 1; });
        co_await sleep(0);
        EXPECT_FALSE(e.destroyed) << "the ProtocolRef keeps it";
        EXPECT_EQ(p->value, 42);
        EXPECT_TRUE(p.transport()->is_closing());
        p = ProtocolRef<Rec, Transport>();
        EXPECT_TRUE(e.destroyed) << "the last handle frees the transport and its protocol";
    })());
}

TEST_F(NetLifetimeTest, PeerClosesBeforeConnectionMadeRuns) {
    Events e;
    run_io(([&]() -> Coro<void> {
        auto [a, b] = Socket::pair();
        b.close();
        auto factory = [&e] { return std::make_unique<Rec>(&e); };
        auto conn = co_await create_connection(factory, std::move(a));
        co_await eventually([&] { return e.lost == 1; });
        EXPECT_EQ(e.seen, (std::vector<std::string>{"made", "eof", "lost"}));
    })());
    EXPECT_TRUE(e.destroyed);
}

// ---- stream reader/writer and transport -------------------------------------------------

TEST_F(NetLifetimeTest, WriterDroppedWhileADrainWaitsTheDrainFinishesWhenThePeerReads) {
    run_io(([]() -> Coro<void> {
        Socket peer;
        Task<void> draining;
        {
            auto [r, w] = co_await streams_with_peer(peer);
            w.transport().set_write_buffer_limits(1024);
            w.write(std::string(4 << 20, 'd'));
            draining = create_task(await_drain(w.drain()));
        }  // the reader and writer handles are gone; the pending drain holds the stream
        co_await sleep(0.01);
        EXPECT_FALSE(draining.done());
        std::string all = co_await recv_until_eof(peer);  // EOF: closed once the drain finished
        co_await draining;
        EXPECT_EQ(all.size(), std::size_t(4 << 20));
    })());
}

TEST_F(NetLifetimeTest, WriterDroppedWhileAReadWaitsInAnotherTask) {
    run_io(([]() -> Coro<void> {
        Socket peer;
        auto pair = std::make_unique<StreamPair>(co_await streams_with_peer(peer));
        Task<std::string> reading = create_task(pair->first.readexactly(5));
        pair->second = StreamWriter();
        co_await sleep(0.01);
        co_await sock_sendall(peer, "hello");
        EXPECT_EQ(co_await reading, "hello");
        pair.reset();
        EXPECT_EQ(co_await recv_until_eof(peer), "") << "no handle left: closed";
    })());
}

TEST_F(NetLifetimeTest, ClosedWhileReaduntilIsPendingRaisesIncompleteReadError) {
    run_io(([]() -> Coro<void> {
        Socket peer;
        auto [r, w] = co_await streams_with_peer(peer);
        Task<std::string> reading = create_task(r.readuntil(std::string("\n")));
        co_await sock_sendall(peer, "partial");
        co_await sleep(0.01);
        w.close();
        peer.close();  // the peer goes too: EOF arrives
        try {
            (void)co_await reading;
            ADD_FAILURE() << "readuntil returned";
        } catch (const IncompleteReadError& e) {
            EXPECT_EQ(e.partial, "partial");
        }
        co_await w.wait_closed();
    })());
}

TEST_F(NetLifetimeTest, PeerResetDuringDrainRaisesConnectionResetError) {
    run_io(([]() -> Coro<void> {
        Socket peer;
        auto [r, w] = co_await streams_with_peer(peer);
        w.transport().set_write_buffer_limits(1024);
        w.write(std::string(4 << 20, 'r'));
        Task<void> draining = create_task(await_drain(w.drain()));
        co_await sleep(0.01);
        (void)co_await sock_recv(peer, 1);  // unread data pending: close() resets
        reset_on_close(peer);
        peer.close();
        EXPECT_THROW(co_await draining, std::system_error);
        w.close();
        try {
            co_await w.wait_closed();
        } catch (const std::system_error&) {}
    })());
}

TEST_F(NetLifetimeTest, EveryStreamHandleDroppedWhileOpenClosesTheConnection) {
    run_io(([]() -> Coro<void> {
        Socket peer;
        {
            auto [r, w] = co_await streams_with_peer(peer);
            w.write("last words");
        }
        EXPECT_EQ(co_await recv_until_eof(peer), "last words");
    })());
}

TEST_F(NetLifetimeTest, HandlesDroppedAfterThePeerClosedReleaseTheHalfOpenConnection) {
    run_io(([]() -> Coro<void> {
        Socket peer;
        std::size_t fds = 0;
        {
            auto [r, w] = co_await streams_with_peer(peer);
            peer.close();
            EXPECT_EQ(co_await r.read(), "");
            fds = test::open_fd_count();
        }  // half-open (eof_received kept it for writing): nobody can write now
        co_await eventually([&] { return test::open_fd_count() < fds; });
    })());
}

TEST_F(NetLifetimeTest, AReadAwaiterOutlivesItsReaderAndWriter) {
    run_io(([]() -> Coro<void> {
        Socket peer;
        auto pair = std::make_unique<StreamPair>(co_await streams_with_peer(peer));
        Task<std::string> reading = create_task(await_read(pair->first.read(5)));
        pair.reset();
        co_await sleep(0.01);
        co_await sock_sendall(peer, "later");
        EXPECT_EQ(co_await reading, "later");
        EXPECT_EQ(co_await recv_until_eof(peer), "");
    })());
}

TEST_F(NetLifetimeTest, DrainAfterTheConnectionIsLostRaisesAndWriteIsIgnored) {
    run_io(([]() -> Coro<void> {
        Socket peer;
        auto [r, w] = co_await streams_with_peer(peer);
        reset_on_close(peer);
        peer.close();
        try {
            (void)co_await r.read();
        } catch (const ConnectionResetError&) {}
        co_await sleep(0);
        w.write("into the void");  // the peer is gone: EPIPE (on a socketpair) ends the connection
        // drain() raises the connection's error (BrokenPipeError here), then
        // ConnectionResetError("Connection lost") — a system_error either way.
        EXPECT_THROW(co_await w.drain(), std::system_error);
        w.write("ignored");  // after the loss: dropped quietly (asyncio warns after 5)
        EXPECT_THROW(co_await w.drain(), std::system_error);
        try {
            co_await close_and_wait(w);
        } catch (const std::system_error&) {}
    })());
}

}  // namespace

}  // namespace lifetime_net_streams_test
