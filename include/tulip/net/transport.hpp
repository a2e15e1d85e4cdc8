// tulip/net/transport.hpp — transports (asyncio.BaseTransport, Transport,
// DatagramTransport).
//
// A transport owns a socket and its protocol, and is shared by reference
// (Ref<Transport>): the loop keeps it alive until connection_lost has run.
//
// Writes never block: data that the kernel does not take at once is
// buffered, and the protocol is told pause_writing() above the high-water
// mark (64 KiB) and resume_writing() at the low-water mark (16 KiB), as
// asyncio. close() sends what is buffered first; abort() drops it.
// Thread safety: loop thread only.
#pragma once

#include <any>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <tulip/core/ref.hpp>
#include <tulip/net/address.hpp>
#include <tulip/net/protocol.hpp>

namespace tulip {

class EventLoop;

class BaseTransport : public RefCounted {
public:
    // asyncio's get_extra_info: "peername", "sockname" (SocketAddress),
    // "socket" (int fd). An empty std::any for unknown names.
    virtual std::any get_extra_info(std::string_view name) const = 0;
    virtual bool is_closing() const noexcept = 0;
    // Closes after the buffered data is sent; connection_lost(nullptr) follows.
    virtual void close() = 0;
    virtual BaseProtocol& get_protocol() const noexcept = 0;
    virtual EventLoop& get_loop() const noexcept = 0;
    // asyncio's set_protocol: the transport drives `protocol` from now on.
    // The previous protocol stays owned by the transport (destroyed with
    // it), so a ProtocolRef on it stays valid. A protocol of the wrong kind
    // raises std::invalid_argument; a transport that cannot switch raises
    // std::runtime_error (this default).
    virtual void set_protocol(std::unique_ptr<BaseProtocol> protocol);
};

class Transport : public BaseTransport {
public:
    virtual void write(std::string_view data) = 0;
    // One writev-style send of several buffers.
    virtual void writelines(std::span<const std::string_view> data) = 0;
    virtual void write_eof() = 0;
    virtual bool can_write_eof() const noexcept = 0;
    // Closes at once, dropping buffered data; connection_lost(nullptr) follows.
    virtual void abort() = 0;
    virtual void pause_reading() = 0;
    virtual void resume_reading() = 0;
    virtual bool is_reading() const noexcept = 0;
    // high defaults to 64 KiB; low to high/4 (asyncio's defaults).
    virtual void set_write_buffer_limits(std::optional<std::size_t> high = std::nullopt,
                                         std::optional<std::size_t> low = std::nullopt) = 0;
    virtual std::size_t get_write_buffer_size() const noexcept = 0;
    virtual std::pair<std::size_t, std::size_t> get_write_buffer_limits() const noexcept = 0;
};

class DatagramTransport : public BaseTransport {
public:
    // Sends to `addr`, or to the connected peer when addr is null.
    virtual void sendto(std::string_view data, const SocketAddress* addr = nullptr) = 0;
    virtual void abort() = 0;
    // Flow control as Transport's (asyncio's _SelectorDatagramTransport):
    // datagrams the kernel refuses wait in a queue; each counts its size plus
    // 8 bytes (asyncio 3.13's _header_size). Above the high-water mark
    // pause_writing(), at the low-water mark resume_writing().
    virtual std::size_t get_write_buffer_size() const noexcept = 0;
    virtual void set_write_buffer_limits(std::optional<std::size_t> high = std::nullopt,
                                         std::optional<std::size_t> low = std::nullopt) = 0;
    virtual std::pair<std::size_t, std::size_t> get_write_buffer_limits() const noexcept = 0;
};

// The protocol a transport owns, handed out with the transport by
// create_connection and create_datagram_endpoint. It holds a reference to the
// transport, and the transport owns the protocol, so the protocol lives at
// least as long as this handle (as asyncio's (transport, protocol) pair: both
// stay valid while referenced). The protocol is destroyed with the transport,
// after the last reference to it is gone — never while a ProtocolRef exists.
// get() lends the raw pointer: valid while this handle (or another reference
// to the transport) is kept.
template <class P, class T = BaseTransport>
class ProtocolRef {
public:
    ProtocolRef() noexcept = default;
    ProtocolRef(Ref<T> transport, P* protocol) noexcept : t_(std::move(transport)), p_(protocol) {}
    // A handle to a derived protocol converts to one to its base.
    template <class U>
        requires std::is_convertible_v<U*, P*>
    ProtocolRef(const ProtocolRef<U, T>& o) noexcept : t_(o.transport()), p_(o.get()) {}
    P* get() const noexcept { return p_; }
    P* operator->() const noexcept { return p_; }
    P& operator*() const noexcept { return *p_; }
    explicit operator bool() const noexcept { return p_ != nullptr; }
    const Ref<T>& transport() const noexcept { return t_; }

private:
    Ref<T> t_;
    P* p_ = nullptr;
};

}  // namespace tulip
