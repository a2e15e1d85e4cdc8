// StreamReader fed directly with feed_data/feed_eof: the parsing cases of
// CPython's test_streams.py (read, readline, readexactly, readuntil), errors,
// cancellation, and the reader's flow control against a fake transport.
#include <tulip/streams/stream_reader.hpp>

#include <optional>
#include <string>
#include <vector>

#include <tulip/tulip.hpp>

#include "support/loop_test.hpp"

namespace streams_stream_reader_test {

using namespace tulip;

namespace {

const std::string kData = "line1\nline2\nline3\n";  // CPython's StreamTests.DATA

// A transport that only records what the reader asks of it (asyncio's tests
// use a mock transport for the same purpose).
class FakeTransport final : public Transport {
public:
    explicit FakeTransport(EventLoop& loop) : loop_(&loop) {}

    int pauses = 0;
    int resumes = 0;
    bool reading = true;

    std::any get_extra_info(std::string_view) const override { return {}; }
    bool is_closing() const noexcept override { return false; }
    void close() override {}
    BaseProtocol& get_protocol() const noexcept override { return protocol_; }
    EventLoop& get_loop() const noexcept override { return *loop_; }
    void write(std::string_view) override {}
    void writelines(std::span<const std::string_view>) override {}
    void write_eof() override {}
    bool can_write_eof() const noexcept override { return false; }
    void abort() override {}
    void pause_reading() override {
        ++pauses;
        reading = false;
    }
    void resume_reading() override {
        ++resumes;
        reading = true;
    }
    bool is_reading() const noexcept override { return reading; }
    void set_write_buffer_limits(std::optional<std::size_t>, std::optional<std::size_t>) override {}
    std::size_t get_write_buffer_size() const noexcept override { return 0; }
    std::pair<std::size_t, std::size_t> get_write_buffer_limits() const noexcept override { return {0, 0}; }

private:
    EventLoop* loop_;
    mutable BaseProtocol protocol_;
};

// Feeds one chunk per loop iteration, so that a waiting reader looks at the
// buffer after each of them.
Coro<void> feed_chunks(StreamReader r, std::vector<std::string> chunks) {
    for (auto& c : chunks) {
        r.feed_data(c);
        co_await sleep(0);
    }
}

}  // namespace

class StreamReaderTest : public test::LoopTest {
protected:
    // Feeds `data` from a callback, after the reader started waiting.
    void feed_soon(StreamReader r, std::string data) {
        loop().call_soon([r, data]() mutable { r.feed_data(data); });
    }
    void feed_eof_soon(StreamReader r) {
        loop().call_soon([r]() mutable { r.feed_eof(); });
    }
    // Runs the awaitable and returns the exception of type E it raised (nullopt if none).
    template <class E, class A>
    std::optional<E> raised(A&& awaitable) {
        try {
            run(std::forward<A>(awaitable));
        } catch (const E& e) {
            return e;
        }
        return std::nullopt;
    }
    // Everything still buffered (the reader must be at EOF or have data).
    std::string rest(StreamReader& r) {
        std::string out;
        while (r.buffered() > 0) out += run(r.read(static_cast<long>(r.buffered())));
        return out;
    }
    FakeTransport* attach_fake_transport(StreamReader& r) {
        auto* t = new FakeTransport(loop());
        r.core()->transport = Ref<Transport>(t);
        return t;
    }
};

// ---- feed_data / read ---------------------------------------------------------

TEST_F(StreamReaderTest, FeedingEmptyDataBuffersNothing) {
    StreamReader r(64 * 1024);
    r.feed_data("");
    EXPECT_EQ(r.buffered(), 0u);
}

TEST_F(StreamReaderTest, FeedingDataBuffersAllOfIt) {
    StreamReader r(64 * 1024);
    r.feed_data(kData);
    EXPECT_EQ(r.buffered(), kData.size());
    EXPECT_EQ(rest(r), kData);
}

TEST_F(StreamReaderTest, ReadOfZeroBytesReturnsNothingAndLeavesTheBuffer) {
    StreamReader r(64 * 1024);
    r.feed_data(kData);
    EXPECT_EQ(run(r.read(0)), "");
    EXPECT_EQ(r.buffered(), kData.size());
}

TEST_F(StreamReaderTest, ReadWaitsForDataFedLater) {
    StreamReader r(64 * 1024);
    auto t = loop().create_task(r.read(30));
    feed_soon(r, kData);
    EXPECT_EQ(run(t), kData);
    EXPECT_EQ(r.buffered(), 0u);
}

TEST_F(StreamReaderTest, ReadReturnsAtMostTheBytesAskedFor) {
    StreamReader r(64 * 1024);
    r.feed_data("line1");
    r.feed_data("line2");
    EXPECT_EQ(run(r.read(5)), "line1");
    EXPECT_EQ(rest(r), "line2");
}

TEST_F(StreamReaderTest, ReadReturnsWhatIsBufferedWithoutWaitingForMore) {
    StreamReader r(64 * 1024);
    r.feed_data("abc");
    EXPECT_EQ(run(r.read(100)), "abc");
}

TEST_F(StreamReaderTest, ReadAtEofReturnsAnEmptyString) {
    StreamReader r(64 * 1024);
    auto t = loop().create_task(r.read(1024));
    feed_eof_soon(r);
    EXPECT_EQ(run(t), "");
    EXPECT_TRUE(r.at_eof());
}

TEST_F(StreamReaderTest, ReadOfMinusOneCollectsEverythingUntilEof) {
    StreamReader r(64 * 1024);
    auto t = loop().create_task(r.read(-1));
    loop().call_soon([r]() mutable {
        r.feed_data("chunk1\n");
        r.feed_data("chunk2");
        r.feed_eof();
    });
    EXPECT_EQ(run(t), "chunk1\nchunk2");
    EXPECT_EQ(r.buffered(), 0u);
}

TEST_F(StreamReaderTest, ReadOfMinusOneWithASmallLimitStillReturnsEverything) {
    StreamReader r(3);
    std::string big(1000, 'x');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
    r.feed_data(big);
    r.feed_eof();
    EXPECT_EQ(run(r.read()), big);
}

TEST_F(StreamReaderTest, ReadRaisesTheStoredExceptionEvenWithDataBuffered) {
    StreamReader r(64 * 1024);
    r.feed_data("line\n");
    EXPECT_EQ(run(r.read(2)), "li");
    r.set_exception(std::make_exception_ptr(std::invalid_argument("boom")));
    EXPECT_THROW(run(r.read(2)), std::invalid_argument);
}

TEST_F(StreamReaderTest, ALimitOfZeroIsRejected) {
    try {
        StreamReader r(0);
        ADD_FAILURE() << "a zero limit was accepted";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("imit"), std::string::npos);
    }
}

