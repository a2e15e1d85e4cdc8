// Streams over pipe transports (asyncio: StreamReaderProtocol + connect_read_pipe,
// StreamWriter over connect_write_pipe).
#include <tulip/streams/pipes.hpp>

#include <tulip/task/task.hpp>

namespace tulip {

namespace {
Ref<detail::StreamCore> pipe_core(std::ptrdiff_t limit) {
    Ref<detail::StreamCore> core = detail::make_stream_core(limit);
    core->closed = Future<void>::create(get_running_loop());  // for wait_closed()
    return core;
}
}  // namespace

Coro<StreamReader> open_read_pipe(int fd, std::ptrdiff_t limit) {
    auto core = pipe_core(limit);
    Ref<Transport> t = co_await detail::connect_pipe_transport(fd, std::make_unique<detail::StreamProtocol>(core), false);
    (void)t;
    co_return StreamReader(core);
}

Coro<StreamWriter> open_write_pipe(int fd) {
    auto core = pipe_core(static_cast<std::ptrdiff_t>(detail::kDefaultStreamLimit));
    Ref<Transport> t = co_await detail::connect_pipe_transport(fd, std::make_unique<detail::StreamProtocol>(core), true);
    (void)t;
    co_return StreamWriter(core);
}

}  // namespace tulip
