// Pipe transports (asyncio loop.connect_read_pipe / connect_write_pipe): the
// behaviours of CPython's UnixReadPipeTransportTests and
// UnixWritePipeTransportTests, on real pipes instead of a mocked os.read/write,
// and the stream wrappers over them (streams/pipes.hpp).
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <tulip/tulip.hpp>

#include "support/loop_test.hpp"

namespace net_pipe_transport_test {

using namespace tulip;

namespace {

// Records every protocol callback in order.
class RecordingProtocol final : public Protocol {
public:
    std::vector<std::string> events;
    std::string data;
    Transport* transport = nullptr;
    std::exception_ptr lost_error;
    int pauses = 0;
    int resumes = 0;
    void connection_made(Transport& t) override {
        transport = &t;
        events.push_back("made");
    }
    void data_received(std::string_view d) override {
        data.append(d);
        events.push_back("data");
    }
    bool eof_received() override {
        events.push_back("eof");
        return true;  // a read pipe closes anyway
    }
    void connection_lost(std::exception_ptr exc) override {
        lost_error = exc;
        events.push_back("lost");
    }
    void pause_writing() override { ++pauses; }
    void resume_writing() override { ++resumes; }
    bool lost() const { return !events.empty() && events.back() == "lost"; }
};

struct Pipe {
    int r = -1, w = -1;
    Pipe() {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) == 0) {
            r = fds[0];
            w = fds[1];
        }
    }
    ~Pipe() {
        if (r >= 0) ::close(r);
        if (w >= 0) ::close(w);
    }
    // The transport owns this end from now on.
    int give_r() { return std::exchange(r, -1); }
    int give_w() { return std::exchange(w, -1); }
    void close_w() { ::close(give_w()); }
    void close_r() { ::close(give_r()); }
};

bool fd_is_open(int fd) { return ::fcntl(fd, F_GETFD) >= 0; }