// A read of buffered bytes is a plain call: it completes in the task's first
// step, as asyncio's read does not yield when data is there.
TEST_F(StreamReaderTest, ReadOfBufferedBytesDoesNotSuspend) {
    StreamReader r(64 * 1024);
    r.feed_data("abcdef");
    std::string a, b;
    // A named lambda: a coroutine lambda's captures live in the lambda
    // object, which must outlive the task.
    auto body = [&]() -> Coro<void> {
        a = co_await r.read(2);
        b = co_await r.read(100);
    };
    auto t = loop().create_task(body());
    run_once();
    ASSERT_TRUE(t.done());
    EXPECT_EQ(a, "ab");
    EXPECT_EQ(b, "cdef");
    EXPECT_EQ(r.buffered(), 0u);
}

// read() may hand the whole buffer over rather than copy it; data fed after
// that, and partial reads around it, must still come out whole and in order.
TEST_F(StreamReaderTest, ReadsThatTakeTheWholeBufferLeaveLaterDataIntact) {
    StreamReader r(64 * 1024);
    std::string got;
    for (int round = 0; round < 50; ++round) {
        std::string chunk(static_cast<std::size_t>(1 + round * 37), static_cast<char>('a' + round % 26));
        r.feed_data(chunk);
        if (round % 3 == 0 && chunk.size() > 5) got += run(r.read(5));  // a partial read first
        got += run(r.read(1 << 20));                                    // then everything left
    }
    std::string want;
    for (int round = 0; round < 50; ++round)
        want += std::string(static_cast<std::size_t>(1 + round * 37), static_cast<char>('a' + round % 26));
    EXPECT_EQ(got, want);
}

// A read that timed out under wait_for leaves no waiter behind.
TEST_F(StreamReaderTest, AReadThatTimesOutLetsTheNextReadWait) {
    StreamReader r(64 * 1024);
    EXPECT_THROW(run(wait_for(r.read(10), 0.01)), TimeoutError);
    auto t = loop().create_task(r.read(10));
    run_once();
    EXPECT_FALSE(t.done());
    r.feed_data("xy");
    run_once();
    ASSERT_TRUE(t.done());
    EXPECT_EQ(t.result(), "xy");
}

