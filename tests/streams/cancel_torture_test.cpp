// Cancellation torture of the streams (reliability program, part 5):
// StreamReader read(n), read(-1), readline, readexactly, readuntil (one
// separator and several), on a fed reader on virtual time and on a real
// socket pair, and StreamWriter.drain on a socket pair, each cancelled at
// every loop iteration it suspends across (the harness is
// tests/support/cancel_torture.hpp). The invariant of the cancel-safe reads:
// what the victim read plus what is still readable is exactly what was
// written. read(-1) is not cancel-safe (as asyncio's: the blocks it already
// took are dropped): what is still readable is then a suffix of what was
// written. A cancelled drain() loses nothing: the peer receives every byte
// the victim wrote.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

#include <string>
#include <vector>

#include <tulip/tulip.hpp>

#include "support/cancel_torture.hpp"
#include "support/loop_test.hpp"
#include "support/net.hpp"

namespace streams_cancel_torture_test {

using namespace tulip;
using test::torture::Case;
using test::torture::RunInfo;
using test::torture::settle_task;
using test::torture::torture;

namespace {

class StreamsCancelTorture : public test::LoopTest {};
class StreamsCancelTortureIo : public test::IoLoopTest {};

// The bytes a feeder gives the reader, in pieces, then EOF.
const std::vector<std::string>& pieces() {
    static const std::vector<std::string> p{"alpha\nbe", "ta\ngam", "maXY\n", "de", "lta\ntail"};
    return p;
}
std::string all_pieces() {
    std::string s;
    for (auto& p : pieces()) s += p;
    return s;
}

enum class Op { read_n, read_all, readline, readexactly, readuntil, readuntil_many };

// Reads with `op` until the stream ends, appending to *got.
Coro<void> read_to_end(StreamReader r, Op op, std::string* got) {
    for (;;) {
        std::string s;
        bool end = false;
        try {
            switch (op) {
                case Op::read_n:
                    s = co_await r.read(4);
                    break;
                case Op::read_all:
                    s = co_await r.read();
                    end = true;
                    break;
                case Op::readline:
                    s = co_await r.readline();
                    break;
                case Op::readexactly:
                    s = co_await r.readexactly(4);
                    break;
                case Op::readuntil:
                    s = co_await r.readuntil("XY");
                    break;
                case Op::readuntil_many: {
                    std::vector<std::string> seps{"\n", "ta"};
                    s = co_await r.readuntil(std::move(seps));
                    break;
                }
            }
        } catch (const IncompleteReadError& e) {
            s = e.partial;  // at EOF: the rest (consumed, as asyncio)
            end = true;
        }
        *got += s;
        if (s.empty() || end) break;
    }
}

// ---- a fed StreamReader, virtual time ----------------------------------------

// What every reader case checks: a completed read got everything; read(-1)
// (not cancel-safe) may lose the blocks it took, but what stays readable is
// the tail; every other read is cancel-safe: what it got plus what is still
// readable is everything. Returns whether bytes were lost.
template <Op op>
bool check_reads(const RunInfo& r, const std::string& got, const std::string& rest) {
    const std::string all = all_pieces();
    if (r.completed()) {
        EXPECT_EQ(got, all);
    }
    if constexpr (op == Op::read_all) {
        if (r.cancelled()) {
            EXPECT_TRUE(got.empty());
        }
        EXPECT_EQ(all.substr(all.size() - rest.size()), rest);
    } else {
        EXPECT_EQ(got + rest, all) << "a cancelled read lost or duplicated bytes";
    }
    return got.size() + rest.size() < all.size();
}

// Runs of read(-1) that lost bytes: it is not cancel-safe, and the test shows it.
int& lost_runs() {
    static int n = 0;
    return n;
}

template <Op op>
struct FedReaderCase : Case {
    StreamReader reader;
    std::string got, rest;
    Task<void> feeder;
    void start() override {
        feeder = create_task([](StreamReader r) -> Coro<void> {
            for (auto& p : pieces()) {
                co_await sleep(1.0);
                r.feed_data(p);
            }
            co_await sleep(1.0);
            r.feed_eof();
        }(reader));
    }
    Coro<void> victim() override { co_await read_to_end(reader, op, &got); }
    Coro<void> settle() override {
        co_await settle_task(feeder);
        rest = co_await reader.read();  // what is still readable
    }
    void check(const RunInfo& r) override {
        if (check_reads<op>(r, got, rest)) ++lost_runs();
        EXPECT_TRUE(reader.at_eof());
    }
};

TEST_F(StreamsCancelTorture, FedReaderRead) { torture<FedReaderCase<Op::read_n>>(loop(), "StreamReader.read(n) fed"); }
TEST_F(StreamsCancelTorture, FedReaderReadAll) {
    lost_runs() = 0;
    torture<FedReaderCase<Op::read_all>>(loop(), "StreamReader.read(-1) fed");
    EXPECT_GT(lost_runs(), 0);  // cancelled after its first block: those bytes are gone (as asyncio)
}
TEST_F(StreamsCancelTorture, FedReaderReadline) {
    torture<FedReaderCase<Op::readline>>(loop(), "StreamReader.readline fed");
}
TEST_F(StreamsCancelTorture, FedReaderReadexactly) {
    torture<FedReaderCase<Op::readexactly>>(loop(), "StreamReader.readexactly fed");
}
TEST_F(StreamsCancelTorture, FedReaderReaduntil) {
    torture<FedReaderCase<Op::readuntil>>(loop(), "StreamReader.readuntil fed");
}
TEST_F(StreamsCancelTorture, FedReaderReaduntilSeveralSeparators) {
    torture<FedReaderCase<Op::readuntil_many>>(loop(), "StreamReader.readuntil([..]) fed");
}

// ---- a socket pair, real time ------------------------------------------------

// The reader's side of a socket pair; the peer writes the pieces 0.5 ms apart.
template <Op op>
struct SocketReaderCase : Case {
    Socket peer;
    std::optional<StreamReader> reader;
    std::optional<StreamWriter> writer;
    std::string got, rest;
    Task<void> feeder;
    Coro<void> prepare() override {
        auto [a, b] = Socket::pair();
        peer = std::move(b);
        auto [r, w] = co_await open_connection(std::move(a));
        reader = r;
        writer = w;
    }
    void start() override {
        feeder = create_task([](Socket* s) -> Coro<void> {
            for (auto& p : pieces()) {
                co_await sleep(0.0005);
                co_await sock_sendall(*s, p);
            }
            s->shutdown(SHUT_WR);
        }(&peer));
    }
    Coro<void> victim() override { co_await read_to_end(*reader, op, &got); }
    Coro<void> settle() override {
        co_await settle_task(feeder);
        rest = co_await reader->read();
        writer->close();
        co_await writer->wait_closed();
    }
    void check(const RunInfo& r) override { (void)check_reads<op>(r, got, rest); }
};

TEST_F(StreamsCancelTortureIo, SocketReaderRead) {
    torture<SocketReaderCase<Op::read_n>>(loop(), "StreamReader.read(n) socket", test::torture::real_time());
}
TEST_F(StreamsCancelTortureIo, SocketReaderReadAll) {
    torture<SocketReaderCase<Op::read_all>>(loop(), "StreamReader.read(-1) socket", test::torture::real_time());
}
TEST_F(StreamsCancelTortureIo, SocketReaderReadline) {
    torture<SocketReaderCase<Op::readline>>(loop(), "StreamReader.readline socket", test::torture::real_time());
}
TEST_F(StreamsCancelTortureIo, SocketReaderReadexactly) {
    torture<SocketReaderCase<Op::readexactly>>(loop(), "StreamReader.readexactly socket", test::torture::real_time());
}

// ---- StreamWriter.drain --------------------------------------------------------

constexpr std::size_t kDrainBytes = 256 * 1024;  // far more than the small kernel buffers hold

struct DrainCase : Case {
    Socket peer;
    std::optional<StreamWriter> writer;
    std::string data = test::pattern(0, kDrainBytes);
    std::size_t written = 0;
    bool drained = false;
    std::string received;
    Task<std::string> receiver;
    Coro<void> prepare() override {
        auto [a, b] = Socket::pair();
        a.setsockopt(SOL_SOCKET, SO_SNDBUF, 32 * 1024);
        b.setsockopt(SOL_SOCKET, SO_RCVBUF, 32 * 1024);
        peer = std::move(b);
        auto [r, w] = co_await open_connection(std::move(a));
        writer = w;
    }
    void start() override { receiver = create_task(test::recv_until_eof(peer)); }
    Coro<void> victim() override {
        writer->write(data);
        written = data.size();
        co_await writer->drain();
        drained = true;
    }
    Coro<void> settle() override {
        writer->close();  // after what is buffered
        co_await writer->wait_closed();
        received = co_await receiver;
    }
    void check(const RunInfo& r) override {
        // A cancelled drain() loses nothing: every byte written arrives, in order.
        EXPECT_EQ(received.size(), written);
        EXPECT_TRUE(received == data.substr(0, written));
        if (r.completed()) {
            EXPECT_TRUE(drained);
        }
    }
};

TEST_F(StreamsCancelTortureIo, WriterDrain) {
    torture<DrainCase>(loop(), "StreamWriter.drain socket", test::torture::real_time());
}

// ---- open_connection / open_read_pipe ----------------------------------------------
// Cancelled in the iteration between making the transport and handing over
// the streams, the connection must be closed (before the fix its socket
// stayed open for the loop's life: the harness's fd check).

struct OpenConnectionCase : Case {
    Socket lsock = test::listener();
    std::string received;
    bool sent = false;
    Coro<void> victim() override {
        auto [r, w] = co_await open_connection("127.0.0.1", lsock.getsockname().port());
        w.write("hello");
        co_await w.drain();
        w.close();
        co_await w.wait_closed();
        sent = true;
    }
    Coro<void> settle() override {
        co_await sleep(0.002);  // a connection made reaches the backlog
        for (;;) {
            int fd = ::accept4(lsock.fileno(), nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) break;
            char buf[16];
            long n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n > 0) received.assign(buf, static_cast<std::size_t>(n));
            ::close(fd);
        }
    }
    void check(const RunInfo& r) override {
        if (r.completed()) {
            EXPECT_TRUE(sent);
        }
        if (sent) {
            EXPECT_EQ(received, "hello");
        }
    }
};

TEST_F(StreamsCancelTortureIo, OpenConnection) {
    torture<OpenConnectionCase>(loop(), "open_connection", test::torture::real_time());
}

// start_server cancelled before it returned the Server: the listening socket
// must not stay open (the harness's fd check); Server.wait_closed cancelled.
struct StartServerCase : Case {
    bool closed = false;
    Coro<void> victim() override {
        auto cb = [](StreamReader, StreamWriter w) { w.close(); };
        Server srv = co_await start_server(cb, "127.0.0.1", 0);
        srv.close();
        co_await srv.wait_closed();
        closed = true;
    }
    Coro<void> settle() override { co_await sleep(0); }
    void check(const RunInfo& r) override {
        if (r.completed()) {
            EXPECT_TRUE(closed);
        }
    }
};

TEST_F(StreamsCancelTortureIo, StartServer) {
    torture<StartServerCase>(loop(), "start_server", test::torture::real_time());
}

struct OpenReadPipeCase : Case {
    std::size_t base_fds = test::open_fd_count();
    int rfd = -1, wfd = -1;
    std::string got;
    OpenReadPipeCase() {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
        rfd = fds[0];
        wfd = fds[1];
        (void)!::write(wfd, "abc", 3);  // the write end stays open: no EOF closes the transport
    }
    ~OpenReadPipeCase() override {
        if (rfd >= 0) ::close(rfd);  // never handed over (cancelled before the call)
        ::close(wfd);
    }
    Coro<void> victim() override {
        int fd = std::exchange(rfd, -1);  // the transport takes it over
        StreamReader r = co_await open_read_pipe(fd);
        got = co_await r.readexactly(3);
    }  // the last handle to the reader goes: the pipe is closed
    Coro<void> settle() override {
        for (int i = 0; i < 3; ++i) co_await sleep(0);
    }
    void check(const RunInfo& r) override {
        if (r.completed()) {
            EXPECT_EQ(got, "abc");
        }
        // Only the write end (and the read end if it was never handed over) is left open.
        EXPECT_EQ(test::open_fd_count(), base_fds + (rfd >= 0 ? 2 : 1)) << "the read pipe was left open";
    }
};

TEST_F(StreamsCancelTortureIo, OpenReadPipe) {
    torture<OpenReadPipeCase>(loop(), "open_read_pipe", test::torture::real_time());
}

}  // namespace

}  // namespace streams_cancel_torture_test
