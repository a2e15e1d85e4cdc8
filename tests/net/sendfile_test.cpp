// Tests of sock_sendfile and sendfile (asyncio loop.sock_sendfile and
// loop.sendfile) on real files and 127.0.0.1 sockets, ported from CPython's
// test_sendfile.py (SockSendfileMixin, SendfileMixin) and the sendfile cases
// of test_base_events.py (argument checks, fallback), plus large files,
// cancellation and a peer closing mid-send.
#include <tulip/net/sendfile.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "../../src/core/sys.hpp"
#include "support/loop_test.hpp"
#include "support/net.hpp"

namespace net_sendfile_test {

using namespace tulip;
using test::eventually;
using test::recv_until_eof;

namespace {

class SendfileTest : public test::IoLoopTest {};

// asyncio's DATA: 128 KiB plus a few bytes, so the end is not block-aligned.
constexpr std::size_t kSmall = 16 * (1024 * 8 + 1);
constexpr std::size_t kLarge = 8 * 1024 * 1024 + 123;
constexpr int kBufSize = 4 * 1024;

std::string make_data(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + (i >> 9)) & 0xFF);
    return s;
}

// An unlinked temporary file holding `data`, positioned at 0.
struct TempFile {
    int fd = -1;
    explicit TempFile(const std::string& data) {
        char path[] = "/tmp/tulip-sendfile-XXXXXX";
        fd = ::mkstemp(path);
        if (fd < 0) throw std::runtime_error("mkstemp failed");
        ::unlink(path);
        std::size_t off = 0;
        while (off < data.size()) {
            long n = ::write(fd, data.data() + off, data.size() - off);
            if (n <= 0) throw std::runtime_error("write failed");
            off += static_cast<std::size_t>(n);
        }
        ::lseek(fd, 0, SEEK_SET);
    }
    ~TempFile() { ::close(fd); }
    TempFile(const TempFile&) = delete;
    long tell() const { return static_cast<long>(::lseek(fd, 0, SEEK_CUR)); }
};

// {client, server side} over 127.0.0.1; `small`: with small socket buffers
// (as asyncio's reduce_*_buffer_size) so that sends wait soon.
Coro<std::pair<Socket, Socket>> tcp_pair(bool small = false) {
    auto p = co_await test::tcp_pair();
    if (small) {
        p.first.setsockopt(SOL_SOCKET, SO_SNDBUF, kBufSize);
        p.second.setsockopt(SOL_SOCKET, SO_RCVBUF, kBufSize);
    }
    co_return p;
}

// sock_sendfile over a fresh pair, then everything the peer received.
Coro<std::pair<std::size_t, std::string>> sock_sendfile_and_receive(int file, std::int64_t offset = 0,
                                                                    std::optional<std::int64_t> count = std::nullopt) {
    auto p = co_await tcp_pair();
    auto reader = create_task(recv_until_eof(p.second));
    std::size_t n = co_await sock_sendfile(p.first, file, offset, count);
    p.first.close();
    std::string got = co_await reader;
    co_return std::pair<std::size_t, std::string>(n, std::move(got));
}

// Fails the next `times` sendfile(2) calls with `err` (the syscall seam).
int g_inject_err = 0;
int g_inject_times = 0;
int sendfile_hook(const char* name) {
    if (std::strcmp(name, "sendfile") != 0 || g_inject_times == 0) return 0;
    --g_inject_times;
    return g_inject_err;
}
struct FailSendfile {
    explicit FailSendfile(int err, int times = 1000000) {
        g_inject_err = err;
        g_inject_times = times;
        detail::sys::fault_hook = &sendfile_hook;
    }
    ~FailSendfile() {
        detail::sys::fault_hook = nullptr;
        g_inject_times = 0;
    }
    FailSendfile(const FailSendfile&) = delete;
};

// ---- the syscall seam ------------------------------------------------------------

