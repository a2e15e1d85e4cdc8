// Flow control of the datagram transport (asyncio's _SelectorDatagramTransport
// with _FlowControlMixin; CPython's test_selector_events.py
// SelectorDatagramTransportTests sendto-buffer cases): datagrams the kernel
// refuses are queued, each counting its size plus 8 bytes (asyncio 3.13's
// _header_size); pause_writing above the high-water mark, resume_writing at
// the low-water mark; set/get_write_buffer_limits; close drains the queue,
// abort drops it.
//
// The kernel refuses datagrams for real here: an AF_UNIX datagram socket pair
// whose receiving end nobody reads fills up (the peer's queue is bounded) and
// send() fails with EAGAIN; reading that end lets the queue drain.
#include <tulip/net/datagram.hpp>

#include <sys/socket.h>

#include <cerrno>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "support/loop_test.hpp"

namespace net_datagram_flow_control_test {

using namespace tulip;
using test::eventually;

namespace {

class DatagramFlowControlTest : public test::IoLoopTest {};

struct Record {
    int paused = 0;
    int resumed = 0;
    int lost = 0;
    std::exception_ptr lost_error;
    bool throw_in_pause = false;
    // Called from resume_writing (e.g. to send more).
    std::function<void()> on_resume;
};

struct Recorder : DatagramProtocol {
    explicit Recorder(Record* r) : r(r) {}
    void pause_writing() override {
        ++r->paused;
        if (r->throw_in_pause) throw std::runtime_error("pause failed");
    }
    void resume_writing() override {
        ++r->resumed;
        if (r->on_resume) r->on_resume();
    }
    void connection_lost(std::exception_ptr e) override {
        ++r->lost;
        r->lost_error = e;
    }
    Record* r;
};

// One end is the endpoint's; the other (`peer`) is read by hand, or not.
struct Pair {
    Ref<DatagramTransport> t;
    Socket peer;
};

Coro<Pair> endpoint(Record& r) {
    auto [mine, peer] = Socket::pair(SOCK_DGRAM);
    auto res = co_await create_datagram_endpoint([&r] { return std::make_unique<Recorder>(&r); }, std::move(mine));
    Pair p;
    p.t = res.first;
    p.peer = std::move(peer);
    co_return p;
}

// Sends `size`-byte datagrams until one is queued (the kernel refused it);
// returns how many went out at once. Bounded, so a kernel that never refuses
// fails the test instead of hanging.
int fill_until_queued(DatagramTransport& t, std::size_t size = 1024) {
    std::string d(size, 'x');
    for (int i = 0; i < 100000; ++i) {
        t.sendto(d);
        if (t.get_write_buffer_size() > 0) return i;
    }
    ADD_FAILURE() << "the kernel never refused a datagram";
    return -1;
}

// Reads what is waiting on the peer socket; returns the datagram count.
int drain(const Socket& s) {
    char buf[65536];
    int n = 0;
    while (::recv(s.fileno(), buf, sizeof buf, MSG_DONTWAIT) >= 0) ++n;
    return n;
}

TEST_F(DatagramFlowControlTest, DefaultLimitsAreAsyncios) {
    Record r;
    run_io(([&]() -> Coro<void> {
        Pair p = co_await endpoint(r);
        EXPECT_EQ(p.t->get_write_buffer_limits(), (std::pair<std::size_t, std::size_t>(16 * 1024, 64 * 1024)));
        EXPECT_EQ(p.t->get_write_buffer_size(), 0u);
        p.t->close();
        co_await eventually([&] { return r.lost > 0; });
    })());
}

TEST_F(DatagramFlowControlTest, SetWriteBufferLimitsDefaultsAndValidation) {
    Record r;
    run_io(([&]() -> Coro<void> {
        Pair p = co_await endpoint(r);
        using Limits = std::pair<std::size_t, std::size_t>;
        p.t->set_write_buffer_limits(4000);  // low: high / 4
        EXPECT_EQ(p.t->get_write_buffer_limits(), Limits(1000, 4000));
        p.t->set_write_buffer_limits(std::nullopt, 300);  // high: 4 * low
        EXPECT_EQ(p.t->get_write_buffer_limits(), Limits(300, 1200));
        p.t->set_write_buffer_limits(10, 10);
        EXPECT_EQ(p.t->get_write_buffer_limits(), Limits(10, 10));
        EXPECT_THROW(p.t->set_write_buffer_limits(1, 2), std::invalid_argument);
        EXPECT_EQ(p.t->get_write_buffer_limits(), Limits(10, 10)) << "a refused change changes nothing";
        p.t->set_write_buffer_limits();  // back to asyncio's defaults
        EXPECT_EQ(p.t->get_write_buffer_limits(), Limits(16 * 1024, 64 * 1024));
        EXPECT_EQ(r.paused, 0) << "an empty buffer is under any mark";
        p.t->close();
        co_await eventually([&] { return r.lost > 0; });
    })());
}

TEST_F(DatagramFlowControlTest, FullKernelBufferPausesWritingAndDrainingResumesIt) {
    Record r;
    run_io(([&]() -> Coro<void> {
        Pair p = co_await endpoint(r);
        int sent_at_once = fill_until_queued(*p.t);
        EXPECT_EQ(r.paused, 0) << "one queued datagram is under the 64 KiB mark";
        // Queue until over the high-water mark: pause_writing, exactly once.
        int queued = 1;
        while (r.paused == 0 && queued < 1000) {
            p.t->sendto(std::string(1024, 'y'));
            ++queued;
        }
        EXPECT_EQ(r.paused, 1);
        EXPECT_GT(p.t->get_write_buffer_size(), 64u * 1024);
        p.t->sendto(std::string(1024, 'z'));  // a paused protocol may still send: it is queued
        ++queued;
        EXPECT_EQ(r.paused, 1) << "pause_writing is not repeated";
        EXPECT_EQ(r.resumed, 0);
        // The receiver reads: the queue drains and resume_writing follows.
        int received = 0;
        co_await eventually([&] {
            received += drain(p.peer);
            return p.t->get_write_buffer_size() == 0;
        });
        co_await eventually([&] {
            received += drain(p.peer);
            return received == sent_at_once + queued;
        });
        EXPECT_EQ(r.resumed, 1);
        EXPECT_EQ(r.paused, 1);
        EXPECT_EQ(r.lost, 0);
        p.t->close();
        co_await eventually([&] { return r.lost > 0; });
        EXPECT_FALSE(r.lost_error);
    })());
}

TEST_F(DatagramFlowControlTest, BufferSizeCountsEachDatagramWithItsHeader) {
    Record r;
    run_io(([&]() -> Coro<void> {
        Pair p = co_await endpoint(r);
        (void)fill_until_queued(*p.t, 100);
        EXPECT_EQ(p.t->get_write_buffer_size(), 100u + 8);
        p.t->sendto("abc");
        EXPECT_EQ(p.t->get_write_buffer_size(), 100u + 8 + 3 + 8);
        p.t->sendto("");  // an empty datagram is a datagram: 8 bytes
        EXPECT_EQ(p.t->get_write_buffer_size(), 100u + 8 + 3 + 8 + 8);
        co_await eventually([&] {
            drain(p.peer);
            return p.t->get_write_buffer_size() == 0;
        });
        p.t->close();
        co_await eventually([&] { return r.lost > 0; });
    })());
}

TEST_F(DatagramFlowControlTest, LoweringTheHighWaterMarkPausesAtOnce) {
    Record r;
    run_io(([&]() -> Coro<void> {
        Pair p = co_await endpoint(r);
        (void)fill_until_queued(*p.t, 500);
        EXPECT_EQ(r.paused, 0);
        p.t->set_write_buffer_limits(100);  // 508 queued > 100
        EXPECT_EQ(r.paused, 1);
        // Drained to the low-water mark (25): resumed.
        co_await eventually([&] {
            drain(p.peer);
            return r.resumed == 1;
        });
        EXPECT_EQ(p.t->get_write_buffer_size(), 0u);
        p.t->close();
        co_await eventually([&] { return r.lost > 0; });
    })());
}

TEST_F(DatagramFlowControlTest, CloseSendsWhatIsQueuedThenLosesTheConnection) {
    Record r;
    run_io(([&]() -> Coro<void> {
        Pair p = co_await endpoint(r);
        int at_once = fill_until_queued(*p.t);
        p.t->sendto("last");
        p.t->close();
        EXPECT_TRUE(p.t->is_closing());
        co_await sleep(0.01);
        EXPECT_EQ(r.lost, 0) << "connection_lost waits for the queue";
        EXPECT_GT(p.t->get_write_buffer_size(), 0u);
        int received = 0;
        co_await eventually([&] {
            received += drain(p.peer);
            return r.lost > 0;
        });
        received += drain(p.peer);
        EXPECT_EQ(received, at_once + 2) << "every queued datagram went out before the close";
        EXPECT_FALSE(r.lost_error);
        EXPECT_EQ(p.t->get_write_buffer_size(), 0u);
    })());
}

TEST_F(DatagramFlowControlTest, AbortDropsTheQueue) {
    Record r;
    run_io(([&]() -> Coro<void> {
        Pair p = co_await endpoint(r);
        int at_once = fill_until_queued(*p.t);
        for (int i = 0; i < 100; ++i) p.t->sendto(std::string(1024, 'q'));
        EXPECT_EQ(r.paused, 1);
        p.t->abort();
        EXPECT_EQ(p.t->get_write_buffer_size(), 0u) << "abort drops the queue at once";
        EXPECT_TRUE(p.t->is_closing());
        co_await eventually([&] { return r.lost > 0; });
        EXPECT_FALSE(r.lost_error);
        EXPECT_EQ(r.resumed, 0) << "a dropped queue does not resume the protocol";
        EXPECT_EQ(drain(p.peer), at_once) << "only what the kernel took arrives";
    })());
}

TEST_F(DatagramFlowControlTest, PauseWritingFailureGoesToTheExceptionHandler) {
    Record r;
    r.throw_in_pause = true;
    std::vector<std::string> reported;
    loop_->set_exception_handler([&](EventLoop&, const ExceptionContext& c) { reported.push_back(c.message); });
    run_io(([&]() -> Coro<void> {
        Pair p = co_await endpoint(r);
        (void)fill_until_queued(*p.t);
        p.t->set_write_buffer_limits(0);
        EXPECT_EQ(r.paused, 1);
        EXPECT_EQ(reported, std::vector<std::string>{"protocol.pause_writing() failed"});
        EXPECT_FALSE(p.t->is_closing()) << "a failing pause_writing does not close the endpoint";
        co_await eventually([&] {
            drain(p.peer);
            return r.resumed == 1;
        });
        p.t->close();
        co_await eventually([&] { return r.lost > 0; });
    })());
}

TEST_F(DatagramFlowControlTest, ResumeWritingMaySendMore) {
    Record r;
    run_io(([&]() -> Coro<void> {
        Pair p = co_await endpoint(r);
        p.t->set_write_buffer_limits(2000, 0);
        bool sent_more = false;
        r.on_resume = [&] {
            if (sent_more) return;
            sent_more = true;
            p.t->sendto("more");
        };
        int at_once = fill_until_queued(*p.t);
        p.t->sendto(std::string(1024, 'a'));
        p.t->sendto(std::string(1024, 'b'));
        EXPECT_EQ(r.paused, 1);
        int received = 0;
        co_await eventually([&] {
            received += drain(p.peer);
            return received == at_once + 4;
        });
        EXPECT_TRUE(sent_more);
        EXPECT_EQ(r.resumed, 1);
        EXPECT_EQ(p.t->get_write_buffer_size(), 0u);
        p.t->close();
        co_await eventually([&] { return r.lost > 0; });
    })());
}

}  // namespace

}  // namespace net_datagram_flow_control_test
