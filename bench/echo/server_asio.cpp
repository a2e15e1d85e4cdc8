// bench/echo/server_asio.cpp — the echo server in Boost.Asio with C++20
// coroutines, as Asio's own cpp20 echo example writes it: an acceptor
// coroutine co_spawns a session per connection; the session loops on
//     n = co_await socket.async_read_some(buffer); co_await async_write(socket, buffer(n));
// Errors come back through redirect_error (no exceptions at EOF).
// One thread, io_context with BOOST_ASIO_CONCURRENCY_HINT_UNSAFE (no locking
// in the scheduler or reactor: Asio's fastest single-threaded setting, as in
// bench/asio_bench.cpp). The read buffer is 64 KiB per connection, allocated
// uninitialised, so its pages are only touched as far as data reaches.
// Usage: echo_asio [port]; prints "PORT <n>" (see echo_common.hpp).
// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>,
// and detects C++20 coroutines on GCC and MSVC only: clang 16 has them too.
#include <coroutine>
#include <utility>
#if defined(__clang__) && defined(__cpp_impl_coroutine) && !defined(BOOST_ASIO_HAS_CO_AWAIT)
#define BOOST_ASIO_HAS_CO_AWAIT 1
#endif

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <cstdio>
#include <memory>

#include "echo_common.hpp"

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

namespace {

awaitable<void> session(tcp::socket socket) {
    std::unique_ptr<char[]> buf(new char[echo::kReadSize]);
    boost::system::error_code ec;
    for (;;) {
        std::size_t n = co_await socket.async_read_some(asio::buffer(buf.get(), echo::kReadSize),
                                                        asio::redirect_error(use_awaitable, ec));
        if (ec) break;
        co_await asio::async_write(socket, asio::buffer(buf.get(), n), asio::redirect_error(use_awaitable, ec));
        if (ec) break;
    }
}

awaitable<void> listener(tcp::acceptor acceptor) {
    auto ex = co_await asio::this_coro::executor;
    for (;;) {
        boost::system::error_code ec;
        tcp::socket s = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
        if (ec) continue;
        s.set_option(tcp::no_delay(true), ec);
        asio::co_spawn(ex, session(std::move(s)), asio::detached);
    }
}

}  // namespace

int main(int argc, char** argv) {
    int port = echo::port_arg(argc, argv);
    echo::raise_nofile();
    asio::io_context ctx(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE);
    tcp::acceptor acceptor(ctx);
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port));
    acceptor.open(ep.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen(echo::kBacklog);
    echo::announce(acceptor.local_endpoint().port());
    asio::co_spawn(ctx, listener(std::move(acceptor)), asio::detached);
    ctx.run();
    return 0;
}
