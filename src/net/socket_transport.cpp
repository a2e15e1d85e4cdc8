// The stream socket transport, ported from asyncio's _SelectorSocketTransport.
//
// Life cycle: constructed -> connection_made (call_soon) -> reading
// (persistent EPOLLIN while not paused) -> closing (close(): no more reads;
// the write buffer drains, then connection_lost) or force-closed (abort() or a
// fatal error: buffer dropped) -> connection_lost(exc) runs exactly once ->
// the socket is closed and the loop's self-reference dropped.
//
// The life cycle, flow control and the write buffer are detail::SelectorTransport's
// (selector_transport.hpp); this file has the reads, writes, EOF and sendfile.
// Reads go through one per-thread 256 KiB buffer (asyncio's max_size), so an
// idle connection costs no read buffer. Writes are tried at once; what the
// kernel does not take waits in a contiguous buffer drained on EPOLLOUT.
#include <tulip/net/socket_transport.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include <tulip/core/exceptions.hpp>
#include <tulip/loop/loop_access.hpp>
#include <tulip/net/sendfile.hpp>
#include <tulip/net/server.hpp>

#include "../core/sys.hpp"
#include "selector_transport.hpp"

namespace tulip {

namespace {

class SocketTransport final : public detail::SelectorTransport<Transport>, public detail::SendfileTransport {
    using Base = detail::SelectorTransport<Transport>;

public:
    SocketTransport(EventLoop& loop, Socket sock, std::unique_ptr<BaseProtocol> protocol, detail::ServerCore* server)
        : Base(loop, sock.fileno(), std::move(protocol), "SocketTransport", "socket transport"), server_(server) {
        accept_protocol(*protocol_);
        // asyncio's _SelectorSocketTransport disables Nagle on every TCP
        // transport, including ones made from a caller's socket (sock=).
        try {
            sock.set_nodelay(true);
        } catch (...) {}
        try {
            peer_ = sock.getpeername();
        } catch (...) {}
        try {
            local_ = sock.getsockname();
        } catch (...) {}
        // On io_uring the loop receives for us (no recv() per read). The
        // socket is a stream one: the server accepts those, create_connection
        // (sock=) checks it.
        receive_ = detail::LoopAccess::can_receive(loop);
        // attach and begin may throw (bad_alloc): `sock` then still closes the fd.
        if (server_) server_->attach(this);
        try {
            begin();
        } catch (...) {
            if (server_) server_->detach(this);
            throw;
        }
        (void)sock.detach();  // ours from here on: closed after connection_lost
    }

    // ---- Transport ----------------------------------------------------------
    std::any get_extra_info(std::string_view name) const override {
        if (name == "peername") return peer_;
        if (name == "sockname") return local_;
        if (name == "socket") return fd_open() ? fd_ : -1;
        return {};
    }
    bool can_write_eof() const noexcept override { return true; }
    void pause_reading() override { pause_reading_impl(); }
    void resume_reading() override { resume_reading_impl(); }
    bool is_reading() const noexcept override { return is_reading_impl(); }

    void write(std::string_view data) override {
        if (eof_) throw std::runtime_error("Cannot call write() after write_eof()");
        if (sendfile_ && !sendfile_writing_) throw std::runtime_error("unable to write; sendfile is in progress");
        if (data.empty()) return;
        if (conn_lost_) {
            // Dropping the data silently (asyncio) would hide that nothing can send it.
            if (loop_gone_) throw std::runtime_error("Event loop is closed");
            if (conn_lost_ >= detail::kLogThresholdConnLost) log(LogLevel::warning, "socket.send() raised exception.");
            ++conn_lost_;
            return;
        }
        send_or_buffer(
            data, [this](std::string_view d) { return detail::sys::send(fd_, d.data(), d.size(), 0); },
            [this] { write_ready(); }, "Fatal write error on socket transport");
    }

