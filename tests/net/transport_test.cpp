// Tests of the stream socket transport and the protocols it drives, on real
// loopback TCP (and Unix socket pairs), ported from CPython's
// test_selector_events.py (SelectorSocketTransportTests,
// SelectorSocketTransportBufferedProtocolTests: callback order, write,
// writelines, write_eof, close, abort, pause/resume reading, write buffer
// limits with pause_writing/resume_writing, get_extra_info) and
// test_events.py's MyProto state checks.
#include <tulip/net/transport.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <any>
#include <array>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "support/loop_test.hpp"
#include "support/net.hpp"

namespace net_transport_test {

using namespace tulip;
using test::connect_recorder;
using test::Events;
using test::eventually;
using test::pattern;
using test::Record;
using test::Recorder;
using test::recv_exactly;
using test::recv_until_eof;
using test::tcp_pair;

namespace {

class TransportTest : public test::IoLoopTest {};

// Keeps the kernel's buffers small and fixed (a set SO_RCVBUF also stops
// autotuning), so a peer that does not read fills quickly and what the
// kernel can hold is bounded (~140 KiB). The peer's buffer is not tiny: a
// tiny receive window makes the later catch-up crawl through delayed ACKs.
void shrink_buffers(Transport& t, Socket& peer) {
    int fd = std::any_cast<int>(t.get_extra_info("socket"));
    int snd = 4096, rcv = 64 * 1024;
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd);
    ::setsockopt(peer.fileno(), SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
}

// True once the peer's socket reports the other end gone: EOF, or a reset
// (closing a socket with unread data sends RST).
Coro<bool> sees_close(Socket& s) {
    try {
        for (int i = 0; i < 1000; ++i)
            if ((co_await sock_recv(s, 1 << 16)).empty()) co_return true;
    } catch (const ConnectionResetError&) {
        co_return true;
    }
    co_return false;
}

// Writes the pattern in 16 KiB chunks until the transport buffers at least
// min_buffered bytes (the peer does not read); returns the bytes written.
std::size_t write_until_buffered(Transport& t, std::size_t min_buffered = 1) {
    std::size_t total = 0;
    for (int i = 0; i < 4096 && t.get_write_buffer_size() < min_buffered; ++i) {
        t.write(pattern(total, 16 * 1024));
        total += 16 * 1024;
    }
    return total;
}

TEST_F(TransportTest, CallbacksRunInOrderAndConnectionLostRunsExactlyOnce) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto c = co_await connect_recorder(rec);
        EXPECT_EQ(rec.events, Events{"made"}) << "create_connection returns after connection_made";
        EXPECT_EQ(rec.transport, c.first.get());
        co_await sock_sendall(c.second, "hello ");
        co_await sock_sendall(c.second, "world");
        c.second.shutdown(SHUT_WR);
        co_await eventually([&] { return rec.lost > 0; });
        co_await sleep(0.01);  // nothing may follow connection_lost
    })());
    EXPECT_EQ(rec.events, (Events{"made", "data", "eof", "lost"}));
    EXPECT_EQ(rec.data, "hello world");
    EXPECT_EQ(rec.lost, 1);
    EXPECT_EQ(rec.error, nullptr) << "a clean EOF is not an error";
}

TEST_F(TransportTest, ConnectionMadeIsScheduledNotCalledInline) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto p = co_await tcp_pair();
        Ref<Transport> t =
            make_socket_transport(get_running_loop(), std::move(p.first), std::make_unique<Recorder>(&rec));
        EXPECT_TRUE(rec.events.empty());
        co_await sleep(0);
        EXPECT_EQ(rec.events, Events{"made"});
        EXPECT_EQ(&t->get_loop(), &get_running_loop());
        EXPECT_NE(dynamic_cast<Recorder*>(&t->get_protocol()), nullptr);
        t->close();
        co_await eventually([&] { return rec.lost > 0; });
    })());
    EXPECT_EQ(rec.events, (Events{"made", "lost"}));
}

TEST_F(TransportTest, WriteSendsBytesToThePeerWithoutBuffering) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto c = co_await connect_recorder(rec);
        c.first->write("abc");
        c.first->write("");  // an empty write is a no-op
        c.first->write("def");
        EXPECT_EQ(c.first->get_write_buffer_size(), 0u) << "small writes go straight to the kernel";
        EXPECT_EQ(co_await recv_exactly(c.second, 6), "abcdef");
        c.first->close();
        EXPECT_EQ(co_await recv_until_eof(c.second), "");
        co_await eventually([&] { return rec.lost > 0; });
    })());
    EXPECT_EQ(rec.events, (Events{"made", "lost"}));
}