std::string read_some(int fd) {
    char buf[4096];
    long n = ::read(fd, buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// Connects `protocol` (kept by the test: the transport owns its copy) and returns the transport.
template <class P, class T>
ConnectionPair<P> connect(T& t, int fd, bool write) {
    auto factory = [] { return std::make_unique<P>(); };
    if (write) return t.run(connect_write_pipe(factory, fd));
    return t.run(connect_read_pipe(factory, fd));
}

}  // namespace

class ReadPipeTransportTest : public test::RealTimeLoopTest {
public:
    using test::LoopTest::run;
};
class WritePipeTransportTest : public test::RealTimeLoopTest {
public:
    using test::LoopTest::run;
};

// ---- UnixReadPipeTransportTests ---------------------------------------------------------

TEST_F(ReadPipeTransportTest, ConnectReadPipeCallsConnectionMadeBeforeReturning) {
    Pipe p;
    int fd = p.give_r();
    auto [t, proto] = connect<RecordingProtocol>(*this, fd, false);
    EXPECT_EQ(proto->events, std::vector<std::string>{"made"});
    EXPECT_EQ(proto->transport, t.get());
    EXPECT_EQ(std::any_cast<int>(t->get_extra_info("pipe")), fd);
    EXPECT_TRUE(t->is_reading());
    EXPECT_FALSE(t->can_write_eof());
    EXPECT_THROW(t->write("x"), std::runtime_error);  // a read transport cannot write
    t->close();
    run_until([&] { return proto->lost(); });
}

TEST_F(ReadPipeTransportTest, DataReadFromThePipeGoesToDataReceived) {
    Pipe p;
    auto [t, proto] = connect<RecordingProtocol>(*this, p.give_r(), false);
    ASSERT_EQ(::write(p.w, "data", 4), 4);
    run_until([&] { return proto->data == "data"; });
    t->close();
    run_until([&] { return proto->lost(); });
}

TEST_F(ReadPipeTransportTest, EofCallsEofReceivedThenConnectionLostAndClosesThePipe) {
    Pipe p;
    int fd = p.give_r();
    auto [t, proto] = connect<RecordingProtocol>(*this, fd, false);
    ASSERT_EQ(::write(p.w, "last", 4), 4);
    p.close_w();
    run_until([&] { return proto->lost(); });
    EXPECT_EQ(proto->events, (std::vector<std::string>{"made", "data", "eof", "lost"}));
    EXPECT_FALSE(proto->lost_error);
    EXPECT_TRUE(t->is_closing());
    EXPECT_FALSE(fd_is_open(fd));
}

TEST_F(ReadPipeTransportTest, AnEmptyPipeDeliversNothing) {
    Pipe p;
    auto [t, proto] = connect<RecordingProtocol>(*this, p.give_r(), false);
    run(sleep(0.02));
    EXPECT_EQ(proto->events, std::vector<std::string>{"made"});  // EAGAIN is not EOF
    t->close();
    run_until([&] { return proto->lost(); });
}

TEST_F(ReadPipeTransportTest, PauseReadingStopsDataUntilResumeReading) {
    Pipe p;
    auto [t, proto] = connect<RecordingProtocol>(*this, p.give_r(), false);
    t->pause_reading();
    EXPECT_FALSE(t->is_reading());
    t->pause_reading();  // twice is harmless
    ASSERT_EQ(::write(p.w, "held", 4), 4);
    run(sleep(0.02));
    EXPECT_EQ(proto->data, "");
    t->resume_reading();
    EXPECT_TRUE(t->is_reading());
    run_until([&] { return proto->data == "held"; });
    t->close();
    run_until([&] { return proto->lost(); });
}

TEST_F(ReadPipeTransportTest, CloseCallsConnectionLostOnceAndClosesThePipe) {
    Pipe p;
    int fd = p.give_r();
    auto [t, proto] = connect<RecordingProtocol>(*this, fd, false);
    t->close();
    EXPECT_TRUE(t->is_closing());
    EXPECT_FALSE(t->is_reading());
    t->close();  // already closing: nothing more
    t->pause_reading();
    t->resume_reading();
    run_until([&] { return proto->lost(); });
    run(sleep(0.02));
    EXPECT_EQ(proto->events, (std::vector<std::string>{"made", "lost"}));
    EXPECT_FALSE(proto->lost_error);
    EXPECT_FALSE(fd_is_open(fd));
}

TEST_F(ReadPipeTransportTest, ARegularFileIsRefusedWithValueError) {
    char tmpl[] = "/tmp/tulip-pipe-XXXXXX";
    int fd = ::mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    ::unlink(tmpl);
    auto factory = [] { return std::make_unique<RecordingProtocol>(); };
    EXPECT_THROW(run(connect_read_pipe(factory, fd)), std::invalid_argument);
    EXPECT_THROW(run(connect_write_pipe(factory, fd)), std::invalid_argument);
    EXPECT_TRUE(fd_is_open(fd));  // still the caller's
    ::close(fd);
}

TEST_F(ReadPipeTransportTest, ACharacterDeviceIsAccepted) {
    int fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    auto [t, proto] = connect<RecordingProtocol>(*this, fd, true);
    t->write("into the void");
    EXPECT_EQ(t->get_write_buffer_size(), 0u);
    t->close();
    run_until([&] { return proto->lost(); });
    EXPECT_FALSE(fd_is_open(fd));
}

TEST_F(ReadPipeTransportTest, LoopCloseWithAnOpenPipeCallsConnectionLostAndClosesIt) {
    Pipe p;
    int fd = p.give_r();
    auto [t, proto] = connect<RecordingProtocol>(*this, fd, false);
    loop().close();
    EXPECT_TRUE(proto->lost());
    EXPECT_TRUE(proto->lost_error);
    EXPECT_FALSE(fd_is_open(fd));
}

TEST_F(ReadPipeTransportTest, AReadErrorIsReportedAndClosesWithThatError) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    std::vector<std::string> reported;
    loop().set_exception_handler([&](EventLoop&, const ExceptionContext& c) { reported.push_back(c.message); });
    auto [t, proto] = connect<RecordingProtocol>(*this, sv[0], false);
    ASSERT_EQ(::write(sv[0], "unread", 6), 6);
    ::close(sv[1]);  // the peer goes with our bytes unread: our read fails with ECONNRESET
    run_until([&] { return proto->lost(); });
    ASSERT_TRUE(proto->lost_error);
    EXPECT_THROW(std::rethrow_exception(proto->lost_error), ConnectionResetError);
    EXPECT_EQ(reported, std::vector<std::string>{"Fatal read error on pipe transport"});
    EXPECT_FALSE(fd_is_open(sv[0]));
}

