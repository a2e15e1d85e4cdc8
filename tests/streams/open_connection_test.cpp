// open_connection / start_server and their Unix variants, end to end over
// loopback (CPython test_streams.py: test_open_connection*, test_start_server*,
// test_drain_raises, test_wait_closed_on_close, ...).
#include <tulip/streams/open_connection.hpp>

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <tulip/tulip.hpp>

#include "support/loop_test.hpp"
#include "support/net.hpp"

namespace streams_open_connection_test {

using namespace tulip;
using test::close_and_wait;
using test::port_of;

namespace {

template <class A>
auto bounded(A a) {
    return wait_for(std::move(a), test::kLoopbackTimeout);
}

// Echoes one line back, then closes (CPython's MyServer.handle_client).
Coro<void> echo_one_line(StreamReader r, StreamWriter w) {
    std::string line = co_await r.readline();
    w.write(line);
    co_await w.drain();
    co_await close_and_wait(w);
}

// Echoes lines until EOF.
Coro<void> echo_lines(StreamReader r, StreamWriter w) {
    for (;;) {
        std::string line = co_await r.readline();
        if (line.empty()) break;
        w.write(line);
        co_await w.drain();
    }
    co_await close_and_wait(w);
}

// Sends a line and returns the reply (CPython's client()).
Coro<std::string> ask(StreamPair conn, std::string line) {
    auto [r, w] = std::move(conn);
    w.write(line);
    std::string reply = co_await r.readline();
    co_await close_and_wait(w);
    co_return reply;
}

Coro<std::string> ask_tcp(std::uint16_t port, std::string line) {
    auto conn = co_await open_connection("127.0.0.1", port);
    co_return co_await ask(std::move(conn), std::move(line));
}

// A fresh directory for Unix socket files, removed at the end.
struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/tulip-streams-XXXXXX";
        if (::mkdtemp(tmpl)) path = tmpl;
    }
    ~TempDir() {
        if (!path.empty()) ::rmdir(path.c_str());
    }
};

bool file_exists(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0;
}

// What a test's handlers share with the test body.
struct Shared {
    int connections = 0;
    int finished = 0;
    std::optional<StreamReader> reader;  // set by the handler
    StreamWriter writer;
    AnyTask handler_task;
    Event go;
    std::string note;
};

}  // namespace

class OpenConnectionTest : public test::RealTimeLoopTest {};

// ---- round trips -----------------------------------------------------------------------

TEST_F(OpenConnectionTest, AClientTalksToAStartServerHandler) {
    auto body = []() -> Coro<void> {
        Server server = co_await start_server(echo_one_line, "127.0.0.1", 0);
        EXPECT_TRUE(server.is_serving());
        EXPECT_NE(port_of(server), 0);
        EXPECT_EQ(co_await ask_tcp(port_of(server), "hello world!\n"), "hello world!\n");
        co_await close_and_wait(server);
        EXPECT_FALSE(server.is_serving());
        EXPECT_TRUE(server.sockets().empty());
    };
    run(bounded(body()));
}

Coro<void> spawn_echo(Shared* s, StreamReader r, StreamWriter w) {
    // Returns at once: the connection must stay open for the task it started.
    ++s->connections;
    create_task(echo_one_line(r, w));
    co_return;
}

TEST_F(OpenConnectionTest, AHandlerThatReturnsAtOnceLeavesTheConnectionOpen) {
    auto body = []() -> Coro<void> {
        Shared s;
        auto cb = [&s](StreamReader r, StreamWriter w) { return spawn_echo(&s, r, w); };
        Server server = co_await start_server(cb, "127.0.0.1", 0);
        EXPECT_EQ(co_await ask_tcp(port_of(server), "still here\n"), "still here\n");
        EXPECT_EQ(s.connections, 1);
        co_await close_and_wait(server);
    };
    run(bounded(body()));
}

Coro<void> respond_http(StreamReader r, StreamWriter w) {
    (void)co_await r.readuntil("\r\n\r\n");
    w.write("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nTest message");
    co_await close_and_wait(w);
}