TEST_F(TransportTest, WritelinesSendsEveryPartInOrder) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto c = co_await connect_recorder(rec);
        std::vector<std::string_view> parts{"GET / HTTP/1.0\r\n", "", "Host: x\r\n", "\r\n"};
        c.first->writelines(parts);
        EXPECT_EQ(co_await recv_exactly(c.second, 27), "GET / HTTP/1.0\r\nHost: x\r\n\r\n");
        // More parts than one writev takes.
        std::vector<std::string> many;
        for (int i = 0; i < 100; ++i) many.push_back(std::to_string(i) + ",");
        std::vector<std::string_view> views(many.begin(), many.end());
        c.first->writelines(views);
        std::string expected;
        for (auto& m : many) expected += m;
        EXPECT_EQ(co_await recv_exactly(c.second, expected.size()), expected);
        c.first->close();
        co_await eventually([&] { return rec.lost > 0; });
    })());
}

TEST_F(TransportTest, WritelinesAfterBufferingKeepsTheOrder) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto c = co_await connect_recorder(rec);
        shrink_buffers(*c.first, c.second);
        std::size_t total = write_until_buffered(*c.first);
        std::string a = pattern(total, 10), b = pattern(total + 10, 20);
        std::vector<std::string_view> parts{a, b};
        c.first->writelines(parts);
        total += 30;
        std::string got = co_await recv_exactly(c.second, total);
        EXPECT_TRUE(got == pattern(0, total)) << "bytes out of order";
        c.first->close();
        co_await eventually([&] { return rec.lost > 0; });
    })());
}

TEST_F(TransportTest, WriteEofHalfClosesAndTheTransportKeepsReading) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto c = co_await connect_recorder(rec);
        Transport& t = *c.first;
        EXPECT_TRUE(t.can_write_eof());
        t.write("request");
        t.write_eof();
        t.write_eof();  // twice is harmless
        EXPECT_THROW(t.write("more"), std::runtime_error);
        std::vector<std::string_view> parts{"x"};
        EXPECT_THROW(t.writelines(parts), std::runtime_error);
        EXPECT_EQ(co_await recv_until_eof(c.second), "request");
        EXPECT_FALSE(t.is_closing());
        co_await sock_sendall(c.second, "response");
        co_await eventually([&] { return rec.data.size() == 8; });
        EXPECT_EQ(rec.data, "response");
        c.second.close();
        co_await eventually([&] { return rec.lost > 0; });
    })());
    EXPECT_EQ(rec.events, (Events{"made", "data", "eof", "lost"}));
}

TEST_F(TransportTest, WriteEofWaitsForTheBufferToDrain) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto c = co_await connect_recorder(rec);
        shrink_buffers(*c.first, c.second);
        std::size_t total = write_until_buffered(*c.first);
        c.first->write_eof();
        // Everything buffered arrives before the EOF.
        std::string got = co_await recv_until_eof(c.second);
        EXPECT_EQ(got.size(), total);
        EXPECT_TRUE(got == pattern(0, total));
        c.first->close();
        co_await eventually([&] { return rec.lost > 0; });
    })());
}

TEST_F(TransportTest, CloseSendsBufferedDataBeforeConnectionLost) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto c = co_await connect_recorder(rec);
        shrink_buffers(*c.first, c.second);
        // More than the kernel can hold for a peer that does not read.
        std::size_t total = write_until_buffered(*c.first, 512 * 1024);
        EXPECT_GE(c.first->get_write_buffer_size(), 512u * 1024);
        c.first->close();
        EXPECT_TRUE(c.first->is_closing());
        co_await sleep(0.01);
        EXPECT_EQ(rec.lost, 0) << "connection_lost came before the buffer was sent";
        std::string got = co_await recv_until_eof(c.second);
        EXPECT_EQ(got.size(), total);
        EXPECT_TRUE(got == pattern(0, total));
        co_await eventually([&] { return rec.lost > 0; });
        EXPECT_EQ(c.first->get_write_buffer_size(), 0u);
    })());
    EXPECT_EQ(rec.events, (Events{"made", "lost"}));
    EXPECT_EQ(rec.error, nullptr);
}

