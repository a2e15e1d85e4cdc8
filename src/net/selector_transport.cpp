// detail::SelectorTransport: the life cycle and flow control shared by the fd
// transports (see selector_transport.hpp), after asyncio's _SelectorTransport.
#include "selector_transport.hpp"

#include <unistd.h>

#include <stdexcept>
#include <system_error>

#include <tulip/core/exceptions.hpp>
#include <tulip/loop/loop_access.hpp>

namespace tulip::detail {

char* transport_read_buffer() {
    static thread_local std::unique_ptr<char[]> buf(new char[kMaxReadSize]);
    return buf.get();
}

template <class Iface>
SelectorTransport<Iface>::SelectorTransport(EventLoop& loop, int fd, std::unique_ptr<BaseProtocol> protocol,
                                            const char* name, const char* source)
    : loop_(&loop), fd_(fd), protocol_(std::move(protocol)), name_(name), source_(source) {}

template <class Iface>
void SelectorTransport<Iface>::begin() {
    // What may fail (both allocate) comes first and is undone on failure, so
    // that a transport whose constructor throws leaves nothing behind.
    detail::LoopAccess::set_fd_owner(*loop_, fd_, this);  // add_reader(fd) & co. refuse it while we are open
    try {
        loop_->call_soon([this] { start(); });
    } catch (...) {
        detail::LoopAccess::set_fd_owner(*loop_, fd_, nullptr);
        throw;
    }
    this->incref();        // the loop's reference, dropped after connection_lost
    link_to_loop(*loop_);  // a loop closed first force-closes us (on_loop_close)
}

template <class Iface>
void SelectorTransport<Iface>::start() {
    if (made_when_closed_ ? lost_called_ : lost_scheduled_) return;
    try {
        call_connection_made();
    } catch (...) {
        // connection_made may have got as far as taking a reference to us (a
        // stream's core does): connection_lost, its chance to drop it, is due
        // (asyncio calls it too).
        connected_ = true;
        fatal_error(std::current_exception(), "Fatal error: protocol.connection_made() call failed.");
        return;
    }
    connected_ = true;
    if (!closing_ && !paused_) {
        // Watching the fd can fail (bad_alloc growing the poller's table): a
        // transport that never reads would hang its peer, so it closes.
        try {
            start_reading();
        } catch (...) {
            fatal_error(std::current_exception(), "Fatal error: the transport could not start reading.");
        }
    }
}

template <class Iface>
std::string SelectorTransport<Iface>::fd_owner_name() const {
    return std::string("<") + name_ + " fd=" + std::to_string(fd_) + (closing_ ? " closing>" : ">");
}

template <class Iface>
void SelectorTransport<Iface>::set_write_buffer_limits(std::optional<std::size_t> high,
                                                       std::optional<std::size_t> low) {
    std::size_t h = high ? *high : (low ? 4 * *low : kDefaultHighWater);
    std::size_t l = low ? *low : h / 4;
    if (l > h)
        throw std::invalid_argument("high (" + std::to_string(h) + ") must be >= low (" + std::to_string(l) + ")");
    high_ = h;
    low_ = l;
    maybe_pause_protocol();
}

template <class Iface>
void SelectorTransport<Iface>::close() {
    if (closing_) return;
    closing_ = true;
    remove_reader();
    if (this->get_write_buffer_size() == 0) {
        ++conn_lost_;
        schedule_connection_lost(nullptr);
    }
}

template <class Iface>
void SelectorTransport<Iface>::force_close(std::exception_ptr exc, bool count_lost) {
    if (lost_scheduled_) return;
    on_force_close(exc);
    if (this->get_write_buffer_size()) {
        clear_write_buffer();
        remove_writer();
    }
    closing_ = true;
    remove_reader();
    if (count_lost) ++conn_lost_;
    schedule_connection_lost(exc);
}

template <class Iface>
void SelectorTransport<Iface>::fatal_error(std::exception_ptr exc, const char* message) {
    bool os_error = false;
    try {
        std::rethrow_exception(exc);
    } catch (const std::system_error&) {
        os_error = true;
    } catch (...) {}
    // The report allocates; out of memory the transport still closes.
    try {
        if (!os_error)
            loop_->call_exception_handler({message, exc, source_, {}});
        else if (loop_->get_debug())
            log(LogLevel::debug, fd_owner_name() + ": " + message + ": " + describe_exception(exc));
    } catch (...) {}
    force_close(exc);
}

template <class Iface>
void SelectorTransport<Iface>::report_callback_error(const char* message, std::exception_ptr exc) {
    try {
        loop_->call_exception_handler({message, exc, source_, {}});
    } catch (...) {
        // out of memory: the report is lost, what the caller does next is not
    }
}

template <class Iface>
void SelectorTransport<Iface>::schedule_connection_lost(std::exception_ptr exc) {
    lost_scheduled_ = true;
    if (lost_called_ || lost_node_.queued()) return;  // the first one scheduled wins, as with two call_soon
    lost_exc_ = std::move(exc);
    lost_node_.owner = this;
    lost_node_.run = &run_lost;
    detail::LoopAccess::schedule(*loop_, &lost_node_);
}

template <class Iface>
void SelectorTransport<Iface>::run_lost(ReadyNode* n) {
    auto* self = static_cast<LostNode*>(n)->owner;
    self->call_connection_lost(std::exchange(self->lost_exc_, nullptr));  // may delete self
}

template <class Iface>
void SelectorTransport<Iface>::call_connection_lost(std::exception_ptr exc) {
    if (lost_called_) return;
    lost_called_ = true;
    // Called directly (the loop closes, a drained buffer) with ours still queued.
    if (lost_node_.queued()) detail::LoopAccess::unschedule(*loop_, &lost_node_);
    lost_exc_ = nullptr;
    lost_scheduled_ = true;
    closing_ = true;
    unlink_from_loop();
    // The watchers go first: the fd is closed below, and nothing may fire on it.
    if (!loop_->is_closed()) {
        detail::LoopAccess::unwatch_reader(*loop_, fd_);
        detail::LoopAccess::unwatch_writer(*loop_, fd_);
        detail::LoopAccess::set_fd_owner(*loop_, fd_, nullptr);
    }
    reading_ = false;
    if (connected_) {
        try {
            protocol_->connection_lost(exc);
        } catch (...) {
            report_callback_error("Exception in protocol.connection_lost()", std::current_exception());
        }
    }
    ::close(fd_);
    fd_closed_ = true;
    on_closed();
    this->decref();  // the loop's reference
}

template <class Iface>
void SelectorTransport<Iface>::on_loop_close() noexcept {
    if (lost_called_) return;
    Ref<SelectorTransport> keep(this);
    clear_write_buffer();
    closing_ = true;
    ++conn_lost_;
    call_connection_lost(std::make_exception_ptr(std::runtime_error("Event loop is closed")));
    loop_gone_ = true;
}

template class SelectorTransport<Transport>;
template class SelectorTransport<DatagramTransport>;

}  // namespace tulip::detail