TEST_F(StreamReaderTest, ReadIgnoresTheLimit) {
    StreamReader r(3);
    r.feed_data("chunk");
    EXPECT_EQ(run(r.read(5)), "chunk");
    EXPECT_EQ(r.buffered(), 0u);
}

TEST_F(StreamReaderTest, ManySmallReadsAfterOneLargeFeedReturnTheBytesInOrder) {
    // Exercises the buffer's compaction of its consumed prefix.
    StreamReader r(1024 * 1024);
    std::string big;
    for (int i = 0; i < 20000; ++i) big += std::to_string(i) + ",";
    r.feed_data(big);
    r.feed_eof();
    std::string got;
    for (int i = 0; i < 100000 && !r.at_eof(); ++i) got += run(r.read(7));
    EXPECT_EQ(got, big);
}

// ---- readline -------------------------------------------------------------------

TEST_F(StreamReaderTest, ReadlineJoinsChunksUntilTheNewline) {
    StreamReader r(64 * 1024);
    r.feed_data("chunk1 ");
    auto t = loop().create_task(r.readline());
    loop().call_soon([r]() mutable {
        r.feed_data("chunk2 ");
        r.feed_data("chunk3 ");
        r.feed_data("\n chunk4");
    });
    EXPECT_EQ(run(t), "chunk1 chunk2 chunk3 \n");
    EXPECT_EQ(rest(r), " chunk4");
}

TEST_F(StreamReaderTest, ReadlineOverTheLimitWithDataBufferedRaisesAndDropsOnlyThatLine) {
    StreamReader r(3);
    r.feed_data("li");
    r.feed_data("ne1\nline2\n");
    EXPECT_THROW(run(r.readline()), std::invalid_argument);
    EXPECT_EQ(rest(r), "line2\n");
}

TEST_F(StreamReaderTest, ReadlineOverTheLimitWithoutANewlineDropsTheWholeBuffer) {
    StreamReader r(3);
    r.feed_data("li");
    r.feed_data("ne1");
    r.feed_data("li");
    EXPECT_THROW(run(r.readline()), std::invalid_argument);
    EXPECT_EQ(r.buffered(), 0u);
}

TEST_F(StreamReaderTest, ReadlineOverTheLimitWhileWaitingDropsTheLine) {
    StreamReader r(7);
    loop().call_soon([r]() mutable {
        r.feed_data("chunk1");
        r.feed_data("chunk2");
        r.feed_data("chunk3\n");
        r.feed_eof();
    });
    EXPECT_THROW(run(r.readline()), std::invalid_argument);
    EXPECT_EQ(r.buffered(), 0u);
}

TEST_F(StreamReaderTest, ReadlineOverTheLimitWhileWaitingKeepsTheNextLine) {
    StreamReader r(7);
    loop().call_soon([r]() mutable {
        r.feed_data("chunk1");
        r.feed_data("chunk2\n");
        r.feed_data("chunk3\n");
        r.feed_eof();
    });
    EXPECT_THROW(run(r.readline()), std::invalid_argument);
    EXPECT_EQ(rest(r), "chunk3\n");
}

TEST_F(StreamReaderTest, ReadlineLimitIsStrict) {
    StreamReader r(7);
    r.feed_data("1234567\n");
    EXPECT_EQ(run(r.readline()), "1234567\n");
    EXPECT_EQ(r.buffered(), 0u);

    r.feed_data("12345678\n");
    EXPECT_THROW(run(r.readline()), std::invalid_argument);
    EXPECT_EQ(r.buffered(), 0u);

    r.feed_data("12345678");
    EXPECT_THROW(run(r.readline()), std::invalid_argument);
    EXPECT_EQ(r.buffered(), 0u);
}

TEST_F(StreamReaderTest, ReadlineReturnsABufferedLineWithoutWaiting) {
    StreamReader r(64 * 1024);
    r.feed_data(kData.substr(0, 6));
    r.feed_data(kData.substr(6));
    EXPECT_EQ(run(r.readline()), "line1\n");
    EXPECT_EQ(rest(r), "line2\nline3\n");
}

TEST_F(StreamReaderTest, ReadlineAtEofReturnsTheUnterminatedRest) {
    StreamReader r(64 * 1024);
    r.feed_data("some data");
    r.feed_eof();
    EXPECT_EQ(run(r.readline()), "some data");
    EXPECT_EQ(run(r.readline()), "");
}