TEST_F(OpenConnectionTest, AClientReadsALineThenEverythingUntilTheServerCloses) {
    auto body = []() -> Coro<void> {
        Server server = co_await start_server(respond_http, "127.0.0.1", 0);
        auto [r, w] = co_await open_connection("127.0.0.1", port_of(server));
        w.write("GET / HTTP/1.0\r\n\r\n");
        EXPECT_EQ(co_await r.readline(), "HTTP/1.0 200 OK\r\n");
        std::string rest = co_await r.read();
        EXPECT_TRUE(rest.ends_with("\r\n\r\nTest message")) << rest;
        EXPECT_TRUE(r.at_eof());
        co_await close_and_wait(w);
        co_await close_and_wait(server);
    };
    run(bounded(body()));
}

Coro<void> send_and_close(StreamReader, StreamWriter w) {
    w.write(std::string(300000, 'z'));
    co_await close_and_wait(w);
}

TEST_F(OpenConnectionTest, DataSentRightBeforeTheServerClosesIsNotLost) {
    auto body = []() -> Coro<void> {
        Server server = co_await start_server(send_and_close, "127.0.0.1", 0);
        auto [r, w] = co_await open_connection("127.0.0.1", port_of(server));
        co_await sleep(0.01);  // let the server finish and close first
        EXPECT_EQ((co_await r.read()).size(), 300000u);
        co_await close_and_wait(w);
        co_await close_and_wait(server);
    };
    run(bounded(body()));
}

TEST_F(OpenConnectionTest, ManyClientsAreServedConcurrently) {
    auto body = []() -> Coro<void> {
        Server server = co_await start_server(echo_lines, "127.0.0.1", 0);
        std::vector<Coro<std::string>> clients;
        for (int i = 0; i < 20; ++i) clients.push_back(ask_tcp(port_of(server), "client " + std::to_string(i) + "\n"));
        auto replies = co_await gather(std::move(clients));
        for (int i = 0; i < 20; ++i)
            EXPECT_EQ(replies[static_cast<std::size_t>(i)], "client " + std::to_string(i) + "\n");
        co_await close_and_wait(server);
    };
    run(bounded(body()));
}

Coro<void> count_until_eof(StreamReader r, StreamWriter w) {
    std::string all = co_await r.read();  // until the client's write_eof
    w.write("got " + std::to_string(all.size()) + " bytes");
    co_await close_and_wait(w);
}

TEST_F(OpenConnectionTest, HalfCloseWorksEndToEnd) {
    auto body = []() -> Coro<void> {
        Server server = co_await start_server(count_until_eof, "127.0.0.1", 0);
        auto [r, w] = co_await open_connection("127.0.0.1", port_of(server));
        w.write(std::string(100000, 'q'));
        w.write_eof();
        EXPECT_EQ(co_await r.read(), "got 100000 bytes");
        co_await close_and_wait(w);
        co_await close_and_wait(server);
    };
    run(bounded(body()));
}

TEST_F(OpenConnectionTest, OpenConnectionAcceptsAnAlreadyConnectedSocket) {
    auto body = []() -> Coro<void> {
        Server server = co_await start_server(echo_one_line, "127.0.0.1", 0);
        Socket s = Socket::create(AF_INET);
        co_await sock_connect(s, "127.0.0.1", port_of(server));
        auto conn = co_await open_connection(std::move(s));
        EXPECT_EQ(co_await ask(std::move(conn), "via sock\n"), "via sock\n");
        co_await close_and_wait(server);
    };
    run(bounded(body()));
}

Coro<void> record_peer(Shared* s, StreamReader r, StreamWriter w) {
    s->note = std::any_cast<SocketAddress>(w.get_extra_info("peername")).to_string();
    co_await echo_one_line(r, w);
}

TEST_F(OpenConnectionTest, EachSideSeesTheOtherAsItsPeer) {
    auto body = []() -> Coro<void> {
        Shared s;
        auto cb = [&s](StreamReader r, StreamWriter w) { return record_peer(&s, r, w); };
        Server server = co_await start_server(cb, "127.0.0.1", 0);
        auto [r, w] = co_await open_connection("127.0.0.1", port_of(server));
        auto mine = std::any_cast<SocketAddress>(w.get_extra_info("sockname"));
        auto theirs = std::any_cast<SocketAddress>(w.get_extra_info("peername"));
        EXPECT_EQ(theirs, server.addresses().at(0));
        w.write("x\n");
        EXPECT_EQ(co_await r.readline(), "x\n");
        EXPECT_EQ(s.note, mine.to_string());
        co_await close_and_wait(w);
        co_await close_and_wait(server);
    };
    run(bounded(body()));
}

// ---- Unix sockets ------------------------------------------------------------------------

