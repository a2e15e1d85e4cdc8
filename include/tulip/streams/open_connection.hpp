// tulip/streams/open_connection.hpp — open_connection, start_server and the
// Unix variants (asyncio.open_connection, start_server,
// open_unix_connection, start_unix_server).
//
//     auto [reader, writer] = co_await tulip::open_connection("127.0.0.1", 8888);
//     auto server = co_await tulip::start_server(handle_client, "127.0.0.1", 8888);
//
// handle_client(StreamReader, StreamWriter) returns a Coro<void> and runs as
// its own task per connection; if it fails, the error goes to the exception
// handler and the connection is closed (as asyncio). It may also return void:
// then it is called inside connection_made (asyncio accepts a plain callback).
//
// Cancel safety: open_connection/open_unix_connection and
// start_server/start_unix_server are safe: cancelled, they leave nothing open
// (a connection or server made before the cancel is closed; asyncio leaves
// such a server listening).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>

#include <tulip/net/connection.hpp>
#include <tulip/net/server.hpp>
#include <tulip/streams/stream_core.hpp>
#include <tulip/streams/stream_reader.hpp>
#include <tulip/streams/stream_writer.hpp>
#include <tulip/task/coro.hpp>

namespace tulip {

struct StreamOptions {
    // The readers' buffer limit; <= 0 raises std::invalid_argument (ValueError).
    std::ptrdiff_t limit = static_cast<std::ptrdiff_t>(detail::kDefaultStreamLimit);
    ConnectOptions connect;  // open_connection only
    ServerOptions server;    // start_server only
};

using StreamPair = std::pair<StreamReader, StreamWriter>;
// start_server's client_connected_cb: a coroutine function (returns
// Coro<void>; it runs as its own task per connection) or a plain function
// (returns void; it runs inside connection_made), as asyncio accepts both.
class ClientConnected {
public:
    template <class F>
        requires std::is_invocable_v<F&, StreamReader, StreamWriter>
    ClientConnected(F f) {  // NOLINT: implicit, so a lambda converts
        if constexpr (std::is_void_v<std::invoke_result_t<F&, StreamReader, StreamWriter>>)
            plain = std::move(f);
        else
            coro = std::move(f);
    }
    std::function<Coro<void>(StreamReader, StreamWriter)> coro;
    std::function<void(StreamReader, StreamWriter)> plain;
};

Coro<StreamPair> open_connection(std::string host, std::uint16_t port, StreamOptions options = {});
Coro<StreamPair> open_unix_connection(std::string path, StreamOptions options = {});
// Streams over an already connected socket (asyncio: sock=).
Coro<StreamPair> open_connection(Socket sock, StreamOptions options = {});

namespace detail {
// Streams over a connected socket; with read_only the transport closes at EOF.
Coro<StreamPair> streams_over(Socket sock, std::ptrdiff_t limit, bool read_only, ClientTls tls);
// No default argument for tls: see the GCC 12.2 note at connect_transport.
inline Coro<StreamPair> streams_over(Socket sock, std::ptrdiff_t limit, bool read_only) {
    ClientTls plain;
    return streams_over(std::move(sock), limit, read_only, std::move(plain));
}
}  // namespace detail

Coro<Server> start_server(ClientConnected client_connected_cb, std::string host, std::uint16_t port,
                          StreamOptions options = {});
Coro<Server> start_server(ClientConnected client_connected_cb, std::vector<std::string> hosts, std::uint16_t port,
                          StreamOptions options = {});
Coro<Server> start_unix_server(ClientConnected client_connected_cb, std::string path, StreamOptions options = {});

}  // namespace tulip
