// StreamWriter over real sockets: drain() and the write buffer's high/low
// water marks, errors after the peer went away, write_eof, close and
// wait_closed, get_extra_info (CPython test_streams.py and the
// FlowControlMixin behaviour they rely on).
#include <tulip/streams/stream_writer.hpp>

#include <sys/socket.h>

#include <string>
#include <vector>

#include <tulip/tulip.hpp>

#include "support/loop_test.hpp"
#include "support/net.hpp"

namespace streams_stream_writer_test {

using namespace tulip;
using test::close_and_wait;
using test::recv_exactly;
using test::recv_until_eof;
using test::reset_on_close;

namespace {

constexpr std::size_t kHigh = 64 * 1024;  // the transport's default high-water mark
constexpr std::size_t kLow = kHigh / 4;   // ... and low-water mark
constexpr std::size_t kBig = 1 << 20;     // far more than a socket's kernel buffers hold

template <class A>
auto bounded(A a) {
    return wait_for(std::move(a), test::kLoopbackTimeout);
}

std::string pattern(std::size_t n, std::size_t seed = 0) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
    return s;
}

// A connected pair with small kernel send buffers, so that kBig bytes always
// overflow into the transport's own buffer whatever the host's defaults.
std::pair<Socket, Socket> small_pair() {
    auto p = Socket::pair();
    p.first.setsockopt(SOL_SOCKET, SO_SNDBUF, 32 * 1024);
    p.second.setsockopt(SOL_SOCKET, SO_SNDBUF, 32 * 1024);
    return p;
}

// drain(), then report how much the transport still had buffered when it woke.
Coro<std::size_t> drain_and_measure(StreamWriter w) {
    co_await w.drain();
    co_return w.transport().get_write_buffer_size();
}

// A TCP listener on 127.0.0.1 and a stream connected to it, with the accepted socket.
struct TcpPair {
    Socket listener;
    Socket accepted;
    StreamReader reader;
    StreamWriter writer;
};

Coro<TcpPair> tcp_pair() {
    TcpPair p;
    p.listener = Socket::create(AF_INET);
    p.listener.bind(SocketAddress::from_ip("127.0.0.1", 0));
    p.listener.listen();
    auto port = p.listener.getsockname().port();
    auto accepting = create_task(sock_accept(p.listener));
    auto [r, w] = co_await open_connection("127.0.0.1", port);
    p.reader = r;
    p.writer = w;
    auto accepted = co_await std::move(accepting);  // a move-only result: given away, moved out
    p.accepted = std::move(accepted.first);
    co_return p;
}

}  // namespace

class StreamWriterTest : public test::RealTimeLoopTest {};

TEST_F(StreamWriterTest, TheTransportUsesAsyncioDefaultWaterMarks) {
    auto body = []() -> Coro<void> {
        auto [a, b] = small_pair();
        auto [r, w] = co_await open_connection(std::move(a));
        auto limits = w.transport().get_write_buffer_limits();
        EXPECT_EQ(limits.first, kLow);
        EXPECT_EQ(limits.second, kHigh);
        co_await close_and_wait(w);
    };
    run(bounded(body()));
}

TEST_F(StreamWriterTest, DrainReturnsAtOnceWhileTheBufferIsBelowTheHighWaterMark) {
    auto body = []() -> Coro<void> {
        auto [a, b] = small_pair();
        auto [r, w] = co_await open_connection(std::move(a));
        w.write("hello");
        auto t = create_task(w.drain());
        co_await sleep(0);
        EXPECT_TRUE(t.done());
        co_await t;
        EXPECT_EQ(co_await recv_exactly(b, 5), "hello");
        co_await close_and_wait(w);
    };
    run(bounded(body()));
}

