// tulip/streams/open_connection.hpp — open_connection, start_server and the
// Unix variants (asyncio.open_connection, start_server,
// open_unix_connection, start_unix_server).
//
//     auto [reader, writer] = co_await tulip::open_connection("127.0.0.1", 8888);
//     auto server = co_await tulip::start_server(handle_client, "127.0.0.1", 8888);
//
// handle_client(StreamReader, StreamWriter) returns a Coro<void> and runs as
// its own task per connection; if it fails, the error goes to the exception
// handler and the connection is closed (as asyncio).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include <tulip/net/connection.hpp>
#include <tulip/net/server.hpp>
#include <tulip/streams/stream_core.hpp>
#include <tulip/streams/stream_reader.hpp>
#include <tulip/streams/stream_writer.hpp>
#include <tulip/task/coro.hpp>

namespace tulip {

struct StreamOptions {
    std::size_t limit = detail::kDefaultStreamLimit;
    ConnectOptions connect;  // open_connection only
    ServerOptions server;    // start_server only
};

using StreamPair = std::pair<StreamReader, StreamWriter>;
using ClientConnected = std::function<Coro<void>(StreamReader, StreamWriter)>;

Coro<StreamPair> open_connection(std::string host, std::uint16_t port, StreamOptions options = {});
Coro<StreamPair> open_unix_connection(std::string path, StreamOptions options = {});
// Streams over an already connected socket (asyncio: sock=).
Coro<StreamPair> open_connection(Socket sock, StreamOptions options = {});

namespace detail {
// Streams over a connected socket; with read_only the transport closes at EOF.
Coro<StreamPair> streams_over(Socket sock, std::size_t limit, bool read_only);
}  // namespace detail

Coro<Server> start_server(ClientConnected client_connected_cb, std::string host, std::uint16_t port,
                          StreamOptions options = {});
Coro<Server> start_server(ClientConnected client_connected_cb, std::vector<std::string> hosts, std::uint16_t port,
                          StreamOptions options = {});
Coro<Server> start_unix_server(ClientConnected client_connected_cb, std::string path, StreamOptions options = {});

}  // namespace tulip
