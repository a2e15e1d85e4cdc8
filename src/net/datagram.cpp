// The UDP transport, ported from asyncio's _SelectorDatagramTransport.
#include <tulip/net/datagram.hpp>

#include <cerrno>
#include <deque>

#include <tulip/core/exceptions.hpp>
#include <tulip/loop/event_loop.hpp>
#include <tulip/net/sock_ops.hpp>
#include <tulip/task/sleep.hpp>

#include "../core/sys.hpp"

namespace tulip {

namespace {

constexpr std::size_t kMaxDatagram = 256 * 1024;

class UdpTransport final : public DatagramTransport, private detail::LoopClosable, private detail::FdOwner {
public:
    UdpTransport(EventLoop& loop, Socket sock, std::unique_ptr<DatagramProtocol> protocol,
                 std::optional<SocketAddress> peer, bool peer_connected)
        : loop_(&loop), sock_(std::move(sock)), protocol_(std::move(protocol)), peer_(std::move(peer)),
          peer_connected_(peer_ && peer_connected) {
        fd_ = sock_.fileno();
        try {
            local_ = sock_.getsockname();
        } catch (...) {
        }
        incref();  // the loop's reference, dropped after connection_lost
        link_to_loop(loop);  // a loop closed first force-closes us (on_loop_close)
        loop_->set_fd_owner(fd_, this);  // add_reader(fd) & co. refuse it while we are open
        loop_->call_soon([this] { start(); });
    }

    std::any get_extra_info(std::string_view name) const override {
        if (name == "peername") return peer_connected_ ? std::any(*peer_) : std::any();
        if (name == "sockname") return local_;
        if (name == "socket") return sock_ ? fd_ : -1;
        return {};
    }
    bool is_closing() const noexcept override { return closing_; }
    std::string fd_owner_name() const override {
        return "<UdpTransport fd=" + std::to_string(fd_) + (closing_ ? " closing>" : ">");
    }
    bool fd_owner_closing() const noexcept override { return closing_; }
    BaseProtocol& get_protocol() const noexcept override { return *protocol_; }
    EventLoop& get_loop() const noexcept override { return *loop_; }
    std::size_t get_write_buffer_size() const noexcept override { return buffered_; }

    void sendto(std::string_view data, const SocketAddress* addr) override {
        if (addr && peer_ && !(*addr == *peer_))
            throw std::invalid_argument("Invalid address: must be None or " + peer_->to_string());
        if (!addr && !peer_) throw std::invalid_argument("sendto(): no address given and the endpoint is not connected");
        // A remote_addr that was not connected (allow_broadcast) is where
        // sendto() without an address goes, as asyncio's _address.
        if (!addr && !peer_connected_) addr = &*peer_;
        if (conn_lost_) {
            if (loop_gone_) throw std::runtime_error("Event loop is closed");
            ++conn_lost_;
            return;
        }
        if (queue_.empty()) {
            long n = peer_connected_ ? detail::sys::send(fd_, data.data(), data.size(), 0)
                           : detail::sys::sendto(fd_, data.data(), data.size(), 0, addr->data(), addr->size());
            if (n >= 0) return;
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                report(make_os_error(errno, "sendto"));
                return;
            }
            loop_->watch_writer(fd_, [this] { write_ready(); });
        }
        queue_.push_back({std::string(data), addr ? std::optional<SocketAddress>(*addr) : std::nullopt});
        buffered_ += data.size();
    }

    void close() override {
        if (closing_) return;
        closing_ = true;
        if (reading_) loop_->unwatch_reader(fd_);
        reading_ = false;
        if (queue_.empty()) {
            ++conn_lost_;
            loop_->call_soon([this] { call_connection_lost(nullptr); });
        }
    }
    void abort() override { force_close(nullptr); }

private:
    struct Pending {
        std::string data;
        std::optional<SocketAddress> addr;
    };

    void start() {
        if (conn_lost_) return;
        try {
            protocol_->connection_made(*this);
        } catch (...) {
            loop_->call_exception_handler({"Fatal error: protocol.connection_made() call failed.",
                                           std::current_exception(), "datagram transport", {}});
            force_close(std::current_exception());
            return;
        }
        connected_ = true;
        if (!closing_) {
            loop_->watch_reader(fd_, [this] { read_ready(); });
            reading_ = true;
        }
    }

    void read_ready() {
        if (conn_lost_) return;
        Ref<UdpTransport> keep(this);
        static thread_local std::unique_ptr<char[]> buf(new char[kMaxDatagram]);
        SocketAddress from;
        unsigned len = SocketAddress::capacity();
        long n = detail::sys::recvfrom(fd_, buf.get(), kMaxDatagram, 0, from.data(), &len);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
            report(make_os_error(errno, "recvfrom"));
            return;
        }
        from.set_size(len);
        try {
            protocol_->datagram_received(std::string_view(buf.get(), static_cast<std::size_t>(n)), from);
        } catch (...) {
            loop_->call_exception_handler({"Fatal error: protocol.datagram_received() call failed.",
                                           std::current_exception(), "datagram transport", {}});
            force_close(std::current_exception());
        }
    }