TEST_F(TransportTest, AbortDropsBufferedDataAndLosesTheConnectionOnce) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto c = co_await connect_recorder(rec);
        shrink_buffers(*c.first, c.second);
        std::size_t total = write_until_buffered(*c.first);
        std::size_t buffered = c.first->get_write_buffer_size();
        EXPECT_GT(buffered, 0u);
        c.first->abort();
        c.first->abort();  // twice: still one connection_lost
        c.first->close();
        EXPECT_TRUE(c.first->is_closing());
        EXPECT_EQ(c.first->get_write_buffer_size(), 0u);
        co_await eventually([&] { return rec.lost > 0; });
        std::string got = co_await recv_until_eof(c.second);
        EXPECT_EQ(got.size(), total - buffered) << "the peer got exactly what the kernel had taken";
        co_await sleep(0.01);
    })());
    EXPECT_EQ(rec.events, (Events{"made", "lost"}));
    EXPECT_EQ(rec.lost, 1);
    EXPECT_EQ(rec.error, nullptr);
}

TEST_F(TransportTest, CloseIsIdempotentAndStopsReading) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto c = co_await connect_recorder(rec);
        EXPECT_FALSE(c.first->is_closing());
        EXPECT_TRUE(c.first->is_reading());
        c.first->close();
        c.first->close();
        EXPECT_TRUE(c.first->is_closing());
        EXPECT_FALSE(c.first->is_reading());
        c.first->pause_reading();  // no-ops once closing
        c.first->resume_reading();
        co_await sock_sendall(c.second, "ignored");
        co_await eventually([&] { return rec.lost > 0; });
        co_await sleep(0.01);
    })());
    EXPECT_EQ(rec.events, (Events{"made", "lost"}));
    EXPECT_EQ(rec.data, "");
}

TEST_F(TransportTest, PauseReadingStopsDeliveryUntilResumeReading) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto c = co_await connect_recorder(rec);
        Transport& t = *c.first;
        t.pause_reading();
        t.pause_reading();  // idempotent
        EXPECT_FALSE(t.is_reading());
        co_await sock_sendall(c.second, "held back");
        co_await sleep(0.05);
        EXPECT_EQ(rec.data, "") << "data arrived while reading was paused";
        t.resume_reading();
        t.resume_reading();
        EXPECT_TRUE(t.is_reading());
        co_await eventually([&] { return rec.data == "held back"; });
        t.close();
        co_await eventually([&] { return rec.lost > 0; });
    })());
}

TEST_F(TransportTest, PausedReadingAlsoHoldsBackTheEof) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto c = co_await connect_recorder(rec);
        c.first->pause_reading();
        co_await sock_sendall(c.second, "bye");
        c.second.shutdown(SHUT_WR);
        co_await sleep(0.05);
        EXPECT_EQ(rec.events, Events{"made"});
        c.first->resume_reading();
        co_await eventually([&] { return rec.lost > 0; });
    })());
    EXPECT_EQ(rec.events, (Events{"made", "data", "eof", "lost"}));
    EXPECT_EQ(rec.data, "bye");
}

TEST_F(TransportTest, WriteBufferLimitsHaveAsyncioDefaultsAndAreValidated) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto c = co_await connect_recorder(rec);
        Transport& t = *c.first;
        using Limits = std::pair<std::size_t, std::size_t>;  // {low, high}
        EXPECT_EQ(t.get_write_buffer_limits(), (Limits{16 * 1024, 64 * 1024}));
        t.set_write_buffer_limits(1000);
        EXPECT_EQ(t.get_write_buffer_limits(), (Limits{250, 1000}));
        t.set_write_buffer_limits(std::nullopt, 100);
        EXPECT_EQ(t.get_write_buffer_limits(), (Limits{100, 400}));
        t.set_write_buffer_limits(10, 10);
        EXPECT_EQ(t.get_write_buffer_limits(), (Limits{10, 10}));
        t.set_write_buffer_limits(0, 0);
        EXPECT_EQ(t.get_write_buffer_limits(), (Limits{0, 0}));
        EXPECT_THROW(t.set_write_buffer_limits(10, 11), std::invalid_argument);
        EXPECT_EQ(t.get_write_buffer_limits(), (Limits{0, 0})) << "a rejected call changes nothing";
        t.set_write_buffer_limits();
        EXPECT_EQ(t.get_write_buffer_limits(), (Limits{16 * 1024, 64 * 1024}));
        t.close();
        co_await eventually([&] { return rec.lost > 0; });
    })());
    EXPECT_EQ(rec.paused, 0);
}

