// asyncio behaviours of streams that tulip used to get wrong (issue 9):
// sizes that may be negative, a user-made StreamReader, the stream protocol
// driven past its close, and start_server with a plain callback.
#include <stdlib.h>
#include <unistd.h>

#include <optional>
#include <stdexcept>
#include <string>

#include <tulip/tulip.hpp>

#include "support/loop_test.hpp"
#include "support/net.hpp"

namespace streams_asyncio_streams_test {

using namespace tulip;
using test::close_and_wait;
using test::port_of;

namespace {

// A transport that only records what the protocol asks of it.
class RecordingTransport final : public Transport {
public:
    explicit RecordingTransport(EventLoop& loop) : loop_(&loop) {}
    int closes = 0;
    std::any get_extra_info(std::string_view) const override { return {}; }
    bool is_closing() const noexcept override { return closes > 0; }
    void close() override { ++closes; }
    BaseProtocol& get_protocol() const noexcept override { return protocol_; }
    EventLoop& get_loop() const noexcept override { return *loop_; }
    void write(std::string_view) override {}
    void writelines(std::span<const std::string_view>) override {}
    void write_eof() override {}
    bool can_write_eof() const noexcept override { return true; }
    void abort() override {}
    void pause_reading() override {}
    void resume_reading() override {}
    bool is_reading() const noexcept override { return true; }
    void set_write_buffer_limits(std::optional<std::size_t>, std::optional<std::size_t>) override {}
    std::size_t get_write_buffer_size() const noexcept override { return 0; }
    std::pair<std::size_t, std::size_t> get_write_buffer_limits() const noexcept override { return {0, 0}; }

private:
    EventLoop* loop_;
    mutable BaseProtocol protocol_;
};

// Reads what the server says until it closes (sends nothing: a peer that
// closes with unread data resets the connection).
Coro<std::string> read_and_close(StreamPair conn) {
    auto [r, w] = std::move(conn);
    std::string reply = co_await r.read();  // until the server closes
    w.close();
    co_await w.wait_closed();
    co_return reply;
}

}  // namespace

class AsyncioStreamReaderTest : public test::LoopTest {};

// ---- a user-made StreamReader (asyncio: StreamReader(), StreamReader(limit=...)) --------

TEST_F(AsyncioStreamReaderTest, StreamReaderWithoutArgumentsHasTheDefaultLimitAndReadsWhatIsFed) {
    StreamReader reader;
    EXPECT_EQ(reader.limit(), 64 * 1024);
    reader.feed_data("line1\nline2");
    reader.feed_eof();
    EXPECT_EQ(run(reader.readline()), "line1\n");
    EXPECT_EQ(run(reader.read()), "line2");
    EXPECT_TRUE(reader.at_eof());
}

TEST_F(AsyncioStreamReaderTest, StreamReaderWithALimitOfZeroOrLessRaisesValueError) {
    EXPECT_THROW(StreamReader(0), std::invalid_argument);
    EXPECT_THROW(StreamReader(-1), std::invalid_argument);
    EXPECT_EQ(StreamReader(1).limit(), 1);
}

// ---- sizes: read(-1) means until EOF, readexactly(n < 0) is a ValueError ---------------

TEST_F(AsyncioStreamReaderTest, ReadMinusOneReadsUntilEof) {
    StreamReader reader;
    reader.feed_data("chunk1 ");
    reader.feed_data("chunk2");
    reader.feed_eof();
    EXPECT_EQ(run(reader.read(-1)), "chunk1 chunk2");
}

TEST_F(AsyncioStreamReaderTest, ReadexactlyWithANegativeCountRaisesValueError) {
    StreamReader reader;
    reader.feed_data("data");
    EXPECT_THROW(run(reader.readexactly(-1)), std::invalid_argument);
    EXPECT_EQ(reader.buffered(), 4u);  // nothing consumed
}

TEST_F(AsyncioStreamReaderTest, ReadexactlyZeroReturnsNothing) {
    StreamReader reader;
    reader.feed_data("data");
    EXPECT_EQ(run(reader.readexactly(0)), "");
    EXPECT_EQ(reader.buffered(), 4u);
}

// ---- the stream protocol after connection_lost -------------------------------------------

TEST_F(AsyncioStreamReaderTest, StreamProtocolSurvivesASecondConnectionLost) {
    StreamReader reader;
    auto t = make_ref<RecordingTransport>(loop());
    detail::StreamProtocol protocol(reader.core());
    protocol.connection_made(*t);
    protocol.data_received("before");
    protocol.connection_lost(nullptr);
    protocol.connection_lost(nullptr);  // crashed: a null core
    protocol.connection_lost(std::make_exception_ptr(std::runtime_error("late")));
    EXPECT_EQ(run(reader.read()), "before");
    EXPECT_TRUE(reader.at_eof());
    EXPECT_FALSE(reader.exception());  // the late error reached nobody
}

TEST_F(AsyncioStreamReaderTest, StreamProtocolIgnoresTransportCallbacksAfterConnectionLost) {
    StreamReader reader;
    auto t = make_ref<RecordingTransport>(loop());
    detail::StreamProtocol protocol(reader.core());
    protocol.connection_made(*t);
    protocol.connection_lost(nullptr);
    protocol.data_received("after close");
    EXPECT_FALSE(protocol.eof_received());  // nothing left to keep open
    protocol.pause_writing();
    protocol.resume_writing();
    protocol.connection_made(*t);
    EXPECT_EQ(run(reader.read()), "");
    EXPECT_TRUE(reader.at_eof());
}

// ---- start_server with a plain callback, and limits checked up front --------------------

class AsyncioStreamServerTest : public test::IoLoopTest {};

TEST_F(AsyncioStreamServerTest, StartServerAcceptsAPlainCallback) {
    int calls = 0;
    auto body = [&calls]() -> Coro<void> {
        // asyncio: a client_connected_cb that is not a coroutine is simply called.
        auto cb = [&calls](StreamReader, StreamWriter w) {
            ++calls;
            w.write("hi from a plain callback");
            w.close();
        };
        Server server = co_await start_server(cb, "127.0.0.1", 0);
        auto conn = co_await open_connection("127.0.0.1", port_of(server));
        std::string reply = co_await read_and_close(std::move(conn));
        EXPECT_EQ(reply, "hi from a plain callback");
        co_await close_and_wait(server);
    };
    run_io(body());
    EXPECT_EQ(calls, 1);
}

TEST_F(AsyncioStreamServerTest, StartUnixServerAcceptsAPlainCallback) {
    char tmpl[] = "/tmp/tulip-asyncio-streams-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    std::string path = std::string(tmpl) + "/sock";
    auto body = [path]() -> Coro<void> {
        auto cb = [](StreamReader, StreamWriter w) {
            w.write("unix hello");
            w.close();
        };
        Server server = co_await start_unix_server(cb, path);
        auto conn = co_await open_unix_connection(path);
        std::string reply = co_await read_and_close(std::move(conn));
        EXPECT_EQ(reply, "unix hello");
        co_await close_and_wait(server);
    };
    run_io(body());
    ::unlink(path.c_str());
    ::rmdir(tmpl);
}

TEST_F(AsyncioStreamServerTest, StreamLimitOfZeroOrLessRaisesValueErrorBeforeConnecting) {
    auto body = []() -> Coro<void> {
        StreamOptions o;
        o.limit = 0;
        auto cb = [](StreamReader, StreamWriter) {};
        EXPECT_THROW(co_await start_server(cb, "127.0.0.1", 0, o), std::invalid_argument);
        o.limit = -5;
        EXPECT_THROW(co_await start_server(cb, "127.0.0.1", 0, o), std::invalid_argument);
        Server server = co_await start_server(cb, "127.0.0.1", 0);
        EXPECT_THROW(co_await open_connection("127.0.0.1", port_of(server), o), std::invalid_argument);
        co_await close_and_wait(server);
    };
    run_io(body());
}

}  // namespace streams_asyncio_streams_test