// sendfile(2) to a peer that is gone raises SIGPIPE, which would end the
// test process: the seam returns EPIPE instead, whether the program ignores
// SIGPIPE (the one-query path) or not (blocked for the call, then consumed).
TEST(SendfileSeam, APeerThatIsGoneIsEpipeNotSigpipeWhateverTheDisposition) {
    TempFile f(make_data(4096));
    for (bool ignore : {false, true}) {
        struct sigaction saved {};
        struct sigaction sa {};
        sa.sa_handler = ignore ? SIG_IGN : SIG_DFL;
        ASSERT_EQ(::sigaction(SIGPIPE, &sa, &saved), 0);
        int sv[2];
        ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        ::close(sv[1]);
        long pos = 0;
        errno = 0;
        long n = detail::sys::sendfile(sv[0], f.fd, &pos, 4096);
        int err = errno;
        ::close(sv[0]);
        sigset_t pending;
        sigpending(&pending);
        ASSERT_EQ(::sigaction(SIGPIPE, &saved, nullptr), 0);
        EXPECT_EQ(n, -1) << "ignore=" << ignore;
        EXPECT_EQ(err, EPIPE) << "ignore=" << ignore;
        EXPECT_EQ(pos, 0);
        EXPECT_FALSE(sigismember(&pending, SIGPIPE)) << "ignore=" << ignore;
    }
}

// ---- sock_sendfile -----------------------------------------------------------

TEST_F(SendfileTest, SockSendfileSendsTheWholeFileAndLeavesThePositionAtItsEnd) {
    std::string data = make_data(kSmall);
    TempFile f(data);
    run_io(([&]() -> Coro<void> {
        auto [n, got] = co_await sock_sendfile_and_receive(f.fd);
        EXPECT_EQ(n, data.size());
        EXPECT_TRUE(got == data);
        EXPECT_EQ(f.tell(), static_cast<long>(data.size()));
    })());
}

TEST_F(SendfileTest, SockSendfileWithOffsetAndCountSendsThatSliceAndPositionsAfterIt) {
    std::string data = make_data(kSmall);
    TempFile f(data);
    run_io(([&]() -> Coro<void> {
        auto [n, got] = co_await sock_sendfile_and_receive(f.fd, 1000, 2000);
        EXPECT_EQ(n, 2000u);
        EXPECT_TRUE(got == data.substr(1000, 2000));
        EXPECT_EQ(f.tell(), 3000);
    })());
}

TEST_F(SendfileTest, SockSendfileOfAnEmptyFileSendsNothingAndKeepsThePosition) {
    TempFile f("");
    run_io(([&]() -> Coro<void> {
        auto [n, got] = co_await sock_sendfile_and_receive(f.fd, 0, std::nullopt);
        EXPECT_EQ(n, 0u);
        EXPECT_TRUE(got.empty());
        EXPECT_EQ(f.tell(), 0);
    })());
}

TEST_F(SendfileTest, SockSendfileMixesWithRegularSendsInOrder) {
    std::string data = make_data(kSmall);
    std::string buf;
    for (int i = 0; i < 4 * 1024; ++i) buf += "mix_regular_send";
    TempFile f(data);
    run_io(([&]() -> Coro<void> {
        auto p = co_await tcp_pair();
        auto reader = create_task(recv_until_eof(p.second));
        co_await sock_sendall(p.first, buf);
        std::size_t n = co_await sock_sendfile(p.first, f.fd);
        co_await sock_sendall(p.first, buf);
        p.first.close();
        std::string got = co_await reader;
        EXPECT_EQ(n, data.size());
        EXPECT_TRUE(got == buf + data + buf);
        EXPECT_EQ(f.tell(), static_cast<long>(data.size()));
    })());
}