TEST_F(TransportTest, PauseWritingAboveHighWaterAndResumeWritingAtLowWater) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto c = co_await connect_recorder(rec);
        Transport& t = *c.first;
        shrink_buffers(t, c.second);
        // Fill a peer that does not read until the protocol is told to pause.
        std::size_t total = 0;
        for (int i = 0; i < 4096 && rec.paused == 0; ++i) {
            t.write(pattern(total, 16 * 1024));
            total += 16 * 1024;
        }
        EXPECT_EQ(rec.paused, 1);
        EXPECT_GT(t.get_write_buffer_size(), 64u * 1024);
        // More writes while paused do not pause again (the protocol should stop, but may not).
        t.write(pattern(total, 100));
        total += 100;
        EXPECT_EQ(rec.paused, 1);
        EXPECT_EQ(rec.resumed, 0);
        // The peer reads: the buffer drains and the protocol resumes once.
        std::string got = co_await recv_exactly(c.second, total);
        EXPECT_TRUE(got == pattern(0, total));
        co_await eventually([&] { return rec.resumed > 0; });
        EXPECT_EQ(rec.resumed, 1);
        EXPECT_LE(t.get_write_buffer_size(), 16u * 1024);
        t.close();
        co_await eventually([&] { return rec.lost > 0; });
    })());
    EXPECT_EQ(rec.paused, 1);
    EXPECT_EQ(rec.resumed, 1);
}

TEST_F(TransportTest, LoweringTheHighWaterMarkBelowTheBufferPausesAtOnce) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto c = co_await connect_recorder(rec);
        Transport& t = *c.first;
        shrink_buffers(t, c.second);
        std::size_t total = write_until_buffered(t);
        EXPECT_GT(t.get_write_buffer_size(), 0u);
        EXPECT_EQ(rec.paused, 0) << "a buffer under the default high-water mark paused";
        t.set_write_buffer_limits(0, 0);
        EXPECT_EQ(rec.paused, 1) << "set_write_buffer_limits pauses when the buffer is already above";
        std::string got = co_await recv_exactly(c.second, total);
        EXPECT_EQ(got.size(), total);
        co_await eventually([&] { return rec.resumed > 0; });
        EXPECT_EQ(t.get_write_buffer_size(), 0u);
        t.close();
        co_await eventually([&] { return rec.lost > 0; });
    })());
}

TEST_F(TransportTest, GetExtraInfoGivesTheAddressesAndTheSocket) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto c = co_await connect_recorder(rec);
        Transport& t = *c.first;
        auto peer = std::any_cast<SocketAddress>(t.get_extra_info("peername"));
        auto local = std::any_cast<SocketAddress>(t.get_extra_info("sockname"));
        int fd = std::any_cast<int>(t.get_extra_info("socket"));
        EXPECT_EQ(peer, c.second.getsockname());
        EXPECT_EQ(local, c.second.getpeername());
        EXPECT_GE(fd, 0);
        EXPECT_FALSE(t.get_extra_info("no such thing").has_value());
        // asyncio sets TCP_NODELAY on TCP transports it creates.
        int nodelay = 0;
        socklen_t n = sizeof nodelay;
        ::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &n);
        EXPECT_NE(nodelay, 0);
        t.close();
        co_await eventually([&] { return rec.lost > 0; });
    })());
}

struct SmallBufferProtocol : BufferedProtocol {
    explicit SmallBufferProtocol(Record* r) : r(r) {}
    void connection_made(Transport& t) override {
        r->transport = &t;
        r->events.push_back("made");
    }
    std::span<char> get_buffer(std::size_t size_hint) override {
        hint = size_hint;
        ++get_buffer_calls;
        return std::span<char>(buf);
    }
    void buffer_updated(std::size_t n) override {
        if (n > buf.size()) ++oversized;
        if (r->events.back() != "data") r->events.push_back("data");
        r->data.append(buf.data(), n);
    }
    bool eof_received() override {
        r->events.push_back("eof");
        return false;
    }
    void connection_lost(std::exception_ptr e) override {
        r->events.push_back("lost");
        ++r->lost;
        r->error = e;
    }
    Record* r;
    std::array<char, 7> buf{};
    std::size_t hint = 0;
    int get_buffer_calls = 0;
    int oversized = 0;
};

