// Pipe transports, ported from asyncio's unix_events._UnixReadPipeTransport and
// _UnixWritePipeTransport.
//
// Life cycle (both): constructed -> connection_made (call_soon) -> open ->
// closing -> connection_lost(exc) runs exactly once -> the fd is closed and the
// loop's self-reference dropped. A loop that closes first force-closes us
// (on_loop_close), as the socket transport does. That life cycle and the
// write side's buffer and flow control are detail::SelectorTransport's
// (selector_transport.hpp); here are the pipe-specific parts.
#include <tulip/net/pipe_transport.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <string>

#include <tulip/core/exceptions.hpp>
#include <tulip/loop/loop_access.hpp>
#include <tulip/task/sleep.hpp>

#include "../core/sys.hpp"
#include "selector_transport.hpp"

namespace tulip {

namespace {

bool transient(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

// Checks the fd and makes it non-blocking; throws for a kind of file a pipe
// transport does not take (the fd then stays the caller's).
struct PipeKind {
    bool fifo = false;
    bool socket = false;
};
PipeKind check_pipe_fd(int fd, const char* kind) {
    struct stat st {};
    if (::fstat(fd, &st) < 0) throw_os_error(errno, std::string("connect_") + kind + "_pipe");
    PipeKind k{S_ISFIFO(st.st_mode), S_ISSOCK(st.st_mode)};
    if (!k.fifo && !k.socket && !S_ISCHR(st.st_mode))
        throw std::invalid_argument("Pipe transport is only for pipes, sockets and character devices");
    int fl = ::fcntl(fd, F_GETFL);
    if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        throw_os_error(errno, std::string("connect_") + kind + "_pipe: O_NONBLOCK");
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    return k;
}

// What both directions share beyond detail::SelectorTransport: the fd's kind
// and asyncio's pipe semantics (connection_made runs even when closed first).
class PipeTransport : public detail::SelectorTransport<Transport> {
    using Base = detail::SelectorTransport<Transport>;

public:
    PipeTransport(EventLoop& loop, int fd, std::unique_ptr<BaseProtocol> protocol, const char* kind, const char* name)
        : Base(loop, fd, std::move(protocol), name, "pipe transport") {
        accept_protocol(*protocol_);
        PipeKind k = check_pipe_fd(fd, kind);
        is_fifo_ = k.fifo;
        is_socket_ = k.socket;
        made_when_closed_ = true;
    }

    std::any get_extra_info(std::string_view name) const override {
        if (name == "pipe") return fd_;  // asyncio gives the pipe object
        return {};
    }

protected:
    void accept_protocol(BaseProtocol& p) override {
        auto* s = dynamic_cast<Protocol*>(&p);
        auto* b = dynamic_cast<BufferedProtocol*>(&p);
        if (!s && !b) throw std::invalid_argument("a pipe transport needs a Protocol or a BufferedProtocol");
        stream_proto_ = s;
        buffered_proto_ = b;
    }
    void call_connection_made() override {
        if (stream_proto_)
            stream_proto_->connection_made(*this);
        else
            buffered_proto_->connection_made(*this);
    }

    Protocol* stream_proto_ = nullptr;
    BufferedProtocol* buffered_proto_ = nullptr;
    bool is_fifo_ = false;
    bool is_socket_ = false;
};

class ReadPipeTransport final : public PipeTransport {
public:
    ReadPipeTransport(EventLoop& loop, int fd, std::unique_ptr<BaseProtocol> protocol)
        : PipeTransport(loop, fd, std::move(protocol), "read", "ReadPipeTransport") {
        proto_ = stream_proto_;
        if (!proto_) throw std::invalid_argument("a read pipe transport needs a Protocol");
        begin();
    }

    // asyncio's _UnixReadPipeTransport.close/abort: _close(None), not counted
    // as a lost connection.
    void close() override {
        if (!closing_) force_close(nullptr, /*count_lost=*/false);
    }
    void abort() override { close(); }
    void pause_reading() override { pause_reading_impl(); }
    void resume_reading() override { resume_reading_impl(); }
    bool is_reading() const noexcept override { return is_reading_impl(); }

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
    void start_reading() override {
        watch_read([this] { read_ready(); });
    }

    void read_ready() {
        if (closing_) return;
        Ref<ReadPipeTransport> keep(this);  // a protocol callback may drop the last user reference
        char* buf = detail::transport_read_buffer();
        long n = detail::sys::read(fd_, buf, detail::kMaxReadSize);
        if (n < 0) {
            if (transient(errno)) return;
            int err = errno;
            auto exc = make_os_error(err, "Fatal read error on pipe transport");
            // A read error is reported, unless it is EIO (a pty whose other
            // side closed), which asyncio only logs in debug mode.
            if (err != EIO) report_callback_error("Fatal read error on pipe transport", exc);
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
        try {
            loop_->call_soon([this] {
                if (lost_called_) return;
                try {
                    (void)proto_->eof_received();
                } catch (...) {
                    report_callback_error("Fatal error: protocol.eof_received() call failed.",
                                          std::current_exception());
                }
            });
        } catch (...) {
            // Out of memory: eof_received is skipped; connection_lost (which
            // cannot fail to be scheduled) still ends the connection.
        }
        schedule_connection_lost(nullptr);
    }

    Protocol* proto_ = nullptr;
};

class WritePipeTransport final : public PipeTransport {
public:
    WritePipeTransport(EventLoop& loop, int fd, std::unique_ptr<BaseProtocol> protocol)
        : PipeTransport(loop, fd, std::move(protocol), "write", "WritePipeTransport") {
        begin();
    }

    void write(std::string_view data) override {
        if (data.empty()) return;
        if (conn_lost_ || closing_) {
            if (conn_lost_ >= detail::kLogThresholdConnLost)
                log(LogLevel::warning, "pipe closed by peer or os.write(pipe, data) raised exception.");
            ++conn_lost_;
            return;
        }
        // A failure counts as a lost connection (asyncio's _conn_lost += 1) through force_close.
        send_or_buffer(
            data, [this](std::string_view d) { return detail::sys::write(fd_, d.data(), d.size()); },
            [this] { write_ready(); }, "Fatal write error on pipe transport");
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
            schedule_connection_lost(nullptr);
        }
    }
    void close() override { write_eof(); }
    void abort() override { force_close(nullptr, /*count_lost=*/false); }

    // A write pipe does not read.
    void pause_reading() override {}
    void resume_reading() override {}
    bool is_reading() const noexcept override { return false; }

private:
    // The reading end going away makes our end readable (EPOLLERR): the way
    // to notice it with nothing to write (asyncio watches the same).
    void start_reading() override {
        if (is_fifo_ || is_socket_) watch_read([this] { read_ready(); });
    }

    void read_ready() {
        // "Pipe closed by peer": lost data is a BrokenPipeError.
        if (buffered())
            force_close(std::make_exception_ptr(
                            BrokenPipeError(std::error_code(EPIPE, std::generic_category()), "pipe closed by peer")),
                        /*count_lost=*/false);
        else
            force_close(nullptr, /*count_lost=*/false);
    }

    void write_ready() {
        if (lost_scheduled_) return;
        Ref<WritePipeTransport> keep(this);
        long n = detail::sys::write(fd_, buffer_data(), buffered());
        if (n < 0) {
            if (transient(errno)) return;
            fatal_error(make_os_error(errno, "Fatal write error on pipe transport"),
                        "Fatal write error on pipe transport");  // drops the buffer
            return;
        }
        buffer_consume(static_cast<std::size_t>(n));
        if (buffered() != 0) return;
        remove_writer();
        maybe_resume_protocol();  // may write more, or close
        if (closing_ && buffered() == 0 && !lost_scheduled_) {
            remove_reader();
            lost_scheduled_ = true;
            call_connection_lost(nullptr);
        }
    }
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
    // Cancelled there, the transport is closed (as asyncio's
    // connect_read_pipe/connect_write_pipe): nobody else would ever close it.
    try {
        co_await sleep(0);
    } catch (...) {
        t->close();
        throw;
    }
    co_return t;
}

}  // namespace detail

}  // namespace tulip
