// src/net/selector_transport.hpp — internal: detail::SelectorTransport, what
// every fd-driven transport shares (asyncio selector_events._SelectorTransport
// with transports._FlowControlMixin; unix_events' pipe transports share it too).
//
// It owns the fd and the protocol, and the life cycle: constructed -> begin()
// (the loop's reference, the fd claimed, connection_made scheduled with
// call_soon) -> open -> closing (close(): no more reads, the write buffer
// drains) or force-closed (abort() or a fatal error: buffer dropped) ->
// connection_lost(exc) runs exactly once, in a later iteration (its node is
// part of the transport: closing never allocates) -> the fd is closed
// and the loop's reference dropped. A loop that closes first runs
// connection_lost at once (on_loop_close). Flow control (high/low water,
// pause_writing/resume_writing) and the contiguous write buffer of the stream
// transports live here too; the datagram transport keeps its own queue of
// datagrams and overrides the buffer hooks.
//
// The derived transport does its own reads and writes: it registers its
// read_ready/write_ready with the loop itself, so nothing on the per-read or
// per-write path goes through a virtual call. The hooks (virtual) run once per
// connection, or on resume_reading/close/abort only.
// Thread safety: loop thread only.
#pragma once

#include <cerrno>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tulip/core/exceptions.hpp>
#include <tulip/core/ref.hpp>
#include <tulip/loop/event_loop.hpp>
#include <tulip/loop/loop_access.hpp>
#include <tulip/net/protocol.hpp>
#include <tulip/net/transport.hpp>

namespace tulip::detail {

inline constexpr std::size_t kDefaultHighWater = 64 * 1024;  // asyncio's default high-water mark
inline constexpr std::size_t kMaxReadSize = 256 * 1024;      // asyncio's max_size, one recv()
inline constexpr int kLogThresholdConnLost = 5;              // asyncio's LOG_THRESHOLD_FOR_CONNLOST_WRITES

// One per-thread read buffer of kMaxReadSize shared by every transport of the
// thread: an idle connection costs no read buffer.
char* transport_read_buffer();

// Iface is Transport or DatagramTransport.
template <class Iface>
class SelectorTransport : public Iface, protected LoopClosable, protected FdOwner {
public:
    // ---- BaseTransport ----------------------------------------------------------
    bool is_closing() const noexcept override { return closing_; }
    BaseProtocol& get_protocol() const noexcept override { return *protocol_; }
    void set_protocol(std::unique_ptr<BaseProtocol> protocol) override {
        if (!protocol) throw std::invalid_argument("set_protocol: no protocol");
        accept_protocol(*protocol);  // checks its kind before anything changes
        retired_.push_back(std::move(protocol_));
        protocol_ = std::move(protocol);
    }
    EventLoop& get_loop() const noexcept override { return *loop_; }
    // asyncio _SelectorTransport.close: no more reads; connection_lost(nullptr)
    // once the write buffer is empty.
    void close() override;
    // asyncio _force_close(None): the buffer is dropped.
    void abort() override { force_close(nullptr); }

    // ---- flow control (asyncio _FlowControlMixin) ------------------------------
    std::size_t get_write_buffer_size() const noexcept override { return buffered(); }
    // high defaults to 64 KiB (4 * low when only low is given), low to high / 4;
    // low > high raises std::invalid_argument. Pauses the protocol at once if
    // the buffer is over the new high-water mark.
    void set_write_buffer_limits(std::optional<std::size_t> high = std::nullopt,
                                 std::optional<std::size_t> low = std::nullopt) override;
    std::pair<std::size_t, std::size_t> get_write_buffer_limits() const noexcept override { return {low_, high_}; }

    // ---- FdOwner ----------------------------------------------------------------
    std::string fd_owner_name() const override;
    bool fd_owner_closing() const noexcept override { return closing_; }

protected:
    // fd is not owned until begin(): a derived constructor that throws leaves
    // it to the caller. name: the class in fd_owner_name ("SocketTransport");
    // source: the ExceptionContext source ("socket transport").
    SelectorTransport(EventLoop& loop, int fd, std::unique_ptr<BaseProtocol> protocol, const char* name,
                      const char* source);
    ~SelectorTransport() override = default;