TEST_F(TransportTest, BufferedProtocolReceivesIntoItsOwnBuffer) {
    Record rec;
    int calls = 0, oversized = 0;
    run_io(([&]() -> Coro<void> {
        auto p = co_await tcp_pair();
        auto factory = [&rec] { return std::make_unique<SmallBufferProtocol>(&rec); };
        auto conn = co_await create_connection(factory, std::move(p.first));
        SmallBufferProtocol* proto = conn.second.get();
        const std::string msg = pattern(0, 1000);
        co_await sock_sendall(p.second, msg);
        p.second.shutdown(SHUT_WR);
        co_await eventually([&] { return rec.lost > 0; });
        // Still alive: `conn` holds the transport, which owns the protocol.
        calls = proto->get_buffer_calls;
        oversized = proto->oversized;
        EXPECT_EQ(proto->hint, static_cast<std::size_t>(-1)) << "asyncio asks with -1 (any size)";
    })());
    EXPECT_EQ(rec.data, pattern(0, 1000));
    EXPECT_GE(calls, 1000 / 7);
    EXPECT_EQ(oversized, 0);
    EXPECT_EQ(rec.events, (Events{"made", "data", "eof", "lost"}));
}

struct FailingBufferProtocol : SmallBufferProtocol {
    using SmallBufferProtocol::SmallBufferProtocol;
    std::span<char> get_buffer(std::size_t) override { throw std::runtime_error("no buffer for you"); }
};

TEST_F(TransportTest, GetBufferFailureIsReportedAndClosesTheTransport) {
    expect_handler_calls = true;
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto p = co_await tcp_pair();
        auto factory = [&rec] { return std::make_unique<FailingBufferProtocol>(&rec); };
        auto conn = co_await create_connection(factory, std::move(p.first));
        co_await sock_sendall(p.second, "data");
        co_await eventually([&] { return rec.lost > 0; });
        EXPECT_TRUE(co_await sees_close(p.second)) << "the transport closed its socket";
    })());
    EXPECT_EQ(rec.events, (Events{"made", "lost"}));
    ASSERT_NE(rec.error, nullptr);
    EXPECT_NE(describe_exception(rec.error).find("no buffer for you"), std::string::npos);
    ASSERT_EQ(handler_calls.size(), 1u);
    EXPECT_NE(handler_calls[0].message.find("get_buffer"), std::string::npos) << handler_calls[0].message;
}

struct ThrowingProtocol : Recorder {
    using Recorder::Recorder;
    void data_received(std::string_view) override { throw std::logic_error("bad data"); }
};

TEST_F(TransportTest, DataReceivedThrowingIsReportedAndClosesTheTransport) {
    expect_handler_calls = true;
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto p = co_await tcp_pair();
        auto factory = [&rec] { return std::make_unique<ThrowingProtocol>(&rec); };
        auto conn = co_await create_connection(factory, std::move(p.first));
        co_await sock_sendall(p.second, "boom");
        co_await eventually([&] { return rec.lost > 0; });
        co_await sleep(0.01);
    })());
    EXPECT_EQ(rec.events, (Events{"made", "lost"}));
    EXPECT_EQ(rec.lost, 1);
    ASSERT_NE(rec.error, nullptr);
    EXPECT_THROW(std::rethrow_exception(rec.error), std::logic_error);
    ASSERT_EQ(handler_calls.size(), 1u);
    EXPECT_NE(handler_calls[0].message.find("data_received"), std::string::npos) << handler_calls[0].message;
    EXPECT_EQ(handler_calls[0].exception, rec.error) << "the very same exception object";
}

struct ThrowingOnLost : Recorder {
    using Recorder::Recorder;
    void connection_lost(std::exception_ptr e) override {
        Recorder::connection_lost(e);
        throw std::runtime_error("lost and failing");
    }
};

