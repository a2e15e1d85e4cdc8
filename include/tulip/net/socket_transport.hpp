// tulip/net/socket_transport.hpp — the TCP/Unix stream transport
// (asyncio selector_events._SelectorSocketTransport). Internal, but its
// factory is public for code that brings its own connected socket.
#pragma once

#include <memory>

#include <tulip/core/ref.hpp>
#include <tulip/loop/event_loop.hpp>
#include <tulip/net/protocol.hpp>
#include <tulip/net/socket.hpp>
#include <tulip/net/transport.hpp>

namespace tulip {

namespace detail {
// What a server needs to know of its connections.
class ServerCore;
}  // namespace detail

// Wraps a connected socket: schedules protocol.connection_made and starts
// reading (both via call_soon, as asyncio). `protocol` must be a Protocol or a
// BufferedProtocol.
Ref<Transport> make_socket_transport(EventLoop& loop, Socket sock, std::unique_ptr<BaseProtocol> protocol,
                                     detail::ServerCore* server = nullptr);

}  // namespace tulip