// ---- UnixWritePipeTransportTests ---------------------------------------------------------

TEST_F(WritePipeTransportTest, ConnectWritePipeCallsConnectionMadeAndCanWriteEof) {
    Pipe p;
    auto [t, proto] = connect<RecordingProtocol>(*this, p.give_w(), true);
    EXPECT_EQ(proto->events, std::vector<std::string>{"made"});
    EXPECT_TRUE(t->can_write_eof());
    t->close();
    run_until([&] { return proto->lost(); });
}

TEST_F(WritePipeTransportTest, WriteGoesStraightToThePipe) {
    Pipe p;
    auto [t, proto] = connect<RecordingProtocol>(*this, p.give_w(), true);
    t->write("data");
    t->write("");  // nothing to do
    EXPECT_EQ(t->get_write_buffer_size(), 0u);
    EXPECT_EQ(read_some(p.r), "data");
    t->close();
    run_until([&] { return proto->lost(); });
}

TEST_F(WritePipeTransportTest, WhatThePipeDoesNotTakeIsBufferedAndWrittenWhenItDrains) {
    Pipe p;
    ASSERT_GE(::fcntl(p.r, F_SETPIPE_SZ, 4096), 0);
    auto [t, proto] = connect<RecordingProtocol>(*this, p.give_w(), true);
    std::string big(20000, 'x');
    t->write(big);
    std::size_t pending = t->get_write_buffer_size();
    EXPECT_GT(pending, 0u);  // the pipe took only part of it
    t->write("tail");        // appended behind the buffer, nothing written ahead of it
    EXPECT_EQ(t->get_write_buffer_size(), pending + 4);
    std::string got;
    ::fcntl(p.r, F_SETFL, ::fcntl(p.r, F_GETFL) | O_NONBLOCK);
    run_until([&] {
        got += read_some(p.r);
        return got.size() == big.size() + 4;
    });
    EXPECT_EQ(got, big + "tail");
    EXPECT_EQ(t->get_write_buffer_size(), 0u);
    t->close();
    run_until([&] { return proto->lost(); });
}

TEST_F(WritePipeTransportTest, WriteToAFullPipeBuffersEverythingUntilItDrains) {
    Pipe p;
    ASSERT_GE(::fcntl(p.r, F_SETPIPE_SZ, 4096), 0);
    ::fcntl(p.w, F_SETFL, ::fcntl(p.w, F_GETFL) | O_NONBLOCK);
    std::string fill(4096, 'f');
    ASSERT_EQ(::write(p.w, fill.data(), fill.size()), 4096);  // full: the next write gets EAGAIN
    auto [t, proto] = connect<RecordingProtocol>(*this, p.give_w(), true);
    t->write("data");
    EXPECT_EQ(t->get_write_buffer_size(), 4u);
    ::fcntl(p.r, F_SETFL, ::fcntl(p.r, F_GETFL) | O_NONBLOCK);
    std::string got;
    run_until([&] {
        got += read_some(p.r);
        return got.size() == fill.size() + 4;
    });
    EXPECT_EQ(got.substr(fill.size()), "data");
    t->close();
    run_until([&] { return proto->lost(); });
}

TEST_F(WritePipeTransportTest, WriteBufferAboveHighWaterPausesTheProtocolAndBelowLowResumesIt) {
    Pipe p;
    ASSERT_GE(::fcntl(p.r, F_SETPIPE_SZ, 4096), 0);
    auto [t, proto] = connect<RecordingProtocol>(*this, p.give_w(), true);
    t->set_write_buffer_limits(1000, 100);
    EXPECT_EQ(t->get_write_buffer_limits(), (std::pair<std::size_t, std::size_t>(100, 1000)));
    EXPECT_THROW(t->set_write_buffer_limits(10, 100), std::invalid_argument);
    t->write(std::string(8000, 'y'));
    EXPECT_EQ(proto->pauses, 1);
    EXPECT_EQ(proto->resumes, 0);
    ::fcntl(p.r, F_SETFL, ::fcntl(p.r, F_GETFL) | O_NONBLOCK);
    std::size_t got = 0;
    run_until([&] {
        got += read_some(p.r).size();
        return proto->resumes == 1 && got == 8000;
    });
    EXPECT_EQ(t->get_write_buffer_size(), 0u);
    t->close();
    run_until([&] { return proto->lost(); });
}