TEST_F(SendfileTest, SockSendfileSendsALargeFileWholeAndFromAnOffset) {
    std::string data = make_data(kLarge);
    TempFile f(data);
    run_io(([&]() -> Coro<void> {
        auto p = co_await tcp_pair();
        auto reader = create_task(recv_until_eof(p.second));
        std::size_t n = co_await sock_sendfile(p.first, f.fd);
        std::size_t m = co_await sock_sendfile(p.first, f.fd, 4096 * 3 + 1);
        p.first.close();
        std::string got = co_await reader;
        EXPECT_EQ(n, data.size());
        EXPECT_EQ(m, data.size() - (4096 * 3 + 1));
        EXPECT_TRUE(got == data + data.substr(4096 * 3 + 1));
        EXPECT_EQ(f.tell(), static_cast<long>(data.size()));
    })());
}

TEST_F(SendfileTest, SockSendfileOffsetPastTheEndSendsNothing) {
    std::string data = make_data(1000);
    TempFile f(data);
    run_io(([&]() -> Coro<void> {
        auto p = co_await tcp_pair();
        std::size_t n = co_await sock_sendfile(p.first, f.fd, 5000);
        std::size_t m = co_await sock_sendfile(p.first, f.fd, 900, 5000);  // count past the end: what is there
        auto reader = create_task(recv_until_eof(p.second));
        p.first.close();
        std::string got = co_await reader;
        EXPECT_EQ(n, 0u);
        EXPECT_EQ(m, 100u);
        EXPECT_TRUE(got == data.substr(900));
        EXPECT_EQ(f.tell(), 1000);
    })());
}

TEST_F(SendfileTest, SockSendfileRejectsANegativeOffsetOrANonPositiveCount) {
    TempFile f("abc");
    run_io(([&]() -> Coro<void> {
        auto p = co_await tcp_pair();
        EXPECT_THROW(co_await sock_sendfile(p.first, f.fd, -1), std::invalid_argument);
        EXPECT_THROW(co_await sock_sendfile(p.first, f.fd, 0, 0), std::invalid_argument);
        EXPECT_THROW(co_await sock_sendfile(p.first, f.fd, 0, -5), std::invalid_argument);
        EXPECT_EQ(f.tell(), 0);
    })());
}

TEST_F(SendfileTest, SockSendfileRejectsADatagramSocket) {
    TempFile f("abc");
    run_io(([&]() -> Coro<void> {
        Socket u = Socket::create(AF_INET, SOCK_DGRAM);
        EXPECT_THROW(co_await sock_sendfile(u, f.fd), std::invalid_argument);
    })());
}

TEST_F(SendfileTest, SockSendfileRejectsABlockingSocket) {
    TempFile f("abc");
    run_io(([&]() -> Coro<void> {
        auto p = co_await tcp_pair();
        int fl = ::fcntl(p.first.fileno(), F_GETFL);
        ::fcntl(p.first.fileno(), F_SETFL, fl & ~O_NONBLOCK);
        try {
            co_await sock_sendfile(p.first, f.fd);
            ADD_FAILURE() << "no error";
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find("non-blocking"), std::string::npos) << e.what();
        }
    })());
}

TEST_F(SendfileTest, SockSendfileFallsBackToReadAndSendWhenNativeIsUnavailable) {
    std::string data = make_data(kSmall * 3);  // several fallback blocks
    TempFile f(data);
    run_io(([&]() -> Coro<void> {
        FailSendfile fail(EINVAL);
        auto [n, got] = co_await sock_sendfile_and_receive(f.fd, 7, 300000);
        EXPECT_EQ(n, 300000u);
        EXPECT_TRUE(got == data.substr(7, 300000));
        EXPECT_EQ(f.tell(), 300007);
    })());
}

TEST_F(SendfileTest, SockSendfileWithoutFallbackRaisesSendfileNotAvailableError) {
    std::string data = make_data(1000);
    TempFile f(data);
    run_io(([&]() -> Coro<void> {
        auto p = co_await tcp_pair();
        FailSendfile fail(EINVAL);
        EXPECT_THROW(co_await sock_sendfile(p.first, f.fd, 0, std::nullopt, false), SendfileNotAvailableError);
        EXPECT_EQ(f.tell(), 0);
    })());
}