    // Called last by the derived constructor: the loop's reference (dropped
    // after connection_lost), the fd claimed, connection_made scheduled.
    void begin();

    // ---- hooks -----------------------------------------------------------------
    // Checks that p is a protocol this transport can drive (else
    // std::invalid_argument) and keeps the derived transport's typed view of
    // it. The constructor calls it on the first protocol; set_protocol on
    // each next one.
    virtual void accept_protocol(BaseProtocol& p) = 0;
    // Calls the protocol's connection_made(*this).
    virtual void call_connection_made() = 0;
    // Starts reading (registers the derived read_ready). Run after
    // connection_made and on resume_reading, never while closing.
    virtual void start_reading() = 0;
    // Drops what is buffered (abort, a fatal error, the loop closing).
    virtual void clear_write_buffer() noexcept {
        wbuf_.clear();
        woff_ = 0;
    }
    // force_close is about to drop the buffer and schedule connection_lost.
    virtual void on_force_close(std::exception_ptr exc) { (void)exc; }
    // The fd is closed and connection_lost has run; the loop's reference is
    // dropped right after.
    virtual void on_closed() noexcept {}

    // ---- life cycle (asyncio _force_close, _fatal_error, _call_connection_lost) --
    // count_lost: count this as asyncio's _conn_lost (the selector transports
    // do; the pipes' _close does not).
    void force_close(std::exception_ptr exc, bool count_lost = true);
    // A std::system_error (asyncio: OSError) is the peer's business: logged at
    // debug level in debug mode only; anything else goes to the loop's
    // exception handler. Then force_close(exc).
    void fatal_error(std::exception_ptr exc, const char* message = "Fatal error on transport");
    void schedule_connection_lost(std::exception_ptr exc);
    void call_connection_lost(std::exception_ptr exc);
    // Reports a protocol callback that failed, without closing.
    void report_callback_error(const char* message, std::exception_ptr exc);

    // ---- reading ---------------------------------------------------------------
    // Registers cb for reading (once; never while closing or lost).
    template <class F>
    void watch_read(F&& cb) {
        if (reading_ || closing_ || lost_scheduled_) return;
        detail::LoopAccess::watch_reader(*loop_, fd_, std::forward<F>(cb));
        reading_ = true;
    }
    // The same for a receiver: the loop reads (io_uring) and cb takes the
    // chunks (LoopAccess::next_received).
    template <class F>
    void watch_receive(F&& cb) {
        if (reading_ || closing_ || lost_scheduled_) return;
        detail::LoopAccess::watch_receiver(*loop_, fd_, std::forward<F>(cb));
        reading_ = true;
    }
    void remove_reader() noexcept {
        if (!reading_) return;
        reading_ = false;
        detail::LoopAccess::unwatch_reader(*loop_, fd_);
    }
    void remove_writer() noexcept { detail::LoopAccess::unwatch_writer(*loop_, fd_); }
    // Transport.pause_reading/resume_reading/is_reading for those that read.
    void pause_reading_impl() {
        if (closing_ || paused_) return;
        paused_ = true;
        remove_reader();
    }
    void resume_reading_impl() {
        if (closing_ || !paused_) return;
        paused_ = false;
        // Watching the fd again can fail (bad_alloc); a transport that never
        // reads again would hang its peer, so it closes (as start() does).
        // It may run in a destructor (a sendfile's scope): nothing escapes.
        try {
            start_reading();
        } catch (...) {
            fatal_error(std::current_exception(), "Fatal error: the transport could not resume reading.");
        }
    }
    bool is_reading_impl() const noexcept { return !paused_ && !closing_; }

    // ---- the stream write buffer -------------------------------------------------
    std::size_t buffered() const noexcept { return wbuf_.size() - woff_; }
    const char* buffer_data() const noexcept { return wbuf_.data() + woff_; }
    void buffer_append(std::string_view data) { wbuf_.append(data); }
    // n bytes of the buffer went out.
    void buffer_consume(std::size_t n) noexcept {
        woff_ += n;
        if (woff_ == wbuf_.size()) {
            wbuf_.clear();
            woff_ = 0;
        } else if (woff_ > 64 * 1024 && woff_ * 2 > wbuf_.size()) {
            wbuf_.erase(0, woff_);  // compact: keep the buffer from growing without bound
            woff_ = 0;
        }
    }

