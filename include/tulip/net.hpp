// tulip/net.hpp — sockets, DNS and transports (asyncio's selector_events.py and
// the network half of base_events.py). No TLS here.
//
//   net/address.hpp     SocketAddress         net/socket.hpp     Socket
//   net/sock_ops.hpp    sock_recv, sock_recv_into, sock_sendall, sock_sendto, sock_connect
//   net/dns.hpp         getaddrinfo, getnameinfo
//   net/protocol.hpp    Protocol, BufferedProtocol, DatagramProtocol
//   net/transport.hpp   Transport, DatagramTransport
//   net/connection.hpp  create_connection, create_unix_connection
//   net/server.hpp      Server, create_server, create_unix_server
//   net/datagram.hpp    create_datagram_endpoint
//   net/sendfile.hpp    sendfile, sock_sendfile
//   net/pipe_transport.hpp  connect_read_pipe, connect_write_pipe
//   net/socket_transport.hpp  the stream transport over a connected socket
#pragma once

#include <tulip/net/address.hpp>
#include <tulip/net/connection.hpp>
#include <tulip/net/datagram.hpp>
#include <tulip/net/dns.hpp>
#include <tulip/net/pipe_transport.hpp>
#include <tulip/net/protocol.hpp>
#include <tulip/net/sendfile.hpp>
#include <tulip/net/server.hpp>
#include <tulip/net/sock_ops.hpp>
#include <tulip/net/socket.hpp>
#include <tulip/net/socket_transport.hpp>
#include <tulip/net/transport.hpp>
#include <tulip/task.hpp>
