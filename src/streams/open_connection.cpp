// open_connection, start_server and the Unix variants (asyncio/streams.py).
#include <tulip/streams/open_connection.hpp>

#include <memory>

#include <tulip/net/socket_transport.hpp>
#include <tulip/task/task.hpp>

namespace tulip {

Coro<StreamPair> detail::streams_over(Socket sock, std::ptrdiff_t limit, bool read_only, ClientTls tls) {
    auto core = detail::make_transport_stream_core(limit);
    core->close_on_eof = read_only;
    Ref<Transport> t = co_await detail::connect_transport(
        std::move(sock), std::make_unique<detail::StreamProtocol>(core), std::move(tls));
    (void)t;
    co_return StreamPair(StreamReader(core), StreamWriter(core));
}

namespace {

ProtocolFactory client_factory(ClientConnected cb, std::ptrdiff_t limit) {
    (void)detail::checked_stream_limit(limit);  // a bad limit fails start_server, not each connection
    auto shared = std::make_shared<ClientConnected>(std::move(cb));
    return [shared, limit]() -> std::unique_ptr<BaseProtocol> {
        auto core = detail::make_transport_stream_core(limit);
        core->server_side = true;
        core->on_client = [shared](StreamReader r, StreamWriter w) {
            // A plain callback runs inside connection_made, as asyncio's does
            // when client_connected_cb returns no coroutine; if it throws, the
            // transport reports it and closes the connection.
            if (shared->plain) return shared->plain(std::move(r), std::move(w));
            EventLoop& loop = get_running_loop();
            Task<void> task = loop.create_task(shared->coro(r, w));
            task.add_done_callback([w](Task<void>& t) mutable {
                if (t.cancelled()) {
                    w.close();
                    return;
                }
                if (auto e = t.exception()) {
                    t.get_loop().call_exception_handler(
                        {"Unhandled exception in client_connected_cb", e, "stream server", {}});
                    w.close();
                }
            });
        };
        return std::make_unique<detail::StreamProtocol>(core);
    };
}

}  // namespace

Coro<StreamPair> open_connection(std::string host, std::uint16_t port, StreamOptions options) {
    (void)detail::checked_stream_limit(options.limit);  // before connecting, as asyncio
    detail::ClientTls tls = detail::client_tls(options.connect, host);
    Socket s = co_await open_tcp_socket(std::move(host), port, options.connect);
    co_return co_await detail::streams_over(std::move(s), options.limit, false, std::move(tls));
}

Coro<StreamPair> open_unix_connection(std::string path, StreamOptions options) {
    (void)detail::checked_stream_limit(options.limit);
    detail::ClientTls tls = detail::client_tls(options.connect, std::string());
    Socket s = co_await open_unix_socket(std::move(path));
    co_return co_await detail::streams_over(std::move(s), options.limit, false, std::move(tls));
}

Coro<StreamPair> open_connection(Socket sock, StreamOptions options) {
    detail::ClientTls tls = detail::client_tls(options.connect, std::string());
    co_return co_await detail::streams_over(std::move(sock), options.limit, false, std::move(tls));
}

Coro<Server> start_server(ClientConnected cb, std::string host, std::uint16_t port, StreamOptions options) {
    std::vector<std::string> hosts;
    hosts.push_back(std::move(host));
    co_return co_await start_server(std::move(cb), std::move(hosts), port, std::move(options));
}

Coro<Server> start_server(ClientConnected cb, std::vector<std::string> hosts, std::uint16_t port,
                          StreamOptions options) {
    co_return co_await detail::create_server_impl(client_factory(std::move(cb), options.limit), std::move(hosts), port,
                                                  options.server);
}

Coro<Server> start_unix_server(ClientConnected cb, std::string path, StreamOptions options) {
    co_return co_await detail::create_unix_server_impl(client_factory(std::move(cb), options.limit), std::move(path),
                                                       options.server);
}

}  // namespace tulip
