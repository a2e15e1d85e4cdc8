// Tests of the transports against peers that misbehave — resets, half
// closes, a peer that stops reading, one byte at a time, floods — and of
// the syscall fault-injection seam (tulip::detail::sys::fault_hook) that
// makes EINTR, EAGAIN, ECONNRESET, EPIPE and EMFILE reproducible. Ported in
// spirit from CPython's test_selector_events.py (the _read_ready/_write_ready
// error cases it drives with mocked sockets) and uvloop's bad-peer tests.
#include <tulip/net/socket_transport.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <any>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../../src/core/sys.hpp"
#include "support/loop_test.hpp"
#include "support/net.hpp"

namespace net_bad_peer_test {

using namespace tulip;
using test::connect_recorder;
using test::Events;
using test::eventually;
using test::listener;
using test::pattern;
using test::pattern_byte;
using test::Record;
using test::Recorder;
using test::recv_until_eof;
using test::reset_on_close;
using test::tcp_pair;

namespace {

class BadPeerTest : public test::IoLoopTest {};

template <class E>
bool holds(const std::exception_ptr& p) {
    try {
        std::rethrow_exception(p);
    } catch (const E&) {
        return true;
    } catch (...) {}
    return false;
}

int error_code_of(const std::exception_ptr& p) {
    try {
        std::rethrow_exception(p);
    } catch (const std::system_error& e) {
        return e.code().value();
    } catch (...) {}
    return 0;
}

// ---- bad peers ------------------------------------------------------------------

TEST_F(BadPeerTest, APeerThatResetsGivesConnectionLostWithConnectionResetError) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto c = co_await connect_recorder(rec);
        reset_on_close(c.second);
        c.second.close();
        co_await eventually([&] { return rec.lost > 0; });
    })());
    EXPECT_EQ(rec.events, (Events{"made", "lost"})) << "a reset is not an EOF";
    EXPECT_TRUE(holds<ConnectionResetError>(rec.error)) << describe_exception(rec.error);
    EXPECT_EQ(error_code_of(rec.error), ECONNRESET);
    // A peer's reset is the peer's business: no exception-handler call (the fixture checks).
}

TEST_F(BadPeerTest, AResetWhileWeHaveDataBufferedDropsItWithAConnectionError) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto c = co_await connect_recorder(rec);
        Transport& t = *c.first;
        int fd = std::any_cast<int>(t.get_extra_info("socket"));
        int small = 4096;
        ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
        for (int i = 0; i < 4096 && t.get_write_buffer_size() == 0; ++i) t.write(std::string(16 * 1024, 'z'));
        EXPECT_GT(t.get_write_buffer_size(), 0u);
        reset_on_close(c.second);
        c.second.close();
        co_await eventually([&] { return rec.lost > 0; });
        EXPECT_EQ(t.get_write_buffer_size(), 0u) << "the buffer is dropped";
    })());
    EXPECT_TRUE(holds<ConnectionError>(rec.error)) << describe_exception(rec.error);
    int code = error_code_of(rec.error);
    EXPECT_TRUE(code == ECONNRESET || code == EPIPE) << code;
}

TEST_F(BadPeerTest, AHalfClosingPeerStillGetsOurReply) {
    Record rec;
    struct Replier : Recorder {
        using Recorder::Recorder;
        bool eof_received() override {
            Recorder::eof_received();
            r->transport->write("reply to " + r->data);
            r->transport->close();
            return true;
        }
    };
    run_io(([&]() -> Coro<void> {
        auto p = co_await tcp_pair();
        auto factory = [&rec] { return std::make_unique<Replier>(&rec); };
        auto conn = co_await create_connection(factory, std::move(p.first));
        co_await sock_sendall(p.second, "request");
        p.second.shutdown(SHUT_WR);  // we are done talking, but still listening
        EXPECT_EQ(co_await recv_until_eof(p.second), "reply to request");
        co_await eventually([&] { return rec.lost > 0; });
    })());
    EXPECT_EQ(rec.events, (Events{"made", "data", "eof", "lost"}));
    EXPECT_EQ(rec.error, nullptr);
}