TEST_F(WritePipeTransportTest, TheReaderClosingWithNothingPendingClosesTheTransportCleanly) {
    Pipe p;
    auto [t, proto] = connect<RecordingProtocol>(*this, p.give_w(), true);
    p.close_r();  // asyncio's _read_ready: "pipe closed by peer"
    run_until([&] { return proto->lost(); });
    EXPECT_FALSE(proto->lost_error);
    EXPECT_TRUE(t->is_closing());
}

TEST_F(WritePipeTransportTest, TheReaderClosingWithDataPendingIsABrokenPipe) {
    Pipe p;
    ASSERT_GE(::fcntl(p.r, F_SETPIPE_SZ, 4096), 0);
    auto [t, proto] = connect<RecordingProtocol>(*this, p.give_w(), true);
    t->write(std::string(20000, 'z'));
    ASSERT_GT(t->get_write_buffer_size(), 0u);
    p.close_r();  // no SIGPIPE: the test process survives
    run_until([&] { return proto->lost(); });
    ASSERT_TRUE(proto->lost_error);
    EXPECT_THROW(std::rethrow_exception(proto->lost_error), BrokenPipeError);
    EXPECT_EQ(t->get_write_buffer_size(), 0u);
}

TEST_F(WritePipeTransportTest, WriteToAPipeWithNoReaderFailsWithEpipeNotSigpipe) {
    Pipe p;
    auto [t, proto] = connect<RecordingProtocol>(*this, p.give_w(), true);
    ::close(p.give_r());
    t->write("nobody reads this");  // EPIPE at once: a fatal error
    EXPECT_TRUE(t->is_closing());
    run_until([&] { return proto->lost(); });
    ASSERT_TRUE(proto->lost_error);
    EXPECT_THROW(std::rethrow_exception(proto->lost_error), BrokenPipeError);
}

TEST_F(WritePipeTransportTest, WritesAfterThePipeClosedAreDroppedSilently) {
    Pipe p;
    auto [t, proto] = connect<RecordingProtocol>(*this, p.give_w(), true);
    p.close_r();
    run_until([&] { return proto->lost(); });
    for (int i = 0; i < 7; ++i) EXPECT_NO_THROW(t->write("data"));  // counted, logged past 5 (asyncio)
    EXPECT_EQ(t->get_write_buffer_size(), 0u);
}

TEST_F(WritePipeTransportTest, WriteEofClosesAtOnceWhenNothingIsPending) {
    Pipe p;
    int fd = p.give_w();
    auto [t, proto] = connect<RecordingProtocol>(*this, fd, true);
    t->write_eof();
    EXPECT_TRUE(t->is_closing());
    run_until([&] { return proto->lost(); });
    EXPECT_FALSE(proto->lost_error);
    EXPECT_FALSE(fd_is_open(fd));
    EXPECT_EQ(read_some(p.r), "");  // the reader sees EOF
}

TEST_F(WritePipeTransportTest, WriteEofWithDataPendingClosesAfterItIsWritten) {
    Pipe p;
    ASSERT_GE(::fcntl(p.r, F_SETPIPE_SZ, 4096), 0);
    auto [t, proto] = connect<RecordingProtocol>(*this, p.give_w(), true);
    std::string big(20000, 'q');
    t->write(big);
    t->write_eof();
    EXPECT_TRUE(t->is_closing());
    run(sleep(0.02));
    EXPECT_FALSE(proto->lost());  // still writing
    ::fcntl(p.r, F_SETFL, ::fcntl(p.r, F_GETFL) | O_NONBLOCK);
    std::string got;
    run_until([&] {
        got += read_some(p.r);
        return proto->lost();
    });
    got += read_some(p.r);
    EXPECT_EQ(got, big);
    EXPECT_FALSE(proto->lost_error);
}

TEST_F(WritePipeTransportTest, CloseIsWriteEofAndTwiceIsHarmless) {
    Pipe p;
    auto [t, proto] = connect<RecordingProtocol>(*this, p.give_w(), true);
    t->write("bye");
    t->close();
    t->close();
    run_until([&] { return proto->lost(); });
    EXPECT_EQ(proto->events, (std::vector<std::string>{"made", "lost"}));
    EXPECT_EQ(read_some(p.r), "bye");
}

