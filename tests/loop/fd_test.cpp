// Tests of EventLoop's file-descriptor watching: add_reader / add_writer /
// remove_reader / remove_writer on real pipes and socket pairs (CPython
// test_events.py: test_reader_callback, test_writer_callback,
// test_remove_fds_after_closing, test_add_fds_after_closing; and
// test_selector_events.py's add/remove reader/writer cases).
#include <tulip/loop/event_loop.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "support/fd_pair.hpp"
#include "support/loop_test.hpp"

namespace loop_fd_test {

using namespace tulip;
using namespace std::chrono_literals;

namespace {

using test::Pipe;
using test::SocketPair;

void write_all(int fd, const std::string& data) {
    ASSERT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
}

// Reads whatever is available now (the fd is non-blocking).
std::string read_available(int fd) {
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

class FdTest : public test::RealTimeLoopTest {
protected:
    // Runs the loop until `done()` holds or test::kLoopbackTimeout passes (a
    // bound that must never be reached); returns whether done() held.
    template <class P>
    bool run_until_or_timeout(P done) {
        bool timed_out = false;
        TimerHandle guard = loop().call_later(Seconds(test::kLoopbackTimeout), [&] { timed_out = true; });
        while (!done() && !timed_out) run_once();
        guard.cancel();
        return done();
    }
    // Runs `iterations` loop iterations that do not block (a callback is always ready).
    void spin(int iterations) {
        for (int i = 0; i < iterations; ++i) {
            loop().call_soon([] {});
            run_once();
        }
    }
    // Runs the loop for a short real-time while (for "nothing happens" checks).
    void run_for(std::chrono::milliseconds d) {
        bool done = false;
        loop().call_later(Seconds(d), [&] { done = true; });
        while (!done) run_once();
    }
};

}  // namespace

TEST_F(FdTest, AReaderRunsWhenThePipeHasDataAndSeesEndOfFile) {
    // CPython test_reader_callback: collect bytes until EOF, then unregister.
    Pipe p;
    std::string received;
    bool eof = false;
    loop().add_reader(p.r, [&] {
        char buf[64];
        ssize_t n = ::read(p.r, buf, sizeof buf);
        if (n > 0) {
            received.append(buf, static_cast<std::size_t>(n));
        } else if (n == 0) {
            eof = true;
            EXPECT_TRUE(loop().remove_reader(p.r));
        }
    });
    run_for(10ms);
    EXPECT_TRUE(received.empty()) << "the reader ran with nothing to read";
    write_all(p.w, "abc");
    EXPECT_TRUE(run_until_or_timeout([&] { return received.size() == 3; }));
    write_all(p.w, "def");
    p.close_write();
    EXPECT_TRUE(run_until_or_timeout([&] { return eof; }));
    EXPECT_EQ(received, "abcdef");
}

TEST_F(FdTest, AWriterRunsWhileTheSocketIsWritable) {
    // CPython test_writer_callback.
    SocketPair s;
    int calls = 0;
    loop().add_writer(s.a, [&] {
        ++calls;
        ASSERT_EQ(::send(s.a, "x", 1, MSG_NOSIGNAL), 1);
        if (calls == 3) {
            EXPECT_TRUE(loop().remove_writer(s.a));
        }
    });
    EXPECT_TRUE(run_until_or_timeout([&] { return calls == 3; }));
    spin(5);
    EXPECT_EQ(calls, 3) << "the writer ran after being removed";
    EXPECT_EQ(read_available(s.b), "xxx");
}

TEST_F(FdTest, AWriterWaitsWhileTheBufferIsFullAndRunsOnceThePeerDrainsIt) {
    SocketPair s;
    // Fill the send path until the kernel refuses more.
    std::string chunk(65536, 'z');
    std::size_t queued = 0;
    for (int i = 0; i < 10000; ++i) {
        ssize_t n = ::send(s.a, chunk.data(), chunk.size(), MSG_NOSIGNAL);
        if (n < 0) {
            ASSERT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << std::strerror(errno);
            break;
        }
        queued += static_cast<std::size_t>(n);
    }
    ASSERT_GT(queued, 0u);
    int calls = 0;
    loop().add_writer(s.a, [&] {
        ++calls;
        loop().remove_writer(s.a);
    });
    run_for(20ms);
    EXPECT_EQ(calls, 0) << "the writer ran while the socket could take nothing";
    std::size_t drained = 0;
    while (drained < queued) {
        std::string got = read_available(s.b);
        if (got.empty()) break;
        drained += got.size();
    }
    EXPECT_EQ(drained, queued);
    EXPECT_TRUE(run_until_or_timeout([&] { return calls == 1; }));
}

TEST_F(FdTest, AddingAReaderAgainReplacesTheCallbackAndReleasesTheOldOne) {
    Pipe p;
    auto token = std::make_shared<int>(0);
    int old_calls = 0, new_calls = 0;
    loop().add_reader(p.r, [token, &old_calls] { ++old_calls; });
    EXPECT_EQ(token.use_count(), 2);
    loop().add_reader(p.r, [&] {
        ++new_calls;
        read_available(p.r);
        loop().remove_reader(p.r);
    });
    EXPECT_EQ(token.use_count(), 1) << "the replaced callback still holds its captures";
    write_all(p.w, "!");
    EXPECT_TRUE(run_until_or_timeout([&] { return new_calls == 1; }));
    EXPECT_EQ(old_calls, 0);
}

TEST_F(FdTest, AddingAWriterAgainReplacesTheCallback) {
    SocketPair s;
    int old_calls = 0, new_calls = 0;
    loop().add_writer(s.a, [&] { ++old_calls; });
    loop().add_writer(s.a, [&] {
        ++new_calls;
        loop().remove_writer(s.a);
    });
    EXPECT_TRUE(run_until_or_timeout([&] { return new_calls == 1; }));
    EXPECT_EQ(old_calls, 0);
}

TEST_F(FdTest, RemoveReportsWhetherACallbackWasRegistered) {
    Pipe p;
    SocketPair s;
    EXPECT_FALSE(loop().remove_reader(p.r));
    EXPECT_FALSE(loop().remove_writer(p.w));
    loop().add_reader(p.r, [] {});
    loop().add_writer(s.a, [] {});
    EXPECT_FALSE(loop().remove_writer(p.r)) << "a reader is not a writer";
    EXPECT_FALSE(loop().remove_reader(s.a)) << "a writer is not a reader";
    EXPECT_TRUE(loop().remove_reader(p.r));
    EXPECT_FALSE(loop().remove_reader(p.r));
    EXPECT_TRUE(loop().remove_writer(s.a));
    EXPECT_FALSE(loop().remove_writer(s.a));
    // Numbers the loop has never seen, or that cannot be fds at all.
    EXPECT_FALSE(loop().remove_reader(100000));
    EXPECT_FALSE(loop().remove_writer(100000));
    EXPECT_FALSE(loop().remove_reader(-1));
    EXPECT_FALSE(loop().remove_writer(-1));
}

TEST_F(FdTest, ReaderAndWriterOnOneSocketWorkIndependently) {
    SocketPair s;
    int reads = 0, writes = 0;
    loop().add_writer(s.a, [&] {
        ++writes;
        loop().remove_writer(s.a);
    });
    loop().add_reader(s.a, [&] {
        ++reads;
        read_available(s.a);
    });
    EXPECT_TRUE(run_until_or_timeout([&] { return writes == 1; }));
    spin(3);
    EXPECT_EQ(reads, 0) << "nothing was sent to this side yet";
    write_all(s.b, "ping");
    EXPECT_TRUE(run_until_or_timeout([&] { return reads >= 1; }));
    EXPECT_EQ(writes, 1);
    EXPECT_TRUE(loop().remove_reader(s.a));
}

TEST_F(FdTest, RemovingTheReaderKeepsTheWriterOfTheSameFd) {
    SocketPair s;
    int reads = 0, writes = 0;
    loop().add_reader(s.a, [&] { ++reads; });
    loop().add_writer(s.a, [&] { ++writes; });
    EXPECT_TRUE(loop().remove_reader(s.a));
    write_all(s.b, "data");
    EXPECT_TRUE(run_until_or_timeout([&] { return writes >= 3; }));
    EXPECT_EQ(reads, 0);
    EXPECT_TRUE(loop().remove_writer(s.a));
}

TEST_F(FdTest, ReadersOnManyFdsEachRunOnce) {
    constexpr int kPipes = 64;
    std::vector<std::unique_ptr<Pipe>> pipes;
    std::vector<int> calls(kPipes, 0);
    int total = 0;
    for (int i = 0; i < kPipes; ++i) {
        pipes.push_back(std::make_unique<Pipe>());
        int fd = pipes.back()->r;
        loop().add_reader(fd, [&, i, fd] {
            ++calls[static_cast<std::size_t>(i)];
            ++total;
            EXPECT_EQ(read_available(fd), std::to_string(i));
            EXPECT_TRUE(loop().remove_reader(fd));
        });
    }
    // Every pipe becomes readable before the loop polls once.
    for (int i = kPipes - 1; i >= 0; --i) write_all(pipes[static_cast<std::size_t>(i)]->w, std::to_string(i));
    EXPECT_TRUE(run_until_or_timeout([&] { return total == kPipes; }));
    spin(3);
    for (int i = 0; i < kPipes; ++i) EXPECT_EQ(calls[static_cast<std::size_t>(i)], 1) << "pipe " << i;
}

TEST_F(FdTest, ANegativeFdIsRejectedAndTheCallbackReleased) {
    auto token = std::make_shared<int>(0);
    EXPECT_THROW(loop().add_reader(-1, [token] {}), std::invalid_argument);
    EXPECT_THROW(loop().add_writer(-7, [token] {}), std::invalid_argument);
    EXPECT_EQ(token.use_count(), 1);
}

TEST_F(FdTest, AClosedFdIsRejectedWithEBADF) {
    int fd;
    {
        Pipe p;
        fd = p.r;
    }  // both ends closed: `fd` names nothing now
    auto token = std::make_shared<int>(0);
    try {
        loop().add_reader(fd, [token] {});
        ADD_FAILURE() << "add_reader accepted a closed fd";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), EBADF) << e.what();
        EXPECT_NE(std::string(e.what()).find(std::to_string(fd)), std::string::npos)
            << "the message should name the fd: " << e.what();
    }
    EXPECT_EQ(token.use_count(), 1);
    EXPECT_FALSE(loop().remove_reader(fd)) << "a refused fd must not stay registered";
}