TEST_F(SendfileTest, SockSendfileFromAPipeSendsWhatThePipeHolds) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    std::string data = make_data(5000);
    ASSERT_EQ(::write(fds[1], data.data(), data.size()), 5000);
    ::close(fds[1]);
    run_io(([&]() -> Coro<void> {
        auto [n, got] = co_await sock_sendfile_and_receive(fds[0], 0, 5000);  // native or fallback
        EXPECT_EQ(n, 5000u);
        EXPECT_TRUE(got == data);
    })());
    ::close(fds[0]);
}

TEST_F(SendfileTest, SockSendfileCancelledMidSendLeavesThePositionAfterTheBytesSent) {
    std::string data = make_data(kLarge);
    TempFile f(data);
    run_io(([&]() -> Coro<void> {
        auto p = co_await tcp_pair(true);
        auto t = create_task(sock_sendfile(p.first, f.fd, 10));
        // Nobody reads: the send fills the socket buffers and waits.
        co_await eventually([&] { return f.tell() == 0 && !t.done(); });
        co_await sleep(0.05);
        EXPECT_FALSE(t.done());
        t.cancel();
        EXPECT_THROW(co_await t, CancelledError);
        long pos = f.tell();
        EXPECT_GT(pos, 10);
        EXPECT_LT(pos, static_cast<long>(data.size()));
        auto reader = create_task(recv_until_eof(p.second));
        p.first.close();
        std::string got = co_await reader;
        EXPECT_TRUE(got == data.substr(10, static_cast<std::size_t>(pos) - 10)) << got.size() << " vs " << pos;
    })());
}

TEST_F(SendfileTest, SockSendfileRaisesConnectionErrorWhenThePeerClosesMidSend) {
    std::string data = make_data(kLarge);
    TempFile f(data);
    run_io(([&]() -> Coro<void> {
        auto p = co_await tcp_pair(true);
        auto t = create_task(sock_sendfile(p.first, f.fd));
        std::string first = co_await sock_recv(p.second, 1024);
        EXPECT_FALSE(first.empty());
        p.second.close();  // unread data: the kernel resets the connection
        EXPECT_THROW(co_await t, ConnectionError);
        EXPECT_GT(f.tell(), 0);
        EXPECT_LT(f.tell(), static_cast<long>(data.size()));
    })());
}

// ---- sendfile over a transport --------------------------------------------------

struct Record {
    Transport* transport = nullptr;
    std::string data;
    int lost = 0;
    bool eof = false;
};

struct ClientProto : Protocol {
    explicit ClientProto(Record* r) : rec(r) {}
    void connection_made(Transport& t) override { rec->transport = &t; }
    void data_received(std::string_view d) override { rec->data.append(d); }
    bool eof_received() override {
        rec->eof = true;
        return false;
    }
    void connection_lost(std::exception_ptr) override { ++rec->lost; }
    Record* rec;
};

// A client transport whose peer is a plain socket (`peer`); `small`: with
// asyncio's small buffers and write limits.
struct Conn {
    Ref<Transport> tr;
    Socket peer;
};
Coro<Conn> connect(Record* rec, bool small = false) {
    auto p = co_await tcp_pair(small);
    auto factory = [rec] { return std::make_unique<ClientProto>(rec); };
    auto conn = co_await create_connection(factory, std::move(p.first));
    if (small) conn.first->set_write_buffer_limits(kBufSize);
    co_return Conn{conn.first, std::move(p.second)};
}

Coro<void> close_transport(Conn& c, Record& rec) {
    c.tr->close();
    co_await eventually([&] { return rec.lost == 1; });
}