TEST_F(StreamReaderTest, ReadlineOnAnEmptyStreamAtEofReturnsAnEmptyString) {
    StreamReader r(64 * 1024);
    r.feed_eof();
    EXPECT_EQ(run(r.readline()), "");
}

TEST_F(StreamReaderTest, ReadAfterReadlineCountsBytesFromTheNextLine) {
    StreamReader r(64 * 1024);
    r.feed_data(kData);
    run(r.readline());
    EXPECT_EQ(run(r.read(7)), "line2\nl");
    EXPECT_EQ(rest(r), "ine3\n");
}

TEST_F(StreamReaderTest, ReadlineRaisesTheStoredException) {
    StreamReader r(64 * 1024);
    r.feed_data("line\n");
    EXPECT_EQ(run(r.readline()), "line\n");
    r.set_exception(std::make_exception_ptr(std::invalid_argument("boom")));
    EXPECT_THROW(run(r.readline()), std::invalid_argument);
    EXPECT_EQ(r.buffered(), 0u);
}

TEST_F(StreamReaderTest, AtEofHoldsOnlyOnceEofWasFedAndTheBufferIsDrained) {
    StreamReader r(64 * 1024);
    EXPECT_FALSE(r.at_eof());
    r.feed_data("some data\n");
    EXPECT_FALSE(r.at_eof());
    run(r.readline());
    EXPECT_FALSE(r.at_eof());
    r.feed_data("some data\n");
    r.feed_eof();
    EXPECT_FALSE(r.at_eof());  // data left
    run(r.readline());
    EXPECT_TRUE(r.at_eof());
}

// ---- readuntil -------------------------------------------------------------------

TEST_F(StreamReaderTest, ReaduntilRejectsAnEmptySeparator) {
    StreamReader r(64 * 1024);
    auto e = raised<std::invalid_argument>(r.readuntil(std::string()));
    ASSERT_TRUE(e);
    EXPECT_NE(std::string(e->what()).find("Separator should be"), std::string::npos);
}

TEST_F(StreamReaderTest, ReaduntilRejectsAnEmptyListOfSeparatorsAndAnEmptyMember) {
    StreamReader r(64 * 1024);
    r.feed_data("data");
    std::vector<std::string> none;
    EXPECT_THROW(run(r.readuntil(none)), std::invalid_argument);
    std::vector<std::string> with_empty{"\n", ""};
    EXPECT_THROW(run(r.readuntil(with_empty)), std::invalid_argument);
    EXPECT_EQ(r.buffered(), 4u);
}

TEST_F(StreamReaderTest, ReaduntilReturnsDataThroughTheSeparator) {
    StreamReader r(64 * 1024);
    r.feed_data("lineAAA");
    EXPECT_EQ(run(r.readuntil("AAA")), "lineAAA");
    EXPECT_EQ(r.buffered(), 0u);

    r.feed_data("lineAAAxxx");
    EXPECT_EQ(run(r.readuntil("AAA")), "lineAAA");
    EXPECT_EQ(rest(r), "xxx");
}

TEST_F(StreamReaderTest, ReaduntilFindsASeparatorBuiltFromSeveralChunks) {
    StreamReader r(64 * 1024);
    const std::vector<std::vector<std::string>> cases = {
        {"QWEaa", "XYaa", "a"}, {"QWEaa", "XYa", "aa"}, {"aaa"}, {"Xaaa"}, {"XXX", "a", "a", "a"}};
    const std::vector<std::string> want = {"QWEaaXYaaa", "QWEaaXYaaa", "aaa", "Xaaa", "XXXaaa"};
    for (std::size_t i = 0; i < cases.size(); ++i) {
        for (auto& chunk : cases[i]) r.feed_data(chunk);
        EXPECT_EQ(run(r.readuntil("aaa")), want[i]) << "case " << i;
        EXPECT_EQ(r.buffered(), 0u) << "case " << i;
    }
}