// A protocol that writes `target` bytes of the pattern as fast as flow control
// allows, and closes when everything is handed over and the buffer is empty.
struct Producer : Protocol {
    Producer(std::size_t target, Record* r) : target(target), r(r) {}
    void connection_made(Transport& tr) override {
        t = &tr;
        r->transport = &tr;
        r->events.push_back("made");
        t->set_write_buffer_limits(64 * 1024, 0);  // resume only once the buffer is empty
        int fd = std::any_cast<int>(t->get_extra_info("socket"));
        int snd = 64 * 1024;  // a fixed kernel buffer: the kernel cannot absorb the whole target
        ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd);
        produce();
    }
    void produce() {
        while (!paused && sent < target) {
            std::size_t n = std::min<std::size_t>(16 * 1024, target - sent);
            t->write(pattern(sent, n));
            sent += n;
            max_buffered = std::max(max_buffered, t->get_write_buffer_size());
        }
        if (!paused && sent == target) {
            if (t->get_write_buffer_size() == 0) {
                t->close();
            } else {
                finishing = true;
                t->set_write_buffer_limits(0, 0);  // pauses now; resumes when the buffer is empty
            }
        }
    }
    void pause_writing() override {
        paused = true;
        ++pauses;
    }
    void resume_writing() override {
        paused = false;
        ++resumes;
        if (sent == target)
            t->close();  // from inside resume_writing, with the buffer empty
        else
            produce();
    }
    void connection_lost(std::exception_ptr e) override {
        r->events.push_back("lost");
        ++r->lost;
        r->error = e;
    }
    std::size_t target;
    Record* r;
    Transport* t = nullptr;
    std::size_t sent = 0;
    std::size_t max_buffered = 0;
    bool paused = false;
    bool finishing = false;
    int pauses = 0;
    int resumes = 0;
};

TEST_F(BadPeerTest, APeerThatStopsReadingPausesTheWriterAndTheBufferStaysBounded) {
    Record rec;
    const std::size_t target = 8 * 1024 * 1024;
    std::size_t max_buffered = 0, sent_while_stalled = 0;
    int pauses = 0;
    run_io(([&]() -> Coro<void> {
        // The producer runs on the server side: nobody but the loop holds its transport.
        Producer* producer = nullptr;
        auto factory = [&] {
            auto p = std::make_unique<Producer>(target, &rec);
            producer = p.get();
            return p;
        };
        Server server = co_await create_server(factory, "127.0.0.1", 0);
        Socket c = Socket::create(AF_INET);
        c.setsockopt(SOL_SOCKET, SO_RCVBUF, 64 * 1024);
        co_await sock_connect(c, server.addresses().at(0));
        co_await eventually([&] { return producer != nullptr && producer->paused; });
        co_await sleep(0.05);  // the peer keeps not reading
        sent_while_stalled = producer->sent;
        max_buffered = producer->max_buffered;
        pauses = producer->pauses;
        EXPECT_TRUE(producer->paused);
        // Now the peer reads everything.
        std::string got = co_await recv_until_eof(c);
        EXPECT_EQ(got.size(), target);
        EXPECT_TRUE(got == pattern(0, target)) << "bytes lost or reordered";
        co_await eventually([&] { return rec.lost > 0; });
        server.close();
        co_await server.wait_closed();
    })());
    EXPECT_LT(sent_while_stalled, target) << "the writer did not stop for a peer that does not read";
    EXPECT_LE(max_buffered, 64u * 1024 + 16 * 1024) << "buffered beyond the high-water mark plus one write";
    EXPECT_GE(pauses, 1);
    EXPECT_EQ(rec.events, (Events{"made", "lost"}));
    EXPECT_EQ(rec.error, nullptr);
}