    void writelines(std::span<const std::string_view> parts) override {
        if (eof_) throw std::runtime_error("Cannot call writelines() after write_eof()");
        if (sendfile_) throw std::runtime_error("unable to write; sendfile is in progress");
        if (loop_gone_) throw std::runtime_error("Event loop is closed");
        if (conn_lost_ || buffered() != 0 || parts.size() > 64) {
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
            buffer_append(p.substr(sent));
            sent = 0;
        }
        detail::LoopAccess::watch_writer(*loop_, fd_, [this] { write_ready(); });
        maybe_pause_protocol();
    }

    void write_eof() override {
        if (closing_ || eof_) return;
        eof_ = true;
        if (buffered() == 0) ::shutdown(fd_, SHUT_WR);
    }

    void close() override {
        if (sendfile_ && !closing_) {
            // sendfile_end() finishes the close once the file is sent.
            closing_ = true;
            remove_reader();
            return;
        }
        Base::close();
    }

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
        if (buffered() == 0) detail::LoopAccess::watch_writer(*loop_, fd_, [this] { write_ready(); });
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
        if (buffered() == 0) remove_writer();
        if (closing_) {
            // close() was called meanwhile: finish it now.
            if (buffered() == 0) {
                ++conn_lost_;
                schedule_connection_lost(nullptr);
            }
            return;
        }
        if (sendfile_resume_reading_) resume_reading();
    }
    void sendfile_writable() {
        remove_writer();
        if (sendfile_waiter_ && !sendfile_waiter_.done()) sendfile_waiter_.set_result();
        sendfile_waiter_ = {};
    }

private:
    // ---- SelectorTransport hooks -------------------------------------------------
    void accept_protocol(BaseProtocol& p) override {
        auto* s = dynamic_cast<Protocol*>(&p);
        auto* b = dynamic_cast<BufferedProtocol*>(&p);
        if (!s && !b) throw std::invalid_argument("a stream transport needs a Protocol or a BufferedProtocol");
        stream_proto_ = s;
        buffered_proto_ = b;
    }
    void call_connection_made() override {
        if (stream_proto_)
            stream_proto_->connection_made(*this);
        else
            buffered_proto_->connection_made(*this);
    }
    void start_reading() override {
        if (receive_)
            watch_receive([this] { take_received(); });
        else
            watch_read([this] { read_ready(); });
    }
    void on_force_close(std::exception_ptr exc) override {
        if (sendfile_waiter_ && !sendfile_waiter_.done())
            sendfile_waiter_.set_exception(exc ? exc : make_os_error(EPIPE, "sendfile: the connection is closed"));
        sendfile_waiter_ = {};
    }
    void on_closed() noexcept override {
        if (server_) {
            Ref<detail::ServerCore> s = std::move(server_);
            s->detach(this);  // may wake wait_closed(); s keeps the core alive until here
        }
    }

    // A BufferedProtocol's buffer (asyncio asks with -1: any size); empty
    // when get_buffer failed or gave none, the transport closing then.
    std::span<char> protocol_buffer() {
        try {
            std::span<char> buf = buffered_proto_->get_buffer(static_cast<std::size_t>(-1));
            if (buf.empty()) throw std::runtime_error("get_buffer() returned an empty buffer");
            return buf;
        } catch (...) {
            fatal_error(std::current_exception(), "Fatal error: protocol.get_buffer() call failed.");
            return {};
        }
    }

