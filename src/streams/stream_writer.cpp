// StreamWriter's waiting paths (asyncio/streams.py: drain, wait_closed).
#include <tulip/streams/stream_writer.hpp>

#include <tulip/task/future.hpp>
#include <tulip/task/sleep.hpp>

namespace tulip {

Coro<void> StreamWriter::drain_slow(detail::StreamRef c) {
    if (c->error && !c->connection_lost) std::rethrow_exception(c->error);
    if (c->transport->is_closing()) {
        // Let connection_lost run so that write(); drain() in a loop sees the error.
        co_await sleep(0);
    }
    co_await c->drain_helper();
}

Coro<void> StreamWriter::wait_closed_impl(detail::StreamRef c) {
    // Await the future even when the connection is already gone: asyncio's
    // wait_closed() raises the connection's error whenever it is called, not
    // only when it was waiting at the time (returning early hid a reset).
    if (!c->closed) co_return;
    Future<void> closed = c->closed;
    co_await closed;  // raises the connection's error, if it ended with one (as asyncio)
}

Coro<void> StreamWriter::start_tls_impl(detail::StreamRef c, ssl::SSLContext ctx, StartTLSOptions options) {
    DrainAwaiter d(c);
    co_await std::move(d);
    options.server_side = c->server_side;
    Ref<Transport> secure = co_await tulip::start_tls(c->transport, std::move(ctx), std::move(options));
    c->transport = secure;
    c->over_ssl = true;
}

}  // namespace tulip