// sendfile over a fresh transport, closed after; everything the peer received.
Coro<std::pair<std::size_t, std::string>> sendfile_and_receive(Record& rec, int file, std::int64_t offset = 0,
                                                               std::optional<std::int64_t> count = std::nullopt) {
    Conn c = co_await connect(&rec);
    auto reader = create_task(recv_until_eof(c.peer));
    std::size_t n = co_await sendfile(c.tr, file, offset, count);
    co_await close_transport(c, rec);
    std::string got = co_await reader;
    co_return std::pair<std::size_t, std::string>(n, std::move(got));
}

TEST_F(SendfileTest, SendfileOverATransportSendsTheFileAndResumesReading) {
    std::string data = make_data(kSmall);
    TempFile f(data);
    Record rec;
    run_io(([&]() -> Coro<void> {
        Conn c = co_await connect(&rec);
        auto reader = create_task(recv_until_eof(c.peer));
        EXPECT_TRUE(c.tr->is_reading());
        std::size_t n = co_await sendfile(c.tr, f.fd);
        EXPECT_TRUE(c.tr->is_reading());
        co_await sock_sendall(c.peer, "after");  // reading works again
        co_await eventually([&] { return rec.data == "after"; });
        co_await close_transport(c, rec);
        std::string got = co_await reader;
        EXPECT_EQ(n, data.size());
        EXPECT_TRUE(got == data);
        EXPECT_EQ(f.tell(), static_cast<long>(data.size()));
    })());
}

TEST_F(SendfileTest, SendfileSendsALargeFileOverATransport) {
    std::string data = make_data(kLarge);
    TempFile f(data);
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto [n, got] = co_await sendfile_and_receive(rec, f.fd);
        EXPECT_EQ(n, data.size());
        EXPECT_TRUE(got == data);
    })());
}

TEST_F(SendfileTest, SendfileFallsBackToTransportWritesWhenNativeIsUnavailable) {
    std::string data = make_data(kSmall * 3);
    TempFile f(data);
    Record rec;
    run_io(([&]() -> Coro<void> {
        FailSendfile fail(EINVAL);
        auto [n, got] = co_await sendfile_and_receive(rec, f.fd);
        EXPECT_EQ(n, data.size());
        EXPECT_TRUE(got == data);
        EXPECT_EQ(f.tell(), static_cast<long>(data.size()));
    })());
}

TEST_F(SendfileTest, SendfileWithoutFallbackRaisesSendfileNotAvailableErrorAndSendsNothing) {
    std::string data = make_data(kSmall);
    TempFile f(data);
    Record rec;
    run_io(([&]() -> Coro<void> {
        Conn c = co_await connect(&rec);
        auto reader = create_task(recv_until_eof(c.peer));
        {
            FailSendfile fail(EINVAL);
            EXPECT_THROW(co_await sendfile(c.tr, f.fd, 0, std::nullopt, false), SendfileNotAvailableError);
        }
        c.tr->write("still usable");
        co_await close_transport(c, rec);
        std::string got = co_await reader;
        EXPECT_EQ(got, "still usable");
        EXPECT_EQ(f.tell(), 0);
    })());
}

TEST_F(SendfileTest, SendfileOnAClosingTransportRaisesRuntimeError) {
    TempFile f("abc");
    Record rec;
    run_io(([&]() -> Coro<void> {
        Conn c = co_await connect(&rec);
        c.tr->close();
        try {
            co_await sendfile(c.tr, f.fd);
            ADD_FAILURE() << "no error";
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find("is closing"), std::string::npos) << e.what();
        }
        co_await eventually([&] { return rec.lost == 1; });
        EXPECT_EQ(f.tell(), 0);
    })());
}

TEST_F(SendfileTest, SendfileOnADatagramTransportIsNotSupported) {
    TempFile f("abc");
    run_io(([&]() -> Coro<void> {
        DatagramOptions o;
        o.local_addr = SocketAddress::from_ip("127.0.0.1", 0);
        auto factory = [] { return std::make_unique<DatagramProtocol>(); };
        auto ep = co_await create_datagram_endpoint(factory, o);
        try {
            co_await sendfile(ep.first, f.fd);
            ADD_FAILURE() << "no error";
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find("not supported"), std::string::npos) << e.what();
        }
        EXPECT_EQ(f.tell(), 0);
        ep.first->close();
        co_await sleep(0);
    })());
}

