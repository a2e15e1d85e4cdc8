// tulip/streams/stream_writer.hpp — StreamWriter (asyncio.StreamWriter).
//
// Writes to a stream connection. write() never blocks: call drain() to wait
// while the transport's buffer is above its high-water mark (64 KiB); drain
// wakes when it falls to the low-water mark (16 KiB), and raises the
// connection's error (ConnectionResetError("Connection lost") if none).
// close() closes after the buffered data is sent; wait_closed() waits until
// the connection is gone, and raises the error it ended with (if any).
// Cancellation: a cancelled drain() leaves the data queued.
// Thread safety: loop thread only.
#pragma once

#include <any>
#include <span>
#include <string_view>
#include <utility>

#include <tulip/core/ref.hpp>
#include <tulip/net/transport.hpp>
#include <tulip/streams/stream_core.hpp>
#include <tulip/task/coro.hpp>

namespace tulip {

class StreamWriter {
public:
    StreamWriter() = default;
    explicit StreamWriter(Ref<detail::StreamCore> core) : core_(std::move(core)) {}

    void write(std::string_view data) { core_->transport->write(data); }
    void writelines(std::span<const std::string_view> data) { core_->transport->writelines(data); }
    bool can_write_eof() const noexcept { return core_->transport->can_write_eof(); }
    void write_eof() { core_->transport->write_eof(); }
    void close() { core_->transport->close(); }
    bool is_closing() const noexcept { return core_->transport->is_closing(); }
    Coro<void> wait_closed();
    Coro<void> drain();
    std::any get_extra_info(std::string_view name) const { return core_->transport->get_extra_info(name); }
    Transport& transport() const noexcept { return *core_->transport; }
    explicit operator bool() const noexcept { return static_cast<bool>(core_); }

private:
    Ref<detail::StreamCore> core_;
};

}  // namespace tulip