TEST_F(StreamReaderTest, ReaduntilFindsTheSeparatorSplitAtEveryByteOffset) {
    // Overlapping separators are the hard case for a search that resumes
    // where it left off.
    const std::vector<std::string> seps = {"\r\n", "\r\n\r\n", "aab", "abcabd", "--boundary--"};
    for (const auto& sep : seps) {
        const std::string head = "ab\raaxabcabc-" + sep.substr(0, sep.size() - 1);  // near-misses first
        const std::string msg = head + sep + "tail";
        for (std::size_t cut = 0; cut <= msg.size(); ++cut) {
            StreamReader r(64 * 1024);
            r.feed_data(msg.substr(0, cut));
            auto t = loop().create_task(r.readuntil(sep));
            feed_soon(r, msg.substr(cut));
            std::string got = run(t);
            // The first occurrence of sep ends the chunk.
            std::string want = msg.substr(0, msg.find(sep) + sep.size());
            EXPECT_EQ(got, want) << "separator '" << sep << "' cut at " << cut;
            EXPECT_EQ(r.buffered(), msg.size() - want.size());
        }
    }
}

TEST_F(StreamReaderTest, ReaduntilFindsTheSeparatorSplitAtEveryPairOfOffsets) {
    const std::string sep = "\r\n\r\n";
    const std::string msg = "HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody";
    const std::string want = "HTTP/1.1 200 OK\r\nA: b\r\n\r\n";
    for (std::size_t a = 0; a <= msg.size(); ++a) {
        for (std::size_t b = a; b <= msg.size(); ++b) {
            StreamReader r(64 * 1024);
            r.feed_data(msg.substr(0, a));
            auto t = loop().create_task(r.readuntil(sep));
            std::vector<std::string> chunks{msg.substr(a, b - a), msg.substr(b)};
            auto feeder = loop().create_task(feed_chunks(r, chunks));
            ASSERT_EQ(run(t), want) << "cuts at " << a << " and " << b;
            run(feeder);
        }
    }
}

TEST_F(StreamReaderTest, ReaduntilFedOneByteAtATimeFindsTheSeparator) {
    StreamReader r(64 * 1024);
    const std::string msg = "key: value\r\n\r\nrest";
    auto t = loop().create_task(r.readuntil("\r\n\r\n"));
    std::vector<std::string> bytes;
    for (char c : msg) bytes.emplace_back(1, c);
    auto feeder = loop().create_task(feed_chunks(r, bytes));
    EXPECT_EQ(run(t), "key: value\r\n\r\n");
    run(feeder);
    EXPECT_EQ(rest(r), "rest");
}

TEST_F(StreamReaderTest, ReaduntilAtEofRaisesIncompleteReadErrorWithEverythingAndNoExpectedSize) {
    StreamReader r(64 * 1024);
    r.feed_data("some dataAA");
    r.feed_eof();
    auto e = raised<IncompleteReadError>(r.readuntil("AAA"));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->partial, "some dataAA");
    EXPECT_FALSE(e->expected.has_value());
    EXPECT_NE(std::string(e->what()).find("undefined expected bytes"), std::string::npos);
    EXPECT_EQ(r.buffered(), 0u);
}

TEST_F(StreamReaderTest, ReaduntilFindsASeparatorCompletedByTheLastChunkBeforeEof) {
    StreamReader r(64 * 1024);
    r.feed_data("abc\r");
    auto t = loop().create_task(r.readuntil("\r\n"));
    loop().call_soon([r]() mutable {
        r.feed_data("\n");
        r.feed_eof();
    });
    EXPECT_EQ(run(t), "abc\r\n");
    EXPECT_TRUE(r.at_eof());
}

TEST_F(StreamReaderTest, ReaduntilPastTheLimitRaisesLimitOverrunAndLeavesTheDataReadable) {
    StreamReader r(3);
    r.feed_data("some dataAA");
    auto e = raised<LimitOverrunError>(r.readuntil("AAA"));
    ASSERT_TRUE(e);
    EXPECT_NE(std::string(e->what()).find("not found"), std::string::npos);
    EXPECT_EQ(e->consumed, 9u);  // everything but the last len(sep) - 1 bytes was searched
    EXPECT_EQ(r.buffered(), 11u);

    r.feed_data("A");
    e = raised<LimitOverrunError>(r.readuntil("AAA"));
    ASSERT_TRUE(e);
    EXPECT_NE(std::string(e->what()).find("is found"), std::string::npos);
    EXPECT_EQ(e->consumed, 9u);  // where the separator starts
    EXPECT_EQ(rest(r), "some dataAAA");
}

TEST_F(StreamReaderTest, ReaduntilOverrunWhileWaitingLeavesTheDataReadable) {
    StreamReader r(5);
    auto t = loop().create_task(r.readuntil("\n"));
    feed_soon(r, "0123456789");
    auto e = raised<LimitOverrunError>(t);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->consumed, 10u);
    r.feed_data("\n");
    EXPECT_EQ(run(r.readexactly(e->consumed)), "0123456789");
    EXPECT_EQ(run(r.readline()), "\n");
}