TEST_F(StreamWriterTest, DrainBlocksAboveTheHighWaterMarkAndWakesAtTheLowOne) {
    auto body = []() -> Coro<void> {
        auto [a, peer] = small_pair();
        auto [r, w] = co_await open_connection(std::move(a));
        const std::string data = pattern(kBig);
        w.write(data);
        EXPECT_GT(w.transport().get_write_buffer_size(), kHigh);
        auto drain = create_task(drain_and_measure(w));
        for (int i = 0; i < 20; ++i) co_await sleep(0);
        EXPECT_FALSE(drain.done()) << "drain() returned while the peer was not reading";

        auto reading = create_task(recv_exactly(peer, kBig));
        std::size_t left_at_wakeup = co_await drain;
        EXPECT_LE(left_at_wakeup, kLow);
        EXPECT_EQ(co_await reading, data);
        co_await close_and_wait(w);
    };
    run(bounded(body()));
}

TEST_F(StreamWriterTest, DrainBlocksAgainWhenThePeerStopsReadingAndWakesWhenItResumes) {
    auto body = []() -> Coro<void> {
        auto [a, peer] = small_pair();
        auto [r, w] = co_await open_connection(std::move(a));
        for (std::size_t round = 0; round < 3; ++round) {
            const std::string data = pattern(kBig, round);
            w.write(data);
            auto drain = create_task(w.drain());
            for (int i = 0; i < 20; ++i) co_await sleep(0);
            EXPECT_FALSE(drain.done()) << "round " << round;
            // The peer resumes, reads this round's bytes, and stops again.
            auto reading = create_task(recv_exactly(peer, kBig));
            co_await drain;
            EXPECT_EQ(co_await reading, data) << "round " << round;
        }
        co_await close_and_wait(w);
    };
    run(bounded(body()));
}

TEST_F(StreamWriterTest, EveryConcurrentDrainWakesWhenTheBufferEmpties) {
    auto body = []() -> Coro<void> {
        auto [a, peer] = small_pair();
        auto [r, w] = co_await open_connection(std::move(a));
        w.write(pattern(kBig));
        std::vector<Task<void>> drains;
        for (int i = 0; i < 10; ++i) drains.push_back(create_task(w.drain()));
        for (int i = 0; i < 20; ++i) co_await sleep(0);
        for (auto& d : drains) EXPECT_FALSE(d.done());
        auto reading = create_task(recv_exactly(peer, kBig));
        for (auto& d : drains) co_await d;
        EXPECT_EQ((co_await reading).size(), kBig);
        co_await close_and_wait(w);
    };
    run(bounded(body()));
}

TEST_F(StreamWriterTest, ACancelledDrainLeavesTheDataQueued) {
    auto body = []() -> Coro<void> {
        auto [a, peer] = small_pair();
        auto [r, w] = co_await open_connection(std::move(a));
        const std::string data = pattern(kBig);
        w.write(data);
        auto drain = create_task(w.drain());
        co_await sleep(0);
        drain.cancel();
        try {
            co_await drain;
            ADD_FAILURE() << "the drain was not cancelled";
        } catch (const CancelledError&) {}
        EXPECT_GT(w.transport().get_write_buffer_size(), 0u);
        EXPECT_EQ(co_await recv_exactly(peer, kBig), data);
        co_await w.drain();  // and a later drain still works
        co_await close_and_wait(w);
    };
    run(bounded(body()));
}