    void read_ready() {
        if (conn_lost_) return;
        Ref<SocketTransport> keep(this);  // a protocol callback may drop the last user reference
        if (buffered_proto_) {
            std::span<char> buf = protocol_buffer();
            if (buf.empty()) return;
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
        char* buf = detail::transport_read_buffer();
        long n = detail::sys::recv(fd_, buf, detail::kMaxReadSize, 0);
        if (n < 0) return read_error();
        if (n == 0) return on_eof();
        try {
            stream_proto_->data_received(std::string_view(buf, static_cast<std::size_t>(n)));
        } catch (...) {
            fatal_error(std::current_exception(), "Fatal error: protocol.data_received() call failed.");
        }
    }

    // The completion-based read_ready: what the loop received, chunk by chunk,
    // until none is left or the protocol pauses or closes us. Nothing is
    // delivered after pause_reading: the rest of a chunk waits in the loop.
    void take_received() {
        if (conn_lost_) return;
        Ref<SocketTransport> keep(this);
        detail::Received r;
        while (!conn_lost_ && reading_ && detail::LoopAccess::next_received(*loop_, fd_, r)) {
            // The fault seam (src/core/sys) reaches this path too: an
            // injected EAGAIN/EINTR leaves the chunk for the next iteration.
            if (int err = detail::sys::injected("recv")) {
                if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) {
                    detail::LoopAccess::unreceive(*loop_, fd_, 0);
                    return;
                }
                detail::LoopAccess::release_received(*loop_, r);
                errno = err;
                return read_error();
            }
            if (r.res <= 0) {
                if (r.res == 0) return on_eof();
                errno = -r.res;
                return read_error();
            }
            std::size_t taken = deliver(r.data, r.size);
            if (taken < r.size && !conn_lost_) {
                detail::LoopAccess::unreceive(*loop_, fd_, taken);
                return;
            }
            detail::LoopAccess::release_received(*loop_, r);
        }
    }

    // Hands received bytes to the protocol; returns how many it took (fewer
    // than size when a BufferedProtocol paused reading half-way through, or a
    // callback failed: the transport is closing then).
    std::size_t deliver(const char* data, std::size_t size) {
        if (stream_proto_) {
            try {
                stream_proto_->data_received(std::string_view(data, size));
            } catch (...) {
                fatal_error(std::current_exception(), "Fatal error: protocol.data_received() call failed.");
            }
            return size;
        }
        std::size_t done = 0;
        while (done < size && reading_ && !conn_lost_) {
            std::span<char> buf = protocol_buffer();
            if (buf.empty()) return done;
            std::size_t n = std::min(buf.size(), size - done);
            std::memcpy(buf.data(), data + done, n);
            done += n;
            try {
                buffered_proto_->buffer_updated(n);
            } catch (...) {
                fatal_error(std::current_exception(), "Fatal error: protocol.buffer_updated() call failed.");
                return done;
            }
        }
        return done;
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
        std::size_t pending = buffered();
        if (sendfile_ && pending == 0) return sendfile_writable();
        long n = detail::sys::send(fd_, buffer_data(), pending, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
            fatal_error(make_os_error(errno, "Fatal write error on socket transport"));  // drops the buffer
            return;
        }
        buffer_consume(static_cast<std::size_t>(n));
        maybe_resume_protocol();  // may write more, or close/abort the transport
        // A protocol that closed (with the buffer empty) or aborted us from
        // resume_writing has already had connection_lost scheduled; calling
        // it here too would drop the loop's reference while that callback
        // still points at us (use after free).
        if (conn_lost_) return;
        if (sendfile_ && buffered() == 0) return sendfile_writable();
        if (buffered() == 0) {
            remove_writer();
            if (closing_) {
                call_connection_lost(nullptr);
            } else if (eof_) {
                ::shutdown(fd_, SHUT_WR);
            }
        }
    }

    Protocol* stream_proto_ = nullptr;
    BufferedProtocol* buffered_proto_ = nullptr;
    // A reference, as asyncio's transports hold their server (_attach/_detach):
    // the user may close and drop the Server while this connection lives.
    Ref<detail::ServerCore> server_;
    SocketAddress peer_, local_;
    bool eof_ = false;
    // sendfile(): in progress (user writes refused, close deferred), writing
    // its fallback's data, whether to resume reading at the end, its waiter.
    bool sendfile_ = false;
    bool sendfile_writing_ = false;
    bool sendfile_resume_reading_ = false;
    bool receive_ = false;  // the loop receives for us (io_uring): take_received
    Future<void> sendfile_waiter_;
};

}  // namespace

Ref<Transport> make_socket_transport(EventLoop& loop, Socket sock, std::unique_ptr<BaseProtocol> protocol,
                                     detail::ServerCore* server) {
    if (!sock) throw std::invalid_argument("make_socket_transport: the socket is closed");
    return Ref<Transport>(new SocketTransport(loop, std::move(sock), std::move(protocol), server));
}

}  // namespace tulip