TEST_F(BadPeerTest, APeerSendingOneByteAtATimeIsHeardCompletely) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto c = co_await connect_recorder(rec);
        c.second.set_nodelay(true);
        const std::string msg = pattern(0, 500);
        for (char ch : msg) {
            co_await sock_sendall(c.second, std::string(1, ch));
            co_await sleep(0);
        }
        c.second.shutdown(SHUT_WR);
        co_await eventually([&] { return rec.lost > 0; });
    })());
    EXPECT_EQ(rec.data, pattern(0, 500));
    EXPECT_EQ(rec.events, (Events{"made", "data", "eof", "lost"}));
}

TEST_F(BadPeerTest, APeerReadingOneByteAtATimeGetsEverything) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto c = co_await connect_recorder(rec);
        const std::string msg = pattern(0, 20000);
        c.first->write(msg);
        c.first->close();  // flushes first
        std::string got;
        for (std::size_t i = 0; i < 30000; ++i) {
            std::string b = co_await sock_recv(c.second, 1);
            if (b.empty()) break;
            EXPECT_EQ(b.size(), 1u);
            got += b;
        }
        EXPECT_TRUE(got == msg);
        co_await eventually([&] { return rec.lost > 0; });
    })());
    EXPECT_EQ(rec.error, nullptr);
}

// Checks a byte stream against the pattern without keeping it.
struct Verifier : Protocol {
    explicit Verifier(Record* r) : r(r) {}
    void connection_made(Transport& t) override {
        r->transport = &t;
        r->events.push_back("made");
    }
    void data_received(std::string_view d) override {
        ++chunks;
        for (char ch : d)
            if (ch != pattern_byte(received++)) ++mismatches;
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
    std::size_t received = 0;
    std::size_t mismatches = 0;
    int chunks = 0;
};

TEST_F(BadPeerTest, AFloodArrivesCompleteAndInOrder) {
    Record rec;
    const std::size_t total = 16 * 1024 * 1024;
    std::size_t received = 0, mismatches = 0;
    run_io(([&]() -> Coro<void> {
        auto p = co_await tcp_pair();
        auto factory = [&rec] { return std::make_unique<Verifier>(&rec); };
        auto conn = co_await create_connection(factory, std::move(p.first));
        Verifier* v = conn.second.get();
        const std::string flood = pattern(0, total);
        co_await sock_sendall(p.second, flood);
        p.second.shutdown(SHUT_WR);
        co_await eventually([&] { return rec.lost > 0; });
        received = v->received;
        mismatches = v->mismatches;
        EXPECT_GT(v->chunks, 1);
    })());
    EXPECT_EQ(received, total);
    EXPECT_EQ(mismatches, 0u);
    EXPECT_EQ(rec.events, (Events{"made", "eof", "lost"}));
}

TEST_F(BadPeerTest, AFloodWhileReadingIsPausedIsHeldBackByTheKernel) {
    Record rec;
    const std::size_t total = 16 * 1024 * 1024;
    std::size_t received_while_paused = 1, received = 0, mismatches = 0;
    bool sender_blocked = false;
    run_io(([&]() -> Coro<void> {
        auto p = co_await tcp_pair();
        auto factory = [&rec] { return std::make_unique<Verifier>(&rec); };
        auto conn = co_await create_connection(factory, std::move(p.first));
        Verifier* v = conn.second.get();
        // Fixed kernel buffers on both ends hold far less than the flood.
        int fd = std::any_cast<int>(conn.first->get_extra_info("socket"));
        int size = 64 * 1024;
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
        p.second.setsockopt(SOL_SOCKET, SO_SNDBUF, size);
        conn.first->pause_reading();
        const std::string flood = pattern(0, total);
        auto sender = create_task(sock_sendall(p.second, flood));
        co_await sleep(0.05);
        received_while_paused = v->received;
        sender_blocked = !sender.done();  // TCP flow control pushes back on the peer
        conn.first->resume_reading();
        co_await sender;
        p.second.shutdown(SHUT_WR);
        co_await eventually([&] { return rec.lost > 0; });
        received = v->received;
        mismatches = v->mismatches;
    })());
    EXPECT_EQ(received_while_paused, 0u);
    EXPECT_TRUE(sender_blocked) << "16 MiB fitted in the kernel's buffers";
    EXPECT_EQ(received, total);
    EXPECT_EQ(mismatches, 0u);
}

TEST_F(BadPeerTest, WritingToAPeerThatVanishedEndsInConnectionLostWithAnError) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto c = co_await connect_recorder(rec, /*keep_open=*/true);
        c.second.close();
        co_await eventually([&] { return rec.events.back() == "eof"; });
        // We keep writing: the peer's kernel answers with a reset, then sends fail.
        for (int i = 0; i < 1000 && rec.lost == 0; ++i) {
            c.first->write(std::string(1024, 'w'));
            co_await sleep(0.001);
        }
        EXPECT_EQ(rec.lost, 1);
    })());
    EXPECT_EQ(rec.events, (Events{"made", "eof", "lost"}));
    int code = error_code_of(rec.error);
    EXPECT_TRUE(code == EPIPE || code == ECONNRESET) << describe_exception(rec.error);
}

