// The stream socket transport, ported from asyncio's _SelectorSocketTransport.
//
// Life cycle: constructed -> connection_made (call_soon) -> reading
// (persistent EPOLLIN while not paused) -> closing (close(): no more reads;
// the write buffer drains, then connection_lost) or force-closed (abort() or a
// fatal error: buffer dropped) -> connection_lost(exc) runs exactly once ->
// the socket is closed and the loop's self-reference dropped.
//
// Reads go through one per-thread 256 KiB buffer (asyncio's max_size), so an
// idle connection costs no read buffer. Writes are tried at once; what the
// kernel does not take waits in a contiguous buffer drained on EPOLLOUT.
#include <tulip/net/socket_transport.hpp>

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <tulip/core/exceptions.hpp>
#include <tulip/net/sendfile.hpp>

#include "../core/sys.hpp"
#include "server_core.hpp"

namespace tulip {

namespace {

constexpr std::size_t kMaxRead = 256 * 1024;
constexpr std::size_t kDefaultHigh = 64 * 1024;

char* read_buffer() {
    static thread_local std::unique_ptr<char[]> buf(new char[kMaxRead]);
    return buf.get();
}

class SocketTransport final : public Transport,
                              public detail::SendfileTransport,
                              private detail::LoopClosable,
                              private detail::FdOwner {
public:
    SocketTransport(EventLoop& loop, Socket sock, std::unique_ptr<BaseProtocol> protocol, detail::ServerCore* server)
        : loop_(&loop), sock_(std::move(sock)), protocol_(std::move(protocol)), server_(server) {
        stream_proto_ = dynamic_cast<Protocol*>(protocol_.get());
        buffered_proto_ = dynamic_cast<BufferedProtocol*>(protocol_.get());
        if (!stream_proto_ && !buffered_proto_)
            throw std::invalid_argument("a stream transport needs a Protocol or a BufferedProtocol");
        fd_ = sock_.fileno();
        // asyncio's _SelectorSocketTransport disables Nagle on every TCP
        // transport, including ones made from a caller's socket (sock=).
        try {
            sock_.set_nodelay(true);
        } catch (...) {
        }
        try {
            peer_ = sock_.getpeername();
        } catch (...) {
        }
        try {
            local_ = sock_.getsockname();
        } catch (...) {
        }
        incref();  // the loop's reference, dropped after connection_lost
        link_to_loop(loop);  // a loop closed first force-closes us (on_loop_close)
        loop_->set_fd_owner(fd_, this);  // add_reader(fd) & co. refuse it while we are open
        if (server_) server_->attach(this);
        loop_->call_soon([this] { start(); });
    }

    ~SocketTransport() override = default;

    // ---- Transport ----------------------------------------------------------
    std::any get_extra_info(std::string_view name) const override {
        if (name == "peername") return peer_;
        if (name == "sockname") return local_;
        if (name == "socket") return sock_ ? fd_ : -1;
        return {};
    }
    bool is_closing() const noexcept override { return closing_; }
    std::string fd_owner_name() const override {
        return "<SocketTransport fd=" + std::to_string(fd_) + (closing_ ? " closing>" : ">");
    }
    bool fd_owner_closing() const noexcept override { return closing_; }
    BaseProtocol& get_protocol() const noexcept override { return *protocol_; }
    EventLoop& get_loop() const noexcept override { return *loop_; }
    bool can_write_eof() const noexcept override { return true; }
    bool is_reading() const noexcept override { return !paused_ && !closing_; }
    std::size_t get_write_buffer_size() const noexcept override { return wbuf_.size() - woff_; }
    std::pair<std::size_t, std::size_t> get_write_buffer_limits() const noexcept override { return {low_, high_}; }

    void set_write_buffer_limits(std::optional<std::size_t> high, std::optional<std::size_t> low) override {
        std::size_t h = high ? *high : (low ? 4 * *low : kDefaultHigh);
        std::size_t l = low ? *low : h / 4;
        if (l > h) throw std::invalid_argument("high (" + std::to_string(h) + ") must be >= low (" + std::to_string(l) + ")");
        high_ = h;
        low_ = l;
        maybe_pause_protocol();
    }

    void write(std::string_view data) override {
        if (eof_) throw std::runtime_error("Cannot call write() after write_eof()");
        if (sendfile_ && !sendfile_writing_) throw std::runtime_error("unable to write; sendfile is in progress");
        if (data.empty()) return;
        if (conn_lost_) {
            // Dropping the data silently (asyncio) would hide that nothing can send it.
            if (loop_gone_) throw std::runtime_error("Event loop is closed");
            if (conn_lost_ >= 5) log(LogLevel::warning, "socket.send() raised exception.");
            ++conn_lost_;
            return;
        }
        if (get_write_buffer_size() == 0) {
            long n = detail::sys::send(fd_, data.data(), data.size(), 0);
            if (n < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                    fatal_error(make_os_error(errno, "Fatal write error on socket transport"));
                    return;
                }
                n = 0;
            }
            data.remove_prefix(static_cast<std::size_t>(n));
            if (data.empty()) return;
            loop_->watch_writer(fd_, [this] { write_ready(); });
        }
        wbuf_.append(data);
        maybe_pause_protocol();
    }