TEST_F(SendfileTest, SendfileKeepsDataWrittenBeforeAndAfterInOrder) {
    std::string data = make_data(kSmall);
    TempFile f(data);
    Record rec;
    std::string prefix, suffix;
    for (int i = 0; i < 512 * 1024; ++i) prefix += "PREFIX__";  // 4 MiB: some stays buffered
    for (int i = 0; i < 1024; ++i) suffix += "--SUFFIX";
    run_io(([&]() -> Coro<void> {
        Conn c = co_await connect(&rec);
        c.tr->write(prefix);
        EXPECT_GT(c.tr->get_write_buffer_size(), 0u);  // sendfile waits for it
        auto reader = create_task(recv_until_eof(c.peer));
        std::size_t n = co_await sendfile(c.tr, f.fd);
        c.tr->write(suffix);
        co_await close_transport(c, rec);
        std::string got = co_await reader;
        EXPECT_EQ(n, data.size());
        EXPECT_TRUE(got == prefix + data + suffix);
    })());
}

TEST_F(SendfileTest, SendfileWithOffsetAndCountSendsThatSlice) {
    std::string data = make_data(kSmall);
    TempFile f(data);
    Record rec;
    run_io(([&]() -> Coro<void> {
        auto [n, got] = co_await sendfile_and_receive(rec, f.fd, 1000, 100);
        EXPECT_EQ(n, 100u);
        EXPECT_TRUE(got == data.substr(1000, 100));
        EXPECT_EQ(f.tell(), 1100);
    })());
}

TEST_F(SendfileTest, SendfileRefusesTransportWritesWhileInProgress) {
    std::string data = make_data(kLarge);
    TempFile f(data);
    Record rec;
    run_io(([&]() -> Coro<void> {
        Conn c = co_await connect(&rec);
        auto t = create_task(sendfile(c.tr, f.fd));
        co_await sleep(0);
        try {
            c.tr->write("data");
            ADD_FAILURE() << "write was accepted";
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find("sendfile is in progress"), std::string::npos) << e.what();
        }
        auto reader = create_task(recv_until_eof(c.peer));
        std::size_t n = co_await t;
        EXPECT_EQ(n, data.size());
        c.tr->write("tail");  // allowed again
        co_await close_transport(c, rec);
        std::string got = co_await reader;
        EXPECT_TRUE(got == data + "tail");
    })());
}

TEST_F(SendfileTest, SendfileCloseDuringTheSendClosesAfterTheFileIsSent) {
    std::string data = make_data(kLarge);
    TempFile f(data);
    Record rec;
    run_io(([&]() -> Coro<void> {
        Conn c = co_await connect(&rec);
        auto t = create_task(sendfile(c.tr, f.fd));
        co_await sleep(0.01);
        c.tr->close();
        EXPECT_TRUE(c.tr->is_closing());
        auto reader = create_task(recv_until_eof(c.peer));
        std::size_t n = co_await t;
        std::string got = co_await reader;
        co_await eventually([&] { return rec.lost == 1; });
        EXPECT_EQ(n, data.size());
        EXPECT_TRUE(got == data);
    })());
}