TEST_F(TransportTest, ConnectionLostThrowingIsReportedAndTheSocketStillCloses) {
    expect_handler_calls = true;
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto p = co_await tcp_pair();
        auto factory = [&rec] { return std::make_unique<ThrowingOnLost>(&rec); };
        auto conn = co_await create_connection(factory, std::move(p.first));
        conn.first->close();
        co_await eventually([&] { return rec.lost > 0; });
        EXPECT_EQ(co_await recv_until_eof(p.second), "");
    })());
    ASSERT_EQ(handler_calls.size(), 1u);
    EXPECT_NE(handler_calls[0].message.find("connection_lost"), std::string::npos);
}

TEST_F(TransportTest, EofReceivedReturningTrueKeepsTheTransportWritable) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto c = co_await connect_recorder(rec, /*keep_open=*/true);
        co_await sock_sendall(c.second, "question");
        c.second.shutdown(SHUT_WR);
        co_await eventually([&] { return rec.events.back() == "eof"; });
        co_await sleep(0.01);
        EXPECT_EQ(rec.lost, 0) << "the transport closed although eof_received returned true";
        EXPECT_FALSE(c.first->is_closing());
        c.first->write("answer");
        c.first->close();
        EXPECT_EQ(co_await recv_until_eof(c.second), "answer");
        co_await eventually([&] { return rec.lost > 0; });
    })());
    EXPECT_EQ(rec.events, (Events{"made", "data", "eof", "lost"}));
}

TEST_F(TransportTest, DroppingEveryUserReferenceKeepsTheConnectionAliveUntilConnectionLost) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto p = co_await tcp_pair();
        {
            auto factory = [&rec] { return std::make_unique<Recorder>(&rec); };
            auto conn = co_await create_connection(factory, std::move(p.first));
        }  // the only user reference is gone; the loop keeps the transport
        co_await sock_sendall(p.second, "still here");
        co_await eventually([&] { return rec.data == "still here"; });
        rec.transport->write("yes");
        EXPECT_EQ(co_await recv_exactly(p.second, 3), "yes");
        p.second.close();
        co_await eventually([&] { return rec.lost > 0; });
    })());
    EXPECT_EQ(rec.events, (Events{"made", "data", "eof", "lost"}));
}

// Takes a reference to its transport (as a stream's core does), then fails.
struct HoldsTransportThenThrows : Protocol {
    HoldsTransportThenThrows(Events* ev, bool* destroyed) : ev(ev), destroyed(destroyed) {}
    ~HoldsTransportThenThrows() override { *destroyed = true; }
    void connection_made(Transport& t) override {
        ev->push_back("made");
        self = Ref<Transport>(&t);
        throw std::runtime_error("connection_made failed half-way");
    }
    void data_received(std::string_view) override {}
    void connection_lost(std::exception_ptr) override {
        ev->push_back("lost");
        self = Ref<Transport>();  // the cycle protocol -> transport -> protocol ends here
    }
    Events* ev;
    bool* destroyed;
    Ref<Transport> self;
};

// A connection_made that throws is reported, the transport closes, and
// connection_lost follows (asyncio's too), so that what connection_made
// took is given back. The sweep found a stream server leaking the
// connection when client_connected_cb's coroutine could not be allocated:
// without connection_lost the core and the transport kept each other.
TEST_F(TransportTest, ConnectionMadeThrowingIsReportedAndConnectionLostStillRuns) {
    expect_handler_calls = true;
    Events ev;
    bool destroyed = false;
    run_io(([&]() -> Coro<void> {
        auto p = co_await tcp_pair();
        {
            Ref<Transport> t = make_socket_transport(get_running_loop(), std::move(p.first),
                                                     std::make_unique<HoldsTransportThenThrows>(&ev, &destroyed));
        }
        EXPECT_EQ(co_await recv_until_eof(p.second), "") << "the socket is closed";
        co_await eventually([&] { return destroyed; });
    })());
    EXPECT_EQ(ev, (Events{"made", "lost"}));
    EXPECT_TRUE(destroyed) << "the transport and its protocol leaked";
    ASSERT_EQ(handler_calls.size(), 1u);
    EXPECT_NE(handler_calls[0].message.find("connection_made"), std::string::npos) << handler_calls[0].message;
}