    void writelines(std::span<const std::string_view> parts) override {
        if (eof_) throw std::runtime_error("Cannot call writelines() after write_eof()");
        if (sendfile_) throw std::runtime_error("unable to write; sendfile is in progress");
        if (loop_gone_) throw std::runtime_error("Event loop is closed");
        if (conn_lost_ || get_write_buffer_size() != 0 || parts.size() > 64) {
            for (auto p : parts) write(p);
            return;
        }
        iovec iov[64];
        std::size_t total = 0;
        int cnt = 0;
        for (auto p : parts) {
            if (p.empty()) continue;
            iov[cnt].iov_base = const_cast<char*>(p.data());
            iov[cnt].iov_len = p.size();
            total += p.size();
            ++cnt;
        }
        if (total == 0) return;
        long n = detail::sys::writev(fd_, iov, cnt);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                fatal_error(make_os_error(errno, "Fatal write error on socket transport"));
                return;
            }
            n = 0;
        }
        std::size_t sent = static_cast<std::size_t>(n);
        if (sent == total) return;
        for (auto p : parts) {
            if (sent >= p.size()) {
                sent -= p.size();
                continue;
            }
            wbuf_.append(p.substr(sent));
            sent = 0;
        }
        loop_->watch_writer(fd_, [this] { write_ready(); });
        maybe_pause_protocol();
    }

    void write_eof() override {
        if (closing_ || eof_) return;
        eof_ = true;
        if (get_write_buffer_size() == 0) ::shutdown(fd_, SHUT_WR);
    }

    void pause_reading() override {
        if (closing_ || paused_) return;
        paused_ = true;
        if (reading_) {
            loop_->unwatch_reader(fd_);
            reading_ = false;
        }
    }
    void resume_reading() override {
        if (closing_ || !paused_) return;
        paused_ = false;
        add_reader();
    }

    void close() override {
        if (closing_) return;
        closing_ = true;
        remove_reader();
        if (sendfile_) return;  // sendfile_end() finishes the close once the file is sent
        if (get_write_buffer_size() == 0) {
            ++conn_lost_;
            loop_->call_soon([this] { call_connection_lost(nullptr); });
        }
    }

    void abort() override { force_close(nullptr); }

    // ---- sendfile (src/net/sendfile.cpp) ---------------------------------------
    int sendfile_socket() const noexcept override { return fd_; }
    void sendfile_begin() override {
        if (sendfile_) throw std::runtime_error("sendfile is already in progress on this transport");
        if (closing_) throw std::runtime_error("Transport is closing");
        sendfile_ = true;
        sendfile_resume_reading_ = is_reading();
        pause_reading();
    }
    Future<void> sendfile_wait_writable() override {
        Future<void> w = Future<void>::create(*loop_);
        if (conn_lost_) {
            w.set_exception(make_os_error(EPIPE, "sendfile: the connection is closed"));
            return w;
        }
        sendfile_waiter_ = w;
        // With data buffered the writer is registered already; write_ready
        // completes the waiter once the buffer is empty.
        if (get_write_buffer_size() == 0) loop_->watch_writer(fd_, [this] { write_ready(); });
        return w;
    }
    void sendfile_write(std::string_view data) override {
        if (conn_lost_) throw_os_error(EPIPE, "sendfile: the connection is closed");
        sendfile_writing_ = true;
        struct Reset {
            bool& flag;
            ~Reset() { flag = false; }
        } reset{sendfile_writing_};
        write(data);
    }
    void sendfile_end() noexcept override {
        if (!sendfile_) return;
        sendfile_ = false;
        sendfile_waiter_ = {};
        if (conn_lost_) return;
        if (get_write_buffer_size() == 0) loop_->unwatch_writer(fd_);
        if (closing_) {
            // close() was called meanwhile: finish it now.
            if (get_write_buffer_size() == 0) {
                ++conn_lost_;
                loop_->call_soon([this] { call_connection_lost(nullptr); });
            }
            return;
        }
        if (sendfile_resume_reading_) resume_reading();
    }
    void sendfile_writable() {
        loop_->unwatch_writer(fd_);
        if (sendfile_waiter_ && !sendfile_waiter_.done()) sendfile_waiter_.set_result();
        sendfile_waiter_ = {};
    }

    void close_for_server() { close(); }
    void abort_for_server() { abort(); }