TEST_F(BadPeerTest, ClientsThatResetAtOnceDoNotDisturbTheServer) {
    int made = 0, lost = 0;
    std::string heard;
    run_io(([&]() -> Coro<void> {
        struct Counting : Protocol {
            int* made;
            int* lost;
            std::string* heard;
            Counting(int* m, int* l, std::string* h) : made(m), lost(l), heard(h) {}
            void connection_made(Transport&) override { ++*made; }
            void data_received(std::string_view d) override { heard->append(d); }
            void connection_lost(std::exception_ptr) override { ++*lost; }
        };
        auto factory = [&] { return std::make_unique<Counting>(&made, &lost, &heard); };
        Server server = co_await create_server(factory, "127.0.0.1", 0);
        SocketAddress addr = server.addresses().at(0);
        for (int i = 0; i < 20; ++i) {
            Socket c = Socket::create(AF_INET);
            co_await sock_connect(c, addr);
            reset_on_close(c);
        }  // each closes with a reset, maybe before the server even accepted it
        // The server still serves a well-behaved client.
        Socket good = Socket::create(AF_INET);
        co_await sock_connect(good, addr);
        co_await sock_sendall(good, "hello");
        co_await eventually([&] { return heard == "hello"; });
        good.close();
        co_await eventually([&] { return made >= 1 && made == lost; });
        server.close();
        co_await server.wait_closed();
    })());
    EXPECT_EQ(made, lost);
    EXPECT_EQ(heard, "hello");
}

// ---- the fault-injection seam ---------------------------------------------------

// One planned fault: the next `times` calls of syscall `name` fail with `err`.
struct Injection {
    const char* name = "";
    int err = 0;
    int times = 0;
    int calls = 0;  // calls of `name` seen while the hook is installed
};
Injection injection;

int inject_hook(const char* name) {
    if (std::strcmp(name, injection.name) != 0) return 0;
    ++injection.calls;
    if (injection.times > 0) {
        --injection.times;
        return injection.err;
    }
    return 0;
}

class Inject {
public:
    Inject(const char* name, int err, int times = 1) {
        injection = Injection{name, err, times, 0};
        detail::sys::fault_hook = &inject_hook;
    }
    ~Inject() {
        detail::sys::fault_hook = nullptr;
        injection = Injection{};
    }
    Inject(const Inject&) = delete;
    Inject& operator=(const Inject&) = delete;
};

TEST_F(BadPeerTest, SeamEintrOnRecvIsRetriedBySockRecv) {
    run_io(([&]() -> Coro<void> {
        auto p = co_await tcp_pair();
        co_await sock_sendall(p.first, "data");
        co_await wait_readable(p.second.fileno());
        Inject fault("recv", EINTR);
        EXPECT_EQ(co_await sock_recv(p.second, 10), "data");
        EXPECT_EQ(injection.calls, 2) << "one interrupted call, one retry";
    })());
}