TEST_F(StreamReaderTest, ReaduntilWithSeveralSeparatorsReturnsAtTheOneThatEndsFirst) {
    StreamReader r(64 * 1024);
    r.feed_data("line 1\nline 2\rline 3--end\n");
    std::vector<std::string> seps{"\r", "\n", "--end"};
    EXPECT_EQ(run(r.readuntil(seps)), "line 1\n");
    EXPECT_EQ(run(r.readuntil(seps)), "line 2\r");
    EXPECT_EQ(run(r.readuntil(seps)), "line 3--end");
    EXPECT_EQ(run(r.readuntil(seps)), "\n");
    EXPECT_EQ(r.buffered(), 0u);
}

TEST_F(StreamReaderTest, ReaduntilWithSeveralSeparatorsPrefersTheShorterWhenBothEndTogether) {
    StreamReader r(64 * 1024);
    r.feed_data("ab\r\ncd");
    std::vector<std::string> seps{"\r\n", "\n"};
    EXPECT_EQ(run(r.readuntil(seps)), "ab\r\n");
    EXPECT_EQ(rest(r), "cd");
}

TEST_F(StreamReaderTest, ReaduntilWithSeveralSeparatorsFindsThemSplitAtEveryByteOffset) {
    const std::vector<std::string> seps{"\r\n\r\n", "\n\n", "<END>"};
    const std::vector<std::string> msgs = {"abc\r\n\r\nz", "abc\r\n\nz", "a<EN<END>z", "a\r\n\r<END>z"};
    const std::vector<std::string> wants = {"abc\r\n\r\n", "abc\r\n\n", "a<EN<END>", "a\r\n\r<END>"};
    for (std::size_t m = 0; m < msgs.size(); ++m) {
        const std::string& msg = msgs[m];
        for (std::size_t cut = 0; cut <= msg.size(); ++cut) {
            StreamReader r(64 * 1024);
            r.feed_data(msg.substr(0, cut));
            auto t = loop().create_task(r.readuntil(seps));
            feed_soon(r, msg.substr(cut));
            EXPECT_EQ(run(t), wants[m]) << "message " << m << " cut at " << cut;
            EXPECT_EQ(rest(r), "z");
        }
    }
}

TEST_F(StreamReaderTest, ReaduntilWithSeveralSeparatorsRaisesLimitOverrunCountingTheLongest) {
    StreamReader r(4);
    r.feed_data("0123456789");
    std::vector<std::string> seps{"\n", "<END>"};
    auto e = raised<LimitOverrunError>(r.readuntil(seps));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->consumed, 6u);  // 10 + 1 - len("<END>")
    EXPECT_EQ(r.buffered(), 10u);
}

TEST_F(StreamReaderTest, ReaduntilWithSeveralSeparatorsAtEofRaisesIncompleteReadError) {
    StreamReader r(64 * 1024);
    r.feed_data("no separator<EN");
    r.feed_eof();
    std::vector<std::string> seps{"\n", "<END>"};
    auto e = raised<IncompleteReadError>(r.readuntil(seps));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->partial, "no separator<EN");
    EXPECT_EQ(r.buffered(), 0u);
}

// ---- readexactly -------------------------------------------------------------------

TEST_F(StreamReaderTest, ReadexactlyOfZeroReturnsNothingAndLeavesTheBuffer) {
    StreamReader r(64 * 1024);
    r.feed_data(kData);
    EXPECT_EQ(run(r.readexactly(0)), "");
    EXPECT_EQ(r.buffered(), kData.size());
}

TEST_F(StreamReaderTest, ReadexactlyWaitsUntilEnoughDataArrived) {
    StreamReader r(64 * 1024);
    std::size_t n = 2 * kData.size();
    auto t = loop().create_task(r.readexactly(n));
    loop().call_soon([r]() mutable {
        r.feed_data(kData);
        r.feed_data(kData);
        r.feed_data(kData);
    });
    EXPECT_EQ(run(t), kData + kData);
    EXPECT_EQ(rest(r), kData);
}

TEST_F(StreamReaderTest, ReadexactlyWaitsAcrossSeveralWakeups) {
    StreamReader r(64 * 1024);
    auto t = loop().create_task(r.readexactly(6));
    std::vector<std::string> chunks{"ab", "cd", "efgh"};
    auto feeder = loop().create_task(feed_chunks(r, chunks));
    EXPECT_EQ(run(t), "abcdef");
    run(feeder);
    EXPECT_EQ(rest(r), "gh");
}