TEST_F(WritePipeTransportTest, AbortDropsWhatIsPendingAndCallsConnectionLost) {
    Pipe p;
    ASSERT_GE(::fcntl(p.r, F_SETPIPE_SZ, 4096), 0);
    auto [t, proto] = connect<RecordingProtocol>(*this, p.give_w(), true);
    t->write(std::string(20000, 'a'));
    ASSERT_GT(t->get_write_buffer_size(), 0u);
    t->abort();
    EXPECT_TRUE(t->is_closing());
    EXPECT_EQ(t->get_write_buffer_size(), 0u);
    run_until([&] { return proto->lost(); });
    EXPECT_FALSE(proto->lost_error);
}

TEST_F(WritePipeTransportTest, WriteOverASocketWorksToo) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    auto [t, proto] = connect<RecordingProtocol>(*this, sv[0], true);
    t->write("over a socket");
    EXPECT_EQ(read_some(sv[1]), "over a socket");
    ::close(sv[1]);  // the peer goes: the transport notices
    run_until([&] { return proto->lost(); });
}

// ---- the stream wrappers (StreamReaderProtocol, open_read_pipe, open_write_pipe) ----------

class PipeStreamsTest : public test::IoLoopTest {};

TEST_F(PipeStreamsTest, StreamReaderProtocolOverConnectReadPipeAsInAsyncio) {
    Pipe p;
    int fd = p.give_r();
    auto body = [fd, &p]() -> Coro<void> {
        StreamReader reader;  // reader = asyncio.StreamReader()
        auto factory = [reader] { return std::make_unique<StreamReaderProtocol>(reader); };
        auto conn = co_await connect_read_pipe(factory, fd);
        (void)conn;
        ::write(p.w, "line one\nrest", 13);
        p.close_w();
        std::string line = co_await reader.readline();
        EXPECT_EQ(line, "line one\n");
        std::string rest = co_await reader.read();
        EXPECT_EQ(rest, "rest");
        EXPECT_TRUE(reader.at_eof());
    };
    run_io(body());
    EXPECT_FALSE(fd_is_open(fd));
}

TEST_F(PipeStreamsTest, OpenWritePipeAndOpenReadPipeCarryDataBothWays) {
    Pipe p;
    ASSERT_GE(::fcntl(p.r, F_SETPIPE_SZ, 4096), 0);
    int rfd = p.give_r(), wfd = p.give_w();
    auto body = [rfd, wfd]() -> Coro<void> {
        StreamReader r = co_await open_read_pipe(rfd, 1024);
        StreamWriter w = co_await open_write_pipe(wfd);
        std::string big(200000, 'b');
        w.write(big);
        Task<void> drained = create_task(w.drain());  // paused: the pipe holds 4 KiB
        std::string got = co_await r.readexactly(static_cast<std::ptrdiff_t>(big.size()));
        co_await drained;
        EXPECT_EQ(got, big);
        EXPECT_TRUE(w.can_write_eof());
        w.close();
        co_await w.wait_closed();
        std::string tail = co_await r.read();
        EXPECT_EQ(tail, "");
        EXPECT_TRUE(r.at_eof());
    };
    run_io(body());
    EXPECT_FALSE(fd_is_open(rfd));
    EXPECT_FALSE(fd_is_open(wfd));
}

TEST_F(PipeStreamsTest, OpenReadPipeWithALimitOfZeroRaisesValueError) {
    Pipe p;
    auto body = [&p]() -> Coro<void> { EXPECT_THROW(co_await open_read_pipe(p.r, 0), std::invalid_argument); };
    run_io(body());
    EXPECT_TRUE(fd_is_open(p.r));
}

TEST_F(PipeStreamsTest, DrainOnAWritePipeWhoseReaderWentAwayRaisesBrokenPipe) {
    Pipe p;
    ASSERT_GE(::fcntl(p.r, F_SETPIPE_SZ, 4096), 0);
    int wfd = p.give_w();
    auto body = [wfd, &p]() -> Coro<void> {
        StreamWriter w = co_await open_write_pipe(wfd);
        w.write(std::string(100000, 'd'));
        p.close_r();
        bool broken = false;
        try {
            co_await w.drain();
        } catch (const BrokenPipeError&) {
            broken = true;
        }
        EXPECT_TRUE(broken);
    };
    run_io(body());
}