TEST_F(BadPeerTest, SeamEagainOnRecvMakesSockRecvWaitForReadiness) {
    run_io(([&]() -> Coro<void> {
        auto p = co_await tcp_pair();
        co_await sock_sendall(p.first, "spurious");
        co_await wait_readable(p.second.fileno());
        Inject fault("recv", EAGAIN);
        EXPECT_EQ(co_await sock_recv(p.second, 10), "spurious");
        EXPECT_EQ(injection.calls, 2);
    })());
}

TEST_F(BadPeerTest, SeamEconnresetOnRecvIsRaisedBySockRecv) {
    run_io(([&]() -> Coro<void> {
        auto p = co_await tcp_pair();
        Inject fault("recv", ECONNRESET);
        EXPECT_THROW(co_await sock_recv(p.second, 10), ConnectionResetError);
    })());
}

TEST_F(BadPeerTest, SeamEintrOnSendIsRetriedBySockSendall) {
    run_io(([&]() -> Coro<void> {
        auto p = co_await tcp_pair();
        {
            Inject fault("send", EINTR, 3);
            co_await sock_sendall(p.first, "persistent");
            EXPECT_EQ(injection.calls, 4);
        }
        std::string got;
        while (got.size() < 10) got += co_await sock_recv(p.second, 10);
        EXPECT_EQ(got, "persistent");
    })());
}

TEST_F(BadPeerTest, SeamEpipeOnSendIsRaisedBySockSendallAsBrokenPipeError) {
    run_io(([&]() -> Coro<void> {
        auto p = co_await tcp_pair();
        Inject fault("send", EPIPE);
        EXPECT_THROW(co_await sock_sendall(p.first, "x"), BrokenPipeError);
    })());
}

TEST_F(BadPeerTest, SeamEmfileOnSockAcceptIsRaisedAndTheListenerStaysUsable) {
    run_io(([&]() -> Coro<void> {
        Socket l = listener();
        Socket c = Socket::create(AF_INET);
        co_await sock_connect(c, l.getsockname());
        {
            Inject fault("accept4", EMFILE);
            try {
                co_await sock_accept(l);
                ADD_FAILURE() << "no error";
            } catch (const std::system_error& e) {
                EXPECT_EQ(e.code().value(), EMFILE);
            }
        }
        auto accepted = co_await sock_accept(l);  // the connection waited in the backlog
        EXPECT_EQ(accepted.second, c.getsockname());
    })());
}

TEST_F(BadPeerTest, SeamEconnabortedOnSockAcceptIsSkipped) {
    run_io(([&]() -> Coro<void> {
        Socket l = listener();
        Socket c = Socket::create(AF_INET);
        co_await sock_connect(c, l.getsockname());
        Inject fault("accept4", ECONNABORTED);
        auto accepted = co_await sock_accept(l);
        EXPECT_EQ(accepted.second, c.getsockname());
        EXPECT_EQ(injection.calls, 2);
    })());
}

TEST_F(BadPeerTest, SeamEintrOnConnectIsRetried) {
    run_io(([&]() -> Coro<void> {
        Socket l = listener();
        Socket c = Socket::create(AF_INET);
        {
            Inject fault("connect", EINTR);
            co_await sock_connect(c, l.getsockname());
            EXPECT_EQ(injection.calls, 2);
        }
        auto accepted = co_await sock_accept(l);
        EXPECT_EQ(accepted.second, c.getsockname());
    })());
}

TEST_F(BadPeerTest, SeamEconnresetOnRecvInTheTransportIsConnectionLostWithThatError) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto c = co_await connect_recorder(rec);
        Inject fault("recv", ECONNRESET);
        co_await sock_sendall(c.second, "never seen");
        co_await eventually([&] { return rec.lost > 0; });
    })());
    EXPECT_EQ(rec.events, (Events{"made", "lost"}));
    EXPECT_TRUE(holds<ConnectionResetError>(rec.error)) << describe_exception(rec.error);
}