TEST_F(StreamReaderTest, ReadexactlyIgnoresTheLimit) {
    StreamReader r(3);
    r.feed_data("chunk");
    EXPECT_EQ(run(r.readexactly(5)), "chunk");
    EXPECT_EQ(r.buffered(), 0u);
}

TEST_F(StreamReaderTest, ReadexactlyAtEofRaisesIncompleteReadErrorWithThePartialData) {
    StreamReader r(64 * 1024);
    std::size_t n = 2 * kData.size();
    auto t = loop().create_task(r.readexactly(n));
    loop().call_soon([r]() mutable {
        r.feed_data(kData);
        r.feed_eof();
    });
    auto e = raised<IncompleteReadError>(t);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->partial, kData);
    EXPECT_EQ(e->expected, n);
    EXPECT_STREQ(e->what(), "18 bytes read on a total of 36 expected bytes");
    EXPECT_EQ(r.buffered(), 0u);
}

TEST_F(StreamReaderTest, ReadexactlyRaisesTheStoredException) {
    StreamReader r(64 * 1024);
    r.feed_data("line\n");
    EXPECT_EQ(run(r.readexactly(2)), "li");
    r.set_exception(std::make_exception_ptr(std::invalid_argument("boom")));
    EXPECT_THROW(run(r.readexactly(2)), std::invalid_argument);
}

// ---- exceptions, concurrency, cancellation -------------------------------------------

TEST_F(StreamReaderTest, ExceptionReturnsTheVeryObjectThatWasSet) {
    StreamReader r(64 * 1024);
    EXPECT_FALSE(r.exception());
    auto e = std::make_exception_ptr(std::invalid_argument("boom"));
    r.set_exception(e);
    EXPECT_EQ(r.exception(), e);
    try {
        run(r.read(1));
        ADD_FAILURE();
    } catch (const std::invalid_argument& caught) {
        try {
            std::rethrow_exception(e);
        } catch (const std::invalid_argument& original) {
            EXPECT_EQ(&caught, &original);  // rethrown as the same object, as asyncio
        }
    }
}

TEST_F(StreamReaderTest, SetExceptionWakesAWaitingReader) {
    StreamReader r(64 * 1024);
    auto t = loop().create_task(r.readline());
    loop().call_soon([r]() mutable { r.set_exception(std::make_exception_ptr(std::invalid_argument("boom"))); });
    EXPECT_THROW(run(t), std::invalid_argument);
}

TEST_F(StreamReaderTest, SetExceptionAfterACancelledReadIsHarmless) {
    StreamReader r(64 * 1024);
    auto t = loop().create_task(r.readline());
    run_briefly();
    t.cancel();
    run_briefly();
    EXPECT_TRUE(t.cancelled());
    r.set_exception(std::make_exception_ptr(std::runtime_error("message")));
    run_briefly();
    EXPECT_EQ(r.core()->data_waiter, nullptr);
    // The reader is usable (and failing) for the next read.
    EXPECT_THROW(run(r.read(1)), std::runtime_error);
}

TEST_F(StreamReaderTest, ASecondConcurrentReaderGetsRuntimeError) {
    StreamReader r(64 * 1024);
    auto first = loop().create_task(r.read(10));
    run_briefly();
    auto e = raised<std::runtime_error>(r.readline());
    ASSERT_TRUE(e);
    EXPECT_NE(std::string(e->what()).find("already waiting"), std::string::npos);
    EXPECT_THROW(run(r.readexactly(3)), std::runtime_error);
    // The first reader is not disturbed.
    r.feed_data("x");
    EXPECT_EQ(run(first), "x");
}

TEST_F(StreamReaderTest, ASecondReaderMayWaitOnceTheFirstHasFinished) {
    StreamReader r(64 * 1024);
    auto first = loop().create_task(r.read(10));
    feed_soon(r, "one");
    EXPECT_EQ(run(first), "one");
    auto second = loop().create_task(r.read(10));
    feed_soon(r, "two");
    EXPECT_EQ(run(second), "two");
}

TEST_F(StreamReaderTest, ACancelledReadexactlyLosesNoData) {
    StreamReader r(64 * 1024);
    r.feed_data("12345");
    auto t = loop().create_task(r.readexactly(10));
    run_briefly();
    t.cancel();
    run_briefly();
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(r.buffered(), 5u);
    r.feed_data("67890");
    EXPECT_EQ(run(r.readexactly(10)), "1234567890");
}

