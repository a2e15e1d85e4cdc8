#include <tulip/streams/open_connection.hpp>

#include <tulip/tulip.hpp>

#include "support/loop_test.hpp"
#include "support/net.hpp"

namespace streams_streams_smoke_test {

using namespace tulip;

class StreamsSmoke : public test::RealTimeLoopTest {};

TEST_F(StreamsSmoke, EchoServerAndClient) {
    auto main = []() -> Coro<void> {
        Server server = co_await start_server(test::echo_lines, "127.0.0.1", 0);
        auto port = server.addresses().at(0).port();
        auto [reader, writer] = co_await open_connection("127.0.0.1", port);
        writer.write("hello\n");
        writer.write("world\n");
        co_await writer.drain();
        EXPECT_EQ(co_await reader.readline(), "hello\n");
        EXPECT_EQ(co_await reader.readexactly(6), "world\n");
        writer.write_eof();
        EXPECT_EQ(co_await reader.read(), "");
        EXPECT_TRUE(reader.at_eof());
        writer.close();
        co_await writer.wait_closed();
        server.close();
        co_await server.wait_closed();
    };
    run(main());
}

TEST_F(StreamsSmoke, ReaduntilFindsSeparatorSplitAcrossChunks) {
    auto main = []() -> Coro<void> {
        StreamReader r(64 * 1024);
        r.feed_data("abc\r");
        get_running_loop().call_soon([r]() mutable {
            StreamReader rr = r;
            rr.feed_data("\nrest");
        });
        EXPECT_EQ(co_await r.readuntil("\r\n"), "abc\r\n");
        r.feed_eof();
        EXPECT_EQ(co_await r.read(), "rest");
    };
    run(main());
}

TEST_F(StreamsSmoke, ConnectionRefusedIsAClearError) {
    auto main = []() -> Coro<void> {
        // Bind a port, then close it so nobody listens there.
        Socket s = Socket::create(AF_INET);
        s.bind(SocketAddress::from_ip("127.0.0.1", 0));
        auto port = s.getsockname().port();
        s.close();
        try {
            co_await open_connection("127.0.0.1", port);
            ADD_FAILURE();
        } catch (const ConnectionRefusedError&) {}
    };
    run(main());
}

}  // namespace streams_streams_smoke_test
