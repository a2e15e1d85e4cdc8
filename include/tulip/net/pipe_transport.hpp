// tulip/net/pipe_transport.hpp — transports over a pipe, a FIFO, a socket or
// a character device (asyncio loop.connect_read_pipe / connect_write_pipe,
// unix_events._UnixReadPipeTransport / _UnixWritePipeTransport).
//
//     auto [t, p] = co_await tulip::connect_read_pipe([] { return std::make_unique<MyProtocol>(); }, fd);
//
// The transport takes the fd over: it is made non-blocking and closed after
// connection_lost (asyncio closes the pipe object there too); dup() it first
// to keep a copy. An fd of any other kind (a regular file, a directory)
// raises std::invalid_argument (asyncio: ValueError) and stays the caller's.
//
// Read pipe: connection_made, then data_received for each read;
// pause_reading()/resume_reading() stop and restart reading; at EOF
// eof_received() then connection_lost(nullptr) (the transport closes, whatever
// eof_received returns). It cannot write: write()/writelines()/write_eof()
// throw std::runtime_error (asyncio's ReadTransport has no such methods).
// Write pipe: write() never blocks; what the pipe does not take is buffered,
// with pause_writing() above the high-water mark (64 KiB) and
// resume_writing() at the low-water mark. can_write_eof() is true and
// write_eof() (and close()) closes once the buffer is written. When the
// reading end goes away the transport closes: connection_lost(nullptr) if
// nothing was pending, BrokenPipeError if data was lost. Writes after close
// are dropped, as asyncio (a warning is logged after a few). A write pipe
// does not read: pause_reading()/resume_reading() do nothing.
// Writing never raises SIGPIPE, whatever the process's disposition.
// Cancel safety: connect_read_pipe/connect_write_pipe are safe: a transport
// made before the cancel is closed, with the fd it took over.
// Thread safety: loop thread only.
#pragma once

#include <memory>
#include <stdexcept>
#include <utility>

#include <tulip/core/ref.hpp>
#include <tulip/loop/event_loop.hpp>
#include <tulip/net/connection.hpp>
#include <tulip/net/protocol.hpp>
#include <tulip/net/transport.hpp>
#include <tulip/task/coro.hpp>

namespace tulip {

// The transports themselves: connection_made is scheduled with call_soon.
// A read pipe's protocol must be a Protocol.
Ref<Transport> make_read_pipe_transport(EventLoop& loop, int fd, std::unique_ptr<BaseProtocol> protocol);
Ref<Transport> make_write_pipe_transport(EventLoop& loop, int fd, std::unique_ptr<BaseProtocol> protocol);

namespace detail {
// Wraps fd and waits until connection_made has run (asyncio's waiter).
Coro<Ref<Transport>> connect_pipe_transport(int fd, std::unique_ptr<BaseProtocol> protocol, bool write);

template <class F>
Coro<ConnectionPair<factory_protocol_t<F>>> connect_pipe(F factory, int fd, bool write) {
    auto proto = factory();
    if (!proto) throw std::runtime_error("the protocol factory returned no protocol");
    auto* p = proto.get();
    Ref<Transport> t = co_await connect_pipe_transport(fd, std::move(proto), write);
    co_return ConnectionPair<factory_protocol_t<F>>(t, ProtocolRef<factory_protocol_t<F>, Transport>(t, p));
}
}  // namespace detail

// factory() returns std::unique_ptr<P>; the result is {transport, protocol}.
template <class F>
auto connect_read_pipe(F factory, int fd) {
    return detail::connect_pipe(std::move(factory), fd, false);
}
template <class F>
auto connect_write_pipe(F factory, int fd) {
    return detail::connect_pipe(std::move(factory), fd, true);
}

}  // namespace tulip
