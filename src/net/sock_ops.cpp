// The sock_* operations: try the syscall, wait for readiness only on EAGAIN.
#include <tulip/net/sock_ops.hpp>

#include <fcntl.h>

#include <cerrno>

#include <tulip/core/exceptions.hpp>
#include <tulip/loop/loop_access.hpp>
#include <tulip/net/dns.hpp>
#include <tulip/task/future.hpp>

#include "../core/sys.hpp"

namespace tulip {

namespace {

// Parks the current task until fd is readable or writable. One-shot: the
// reader/writer is removed when it fires or when the wait is cancelled.
class FdReadyAwaiter final : detail::Cancellable {
public:
    FdReadyAwaiter(int fd, bool write) noexcept : fd_(fd), write_(write) {}
    FdReadyAwaiter(const FdReadyAwaiter&) = delete;
    ~FdReadyAwaiter() { unregister(); }

    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
        detail::TaskBase& t = detail::current_task_for_await("wait for a socket");
        loop_ = t.fut->loop;
        if (write_)
            loop_->add_writer(fd_, [this] { on_ready(); });
        else
            loop_->add_reader(fd_, [this] { on_ready(); });
        registered_ = true;
        task_ = &t;
        t.resume_at = h;
        t.waiter = this;
        if (t.must_cancel && cancel(t.fut->cancel_message)) t.must_cancel = false;
    }
    void await_resume() {
        if (state_ == State::cancelled) {
            task_->must_cancel = false;
            throw CancelledError(msg_);
        }
        detail::check_pending_cancel(*task_);
    }
    bool cancel(const std::string& msg) override {
        if (state_ != State::pending) return false;
        state_ = State::cancelled;
        msg_ = msg;
        unregister();
        detail::LoopAccess::schedule(*loop_, task_);
        return true;
    }

private:
    enum class State { pending, ready, cancelled };
    void on_ready() {
        if (state_ != State::pending) return;
        state_ = State::ready;
        unregister();
        detail::LoopAccess::schedule(*loop_, task_);
    }
    void unregister() noexcept {
        if (!registered_) return;
        registered_ = false;
        if (loop_->is_closed()) return;
        // Unchecked: this runs from destructors and cancellation, and the
        // checks were made when the watcher was added.
        if (write_)
            detail::LoopAccess::unwatch_writer(*loop_, fd_);
        else
            detail::LoopAccess::unwatch_reader(*loop_, fd_);
    }
    int fd_;
    bool write_;
    bool registered_ = false;
    State state_ = State::pending;
    EventLoop* loop_ = nullptr;
    detail::TaskBase* task_ = nullptr;
    std::string msg_;
};

void check_socket(const Socket& s, const char* op) {
    if (!s) throw std::invalid_argument(std::string(op) + ": the socket is closed");
    // Debug mode, as asyncio's: a blocking socket would stall the whole loop
    // (the first syscall blocks instead of returning EAGAIN).
    EventLoop* loop = detail::running_loop();
    if (loop && loop->get_debug()) [[unlikely]] {
        int flags = ::fcntl(s.fileno(), F_GETFL);
        if (flags >= 0 && !(flags & O_NONBLOCK))
            throw std::invalid_argument(std::string(op) + ": the socket must be non-blocking");
    }
}

}  // namespace

Coro<void> wait_readable(int fd) { co_await FdReadyAwaiter(fd, false); }
Coro<void> wait_writable(int fd) { co_await FdReadyAwaiter(fd, true); }

Coro<std::string> sock_recv(Socket& sock, std::size_t n) {
    check_socket(sock, "sock_recv");
    std::string buf(n, '\0');
    for (;;) {
        long r = detail::sys::recv(sock.fileno(), buf.data(), n, 0);
        if (r >= 0) {
            buf.resize(static_cast<std::size_t>(r));
            co_return buf;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) throw_os_error(errno, "sock_recv");
        co_await FdReadyAwaiter(sock.fileno(), false);
    }
}

Coro<std::size_t> sock_recv_into(Socket& sock, std::span<char> buf) {
    check_socket(sock, "sock_recv_into");
    for (;;) {
        long r = detail::sys::recv(sock.fileno(), buf.data(), buf.size(), 0);
        if (r >= 0) co_return static_cast<std::size_t>(r);
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) throw_os_error(errno, "sock_recv_into");
        co_await FdReadyAwaiter(sock.fileno(), false);
    }
}