TEST_F(PipeStreamsTest, ReadAllFromAPipeAChildWroteToWithALimitOfOne) {
    // CPython's test_read_all_from_pipe_reader: a limit far below the data
    // (twice the limit is less than what the writer sends) still reads it all.
    Pipe p;
    int rfd = p.give_r();
    auto body = [rfd, &p]() -> Coro<void> {
        StreamReader reader(1);
        auto factory = [reader] { return std::make_unique<StreamReaderProtocol>(reader); };
        auto conn = co_await connect_read_pipe(factory, rfd);
        (void)conn;
        SubprocessOptions o;
        o.std_out = Stdio::from_fd(p.w);
        auto proc = co_await create_subprocess_shell("printf data", o);
        int rc = co_await proc.wait();
        EXPECT_EQ(rc, 0);
        p.close_w();
        std::string all = co_await reader.read(-1);
        EXPECT_EQ(all, "data");
    };
    run_io(body());
}

// asyncio's _ensure_fd_no_transport: the loop's public fd watchers refuse a
// descriptor a pipe transport owns, and stop refusing once it is closing.
namespace {
void expect_pipe_fd_refused(EventLoop& loop, int fd) {
    const std::string want = "File descriptor " + std::to_string(fd) + " is used by transport";
    auto expect = [&](const char* name, auto&& call) {
        try {
            call();
            ADD_FAILURE() << name << "(" << fd << ") did not raise";
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << name << ": " << e.what();
        }
    };
    expect("add_reader", [&] { loop.add_reader(fd, [] {}); });
    expect("add_writer", [&] { loop.add_writer(fd, [] {}); });
    expect("remove_reader", [&] { loop.remove_reader(fd); });
    expect("remove_writer", [&] { loop.remove_writer(fd); });
}
}  // namespace

TEST_F(ReadPipeTransportTest, AddReaderOnAReadPipeTransportsFdRaisesRuntimeError) {
    Pipe p;
    int fd = p.give_r();
    auto [t, proto] = connect<RecordingProtocol>(*this, fd, false);
    expect_pipe_fd_refused(loop(), fd);
    ASSERT_EQ(::write(p.w, "ok", 2), 2);  // the transport's own reader is still in place
    run_until([&] { return proto->data == "ok"; });
    t->close();
    EXPECT_NO_THROW(loop().remove_reader(fd));  // closing: no longer held
    run_until([&] { return proto->lost(); });
}

TEST_F(WritePipeTransportTest, AddWriterOnAWritePipeTransportsFdRaisesRuntimeError) {
    Pipe p;
    int fd = p.give_w();
    auto [t, proto] = connect<RecordingProtocol>(*this, fd, true);
    expect_pipe_fd_refused(loop(), fd);
    t->close();
    EXPECT_NO_THROW(loop().remove_writer(fd));
    run_until([&] { return proto->lost(); });
}

// ---- EventLoopTestsMixin's pty cases and resume_reading on a reading pipe ------------------

namespace {

// A pseudo-terminal: `master` non-blocking (the test reads it by polling), `slave` as opened.
struct Pty {
    int master = -1, slave = -1;
    Pty() {
        master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) throw std::runtime_error("no pty");
        slave = ::open(::ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0) throw std::runtime_error("cannot open the pty slave");
        ::fcntl(master, F_SETFL, ::fcntl(master, F_GETFL) | O_NONBLOCK);
    }
    ~Pty() {
        if (master >= 0) ::close(master);
        if (slave >= 0) ::close(slave);
    }
    Pty(const Pty&) = delete;
    int give_slave() { return std::exchange(slave, -1); }
    void close_master() { ::close(std::exchange(master, -1)); }
};

}  // namespace

