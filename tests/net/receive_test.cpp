// Tests of how stream transports read, on both pollers (the suite runs each
// twice): on io_uring the loop receives for them (a multishot recv into a
// ring of lent buffers), so these check what that must keep from recv():
// nothing delivered after pause_reading, nothing lost or reordered when the
// buffers run out under many connections at once, chunks split to fit a
// BufferedProtocol's buffer.
#include <tulip/net/transport.hpp>

#include <array>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <tulip/streams/open_connection.hpp>
#include <tulip/task/gather.hpp>
#include <tulip/task/sleep.hpp>

#include "support/loop_test.hpp"
#include "support/net.hpp"

namespace net_receive_test {

using namespace tulip;
using test::eventually;
using test::pattern;
using test::tcp_pair;

namespace {

class ReceiveTest : public test::IoLoopTest {};

// A BufferedProtocol with a 7-byte buffer that pauses reading once it has
// `pause_at` bytes.
struct PausingProtocol : BufferedProtocol {
    std::size_t pause_at;
    explicit PausingProtocol(std::size_t p) : pause_at(p) {}
    void connection_made(Transport& tr) override { t = &tr; }
    std::span<char> get_buffer(std::size_t) override { return std::span<char>(buf); }
    void buffer_updated(std::size_t n) override {
        data.append(buf.data(), n);
        if (paused_once == false && data.size() >= pause_at) {
            paused_once = true;
            t->pause_reading();
        }
    }
    bool eof_received() override {
        eof = true;
        return false;
    }
    void connection_lost(std::exception_ptr) override { lost = true; }
    Transport* t = nullptr;
    std::array<char, 7> buf{};
    std::string data;
    bool paused_once = false, eof = false, lost = false;
};

}  // namespace

TEST_F(ReceiveTest, NothingArrivesAfterPauseReadingAndAllOfItAfterResume) {
    run_io(([&]() -> Coro<void> {
        auto p = co_await tcp_pair();
        PausingProtocol* proto = nullptr;
        auto factory = [&proto] {
            auto pp = std::make_unique<PausingProtocol>(21);
            proto = pp.get();
            return pp;
        };
        auto conn = co_await create_connection(factory, std::move(p.first));
        const std::string msg = pattern(0, 3000);
        co_await sock_sendall(p.second, msg);
        co_await eventually([&] { return proto->paused_once; });
        // Paused half-way through what arrived in one piece: the rest waits.
        std::size_t at_pause = proto->data.size();
        EXPECT_EQ(at_pause, 21u);
        for (int i = 0; i < 5; ++i) co_await sleep(0.01);
        EXPECT_EQ(proto->data.size(), at_pause);
        EXPECT_FALSE(proto->t->is_reading());
        proto->t->resume_reading();
        p.second.shutdown(SHUT_WR);
        co_await eventually([&] { return proto->lost; });
        EXPECT_EQ(proto->data, msg);
        EXPECT_TRUE(proto->eof);
    })());
}

TEST_F(ReceiveTest, ManyConnectionsSendingAtOnceLoseNothing) {
    // 64 connections x 96 KiB sent at once (6 MiB, more than io_uring's
    // 2 MiB of lent buffers: some receives run out and start again): each
    // echoed back whole and in order.
    constexpr int kConns = 64;
    constexpr std::size_t kBytes = 96 * 1024;
    run_io(([&]() -> Coro<void> {
        auto handler = [](StreamReader reader, StreamWriter writer) -> Coro<void> {
            while (true) {
                std::string chunk = co_await reader.read(65536);
                if (chunk.empty()) break;
                writer.write(chunk);
                co_await writer.drain();
            }
            writer.close();
            co_await writer.wait_closed();
        };
        Server server = co_await start_server(handler, "127.0.0.1", 0);
        std::uint16_t port = test::port_of(server);
        auto one = [port](int i) -> Coro<bool> {
            auto [reader, writer] = co_await open_connection("127.0.0.1", port);
            std::string msg = pattern(static_cast<std::size_t>(i) * 7, kBytes);
            writer.write(msg);
            writer.write_eof();
            std::string back = co_await reader.read();
            writer.close();
            co_return back == msg;
        };
        std::vector<Coro<bool>> all;
        for (int i = 0; i < kConns; ++i) all.push_back(one(i));
        std::vector<bool> ok = co_await gather(std::move(all));
        int good = 0;
        for (bool b : ok) good += b;
        EXPECT_EQ(good, kConns);
        server.close();
        co_await server.wait_closed();
    })());
}

}  // namespace net_receive_test