TEST_F(OpenConnectionTest, UnixServerAndClientTalkThroughASocketFile) {
    TempDir dir;
    ASSERT_FALSE(dir.path.empty());
    const std::string path = dir.path + "/sock";
    auto body = [&]() -> Coro<void> {
        Server server = co_await start_unix_server(echo_one_line, path);
        EXPECT_TRUE(file_exists(path));
        auto conn = co_await open_unix_connection(path);
        EXPECT_EQ(co_await ask(std::move(conn), "hello world!\n"), "hello world!\n");
        co_await close_and_wait(server);
        EXPECT_FALSE(file_exists(path)) << "the server left its socket file behind";
    };
    run(bounded(body()));
    ::unlink(path.c_str());
}

TEST_F(OpenConnectionTest, UnixServerReplacesAStaleSocketFile) {
    TempDir dir;
    ASSERT_FALSE(dir.path.empty());
    const std::string path = dir.path + "/sock";
    {
        Socket stale = Socket::create(AF_UNIX);
        stale.bind(SocketAddress::from_unix(path));  // bound, never listened on, closed
    }
    ASSERT_TRUE(file_exists(path));
    auto body = [&]() -> Coro<void> {
        Server server = co_await start_unix_server(echo_one_line, path);
        auto conn = co_await open_unix_connection(path);
        EXPECT_EQ(co_await ask(std::move(conn), "fresh\n"), "fresh\n");
        co_await close_and_wait(server);
    };
    run(bounded(body()));
    ::unlink(path.c_str());
}

TEST_F(OpenConnectionTest, UnixServerWorksInTheAbstractNamespace) {
    const std::string path = std::string(1, '\0') + "tulip-streams-test-" + std::to_string(::getpid());
    auto body = [&]() -> Coro<void> {
        Server server = co_await start_unix_server(echo_lines, path);
        auto conn = co_await open_unix_connection(path);
        EXPECT_EQ(co_await ask(std::move(conn), "abstract\n"), "abstract\n");
        co_await close_and_wait(server);
    };
    run(bounded(body()));
}

TEST_F(OpenConnectionTest, OpenUnixConnectionToAMissingPathRaisesWithTheErrno) {
    TempDir dir;
    ASSERT_FALSE(dir.path.empty());
    const std::string path = dir.path + "/nobody-here";
    auto body = [&]() -> Coro<void> {
        try {
            co_await open_unix_connection(path);
            ADD_FAILURE() << "connected to a missing path";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), ENOENT) << e.what();
        }
    };
    run(bounded(body()));
}

// ---- errors ---------------------------------------------------------------------------------

Coro<void> failing_handler(Shared* s, StreamReader r, StreamWriter w) {
    (void)w;
    ++s->connections;
    (void)co_await r.readline();
    throw std::runtime_error("handler blew up");
}

TEST_F(OpenConnectionTest, AHandlerThatThrowsIsReportedAndItsConnectionClosed) {
    expect_handler_calls = true;
    auto body = []() -> Coro<void> {
        Shared s;
        auto cb = [&s](StreamReader r, StreamWriter w) { return failing_handler(&s, r, w); };
        Server server = co_await start_server(cb, "127.0.0.1", 0);
        auto [r, w] = co_await open_connection("127.0.0.1", port_of(server));
        w.write("trigger\n");
        EXPECT_EQ(co_await r.read(), "");  // the server closed the connection
        EXPECT_TRUE(r.at_eof());
        EXPECT_EQ(s.connections, 1);
        co_await close_and_wait(w);
        co_await close_and_wait(server);
    };
    run(bounded(body()));
    ASSERT_EQ(handler_calls.size(), 1u);
    EXPECT_NE(handler_calls[0].message.find("client_connected_cb"), std::string::npos) << handler_calls[0].message;
    EXPECT_EQ(describe_exception(handler_calls[0].exception).find("handler blew up") != std::string::npos, true)
        << describe_exception(handler_calls[0].exception);
}

Coro<void> park_handler(Shared* s, StreamReader r, StreamWriter w) {
    s->handler_task = current_task();
    s->writer = w;
    (void)co_await r.read();  // until EOF or cancelled
    ++s->finished;
}