TEST_F(StreamReaderTest, ACancelledReaduntilLosesNoData) {
    StreamReader r(64 * 1024);
    r.feed_data("partial line");
    auto t = loop().create_task(r.readuntil("\r\n"));
    run_briefly();
    feed_soon(r, "\r");  // half a separator arrives before the cancel lands
    run_briefly();
    t.cancel();
    run_briefly();
    EXPECT_TRUE(t.cancelled());
    r.feed_data("\nnext");
    EXPECT_EQ(run(r.readuntil("\r\n")), "partial line\r\n");
    EXPECT_EQ(rest(r), "next");
}

TEST_F(StreamReaderTest, ACancelledReadLeavesDataFedAfterwardsForTheNextRead) {
    StreamReader r(64 * 1024);
    auto t = loop().create_task(r.read(100));
    run_briefly();
    t.cancel();
    r.feed_data("late");  // arrives while the cancellation is in flight
    run_briefly();
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(run(r.read(100)), "late");
}

// ---- flow control (asyncio: pause_reading above 2 * limit) -----------------------------

TEST_F(StreamReaderTest, FeedingMoreThanTwiceTheLimitPausesTheTransportOnce) {
    StreamReader r(10);
    auto* t = attach_fake_transport(r);
    r.feed_data(std::string(20, 'x'));
    EXPECT_EQ(t->pauses, 0);  // exactly 2 * limit: still reading
    r.feed_data("y");
    EXPECT_EQ(t->pauses, 1);
    EXPECT_FALSE(t->is_reading());
    r.feed_data("zzz");
    EXPECT_EQ(t->pauses, 1);
    EXPECT_EQ(t->resumes, 0);
    r.feed_eof();
    EXPECT_EQ(run(r.read()).size(), 24u);
}

TEST_F(StreamReaderTest, ReadingBackDownToTheLimitResumesThePausedTransport) {
    StreamReader r(10);
    auto* t = attach_fake_transport(r);
    r.feed_data(std::string(25, 'x'));
    ASSERT_EQ(t->pauses, 1);
    run(r.read(14));  // 11 left: still above the limit
    EXPECT_EQ(t->resumes, 0);
    run(r.read(1));  // 10 left: at the limit
    EXPECT_EQ(t->resumes, 1);
    EXPECT_TRUE(t->is_reading());
    run(r.read(10));
    EXPECT_EQ(t->resumes, 1);
}

TEST_F(StreamReaderTest, ReadlineAndReaduntilAlsoResumeThePausedTransport) {
    StreamReader r(10);
    auto* t = attach_fake_transport(r);
    r.feed_data("aaaa\nbbbbbbbbbb\ncccccccccc\n");  // 27 bytes
    ASSERT_EQ(t->pauses, 1);
    EXPECT_EQ(run(r.readline()), "aaaa\n");
    EXPECT_EQ(t->resumes, 0);  // 22 left
    EXPECT_EQ(run(r.readuntil("\n")), "bbbbbbbbbb\n");
    EXPECT_EQ(t->resumes, 0);  // 11 left
    EXPECT_EQ(run(r.readline()), "cccccccccc\n");
    EXPECT_EQ(t->resumes, 1);  // empty
}

TEST_F(StreamReaderTest, WaitingForMoreDataWhilePausedResumesTheTransport) {
    // readexactly(n) with n > 2 * limit would deadlock otherwise.
    StreamReader r(10);
    auto* t = attach_fake_transport(r);
    r.feed_data(std::string(25, 'x'));
    ASSERT_EQ(t->pauses, 1);
    auto task = loop().create_task(r.readexactly(40));
    run_briefly();
    EXPECT_EQ(t->resumes, 1);
    EXPECT_TRUE(t->is_reading());
    feed_soon(r, std::string(15, 'y'));
    EXPECT_EQ(run(task), std::string(25, 'x') + std::string(15, 'y'));
}

TEST_F(StreamReaderTest, AReaderWithoutATransportBuffersPastTheLimit) {
    StreamReader r(4);
    r.feed_data(std::string(1000, 'x'));
    EXPECT_EQ(r.buffered(), 1000u);
    EXPECT_EQ(run(r.readexactly(1000)).size(), 1000u);
}

}  // namespace streams_stream_reader_test