TEST_F(BadPeerTest, SeamEintrAndEagainOnRecvInTheTransportAreHarmless) {
    for (int err : {EINTR, EAGAIN}) {
        Record rec;
        run_io(([&]() -> Coro<void> {
            auto c = co_await connect_recorder(rec);
            {
                Inject fault("recv", err);
                co_await sock_sendall(c.second, "arrives anyway");
                co_await eventually([&] { return rec.data == "arrives anyway"; });
                EXPECT_GE(injection.calls, 2);
            }
            c.first->close();
            co_await eventually([&] { return rec.lost > 0; });
        })());
        EXPECT_EQ(rec.error, nullptr) << err;
    }
}

TEST_F(BadPeerTest, SeamEconnresetOnSendInTheTransportIsConnectionLostWithThatError) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto c = co_await connect_recorder(rec);
        {
            Inject fault("send", ECONNRESET);
            c.first->write("doomed");
        }
        EXPECT_TRUE(c.first->is_closing());
        co_await eventually([&] { return rec.lost > 0; });
        EXPECT_EQ(co_await recv_until_eof(c.second), "");
    })());
    EXPECT_EQ(rec.events, (Events{"made", "lost"}));
    EXPECT_TRUE(holds<ConnectionResetError>(rec.error)) << describe_exception(rec.error);
}

TEST_F(BadPeerTest, SeamEagainOnSendInTheTransportBuffersAndSendsLater) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto c = co_await connect_recorder(rec);
        {
            Inject fault("send", EAGAIN);
            c.first->write("later");
            EXPECT_EQ(c.first->get_write_buffer_size(), 5u);
            c.first->write(", in order");
            EXPECT_EQ(c.first->get_write_buffer_size(), 15u);
            std::string got;
            while (got.size() < 15) got += co_await sock_recv(c.second, 100);
            EXPECT_EQ(got, "later, in order");
        }
        EXPECT_EQ(c.first->get_write_buffer_size(), 0u);
        c.first->close();
        co_await eventually([&] { return rec.lost > 0; });
    })());
    EXPECT_EQ(rec.error, nullptr);
}

TEST_F(BadPeerTest, SeamEpipeOnWritevInWritelinesIsConnectionLostWithBrokenPipeError) {
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto c = co_await connect_recorder(rec);
        {
            Inject fault("writev", EPIPE);
            std::vector<std::string_view> parts{"a", "b"};
            c.first->writelines(parts);
        }
        co_await eventually([&] { return rec.lost > 0; });
    })());
    EXPECT_TRUE(holds<BrokenPipeError>(rec.error)) << describe_exception(rec.error);
}

TEST_F(BadPeerTest, SeamEmfileOnAcceptMakesTheServerBackOffThenRecover) {
    expect_handler_calls = true;
    int made = 0, lost = 0, accept_calls_during_backoff = -1;
    run_io(([&]() -> Coro<void> {
        struct Counting : Protocol {
            int* made;
            int* lost;
            Counting(int* m, int* l) : made(m), lost(l) {}
            void connection_made(Transport&) override { ++*made; }
            void connection_lost(std::exception_ptr) override { ++*lost; }
        };
        auto factory = [&] { return std::make_unique<Counting>(&made, &lost); };
        Server server = co_await create_server(factory, "127.0.0.1", 0);
        Inject fault("accept4", EMFILE);
        Socket c = Socket::create(AF_INET);
        co_await sock_connect(c, server.addresses().at(0));
        co_await eventually([&] { return injection.calls > 0; });
        co_await sleep(0.2);
        accept_calls_during_backoff = injection.calls;
        EXPECT_EQ(made, 0);
        co_await eventually([&] { return made == 1; });  // retried after ~1 s
        c.close();
        co_await eventually([&] { return lost == 1; });
        server.close();
        co_await server.wait_closed();
    })());
    // One failed accept, and at most one retry if this machine stalled for a second.
    EXPECT_GE(accept_calls_during_backoff, 1);
    EXPECT_LE(accept_calls_during_backoff, 2) << "the server retried accept() instead of backing off";
    ASSERT_FALSE(handler_calls.empty());
    EXPECT_NE(handler_calls[0].message.find("out of system resource"), std::string::npos);
}

}  // namespace

}  // namespace net_bad_peer_test
