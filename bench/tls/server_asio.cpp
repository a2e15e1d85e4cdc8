// bench/tls/server_asio.cpp — the TLS echo server in Boost.Asio:
// asio::ssl::stream<tcp::socket> over a single-threaded io_context
// (BOOST_ASIO_CONCURRENCY_HINT_UNSAFE, as bench/echo/server_asio.cpp), C++20
// coroutines: per connection async_handshake, then
//     n = co_await stream.async_read_some(buffer); co_await async_write(stream, buffer(n));
// --sink: reads and drops. At the peer's close_notify the session sends
// its own (async_shutdown) and closes. See tls_common.hpp for the options.
// Boost 1.74's awaitable.hpp: see bench/echo/server_asio.cpp for these two.
#include <coroutine>
#include <utility>
#if defined(__clang__) && defined(__cpp_impl_coroutine) && !defined(BOOST_ASIO_HAS_CO_AWAIT)
#define BOOST_ASIO_HAS_CO_AWAIT 1
#endif

#include <openssl/ssl.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <cstdio>
#include <memory>

#include "tls_common.hpp"

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

namespace {

bool g_sink = false;

awaitable<void> session(asio::ssl::stream<tcp::socket> stream) {
    boost::system::error_code ec;
    co_await stream.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    std::unique_ptr<char[]> buf(new char[echo::kReadSize]);
    for (;;) {
        std::size_t n = co_await stream.async_read_some(asio::buffer(buf.get(), echo::kReadSize),
                                                        asio::redirect_error(use_awaitable, ec));
        if (ec) break;
        if (g_sink) continue;
        co_await asio::async_write(stream, asio::buffer(buf.get(), n), asio::redirect_error(use_awaitable, ec));
        if (ec) break;
    }
    // The peer's close_notify (asio::error::eof): answer it with ours, as the
    // tulip and Python servers do when they close.
    if (ec == asio::error::eof) co_await stream.async_shutdown(asio::redirect_error(use_awaitable, ec));
}

awaitable<void> listener(tcp::acceptor acceptor, asio::ssl::context& ctx) {
    auto ex = co_await asio::this_coro::executor;
    for (;;) {
        boost::system::error_code ec;
        tcp::socket s = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
        if (ec) continue;
        s.set_option(tcp::no_delay(true), ec);
        asio::co_spawn(ex, session(asio::ssl::stream<tcp::socket>(std::move(s), ctx)), asio::detached);
    }
}

}  // namespace

int main(int argc, char** argv) {
    tlsbench::Args a = tlsbench::parse(argc, argv);
    g_sink = a.sink;
    echo::raise_nofile();
    asio::ssl::context sctx(asio::ssl::context::tls_server);
    sctx.use_certificate_chain_file(a.cert);
    sctx.use_private_key_file(a.key, asio::ssl::context::pem);
    SSL_CTX* native = sctx.native_handle();
    SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION);
    if (SSL_CTX_set_ciphersuites(native, tlsbench::kSuite) != 1) return 1;
    SSL_CTX_set_num_tickets(native, 0);
    asio::io_context io(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE);
    tcp::acceptor acceptor(io);
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(a.port));
    acceptor.open(ep.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen(echo::kBacklog);
    echo::announce(acceptor.local_endpoint().port());
    asio::co_spawn(io, listener(std::move(acceptor), sctx), asio::detached);
    io.run();
    return 0;
}