TEST_F(OpenConnectionTest, ACancelledHandlerClosesItsConnectionQuietly) {
    auto body = []() -> Coro<void> {
        Shared s;
        auto cb = [&s](StreamReader r, StreamWriter w) { return park_handler(&s, r, w); };
        Server server = co_await start_server(cb, "127.0.0.1", 0);
        auto [r, w] = co_await open_connection("127.0.0.1", port_of(server));
        for (int i = 0; i < 1000 && !s.handler_task; ++i) co_await sleep(0.001);
        EXPECT_TRUE(static_cast<bool>(s.handler_task));
        if (s.handler_task) s.handler_task.cancel();
        EXPECT_EQ(co_await r.read(), "");
        EXPECT_EQ(s.finished, 0);
        co_await close_and_wait(w);
        co_await close_and_wait(server);
    };
    run(bounded(body()));
}

Coro<void> reset_handler(StreamReader r, StreamWriter w) {
    (void)co_await r.readline();
    int fd = std::any_cast<int>(w.get_extra_info("socket"));
    linger lg{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    w.transport().abort();  // closes with linger 0: the client gets a RST
}

TEST_F(OpenConnectionTest, AReadAfterThePeerResetRaisesConnectionResetError) {
    // CPython's test_open_connection_error, with a real reset.
    auto body = []() -> Coro<void> {
        Server server = co_await start_server(reset_handler, "127.0.0.1", 0);
        auto [r, w] = co_await open_connection("127.0.0.1", port_of(server));
        w.write("go\n");
        try {
            co_await r.read();
            ADD_FAILURE() << "read() ended normally after a reset";
        } catch (const ConnectionResetError&) {}
        EXPECT_TRUE(r.exception());
        try {
            co_await r.readline();  // and so does every later read
            ADD_FAILURE();
        } catch (const ConnectionResetError&) {}
        try {
            co_await w.wait_closed();
        } catch (const ConnectionResetError&) {}
        co_await close_and_wait(server);
    };
    run(bounded(body()));
}

Coro<void> limited_handler(StreamReader r, StreamWriter w) {
    try {
        (void)co_await r.readline();
        w.write("fits\n");
    } catch (const std::invalid_argument&) {
        w.write("too long\n");
    }
    w.write(co_await r.readline());  // the next line is intact
    co_await close_and_wait(w);
}

TEST_F(OpenConnectionTest, TheServersStreamLimitAppliesToItsReaders) {
    auto body = []() -> Coro<void> {
        StreamOptions o;
        o.limit = 16;
        Server server = co_await start_server(limited_handler, "127.0.0.1", 0, o);
        auto [r, w] = co_await open_connection("127.0.0.1", port_of(server));
        w.write(std::string(100, 'L') + "\nshort\n");
        EXPECT_EQ(co_await r.readline(), "too long\n");
        EXPECT_EQ(co_await r.readline(), "short\n");
        co_await close_and_wait(w);
        co_await close_and_wait(server);
    };
    run(bounded(body()));
}

Coro<void> reply_long_line(StreamReader r, StreamWriter w) {
    (void)co_await r.readline();
    w.write(std::string(64, 'x') + "\n");
    co_await close_and_wait(w);
}

TEST_F(OpenConnectionTest, TheClientsStreamLimitAppliesToItsReader) {
    auto body = []() -> Coro<void> {
        Server server = co_await start_server(reply_long_line, "127.0.0.1", 0);
        StreamOptions o;
        o.limit = 8;
        auto [r, w] = co_await open_connection("127.0.0.1", port_of(server), o);
        EXPECT_EQ(r.limit(), 8u);
        w.write("\n");
        try {
            co_await r.readline();
            ADD_FAILURE() << "a 65-byte line passed a limit of 8";
        } catch (const std::invalid_argument&) {}
        co_await close_and_wait(w);
        co_await close_and_wait(server);
    };
    run(bounded(body()));
}

// ---- flow control on a real connection ---------------------------------------------------------

Coro<void> slow_reader_handler(Shared* s, StreamReader r, StreamWriter w) {
    s->reader = r;
    s->writer = w;
    co_await s->go.wait();
    s->note = co_await r.readexactly(1 << 20);
    co_await close_and_wait(w);
}

TEST_F(OpenConnectionTest, AReaderThatFallsBehindPausesItsSocketAndResumesWhenItCatchesUp) {
    auto body = []() -> Coro<void> {
        Shared s;
        auto cb = [&s](StreamReader r, StreamWriter w) { return slow_reader_handler(&s, r, w); };
        StreamOptions o;
        o.limit = 1024;
        Server server = co_await start_server(cb, "127.0.0.1", 0, o);
        auto [r, w] = co_await open_connection("127.0.0.1", port_of(server));
        std::string data(1 << 20, '\0');
        for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31 % 251);
        w.write(data);
        // Wait until the server's reader holds more than 2 * limit.
        for (int i = 0; i < 5000 && !(s.reader && s.reader->buffered() > 2 * 1024); ++i) co_await sleep(0.001);
        if (s.reader) {
            EXPECT_GT(s.reader->buffered(), 2048u);
            EXPECT_FALSE(s.writer.transport().is_reading()) << "the server kept reading past 2 * limit";
            for (int i = 0; i < 20; ++i) co_await sleep(0.001);
            EXPECT_LT(s.reader->buffered(), 300u * 1024) << "the reader buffered far past its limit while paused";
        } else {
            ADD_FAILURE() << "the server never saw the connection";
        }
        s.go.set();
        co_await w.drain();
        EXPECT_EQ(co_await r.read(), "");  // the handler closes once it has everything
        EXPECT_EQ(s.note, data);
        co_await close_and_wait(w);
        co_await close_and_wait(server);
    };
    run(bounded(body()));
}

