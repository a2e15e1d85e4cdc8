// Streams over pipe transports (asyncio: StreamReaderProtocol + connect_read_pipe,
// StreamWriter over connect_write_pipe).
#include <tulip/streams/pipes.hpp>

#include <tulip/task/task.hpp>

namespace tulip {

Coro<StreamReader> open_read_pipe(int fd, std::ptrdiff_t limit) {
    auto core = detail::make_transport_stream_core(limit);
    Ref<Transport> t =
        co_await detail::connect_pipe_transport(fd, std::make_unique<detail::StreamProtocol>(core), false);
    (void)t;
    co_return StreamReader(core);
}

Coro<StreamWriter> open_write_pipe(int fd) {
    auto core = detail::make_transport_stream_core(static_cast<std::ptrdiff_t>(detail::kDefaultStreamLimit));
    Ref<Transport> t =
        co_await detail::connect_pipe_transport(fd, std::make_unique<detail::StreamProtocol>(core), true);
    (void)t;
    co_return StreamWriter(core);
}

}  // namespace tulip