TEST_F(FdTest, ARegularFileIsRejectedWithEPERMAndTheLoopStaysUsable) {
    // epoll cannot watch regular files (CPython's selector raises PermissionError).
    std::FILE* f = std::tmpfile();
    ASSERT_NE(f, nullptr);
    int fd = ::fileno(f);
    try {
        loop().add_reader(fd, [] {});
        ADD_FAILURE() << "add_reader accepted a regular file";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), EPERM) << e.what();
    }
    EXPECT_FALSE(loop().remove_reader(fd));
    std::fclose(f);

    Pipe p;
    bool ran = false;
    loop().add_reader(p.r, [&] {
        ran = true;
        loop().remove_reader(p.r);
    });
    write_all(p.w, "ok");
    EXPECT_TRUE(run_until_or_timeout([&] { return ran; }));
}

TEST_F(FdTest, RemovingTheReaderInsideItsCallbackStopsFurtherCalls) {
    Pipe p;
    int calls = 0;
    bool removed = false;
    loop().add_reader(p.r, [&] {
        ++calls;
        char c;
        ASSERT_EQ(::read(p.r, &c, 1), 1);  // leave the rest unread: still readable
        removed = loop().remove_reader(p.r);
    });
    write_all(p.w, "0123456789");
    EXPECT_TRUE(run_until_or_timeout([&] { return calls == 1; }));
    spin(5);
    run_for(10ms);
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(removed);
    EXPECT_EQ(read_available(p.r), "123456789");
}