TEST_F(ReadPipeTransportTest, ResumeReadingOnAPipeThatIsReadingChangesNothing) {
    Pipe p;
    auto [t, proto] = connect<RecordingProtocol>(*this, p.give_r(), false);
    t->resume_reading();  // not paused: a no-op, not a second watcher
    EXPECT_TRUE(t->is_reading());
    ASSERT_EQ(::write(p.w, "once", 4), 4);
    run_until([&] { return proto->data == "once"; });
    run(sleep(0.02));
    EXPECT_EQ(proto->events, (std::vector<std::string>{"made", "data"}));
    t->close();
    run_until([&] { return proto->lost(); });
}

TEST_F(ReadPipeTransportTest, ConnectReadPipeReadsWhatAPtySlaveWrites) {
    Pty pty;
    int master = std::exchange(pty.master, -1);
    ::fcntl(master, F_SETFL, ::fcntl(master, F_GETFL) & ~O_NONBLOCK);  // the transport sets its own mode
    auto [t, proto] = connect<RecordingProtocol>(*this, master, false);
    EXPECT_EQ(proto->events, (std::vector<std::string>{"made"}));
    ASSERT_EQ(::write(pty.slave, "1", 1), 1);
    run_until([&] { return proto->data.size() >= 1; });
    EXPECT_EQ(proto->data, "1");
    ASSERT_EQ(::write(pty.slave, "2345", 4), 4);
    run_until([&] { return proto->data.size() >= 5; });
    EXPECT_EQ(proto->data, "12345");
    // On Linux the master's read fails with EIO once the slave is closed, as asyncio's test notes.
    loop().set_exception_handler([](EventLoop&, const ExceptionContext&) {});
    ::close(pty.give_slave());
    t->close();
    run_until([&] { return proto->lost(); });
    EXPECT_FALSE(fd_is_open(master));
}

TEST_F(WritePipeTransportTest, ConnectWritePipeWritesToAPtySlave) {
    Pty pty;
    auto [t, proto] = connect<RecordingProtocol>(*this, pty.give_slave(), true);
    std::string got;
    auto read_master = [&](std::size_t n) {
        run_until([&] {
            got += read_some(pty.master);
            return got.size() >= n;
        });
    };
    t->write("1");
    read_master(1);
    EXPECT_EQ(got, "1");
    t->write("2345");
    read_master(5);
    EXPECT_EQ(got, "12345");
    t->close();
    run_until([&] { return proto->lost(); });
    EXPECT_FALSE(proto->lost_error);
}

TEST_F(WritePipeTransportTest, AReadAndAWritePipeTransportShareARawPtySlave) {
    Pty pty;
    int read_slave = pty.give_slave();
    int write_slave = ::fcntl(read_slave, F_DUPFD_CLOEXEC, 0);
    ASSERT_GE(write_slave, 0);
    termios tio{};
    ASSERT_EQ(::tcgetattr(read_slave, &tio), 0);
    ::cfmakeraw(&tio);
    ASSERT_EQ(::tcsetattr(read_slave, TCSANOW, &tio), 0);
    auto [rt, rproto] = connect<RecordingProtocol>(*this, read_slave, false);
    auto [wt, wproto] = connect<RecordingProtocol>(*this, write_slave, true);
    std::string from_slave;
    auto read_master = [&](std::size_t n) {
        run_until([&] {
            from_slave += read_some(pty.master);
            return from_slave.size() >= n;
        });
    };
    wt->write("1");
    read_master(1);
    EXPECT_EQ(from_slave, "1");
    ASSERT_EQ(::write(pty.master, "a", 1), 1);
    run_until([&] { return rproto->data.size() >= 1; });
    EXPECT_EQ(rproto->data, "a");
    wt->write("2345");
    read_master(5);
    EXPECT_EQ(from_slave, "12345");
    ASSERT_EQ(::write(pty.master, "bcde", 4), 4);
    run_until([&] { return rproto->data.size() >= 5; });
    EXPECT_EQ(rproto->data, "abcde");
    // Input on the slave is the read transport's: the write transport stays open.
    EXPECT_FALSE(wproto->lost());
    loop().set_exception_handler([](EventLoop&, const ExceptionContext&) {});
    pty.close_master();
    rt->close();
    wt->close();
    run_until([&] { return rproto->lost() && wproto->lost(); });
    EXPECT_FALSE(fd_is_open(read_slave));
    EXPECT_FALSE(fd_is_open(write_slave));
}

}  // namespace net_pipe_transport_test