// ---- closing servers with clients --------------------------------------------------------------

Coro<void> counting_echo(Shared* s, StreamReader r, StreamWriter w) {
    ++s->connections;
    co_await echo_lines(r, w);
    ++s->finished;
}

TEST_F(OpenConnectionTest, ServerWaitClosedWaitsUntilEveryClientIsGone) {
    // An abstract Unix name unique to this process: once closed, nobody else can
    // be listening there, so "refused" is certain (a TCP port could be reused).
    const std::string path = std::string(1, '\0') + "tulip-wait-closed-" + std::to_string(::getpid());
    auto body = [&]() -> Coro<void> {
        Shared s;
        auto cb = [&s](StreamReader r, StreamWriter w) { return counting_echo(&s, r, w); };
        Server server = co_await start_unix_server(cb, path);
        std::vector<StreamPair> clients;
        for (int i = 0; i < 3; ++i) {
            auto conn = co_await open_unix_connection(path);
            conn.second.write("ping\n");
            EXPECT_EQ(co_await conn.first.readline(), "ping\n");
            clients.push_back(conn);
        }
        EXPECT_EQ(s.connections, 3);
        server.close();
        auto closing = create_task(server.wait_closed());
        for (int i = 0; i < 10; ++i) co_await sleep(0.001);
        EXPECT_FALSE(closing.done()) << "wait_closed() returned with clients still connected";
        // No longer listening: a new connection is refused.
        try {
            co_await open_unix_connection(path);
            ADD_FAILURE() << "connected to a closed server";
        } catch (const ConnectionRefusedError&) {}
        // The existing connections still work.
        clients[1].second.write("still\n");
        EXPECT_EQ(co_await clients[1].first.readline(), "still\n");
        for (auto& c : clients) co_await close_and_wait(c.second);
        co_await closing;
        EXPECT_EQ(s.finished, 3);
    };
    run(bounded(body()));
}

TEST_F(OpenConnectionTest, ServerCloseClientsEndsEveryConnection) {
    auto body = []() -> Coro<void> {
        Shared s;
        auto cb = [&s](StreamReader r, StreamWriter w) { return counting_echo(&s, r, w); };
        Server server = co_await start_server(cb, "127.0.0.1", 0);
        std::vector<StreamPair> clients;
        for (int i = 0; i < 3; ++i) {
            auto conn = co_await open_connection("127.0.0.1", port_of(server));
            conn.second.write("ping\n");
            EXPECT_EQ(co_await conn.first.readline(), "ping\n");
            clients.push_back(conn);
        }
        server.close();
        server.close_clients();
        for (auto& c : clients) EXPECT_EQ(co_await c.first.read(), "");
        co_await server.wait_closed();
        for (auto& c : clients) co_await close_and_wait(c.second);
        for (int i = 0; i < 100 && s.finished < 3; ++i) co_await sleep(0.001);
        EXPECT_EQ(s.finished, 3);
    };
    run(bounded(body()));
}

TEST_F(OpenConnectionTest, WaitClosedOnAServerWithoutClientsReturnsOnceClosed) {
    auto body = []() -> Coro<void> {
        Server server = co_await start_server(echo_lines, "127.0.0.1", 0);
        auto waiting = create_task(server.wait_closed());
        for (int i = 0; i < 5; ++i) co_await sleep(0);
        EXPECT_FALSE(waiting.done()) << "wait_closed() returned while the server was open";
        server.close();
        co_await waiting;
        co_await server.wait_closed();  // again: at once
    };
    run(bounded(body()));
}