    void write_ready() {
        while (!queue_.empty()) {
            auto& p = queue_.front();
            long n = p.addr ? detail::sys::sendto(fd_, p.data.data(), p.data.size(), 0, p.addr->data(), p.addr->size())
                            : detail::sys::send(fd_, p.data.data(), p.data.size(), 0);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
                report(make_os_error(errno, "sendto"));
                // error_received may have aborted us: the queue (and `p`) is
                // gone and connection_lost is scheduled; touch nothing more.
                if (conn_lost_) return;
            }
            buffered_ -= p.data.size();
            queue_.pop_front();
        }
        loop_->unwatch_writer(fd_);
        if (closing_) call_connection_lost(nullptr);
    }

    // Datagram errors are reported, not fatal (asyncio: error_received).
    void report(std::exception_ptr e) {
        try {
            protocol_->error_received(e);
        } catch (...) {
            loop_->call_exception_handler({"protocol.error_received() failed", std::current_exception(), "datagram transport", {}});
        }
    }

    void force_close(std::exception_ptr exc) {
        if (conn_lost_) return;
        if (!queue_.empty()) {
            queue_.clear();
            buffered_ = 0;
            loop_->unwatch_writer(fd_);
        }
        if (!closing_) {
            closing_ = true;
            if (reading_) loop_->unwatch_reader(fd_);
            reading_ = false;
        }
        ++conn_lost_;
        loop_->call_soon([this, exc] { call_connection_lost(exc); });
    }

    // The loop closes with this endpoint open: as the stream transport's
    // (socket_transport.cpp): connection_lost now, socket closed, the loop's
    // reference released; sendto() then throws, close()/abort() are no-ops.
    void on_loop_close() noexcept override {
        if (lost_called_) return;
        Ref<UdpTransport> keep(this);
        queue_.clear();
        buffered_ = 0;
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
                loop_->call_exception_handler({"Exception in protocol.connection_lost()", std::current_exception(), "datagram transport", {}});
            }
        }
        if (!loop_->is_closed()) {
            loop_->unwatch_reader(fd_);
            loop_->unwatch_writer(fd_);
            loop_->set_fd_owner(fd_, nullptr);
        }
        sock_.close();
        decref();
    }

    EventLoop* loop_;
    Socket sock_;
    int fd_ = -1;
    std::unique_ptr<DatagramProtocol> protocol_;
    std::optional<SocketAddress> peer_;
    bool peer_connected_ = false;  // peer_ is the socket's connected peer (else only a default address)
    SocketAddress local_;
    std::deque<Pending> queue_;
    std::size_t buffered_ = 0;
    int conn_lost_ = 0;
    bool closing_ = false;
    bool reading_ = false;
    bool connected_ = false;
    bool lost_called_ = false;
    bool loop_gone_ = false;  // the loop closed while we were open
};

}  // namespace

namespace detail {

Ref<DatagramTransport> make_datagram_transport(EventLoop& loop, Socket sock, std::unique_ptr<DatagramProtocol> protocol,
                                               std::optional<SocketAddress> peer, bool peer_connected) {
    return Ref<DatagramTransport>(
        new UdpTransport(loop, std::move(sock), std::move(protocol), std::move(peer), peer_connected));
}

Coro<Ref<DatagramTransport>> datagram_endpoint_from_socket(std::unique_ptr<DatagramProtocol> protocol, Socket sock) {
    EventLoop& loop = get_running_loop();
    if (!sock) throw std::invalid_argument("create_datagram_endpoint: the socket is closed");
    if (sock.type() != SOCK_DGRAM)
        throw std::invalid_argument("create_datagram_endpoint: A datagram socket was expected, got a socket of type " +
                                    std::to_string(sock.type()));
    std::optional<SocketAddress> peer;
    try {
        peer = sock.getpeername();  // a connected socket keeps its peer
    } catch (const std::system_error&) {
    }
    Ref<DatagramTransport> t = make_datagram_transport(loop, std::move(sock), std::move(protocol), peer);
    co_await sleep(0);  // connection_made runs first, as in datagram_endpoint_impl
    co_return t;
}

Coro<Ref<DatagramTransport>> datagram_endpoint_impl(std::unique_ptr<DatagramProtocol> protocol,
                                                    DatagramOptions options) {
    EventLoop& loop = get_running_loop();
    int family = options.local_addr ? options.local_addr->family() : options.remote_addr->family();
    if (options.local_addr && options.remote_addr && options.local_addr->family() != options.remote_addr->family())
        throw std::invalid_argument("local_addr and remote_addr have different address families");
    if (family == AF_UNIX && options.local_addr) remove_stale_unix_socket(options.local_addr->path());
    Socket s = Socket::create(family, SOCK_DGRAM);
    if (options.reuse_port) s.set_reuse_port(true);
    if (options.allow_broadcast) s.setsockopt(SOL_SOCKET, SO_BROADCAST, 1);
    if (options.local_addr) s.bind(*options.local_addr);
    // With allow_broadcast the socket is not connected (it may send to a
    // broadcast address); remote_addr is then only sendto()'s default.
    bool connect = options.remote_addr && !options.allow_broadcast;
    if (connect) co_await sock_connect(s, *options.remote_addr);
    Ref<DatagramTransport> t =
        make_datagram_transport(loop, std::move(s), std::move(protocol), options.remote_addr, connect);
    co_await sleep(0);  // let connection_made run first, as asyncio's waiter does
    co_return t;
}

}  // namespace detail

}  // namespace tulip