    // write()'s common path (asyncio's write() in _SelectorSocketTransport and
    // _UnixWritePipeTransport): with nothing buffered the bytes go out at once
    // (send(data) is the syscall: bytes written, or -1 with errno); what is
    // left waits in the buffer behind a write watcher calling on_writable, and
    // the protocol may be paused. A failure other than EAGAIN/EINTR is fatal
    // (`what` names it, as asyncio's "Fatal write error on ... transport").
    template <class Send, class OnWritable>
    void send_or_buffer(std::string_view data, Send send, OnWritable on_writable, const char* what) {
        if (buffered() == 0) {
            long n = send(data);
            if (n < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                    fatal_error(make_os_error(errno, what), what);
                    return;
                }
                n = 0;
            }
            data.remove_prefix(static_cast<std::size_t>(n));
            if (data.empty()) return;
            detail::LoopAccess::watch_writer(*loop_, fd_, std::move(on_writable));
        }
        buffer_append(data);
        maybe_pause_protocol();
    }

    // asyncio _maybe_pause_protocol / _maybe_resume_protocol: call after the
    // buffer grew / shrank.
    void maybe_pause_protocol() {
        if (protocol_paused_ || get_write_buffer_size() <= high_) return;
        protocol_paused_ = true;
        try {
            protocol_->pause_writing();
        } catch (...) {
            report_callback_error("protocol.pause_writing() failed", std::current_exception());
        }
    }
    void maybe_resume_protocol() {
        if (!protocol_paused_ || get_write_buffer_size() > low_) return;
        protocol_paused_ = false;
        try {
            protocol_->resume_writing();
        } catch (...) {
            report_callback_error("protocol.resume_writing() failed", std::current_exception());
        }
    }

    bool fd_open() const noexcept { return !fd_closed_; }

    EventLoop* loop_;
    int fd_;
    std::unique_ptr<BaseProtocol> protocol_;
    // Protocols replaced by set_protocol, kept until the transport goes.
    std::vector<std::unique_ptr<BaseProtocol>> retired_;
    // Writes after the connection was lost (asyncio's _conn_lost): counted to
    // warn after a few; nonzero once connection_lost is scheduled by close()
    // or force_close().
    int conn_lost_ = 0;
    bool closing_ = false;
    bool lost_scheduled_ = false;  // connection_lost is scheduled (or has run)
    bool lost_called_ = false;
    bool connected_ = false;  // connection_made ran: connection_lost is due
    bool loop_gone_ = false;  // the loop closed while we were open
    bool paused_ = false;     // pause_reading()
    bool reading_ = false;    // the read callback is registered
    bool protocol_paused_ = false;
    // The pipes' connection_made runs even when closed before it (asyncio
    // schedules it unconditionally); the socket transports skip it then. A
    // failing connection_made is followed by connection_lost in both.
    bool made_when_closed_ = false;

private:
    // connection_lost's turn in the ready queue. Part of the transport, so
    // that scheduling it cannot fail: a close that could not schedule it
    // (bad_alloc) left the fd open and the peer waiting for EOF forever.
    struct LostNode : ReadyNode {
        SelectorTransport* owner = nullptr;
    };
    static void run_lost(ReadyNode* n);
    LostNode lost_node_;
    std::exception_ptr lost_exc_;

    void start();
    // The loop closes with this transport open (asyncio leaves it to the GC
    // with a ResourceWarning; here nothing may leak or dangle): drop the
    // buffer, run connection_lost now (the protocol's one chance to release
    // what it holds, e.g. a Ref to us), close the fd and release the loop's
    // reference. From then on nothing touches the loop.
    void on_loop_close() noexcept override;

    const char* name_;
    const char* source_;
    std::string wbuf_;
    std::size_t woff_ = 0;
    std::size_t high_ = kDefaultHighWater;
    std::size_t low_ = kDefaultHighWater / 4;
    bool fd_closed_ = false;
};

extern template class SelectorTransport<Transport>;
extern template class SelectorTransport<DatagramTransport>;

}  // namespace tulip::detail