TEST_F(StreamWriterTest, WritelinesSendsEveryPartInOrder) {
    auto body = []() -> Coro<void> {
        auto [a, peer] = small_pair();
        auto [r, w] = co_await open_connection(std::move(a));
        std::vector<std::string_view> parts{"GET / HTTP/1.1\r\n", "", "Host: x\r\n", "\r\n"};
        w.writelines(parts);
        co_await w.drain();
        EXPECT_EQ(co_await recv_exactly(peer, 27), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        co_await close_and_wait(w);
    };
    run(bounded(body()));
}

TEST_F(StreamWriterTest, DrainRaisesBrokenPipeOnceThePeerIsGone) {
    auto body = []() -> Coro<void> {
        auto [a, peer] = small_pair();
        auto [r, w] = co_await open_connection(std::move(a));
        peer.close();
        bool raised = false;
        for (int i = 0; i < 1000 && !raised; ++i) {
            w.write("foo\n");
            try {
                co_await w.drain();
            } catch (const ConnectionError&) {
                raised = true;
            }
        }
        EXPECT_TRUE(raised) << "drain() kept succeeding after the peer closed";
        EXPECT_TRUE(w.is_closing());
        try {
            co_await w.wait_closed();
        } catch (const ConnectionError&) {}
    };
    run(bounded(body()));
}

TEST_F(StreamWriterTest, DrainRaisesAfterThePeerResetTheConnection) {
    // CPython's test_drain_raises: the loop must not spin forever in write/drain.
    auto body = []() -> Coro<void> {
        TcpPair p = co_await tcp_pair();
        reset_on_close(p.accepted);
        p.accepted.close();  // RST
        bool raised = false;
        for (int i = 0; i < 100000 && !raised; ++i) {
            p.writer.write("foo\n");
            try {
                co_await p.writer.drain();
            } catch (const ConnectionError&) {  // reset, aborted or broken pipe
                raised = true;
            }
            if (i % 64 == 63) co_await sleep(0.001);  // give the RST time to arrive
        }
        EXPECT_TRUE(raised);
        try {
            co_await p.writer.wait_closed();
        } catch (const ConnectionError&) {}
    };
    run(bounded(body()));
}

TEST_F(StreamWriterTest, WaitClosedRaisesTheErrorTheConnectionEndedWithEvenWhenCalledLate) {
    // asyncio: the closed future holds the connection's error, whenever one awaits it.
    auto body = []() -> Coro<void> {
        TcpPair p = co_await tcp_pair();
        reset_on_close(p.accepted);
        p.accepted.close();
        try {
            co_await p.reader.read();
            ADD_FAILURE() << "read() did not see the reset";
        } catch (const ConnectionResetError&) {}
        co_await sleep(0);
        try {
            co_await p.writer.wait_closed();
            ADD_FAILURE() << "wait_closed() hid the reset";
        } catch (const ConnectionResetError&) {}
    };
    run(bounded(body()));
}

TEST_F(StreamWriterTest, DrainAfterCloseRaisesConnectionResetError) {
    auto body = []() -> Coro<void> {
        auto [a, peer] = small_pair();
        auto [r, w] = co_await open_connection(std::move(a));
        w.close();
        try {
            w.write("data");
            co_await w.drain();
            ADD_FAILURE() << "drain() after close() succeeded";
        } catch (const ConnectionResetError&) {}
        co_await w.wait_closed();
        EXPECT_EQ(co_await recv_until_eof(peer), "");  // the write after close() went nowhere
    };
    run(bounded(body()));
}

TEST_F(StreamWriterTest, WriteEofHalfClosesAndThePeerCanStillAnswer) {
    auto body = []() -> Coro<void> {
        auto [a, b] = small_pair();
        auto [r1, w1] = co_await open_connection(std::move(a));
        auto [r2, w2] = co_await open_connection(std::move(b));
        EXPECT_TRUE(w1.can_write_eof());
        w1.write("question");
        w1.write_eof();
        EXPECT_FALSE(w1.is_closing());
        EXPECT_EQ(co_await r2.read(), "question");  // read(-1) ends at the EOF
        EXPECT_TRUE(r2.at_eof());
        w2.write("answer");
        w2.write_eof();
        EXPECT_EQ(co_await r1.read(), "answer");
        co_await close_and_wait(w1);
        co_await close_and_wait(w2);
    };
    run(bounded(body()));
}

TEST_F(StreamWriterTest, WriteAfterWriteEofRaisesRuntimeError) {
    auto body = []() -> Coro<void> {
        auto [a, peer] = small_pair();
        auto [r, w] = co_await open_connection(std::move(a));
        w.write_eof();
        EXPECT_THROW(w.write("late"), std::runtime_error);
        EXPECT_EQ(co_await recv_until_eof(peer), "");
        co_await close_and_wait(w);
    };
    run(bounded(body()));
}

TEST_F(StreamWriterTest, WriteEofAfterBufferedDataSendsTheDataFirst) {
    auto body = []() -> Coro<void> {
        auto [a, peer] = small_pair();
        auto [r, w] = co_await open_connection(std::move(a));
        const std::string data = pattern(kBig);
        w.write(data);
        w.write_eof();  // the buffer is not empty: the shutdown waits for it
        EXPECT_EQ(co_await recv_until_eof(peer), data);
        co_await close_and_wait(w);
    };
    run(bounded(body()));
}

TEST_F(StreamWriterTest, CloseMarksTheWriterClosingAndWaitClosedReturnsOnceItIsGone) {
    auto body = []() -> Coro<void> {
        auto [a, peer] = small_pair();
        auto [r, w] = co_await open_connection(std::move(a));
        w.write("bye");
        EXPECT_FALSE(w.is_closing());
        w.close();
        EXPECT_TRUE(w.is_closing());
        co_await w.wait_closed();
        co_await w.wait_closed();  // again: returns at once
        EXPECT_EQ(co_await recv_until_eof(peer), "bye");
    };
    run(bounded(body()));
}

TEST_F(StreamWriterTest, CloseSendsWhatIsStillBufferedBeforeTheConnectionGoes) {
    auto body = []() -> Coro<void> {
        auto [a, peer] = small_pair();
        auto [r, w] = co_await open_connection(std::move(a));
        const std::string data = pattern(kBig, 3);
        w.write(data);
        w.close();
        auto closing = create_task(w.wait_closed());
        for (int i = 0; i < 10; ++i) co_await sleep(0);
        EXPECT_FALSE(closing.done()) << "closed before the buffered data was sent";
        EXPECT_EQ(co_await recv_until_eof(peer), data);
        co_await closing;
    };
    run(bounded(body()));
}

TEST_F(StreamWriterTest, TheReaderIsAtEofOnceOurOwnWriterClosed) {
    // CPython's test_eof_feed_when_closing_writer.
    auto body = []() -> Coro<void> {
        auto [a, peer] = small_pair();
        auto [r, w] = co_await open_connection(std::move(a));
        co_await close_and_wait(w);
        EXPECT_TRUE(r.at_eof());
        EXPECT_EQ(co_await r.read(), "");
    };
    run(bounded(body()));
}

TEST_F(StreamWriterTest, ClosingWithUnreadDataStillCompletes) {
    auto body = []() -> Coro<void> {
        auto [a, b] = small_pair();
        auto [r, w] = co_await open_connection(std::move(a));
        co_await sock_sendall(b, "line1\nline2\nline3\n");
        EXPECT_EQ(co_await r.readline(), "line1\n");
        co_await close_and_wait(w);
    };
    run(bounded(body()));
}

TEST_F(StreamWriterTest, GetExtraInfoGivesThePeerAndOurOwnAddress) {
    auto body = []() -> Coro<void> {
        TcpPair p = co_await tcp_pair();
        auto peername = std::any_cast<SocketAddress>(p.writer.get_extra_info("peername"));
        auto sockname = std::any_cast<SocketAddress>(p.writer.get_extra_info("sockname"));
        EXPECT_EQ(peername, p.listener.getsockname());
        EXPECT_EQ(sockname, p.accepted.getpeername());
        EXPECT_EQ(peername.to_string().rfind("127.0.0.1", 0), 0u) << peername.to_string();
        EXPECT_GE(std::any_cast<int>(p.writer.get_extra_info("socket")), 0);
        EXPECT_FALSE(p.writer.get_extra_info("no such thing").has_value());
        co_await close_and_wait(p.writer);
    };
    run(bounded(body()));
}

TEST_F(StreamWriterTest, LargeWritesArriveIntactThroughDrain) {
    auto body = []() -> Coro<void> {
        auto [a, b] = small_pair();
        auto [r1, w1] = co_await open_connection(std::move(a));
        auto [r2, w2] = co_await open_connection(std::move(b));
        std::string sent;
        for (std::size_t i = 0; i < 8; ++i) sent += pattern(kBig / 2 + i * 1000, i);
        auto reading = create_task(r2.readexactly(sent.size()));
        for (std::size_t off = 0; off < sent.size(); off += 100000) {
            w1.write(std::string_view(sent).substr(off, 100000));
            co_await w1.drain();
        }
        EXPECT_EQ(co_await reading, sent);
        co_await close_and_wait(w1);
        co_await close_and_wait(w2);
    };
    run(bounded(body()));
}

}  // namespace streams_stream_writer_test