Coro<std::pair<std::string, SocketAddress>> sock_recvfrom(Socket& sock, std::size_t n) {
    check_socket(sock, "sock_recvfrom");
    std::string buf(n, '\0');
    for (;;) {
        SocketAddress from;
        unsigned len = SocketAddress::capacity();
        long r = detail::sys::recvfrom(sock.fileno(), buf.data(), n, 0, from.data(), &len);
        if (r >= 0) {
            buf.resize(static_cast<std::size_t>(r));
            from.set_size(len);
            co_return std::pair<std::string, SocketAddress>(std::move(buf), from);
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) throw_os_error(errno, "sock_recvfrom");
        co_await FdReadyAwaiter(sock.fileno(), false);
    }
}

Coro<std::pair<std::size_t, SocketAddress>> sock_recvfrom_into(Socket& sock, std::span<char> buf, std::size_t nbytes) {
    check_socket(sock, "sock_recvfrom_into");
    if (nbytes > buf.size()) throw std::invalid_argument("nbytes is greater than the length of the buffer");
    if (nbytes == 0) nbytes = buf.size();
    for (;;) {
        SocketAddress from;
        unsigned len = SocketAddress::capacity();
        long r = detail::sys::recvfrom(sock.fileno(), buf.data(), nbytes, 0, from.data(), &len);
        if (r >= 0) {
            from.set_size(len);
            co_return std::pair<std::size_t, SocketAddress>(static_cast<std::size_t>(r), from);
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) throw_os_error(errno, "sock_recvfrom_into");
        co_await FdReadyAwaiter(sock.fileno(), false);
    }
}

Coro<void> sock_sendall(Socket& sock, std::string data) {
    check_socket(sock, "sock_sendall");
    std::size_t off = 0;
    while (off < data.size()) {
        long r = detail::sys::send(sock.fileno(), data.data() + off, data.size() - off, 0);
        if (r >= 0) {
            off += static_cast<std::size_t>(r);
            continue;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) throw_os_error(errno, "sock_sendall");
        co_await FdReadyAwaiter(sock.fileno(), true);
    }
}

Coro<std::size_t> sock_sendto(Socket& sock, std::string data, SocketAddress to) {
    check_socket(sock, "sock_sendto");
    for (;;) {
        long r = detail::sys::sendto(sock.fileno(), data.data(), data.size(), 0, to.data(), to.size());
        if (r >= 0) co_return static_cast<std::size_t>(r);
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) throw_os_error(errno, "sock_sendto(" + to.to_string() + ")");
        co_await FdReadyAwaiter(sock.fileno(), true);
    }
}

Coro<void> sock_connect(Socket& sock, SocketAddress target) {
    check_socket(sock, "sock_connect");
    int r;
    do {
        r = detail::sys::connect(sock.fileno(), target.data(), target.size());
    } while (r < 0 && errno == EINTR);
    if (r == 0) co_return;
    if (errno != EINPROGRESS && errno != EAGAIN) throw_os_error(errno, "connect(" + target.to_string() + ")");
    co_await FdReadyAwaiter(sock.fileno(), true);
    if (int err = sock.pending_error()) throw_os_error(err, "connect(" + target.to_string() + ")");
}

Coro<void> sock_connect(Socket& sock, std::string host, std::uint16_t port) {
    check_socket(sock, "sock_connect");
    AddrInfoOptions o;
    // Resolved for this socket's family and type (asyncio passes both), so a
    // datagram socket gets a datagram address.
    o.family = sock.family();
    o.type = sock.type();
    auto infos = co_await getaddrinfo(host, port, o);
    if (infos.empty()) throw std::system_error(EAI_NONAME, gai_category(), "getaddrinfo(" + host + ")");
    co_await sock_connect(sock, infos.front().address);
}

Coro<std::pair<Socket, SocketAddress>> sock_accept(Socket& sock) {
    check_socket(sock, "sock_accept");
    for (;;) {
        SocketAddress peer;
        unsigned len = SocketAddress::capacity();
        int fd = detail::sys::accept4(sock.fileno(), peer.data(), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            peer.set_size(len);
            co_return std::pair<Socket, SocketAddress>(Socket(fd), peer);
        }
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) throw_os_error(errno, "sock_accept");
        co_await FdReadyAwaiter(sock.fileno(), false);
    }
}

}  // namespace tulip