// asyncio still calls connection_made and then connection_lost when a
// transport is aborted before connection_made ran; tulip calls neither (a
// protocol never sees connection_lost without connection_made).
TEST_F(TransportTest, AbortBeforeConnectionMadeRunsNeitherCallback) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto p = co_await tcp_pair();
        Ref<Transport> t =
            make_socket_transport(get_running_loop(), std::move(p.first), std::make_unique<Recorder>(&rec));
        t->abort();
        EXPECT_EQ(co_await recv_until_eof(p.second), "") << "the socket is closed";
        co_await sleep(0.01);
    })());
    EXPECT_TRUE(rec.events.empty());
}

TEST_F(TransportTest, WritesAfterTheConnectionIsLostAreDroppedWithOneWarning) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto c = co_await connect_recorder(rec);
        c.first->abort();
        co_await eventually([&] { return rec.lost > 0; });
        for (int i = 0; i < 4; ++i) c.first->write("lost");
        EXPECT_TRUE(logs.empty());
        c.first->write("lost");  // asyncio warns from the fifth write on
        EXPECT_EQ(logs.size(), 1u);
        EXPECT_EQ(co_await recv_until_eof(c.second), "");
    })());
    ASSERT_FALSE(logs.empty());
    EXPECT_NE(logs[0].find("socket.send() raised exception"), std::string::npos) << logs[0];
}

TEST_F(TransportTest, TransportWorksOverAUnixSocketPair) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto pair = Socket::pair();
        auto factory = [&rec] { return std::make_unique<Recorder>(&rec); };
        auto conn = co_await create_connection(factory, std::move(pair.first));
        auto peer = std::any_cast<SocketAddress>(conn.first->get_extra_info("peername"));
        EXPECT_EQ(peer.family(), AF_UNIX);
        conn.first->write("over unix");
        EXPECT_EQ(co_await recv_exactly(pair.second, 9), "over unix");
        co_await sock_sendall(pair.second, "and back");
        co_await eventually([&] { return rec.data == "and back"; });
        conn.first->write_eof();
        EXPECT_EQ(co_await recv_until_eof(pair.second), "");
        pair.second.close();
        co_await eventually([&] { return rec.lost > 0; });
    })());
    EXPECT_EQ(rec.events, (Events{"made", "data", "eof", "lost"}));
}

TEST_F(TransportTest, AStreamTransportRefusesADatagramProtocol) {
    auto pair = Socket::pair();
    struct Udp : DatagramProtocol {};
    EXPECT_THROW(make_socket_transport(loop(), std::move(pair.first), std::make_unique<Udp>()), std::invalid_argument);
    EXPECT_THROW(make_socket_transport(loop(), Socket(), std::make_unique<Recorder>(nullptr)), std::invalid_argument);
}

struct StopInResume : Recorder {
    StopInResume(Record* r, bool abort) : Recorder(r), abort(abort) {}
    void resume_writing() override {
        Recorder::resume_writing();
        if (abort)
            r->transport->abort();
        else
            r->transport->close();
    }
    bool abort;
};

// resume_writing runs from inside the transport's write-ready handler; a
// protocol that closes or aborts there (with the buffer now empty) must get
// one connection_lost, and the transport must not be touched after it is
// freed (nobody but the loop holds it here). Run under ASan to see the latter.
TEST_F(TransportTest, ClosingOrAbortingFromResumeWritingIsSafe) {
    for (bool abort : {false, true}) {
        Record rec;
        run_io(([&]() -> Coro<void> {
            auto p = co_await tcp_pair();
            {
                auto factory = [&rec, abort] { return std::make_unique<StopInResume>(&rec, abort); };
                auto conn = co_await create_connection(factory, std::move(p.first));
                shrink_buffers(*conn.first, p.second);
                conn.first->set_write_buffer_limits(64 * 1024, 0);  // resume when the buffer is empty
                for (int i = 0; i < 4096 && rec.paused == 0; ++i) conn.first->write(std::string(16 * 1024, 'r'));
                EXPECT_EQ(rec.paused, 1);
            }  // only the loop holds the transport now
            std::string got = co_await recv_until_eof(p.second);
            EXPECT_GT(got.size(), 64u * 1024);
            co_await eventually([&] { return rec.lost > 0; });
            co_await sleep(0.01);
        })());
        EXPECT_EQ(rec.resumed, 1) << (abort ? "abort" : "close");
        EXPECT_EQ(rec.lost, 1) << (abort ? "abort" : "close");
        EXPECT_EQ(rec.events, (Events{"made", "lost"}));
    }
}

}  // namespace

}  // namespace net_transport_test