TEST_F(FdTest, RemovingAnotherReaderInsideACallbackCancelsItsPendingCall) {
    // Both pipes are readable in the same poll; whichever callback runs first
    // removes the other, whose call is already queued: it must not happen
    // (asyncio cancels the handle on remove_reader).
    Pipe p1, p2;
    int calls = 0;
    loop().add_reader(p1.r, [&] {
        ++calls;
        loop().remove_reader(p1.r);
        loop().remove_reader(p2.r);
    });
    loop().add_reader(p2.r, [&] {
        ++calls;
        loop().remove_reader(p1.r);
        loop().remove_reader(p2.r);
    });
    write_all(p1.w, "1");
    write_all(p2.w, "2");
    EXPECT_TRUE(run_until_or_timeout([&] { return calls >= 1; }));
    spin(3);
    EXPECT_EQ(calls, 1);
}

TEST_F(FdTest, AnFdCanBeClosedAfterRemoveAndItsNumberReused) {
    int first_fd;
    {
        Pipe p;
        first_fd = p.r;
        loop().add_reader(p.r, [] {});
        EXPECT_TRUE(loop().remove_reader(p.r));
    }  // closed after remove, as asyncio requires
    spin(2);
    Pipe q;  // the kernel hands out the lowest free number: usually the same one
    bool ran = false;
    loop().add_reader(q.r, [&] {
        ran = true;
        read_available(q.r);
        loop().remove_reader(q.r);
    });
    write_all(q.w, "again");
    EXPECT_TRUE(run_until_or_timeout([&] { return ran; }));
    EXPECT_GE(first_fd, 0);
}

TEST_F(FdTest, AnExceptionInAReaderGoesToTheHandlerAndTheReaderStays) {
    expect_handler_calls = true;
    Pipe p;
    int calls = 0;
    loop().add_reader(p.r, [&] {
        if (++calls == 1) throw std::runtime_error("reader failed");
        read_available(p.r);
        loop().remove_reader(p.r);
    });
    write_all(p.w, "x");
    EXPECT_TRUE(run_until_or_timeout([&] { return calls == 2; }));
    ASSERT_EQ(handler_calls.size(), 1u);
    EXPECT_EQ(describe_exception(handler_calls[0].exception), "std::runtime_error: reader failed");
}

TEST_F(FdTest, AClosedLoopRefusesNewFdsAndRemoveReturnsFalse) {
    // CPython test_add_fds_after_closing / test_remove_fds_after_closing.
    Pipe p;
    loop().add_reader(p.r, [] {});
    loop().close();
    EXPECT_THROW(loop().add_reader(p.r, [] {}), std::runtime_error);
    EXPECT_THROW(loop().add_writer(p.w, [] {}), std::runtime_error);
    EXPECT_FALSE(loop().remove_reader(p.r));
    EXPECT_FALSE(loop().remove_writer(p.w));
}

TEST_F(FdTest, ClosingTheLoopReleasesReadersAndWriters) {
    SocketPair s;
    auto token = std::make_shared<int>(0);
    loop().add_reader(s.a, [token] {});
    loop().add_writer(s.b, [token] {});
    EXPECT_EQ(token.use_count(), 3);
    loop().close();
    EXPECT_EQ(token.use_count(), 1);
}

}  // namespace loop_fd_test