private:
    void start() {
        if (conn_lost_) return;  // aborted before we started
        try {
            if (stream_proto_)
                stream_proto_->connection_made(*this);
            else
                buffered_proto_->connection_made(*this);
        } catch (...) {
            fatal_error(std::current_exception(), "Fatal error: protocol.connection_made() call failed.");
            return;
        }
        connected_ = true;
        if (!closing_ && !paused_) add_reader();
    }

    void add_reader() {
        if (reading_ || closing_ || conn_lost_) return;
        loop_->watch_reader(fd_, [this] { read_ready(); });
        reading_ = true;
    }
    void remove_reader() {
        if (!reading_) return;
        reading_ = false;
        loop_->unwatch_reader(fd_);
    }

    void read_ready() {
        if (conn_lost_) return;
        Ref<SocketTransport> keep(this);  // a protocol callback may drop the last user reference
        if (buffered_proto_) {
            std::span<char> buf;
            try {
                buf = buffered_proto_->get_buffer(static_cast<std::size_t>(-1));
                if (buf.empty()) throw std::runtime_error("get_buffer() returned an empty buffer");
            } catch (...) {
                fatal_error(std::current_exception(), "Fatal error: protocol.get_buffer() call failed.");
                return;
            }
            long n = detail::sys::recv(fd_, buf.data(), buf.size(), 0);
            if (n < 0) return read_error();
            if (n == 0) return on_eof();
            try {
                buffered_proto_->buffer_updated(static_cast<std::size_t>(n));
            } catch (...) {
                fatal_error(std::current_exception(), "Fatal error: protocol.buffer_updated() call failed.");
            }
            return;
        }
        char* buf = read_buffer();
        long n = detail::sys::recv(fd_, buf, kMaxRead, 0);
        if (n < 0) return read_error();
        if (n == 0) return on_eof();
        try {
            stream_proto_->data_received(std::string_view(buf, static_cast<std::size_t>(n)));
        } catch (...) {
            fatal_error(std::current_exception(), "Fatal error: protocol.data_received() call failed.");
        }
    }

    void read_error() {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        fatal_error(make_os_error(errno, "Fatal read error on socket transport"));
    }

    void on_eof() {
        bool keep_open = false;
        try {
            keep_open = stream_proto_ ? stream_proto_->eof_received() : buffered_proto_->eof_received();
        } catch (...) {
            fatal_error(std::current_exception(), "Fatal error: protocol.eof_received() call failed.");
            return;
        }
        if (keep_open)
            remove_reader();  // half-closed: we may still write
        else
            close();
    }

    void write_ready() {
        if (conn_lost_) return;
        std::size_t pending = get_write_buffer_size();
        if (sendfile_ && pending == 0) return sendfile_writable();
        long n = detail::sys::send(fd_, wbuf_.data() + woff_, pending, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
            int err = errno;
            loop_->unwatch_writer(fd_);
            wbuf_.clear();
            woff_ = 0;
            fatal_error(make_os_error(err, "Fatal write error on socket transport"));
            return;
        }
        woff_ += static_cast<std::size_t>(n);
        if (woff_ == wbuf_.size()) {
            wbuf_.clear();
            woff_ = 0;
        } else if (woff_ > 64 * 1024 && woff_ * 2 > wbuf_.size()) {
            wbuf_.erase(0, woff_);  // compact: keep the buffer from growing without bound
            woff_ = 0;
        }
        maybe_resume_protocol();  // may write more, or close/abort the transport
        // A protocol that closed (with the buffer empty) or aborted us from
        // resume_writing has already had connection_lost scheduled; calling
        // it here too would drop the loop's reference while that callback
        // still points at us (use after free).
        if (conn_lost_) return;
        if (sendfile_ && get_write_buffer_size() == 0) return sendfile_writable();
        if (get_write_buffer_size() == 0) {
            loop_->unwatch_writer(fd_);
            if (closing_) {
                call_connection_lost(nullptr);
            } else if (eof_) {
                ::shutdown(fd_, SHUT_WR);
            }
        }
    }

    void maybe_pause_protocol() {
        if (get_write_buffer_size() <= high_ || protocol_paused_) return;
        protocol_paused_ = true;
        try {
            protocol_->pause_writing();
        } catch (...) {
            loop_->call_exception_handler({"protocol.pause_writing() failed", std::current_exception(), "transport", {}});
        }
    }
    void maybe_resume_protocol() {
        if (!protocol_paused_ || get_write_buffer_size() > low_) return;
        protocol_paused_ = false;
        try {
            protocol_->resume_writing();
        } catch (...) {
            loop_->call_exception_handler({"protocol.resume_writing() failed", std::current_exception(), "transport", {}});
        }
    }

    void fatal_error(std::exception_ptr exc, const char* message = "Fatal error on transport") {
        // Connection errors are the peer's business: debug log only (asyncio does the same).
        bool os_error = false;
        try {
            std::rethrow_exception(exc);
        } catch (const std::system_error&) {
            os_error = true;
        } catch (...) {
        }
        if (!os_error) loop_->call_exception_handler({message, exc, "socket transport", {}});
        else if (loop_->get_debug()) log(LogLevel::debug, std::string(message) + ": " + describe_exception(exc));
        force_close(exc);
    }

    void force_close(std::exception_ptr exc) {
        if (conn_lost_) return;
        if (sendfile_waiter_ && !sendfile_waiter_.done())
            sendfile_waiter_.set_exception(exc ? exc : make_os_error(EPIPE, "sendfile: the connection is closed"));
        sendfile_waiter_ = {};
        if (get_write_buffer_size()) {
            wbuf_.clear();
            woff_ = 0;
            loop_->unwatch_writer(fd_);
        }
        if (!closing_) {
            closing_ = true;
            remove_reader();
        }
        ++conn_lost_;
        loop_->call_soon([this, exc] { call_connection_lost(exc); });
    }

    // The loop closes with this connection open (asyncio leaves it to the GC
    // with a ResourceWarning; here nothing may leak or dangle): drop what is
    // buffered, run connection_lost now if connection_made ran (it is the
    // protocol's one chance to release what it holds, e.g. a Ref to us), close
    // the socket and release the loop's reference. From then on nothing
    // touches the loop: write() throws, close()/abort() are no-ops.
    void on_loop_close() noexcept override {
        if (lost_called_) return;
        Ref<SocketTransport> keep(this);
        wbuf_.clear();
        woff_ = 0;
        closing_ = true;
        ++conn_lost_;
        call_connection_lost(std::make_exception_ptr(std::runtime_error("Event loop is closed")));
        loop_gone_ = true;
    }

    void call_connection_lost(std::exception_ptr exc) {
        if (lost_called_) return;
        lost_called_ = true;
        unlink_from_loop();
        if (connected_) {
            try {
                protocol_->connection_lost(exc);
            } catch (...) {
                loop_->call_exception_handler(
                    {"Exception in protocol.connection_lost()", std::current_exception(), "socket transport", {}});
            }
        }
        if (!loop_->is_closed()) {
            loop_->unwatch_reader(fd_);
            loop_->unwatch_writer(fd_);
            loop_->set_fd_owner(fd_, nullptr);
        }
        sock_.close();
        if (server_) {
            Ref<detail::ServerCore> s = std::move(server_);
            s->detach(this);  // may wake wait_closed(); s keeps the core alive until here
        }
        decref();  // the loop's reference
    }

    friend class detail::ServerCore;
    EventLoop* loop_;
    Socket sock_;
    int fd_ = -1;
    std::unique_ptr<BaseProtocol> protocol_;
    Protocol* stream_proto_ = nullptr;
    BufferedProtocol* buffered_proto_ = nullptr;
    // A reference, as asyncio's transports hold their server (_attach/_detach):
    // the user may close and drop the Server while this connection lives.
    Ref<detail::ServerCore> server_;
    SocketAddress peer_, local_;
    std::string wbuf_;
    std::size_t woff_ = 0;
    std::size_t high_ = kDefaultHigh;
    std::size_t low_ = kDefaultHigh / 4;
    int conn_lost_ = 0;
    bool closing_ = false;
    bool eof_ = false;
    bool paused_ = false;
    bool reading_ = false;
    bool connected_ = false;
    bool lost_called_ = false;
    bool protocol_paused_ = false;
    bool loop_gone_ = false;  // the loop closed while we were open
    // sendfile(): in progress (user writes refused, close deferred), writing
    // its fallback's data, whether to resume reading at the end, its waiter.
    bool sendfile_ = false;
    bool sendfile_writing_ = false;
    bool sendfile_resume_reading_ = false;
    Future<void> sendfile_waiter_;
};

}  // namespace

Ref<Transport> make_socket_transport(EventLoop& loop, Socket sock, std::unique_ptr<BaseProtocol> protocol,
                                     detail::ServerCore* server) {
    if (!sock) throw std::invalid_argument("make_socket_transport: the socket is closed");
    return Ref<Transport>(new SocketTransport(loop, std::move(sock), std::move(protocol), server));
}

}  // namespace tulip
