// Pipe transports, ported from asyncio's unix_events._UnixReadPipeTransport and
// _UnixWritePipeTransport.
//
// Life cycle (both): constructed -> connection_made (call_soon) -> open ->
// closing -> connection_lost(exc) runs exactly once -> the fd is closed and the
// loop's self-reference dropped. A loop that closes first force-closes us
// (on_loop_close), as the socket transport does.
#include <tulip/net/pipe_transport.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <string>

#include <tulip/core/exceptions.hpp>
#include <tulip/task/sleep.hpp>

namespace tulip {

namespace {

constexpr std::size_t kMaxRead = 256 * 1024;  // asyncio's max_size
constexpr std::size_t kDefaultHigh = 64 * 1024;
constexpr int kLogThreshold = 5;  // asyncio's constants.LOG_THRESHOLD_FOR_CONNLOST_WRITES

char* pipe_read_buffer() {
    static thread_local std::unique_ptr<char[]> buf(new char[kMaxRead]);
    return buf.get();
}

// write(2) that never raises SIGPIPE: a pipe's reader going away must be an
// EPIPE error, not the end of the process (Python ignores SIGPIPE; a C++
// program may not). SIGPIPE is blocked around the call and a SIGPIPE it
// raised is consumed before unblocking.
long write_no_sigpipe(int fd, const char* data, std::size_t len) {
    sigset_t pipe_set, old, pending;
    ::sigemptyset(&pipe_set);
    ::sigaddset(&pipe_set, SIGPIPE);
    ::sigpending(&pending);
    bool was_pending = ::sigismember(&pending, SIGPIPE) == 1;
    ::pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    long n = ::write(fd, data, len);
    int err = errno;
    if (n < 0 && err == EPIPE && !was_pending) {
        timespec zero{};
        while (::sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
        }
    }
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    errno = err;
    return n;
}

bool transient(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

// What is shared by both directions: the fd, the protocol, closing and
// connection_lost.
class PipeTransport : public Transport, private detail::LoopClosable, private detail::FdOwner {
public:
    PipeTransport(EventLoop& loop, int fd, std::unique_ptr<BaseProtocol> protocol, const char* kind)
        : loop_(&loop), fd_(fd), protocol_(std::move(protocol)), kind_(kind) {
        stream_proto_ = dynamic_cast<Protocol*>(protocol_.get());
        buffered_proto_ = dynamic_cast<BufferedProtocol*>(protocol_.get());
        if (!stream_proto_ && !buffered_proto_)
            throw std::invalid_argument("a pipe transport needs a Protocol or a BufferedProtocol");
        struct stat st {};
        if (::fstat(fd_, &st) < 0) throw_os_error(errno, std::string("connect_") + kind_ + "_pipe");
        is_fifo_ = S_ISFIFO(st.st_mode);
        is_socket_ = S_ISSOCK(st.st_mode);
        if (!is_fifo_ && !is_socket_ && !S_ISCHR(st.st_mode))
            throw std::invalid_argument("Pipe transport is only for pipes, sockets and character devices");
        int fl = ::fcntl(fd_, F_GETFL);
        if (fl < 0 || ::fcntl(fd_, F_SETFL, fl | O_NONBLOCK) < 0)
            throw_os_error(errno, std::string("connect_") + kind_ + "_pipe: O_NONBLOCK");
        ::fcntl(fd_, F_SETFD, FD_CLOEXEC);
    }

    std::any get_extra_info(std::string_view name) const override {
        if (name == "pipe") return fd_;  // asyncio gives the pipe object
        return {};
    }
    bool is_closing() const noexcept override { return closing_; }
    std::string fd_owner_name() const override {
        return std::string("<") + (kind_[0] == 'r' ? "ReadPipeTransport" : "WritePipeTransport") +
               " fd=" + std::to_string(fd_) + (closing_ ? " closing>" : ">");
    }
    bool fd_owner_closing() const noexcept override { return closing_; }
    BaseProtocol& get_protocol() const noexcept override { return *protocol_; }
    EventLoop& get_loop() const noexcept override { return *loop_; }

protected:
    // Called by the derived constructor once it is complete: the loop's
    // reference, and connection_made scheduled (asyncio's call_soon).
    void begin() {
        incref();  // the loop's reference, dropped after connection_lost
        link_to_loop(*loop_);
        loop_->set_fd_owner(fd_, this);  // add_reader(fd) & co. refuse it while we are open
        loop_->call_soon([this] { start(); });
    }
    virtual void started() = 0;     // after connection_made: start watching the fd
    virtual void unwatch() = 0;     // stop every watch on the fd
    virtual void drop_buffer() {}   // abort: forget what was not written

    void start() {
        if (lost_called_) return;
        // Closed before this ran: connection_made still runs, then
        // connection_lost (scheduled after us), as asyncio.
        try {
            if (stream_proto_)
                stream_proto_->connection_made(*this);
            else
                buffered_proto_->connection_made(*this);
        } catch (...) {
            connected_ = true;
            fatal_error(std::current_exception(), "Fatal error: protocol.connection_made() call failed.");
            return;
        }
        connected_ = true;
        if (!closing_) started();
    }

    // asyncio's _close: closing, no more watching, connection_lost soon.
    void close_with(std::exception_ptr exc) {
        if (lost_scheduled_) return;
        closing_ = true;
        drop_buffer();
        unwatch();
        lost_scheduled_ = true;
        loop_->call_soon([this, exc] { call_connection_lost(exc); });
    }

    void fatal_error(std::exception_ptr exc, const char* message) {
        // OS errors are the peer's business: debug log only (asyncio does the same).
        bool os_error = false;
        try {
            std::rethrow_exception(exc);
        } catch (const std::system_error&) {
            os_error = true;
        } catch (...) {
        }
        if (!os_error)
            loop_->call_exception_handler({message, exc, "pipe transport", {}});
        else if (loop_->get_debug())
            log(LogLevel::debug, std::string(message) + ": " + describe_exception(exc));
        close_with(exc);
    }

    void call_connection_lost(std::exception_ptr exc) {
        if (lost_called_) return;
        lost_called_ = true;
        closing_ = true;
        unlink_from_loop();
        if (!loop_->is_closed()) {
            unwatch();
            loop_->set_fd_owner(fd_, nullptr);
        }
        if (connected_) {
            try {
                protocol_->connection_lost(exc);
            } catch (...) {
                loop_->call_exception_handler(
                    {"Exception in protocol.connection_lost()", std::current_exception(), "pipe transport", {}});
            }
        }
        ::close(fd_);
        decref();  // the loop's reference
    }

    // The loop closes with this pipe open: connection_lost now (the
    // protocol's chance to release what it holds), the fd closed, the loop's
    // reference released; from then on nothing touches the loop.
    void on_loop_close() noexcept override {
        if (lost_called_) return;
        Ref<PipeTransport> keep(this);
        closing_ = true;
        lost_scheduled_ = true;
        drop_buffer_only();
        call_connection_lost(std::make_exception_ptr(std::runtime_error("Event loop is closed")));
    }
    virtual void drop_buffer_only() noexcept {}

    EventLoop* loop_;
    int fd_;
    std::unique_ptr<BaseProtocol> protocol_;
    Protocol* stream_proto_ = nullptr;
    BufferedProtocol* buffered_proto_ = nullptr;
    const char* kind_;
    bool is_fifo_ = false;
    bool is_socket_ = false;
    bool closing_ = false;
    bool connected_ = false;
    bool lost_scheduled_ = false;
    bool lost_called_ = false;
};

class ReadPipeTransport final : public PipeTransport {
public:
    ReadPipeTransport(EventLoop& loop, int fd, std::unique_ptr<BaseProtocol> protocol)
        : PipeTransport(loop, fd, std::move(protocol), "read") {
        proto_ = stream_proto_;
        if (!proto_) throw std::invalid_argument("a read pipe transport needs a Protocol");
        begin();
    }

    void close() override {
        if (!closing_) close_with(nullptr);
    }
    void abort() override { close(); }
    void pause_reading() override {
        if (closing_ || paused_) return;
        paused_ = true;
        remove_reader();
    }
    void resume_reading() override {
        if (closing_ || !paused_) return;
        paused_ = false;
        add_reader();
    }
    bool is_reading() const noexcept override { return !paused_ && !closing_; }

    // A read transport does not write (asyncio's ReadTransport has no such methods).
    void write(std::string_view) override { no_write("write"); }
    void writelines(std::span<const std::string_view>) override { no_write("writelines"); }
    void write_eof() override { no_write("write_eof"); }
    bool can_write_eof() const noexcept override { return false; }
    void set_write_buffer_limits(std::optional<std::size_t>, std::optional<std::size_t>) override {
        no_write("set_write_buffer_limits");
    }
    std::size_t get_write_buffer_size() const noexcept override { return 0; }
    std::pair<std::size_t, std::size_t> get_write_buffer_limits() const noexcept override { return {0, 0}; }

private:
    [[noreturn]] static void no_write(const char* what) {
        throw std::runtime_error(std::string(what) + "() on a read pipe transport: it cannot write");
    }
    void started() override {
        if (!paused_) add_reader();
    }
    void unwatch() override { remove_reader(); }
    void add_reader() {
        if (reading_ || closing_) return;
        loop_->watch_reader(fd_, [this] { read_ready(); });
        reading_ = true;
    }
    void remove_reader() {
        if (!reading_) return;
        reading_ = false;
        loop_->unwatch_reader(fd_);
    }

    void read_ready() {
        if (closing_) return;
        Ref<PipeTransport> keep(this);  // a protocol callback may drop the last user reference
        char* buf = pipe_read_buffer();
        long n = ::read(fd_, buf, kMaxRead);
        if (n < 0) {
            if (transient(errno)) return;
            int err = errno;
            auto exc = make_os_error(err, "Fatal read error on pipe transport");
            // A read error is reported, unless it is EIO (a pty whose other
            // side closed), which asyncio only logs in debug mode.
            if (err != EIO) loop_->call_exception_handler({"Fatal read error on pipe transport", exc, "pipe transport", {}});
            fatal_error(exc, "Fatal read error on pipe transport");
            return;
        }
        if (n > 0) {
            try {
                proto_->data_received(std::string_view(buf, static_cast<std::size_t>(n)));
            } catch (...) {
                fatal_error(std::current_exception(), "Fatal error: protocol.data_received() call failed.");
            }
            return;
        }
        // EOF: the transport closes whatever eof_received says (asyncio).
        closing_ = true;
        remove_reader();
        lost_scheduled_ = true;
        loop_->call_soon([this] {
            if (lost_called_) return;
            try {
                (void)proto_->eof_received();
            } catch (...) {
                loop_->call_exception_handler(
                    {"Fatal error: protocol.eof_received() call failed.", std::current_exception(), "pipe transport", {}});
            }
        });
        loop_->call_soon([this] { call_connection_lost(nullptr); });
    }

    Protocol* proto_ = nullptr;
    bool paused_ = false;
    bool reading_ = false;
};

class WritePipeTransport final : public PipeTransport {
public:
    WritePipeTransport(EventLoop& loop, int fd, std::unique_ptr<BaseProtocol> protocol)
        : PipeTransport(loop, fd, std::move(protocol), "write") {
        begin();
    }

    void write(std::string_view data) override {
        if (data.empty()) return;
        if (conn_lost_ || closing_) {
            if (conn_lost_ >= kLogThreshold) log(LogLevel::warning, "pipe closed by peer or os.write(pipe, data) raised exception.");
            ++conn_lost_;
            return;
        }
        if (buffered() == 0) {
            long n = write_no_sigpipe(fd_, data.data(), data.size());
            if (n < 0) {
                if (!transient(errno)) {
                    ++conn_lost_;
                    fatal_error(make_os_error(errno, "Fatal write error on pipe transport"),
                                "Fatal write error on pipe transport");
                    return;
                }
                n = 0;
            }
            data.remove_prefix(static_cast<std::size_t>(n));
            if (data.empty()) return;
            loop_->watch_writer(fd_, [this] { write_ready(); });
            writing_ = true;
        }
        buf_.append(data);
        maybe_pause_protocol();
    }
    void writelines(std::span<const std::string_view> parts) override {
        for (auto p : parts) write(p);
    }
    bool can_write_eof() const noexcept override { return true; }
    void write_eof() override {
        if (closing_) return;
        closing_ = true;
        if (buffered() == 0) {
            remove_reader();
            lost_scheduled_ = true;
            loop_->call_soon([this] { call_connection_lost(nullptr); });
        }
    }
    void close() override { write_eof(); }
    void abort() override { close_with(nullptr); }

    // A write pipe does not read.
    void pause_reading() override {}
    void resume_reading() override {}
    bool is_reading() const noexcept override { return false; }

    void set_write_buffer_limits(std::optional<std::size_t> high, std::optional<std::size_t> low) override {
        std::size_t h = high ? *high : (low ? 4 * *low : kDefaultHigh);
        std::size_t l = low ? *low : h / 4;
        if (l > h)
            throw std::invalid_argument("high (" + std::to_string(h) + ") must be >= low (" + std::to_string(l) + ")");
        high_ = h;
        low_ = l;
        maybe_pause_protocol();
    }
    std::size_t get_write_buffer_size() const noexcept override { return buffered(); }
    std::pair<std::size_t, std::size_t> get_write_buffer_limits() const noexcept override { return {low_, high_}; }

private:
    std::size_t buffered() const noexcept { return buf_.size() - off_; }

    void started() override {
        // The reading end going away makes our end readable (EPOLLERR): the
        // way to notice it with nothing to write (asyncio watches the same).
        if (is_fifo_ || is_socket_) {
            loop_->watch_reader(fd_, [this] { read_ready(); });
            watching_ = true;
        }
    }
    void unwatch() override {
        remove_reader();
        if (writing_) {
            writing_ = false;
            loop_->unwatch_writer(fd_);
        }
    }
    void remove_reader() {
        if (!watching_) return;
        watching_ = false;
        loop_->unwatch_reader(fd_);
    }
    void drop_buffer() override {
        buf_.clear();
        off_ = 0;
    }
    void drop_buffer_only() noexcept override { drop_buffer(); }

    void read_ready() {
        // "Pipe closed by peer": lost data is a BrokenPipeError.
        if (buffered())
            close_with(std::make_exception_ptr(BrokenPipeError(std::error_code(EPIPE, std::generic_category()),
                                                               "pipe closed by peer")));
        else
            close_with(nullptr);
    }

    void write_ready() {
        if (lost_scheduled_) return;
        Ref<PipeTransport> keep(this);
        long n = write_no_sigpipe(fd_, buf_.data() + off_, buffered());
        if (n < 0) {
            if (transient(errno)) return;
            int err = errno;
            drop_buffer();
            ++conn_lost_;
            fatal_error(make_os_error(err, "Fatal write error on pipe transport"), "Fatal write error on pipe transport");
            return;
        }
        off_ += static_cast<std::size_t>(n);
        if (buffered() == 0) {
            drop_buffer();
            writing_ = false;
            loop_->unwatch_writer(fd_);
            maybe_resume_protocol();  // may write more, or close
            if (closing_ && buffered() == 0 && !lost_scheduled_) {
                remove_reader();
                lost_scheduled_ = true;
                call_connection_lost(nullptr);
            }
            return;
        }
        if (off_ > 64 * 1024 && off_ * 2 > buf_.size()) {
            buf_.erase(0, off_);  // compact: keep the buffer from growing without bound
            off_ = 0;
        }
    }

    void maybe_pause_protocol() {
        if (buffered() <= high_ || protocol_paused_) return;
        protocol_paused_ = true;
        try {
            protocol_->pause_writing();
        } catch (...) {
            loop_->call_exception_handler({"protocol.pause_writing() failed", std::current_exception(), "transport", {}});
        }
    }
    void maybe_resume_protocol() {
        if (!protocol_paused_ || buffered() > low_) return;
        protocol_paused_ = false;
        try {
            protocol_->resume_writing();
        } catch (...) {
            loop_->call_exception_handler({"protocol.resume_writing() failed", std::current_exception(), "transport", {}});
        }
    }

    std::string buf_;
    std::size_t off_ = 0;
    std::size_t high_ = kDefaultHigh;
    std::size_t low_ = kDefaultHigh / 4;
    int conn_lost_ = 0;
    bool watching_ = false;
    bool writing_ = false;
    bool protocol_paused_ = false;
};

}  // namespace

Ref<Transport> make_read_pipe_transport(EventLoop& loop, int fd, std::unique_ptr<BaseProtocol> protocol) {
    return Ref<Transport>(new ReadPipeTransport(loop, fd, std::move(protocol)));
}

Ref<Transport> make_write_pipe_transport(EventLoop& loop, int fd, std::unique_ptr<BaseProtocol> protocol) {
    return Ref<Transport>(new WritePipeTransport(loop, fd, std::move(protocol)));
}

namespace detail {

Coro<Ref<Transport>> connect_pipe_transport(int fd, std::unique_ptr<BaseProtocol> protocol, bool write) {
    EventLoop& loop = get_running_loop();
    Ref<Transport> t = write ? make_write_pipe_transport(loop, fd, std::move(protocol))
                             : make_read_pipe_transport(loop, fd, std::move(protocol));
    // connection_made was scheduled with call_soon: one yield lets it run
    // before the caller sees the transport (asyncio awaits a waiter future).
    co_await sleep(0);
    co_return t;
}

}  // namespace detail

}  // namespace tulip
