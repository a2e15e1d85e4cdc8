// The UDP transport, ported from asyncio's _SelectorDatagramTransport. The
// life cycle and flow control are detail::SelectorTransport's
// (selector_transport.hpp); datagrams the kernel refuses wait in a queue.
#include <tulip/net/datagram.hpp>

#include <cerrno>
#include <deque>

#include <tulip/core/exceptions.hpp>
#include <tulip/loop/event_loop.hpp>
#include <tulip/loop/loop_access.hpp>
#include <tulip/net/sock_ops.hpp>
#include <tulip/task/sleep.hpp>

#include "../core/sys.hpp"
#include "selector_transport.hpp"

namespace tulip {

namespace {

// asyncio 3.13's _SelectorDatagramTransport._header_size: what each queued
// datagram costs on top of its payload, in get_write_buffer_size().
constexpr std::size_t kDatagramHeader = 8;

class UdpTransport final : public detail::SelectorTransport<DatagramTransport> {
    using Base = detail::SelectorTransport<DatagramTransport>;

public:
    UdpTransport(EventLoop& loop, Socket sock, std::unique_ptr<DatagramProtocol> protocol,
                 std::optional<SocketAddress> peer, bool peer_connected)
        : Base(loop, sock.fileno(), std::move(protocol), "UdpTransport", "datagram transport"), peer_(std::move(peer)),
          peer_connected_(peer_ && peer_connected) {
        accept_protocol(*protocol_);
        try {
            local_ = sock.getsockname();
        } catch (...) {}
        begin();              // may throw (bad_alloc): `sock` then still closes the fd
        (void)sock.detach();  // ours from here on: closed after connection_lost
    }

    void accept_protocol(BaseProtocol& p) override {
        auto* d = dynamic_cast<DatagramProtocol*>(&p);
        if (!d) throw std::invalid_argument("a datagram transport needs a DatagramProtocol");
        proto_ = d;
    }

    std::any get_extra_info(std::string_view name) const override {
        if (name == "peername") return peer_connected_ ? std::any(*peer_) : std::any();
        if (name == "sockname") return local_;
        if (name == "socket") return fd_open() ? fd_ : -1;
        return {};
    }
    std::size_t get_write_buffer_size() const noexcept override { return queued_; }

    void sendto(std::string_view data, const SocketAddress* addr) override {
        if (addr && peer_ && !(*addr == *peer_))
            throw std::invalid_argument("Invalid address: must be None or " + peer_->to_string());
        if (!addr && !peer_)
            throw std::invalid_argument("sendto(): no address given and the endpoint is not connected");
        // A remote_addr that was not connected (allow_broadcast) is where
        // sendto() without an address goes, as asyncio's _address.
        if (!addr && !peer_connected_) addr = &*peer_;
        if (conn_lost_) {
            if (loop_gone_) throw std::runtime_error("Event loop is closed");
            ++conn_lost_;
            return;
        }
        if (queue_.empty()) {
            long n = peer_connected_
                         ? detail::sys::send(fd_, data.data(), data.size(), 0)
                         : detail::sys::sendto(fd_, data.data(), data.size(), 0, addr->data(), addr->size());
            if (n >= 0) return;
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                report(make_os_error(errno, "sendto"));
                return;
            }
            detail::LoopAccess::watch_writer(*loop_, fd_, [this] { write_ready(); });
        }
        queue_.push_back({std::string(data), addr ? std::optional<SocketAddress>(*addr) : std::nullopt});
        queued_ += data.size() + kDatagramHeader;
        maybe_pause_protocol();
    }

private:
    struct Pending {
        std::string data;
        std::optional<SocketAddress> addr;
    };

    // ---- SelectorTransport hooks -------------------------------------------------
    void call_connection_made() override { proto_->connection_made(*this); }
    void start_reading() override {
        watch_read([this] { read_ready(); });
    }
    void clear_write_buffer() noexcept override {
        queue_.clear();
        queued_ = 0;
    }

    void read_ready() {
        if (conn_lost_) return;
        Ref<UdpTransport> keep(this);
        char* buf = detail::transport_read_buffer();
        SocketAddress from;
        unsigned len = SocketAddress::capacity();
        long n = detail::sys::recvfrom(fd_, buf, detail::kMaxReadSize, 0, from.data(), &len);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
            report(make_os_error(errno, "recvfrom"));
            return;
        }
        from.set_size(len);
        try {
            proto_->datagram_received(std::string_view(buf, static_cast<std::size_t>(n)), from);
        } catch (...) {
            fatal_error(std::current_exception(), "Fatal error: protocol.datagram_received() call failed.");
        }
    }

    void write_ready() {
        Ref<UdpTransport> keep(this);  // resume_writing may drop the last user reference
        while (!queue_.empty()) {
            auto& p = queue_.front();
            long n = p.addr ? detail::sys::sendto(fd_, p.data.data(), p.data.size(), 0, p.addr->data(), p.addr->size())
                            : detail::sys::send(fd_, p.data.data(), p.data.size(), 0);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
                report(make_os_error(errno, "sendto"));
                // error_received may have aborted us: the queue (and `p`) is
                // gone and connection_lost is scheduled; touch nothing more.
                if (lost_scheduled_) return;
            }
            queued_ -= p.data.size() + kDatagramHeader;
            queue_.pop_front();
        }
        maybe_resume_protocol();  // may send more (the queue grows), or close/abort us
        if (!queue_.empty()) return;
        // Aborted from resume_writing, or closed with the queue empty:
        // connection_lost is scheduled already.
        if (conn_lost_) return;
        remove_writer();
        if (closing_) call_connection_lost(nullptr);
    }

    // Datagram errors are reported, not fatal (asyncio: error_received).
    void report(std::exception_ptr e) {
        try {
            proto_->error_received(e);
        } catch (...) {
            report_callback_error("protocol.error_received() failed", std::current_exception());
        }
    }

    DatagramProtocol* proto_ = nullptr;
    std::optional<SocketAddress> peer_;
    bool peer_connected_ = false;  // peer_ is the socket's connected peer (else only a default address)
    SocketAddress local_;
    std::deque<Pending> queue_;
    std::size_t queued_ = 0;  // payloads + kDatagramHeader each
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
    } catch (const std::system_error&) {}
    Ref<DatagramTransport> t = make_datagram_transport(loop, std::move(sock), std::move(protocol), peer);
    try {
        co_await sleep(0);  // connection_made runs first, as in datagram_endpoint_impl
    } catch (...) {
        t->close();  // cancelled: nobody else would ever close it
        throw;
    }
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
    try {
        co_await sleep(0);  // let connection_made run first, as asyncio's waiter does
    } catch (...) {
        t->close();  // cancelled: nobody else would ever close it (asyncio closes it too)
        throw;
    }
    co_return t;
}

}  // namespace detail

}  // namespace tulip