// ---- issue 8, finding 11: connections whose stream handles are all gone --------------------

namespace {
Coro<std::string> await_read(StreamReader::ReadAwaiter aw) { co_return co_await std::move(aw); }

Coro<void> read_one_line_and_return(int* served, StreamReader r, StreamWriter w) {
    (void)co_await r.readline();
    w.write("bye\n");
    ++*served;
    co_return;  // no close(): the connection closes when r and w are gone
}

// A client that talks, then waits for the server's EOF.
Coro<bool> client_sees_eof(std::uint16_t port) {
    auto [r, w] = co_await open_connection("127.0.0.1", port);
    w.write("hello\n");
    std::string reply = co_await r.readline();
    std::string rest = co_await r.read();  // "" at EOF
    co_await close_and_wait(w);
    co_return reply == "bye\n" && rest.empty() && r.at_eof();
}
}  // namespace

TEST_F(OpenConnectionTest, AHandlerThatReturnsWithoutClosingClosesTheConnectionOnceItsStreamsAreGone) {
    constexpr int kClients = 100;
    std::size_t fds_at_start = test::open_fd_count();
    std::size_t fds_serving = 0, fds_after = 0;
    auto body = [&]() -> Coro<void> {
        int served = 0;
        auto cb = [&served](StreamReader r, StreamWriter w) { return read_one_line_and_return(&served, r, w); };
        Server server = co_await start_server(cb, "127.0.0.1", 0);
        fds_serving = test::open_fd_count();
        std::vector<Task<bool>> clients;
        for (int i = 0; i < kClients; ++i) clients.push_back(create_task(client_sees_eof(port_of(server))));
        int eofs = 0;
        for (auto& c : clients) eofs += co_await c;
        EXPECT_EQ(eofs, kClients) << "every client sees EOF";
        EXPECT_EQ(served, kClients);
        co_await test::eventually([&] { return test::open_fd_count() <= fds_serving; });
        fds_after = test::open_fd_count();
        co_await close_and_wait(server);
    };
    run(bounded(body()));
    EXPECT_EQ(fds_after, fds_serving) << "the server's side of every connection is closed";
    EXPECT_EQ(test::open_fd_count(), fds_at_start);
}

TEST_F(OpenConnectionTest, AConnectionUsedAndDroppedWithoutCloseLeavesNoFdAndNoLeak) {
    // Under the asan preset LeakSanitizer also checks that the transport, its
    // protocol and the stream state are freed (they referred to each other).
    std::size_t fds_serving = 0;
    auto body = [&]() -> Coro<void> {
        Server server = co_await start_server(echo_lines, "127.0.0.1", 0);
        fds_serving = test::open_fd_count();
        for (int i = 0; i < 3; ++i) {
            auto [r, w] = co_await open_connection("127.0.0.1", port_of(server));
            w.write("ping\n");
            EXPECT_EQ(co_await r.readline(), "ping\n");
        }  // dropped, never closed
        co_await test::eventually([&] { return test::open_fd_count() == fds_serving; });
        co_await close_and_wait(server);
    };
    run(bounded(body()));
}

TEST_F(OpenConnectionTest, AHandlerThatKeepsItsStreamsInATaskKeepsTheConnectionOpen) {
    // The counterpart: a pending read started from the streams counts as a user.
    auto body = []() -> Coro<void> {
        Shared s;
        Task<std::string> read_task;
        auto cb = [&s, &read_task](StreamReader r, StreamWriter w) -> Coro<void> {
            read_task = create_task(await_read(r.read(5)));
            s.writer = w;
            co_return;
        };
        Server server = co_await start_server(cb, "127.0.0.1", 0);
        auto [r, w] = co_await open_connection("127.0.0.1", port_of(server));
        co_await test::eventually([&] { return static_cast<bool>(s.writer); });
        s.writer = StreamWriter();  // only the pending read holds the server's streams now
        co_await sleep(0.02);
        w.write("hello");
        EXPECT_EQ(co_await read_task, "hello");
        // The read finished and nothing holds the server's streams: it closes.
        std::string rest = co_await r.read();
        EXPECT_EQ(rest, "");
        co_await close_and_wait(w);
        co_await close_and_wait(server);
    };
    run(bounded(body()));
}

}  // namespace streams_open_connection_test