TEST_F(SendfileTest, SendfileCancelledMidSendResumesReadingAndAllowsWrites) {
    std::string data = make_data(kLarge);
    TempFile f(data);
    Record rec;
    run_io(([&]() -> Coro<void> {
        Conn c = co_await connect(&rec, true);
        auto t = create_task(sendfile(c.tr, f.fd));
        co_await sleep(0.05);  // nobody reads: the send waits
        EXPECT_FALSE(t.done());
        EXPECT_FALSE(c.tr->is_reading());
        t.cancel();
        EXPECT_THROW(co_await t, CancelledError);
        EXPECT_TRUE(c.tr->is_reading());
        long pos = f.tell();
        EXPECT_GT(pos, 0);
        EXPECT_LT(pos, static_cast<long>(data.size()));
        c.tr->write("end");
        auto reader = create_task(recv_until_eof(c.peer));
        co_await close_transport(c, rec);
        std::string got = co_await reader;
        EXPECT_TRUE(got == data.substr(0, static_cast<std::size_t>(pos)) + "end");
    })());
}

TEST_F(SendfileTest, SendfileClosePeerAfterReceivingEverything) {
    std::string data = make_data(kSmall);
    TempFile f(data);
    Record rec;
    run_io(([&]() -> Coro<void> {
        Conn c = co_await connect(&rec);
        auto read_all_then_close = [&]() -> Coro<std::string> {
            std::string got;
            while (got.size() < data.size()) {
                std::string chunk = co_await sock_recv(c.peer, 65536);
                if (chunk.empty()) break;
                got += chunk;
            }
            c.peer.close();
            co_return got;
        };  // named: the coroutine refers to the lambda, which must outlive it
        auto reader = create_task(read_all_then_close());
        std::size_t n = co_await sendfile(c.tr, f.fd);
        std::string got = co_await reader;
        co_await close_transport(c, rec);
        EXPECT_EQ(n, data.size());
        EXPECT_TRUE(got == data);
        EXPECT_EQ(f.tell(), static_cast<long>(data.size()));
    })());
}

Coro<void> peer_closes_mid_receive(Conn& c, Record& rec, int file, long size) {
    auto t = create_task(sendfile(c.tr, file));
    std::string first = co_await sock_recv(c.peer, 1024);
    EXPECT_FALSE(first.empty());
    c.peer.close();  // unread data: the kernel resets the connection
    EXPECT_THROW(co_await t, ConnectionError);
    long pos = static_cast<long>(::lseek(file, 0, SEEK_CUR));
    EXPECT_GT(pos, 0);
    EXPECT_LT(pos, size);
    co_await eventually([&] { return rec.lost == 1; });  // the transport learns of the reset and closes
    EXPECT_TRUE(c.tr->is_closing());
}

TEST_F(SendfileTest, SendfileRaisesConnectionErrorWhenThePeerClosesInTheMiddle) {
    std::string data = make_data(kLarge);
    TempFile f(data);
    Record rec;
    run_io(([&]() -> Coro<void> {
        Conn c = co_await connect(&rec, true);
        co_await peer_closes_mid_receive(c, rec, f.fd, static_cast<long>(data.size()));
    })());
}

TEST_F(SendfileTest, SendfileFallbackRaisesConnectionErrorWhenThePeerClosesInTheMiddle) {
    std::string data = make_data(kLarge);
    TempFile f(data);
    Record rec;
    run_io(([&]() -> Coro<void> {
        Conn c = co_await connect(&rec, true);
        FailSendfile fail(EINVAL);
        co_await peer_closes_mid_receive(c, rec, f.fd, static_cast<long>(data.size()));
    })());
}

}  // namespace

// asyncio's BaseLoopSockSendfileTests.test_sock_sendfile_fallback: without a
// native sendfile the whole file (no offset, no count) goes by read and send.
TEST_F(SendfileTest, SockSendfileFallbackSendsTheWholeFileAndLeavesThePositionAtItsEnd) {
    std::string data = make_data(kSmall);
    TempFile f(data);
    run_io(([&]() -> Coro<void> {
        FailSendfile fail(EINVAL);
        auto [n, got] = co_await sock_sendfile_and_receive(f.fd);
        EXPECT_EQ(n, data.size());
        EXPECT_TRUE(got == data);
        EXPECT_EQ(f.tell(), static_cast<long>(data.size()));
    })());
}

}  // namespace net_sendfile_test
