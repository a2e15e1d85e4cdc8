// tulip/streams/pipes.hpp — streams over pipes, FIFOs and character devices
// (asyncio: StreamReaderProtocol with loop.connect_read_pipe, and a
// StreamWriter over loop.connect_write_pipe).
//
// The asyncio spelling works as is:
//
//     tulip::StreamReader reader;                       // reader = StreamReader()
//     co_await tulip::connect_read_pipe(                // await loop.connect_read_pipe(
//         [&] { return std::make_unique<tulip::StreamReaderProtocol>(reader); }, fd);
//
// and the short one returns the stream directly:
//
//     tulip::StreamReader r = co_await tulip::open_read_pipe(fd);
//     tulip::StreamWriter w = co_await tulip::open_write_pipe(fd);
//
// The transport takes the fd over and closes it (see net/pipe_transport.hpp).
// A read pipe's stream ends at EOF (the transport closes then); a write pipe's
// writer has drain() with the transport's flow control, close() and
// wait_closed(); write_eof() closes the pipe once its buffer is written. As
// for sockets, dropping the last handle closes the pipe.
// Cancel safety: safe; open_read_pipe/open_write_pipe cancelled close the fd
// they took over.
// Thread safety: loop thread only.
#pragma once

#include <cstddef>

#include <tulip/net/pipe_transport.hpp>
#include <tulip/streams/stream_core.hpp>
#include <tulip/streams/stream_reader.hpp>
#include <tulip/streams/stream_writer.hpp>
#include <tulip/task/coro.hpp>

namespace tulip {

// asyncio.StreamReaderProtocol: StreamReaderProtocol(reader) feeds `reader`
// from whatever transport it is given to.
using StreamReaderProtocol = detail::StreamProtocol;

// A StreamReader over a read pipe; limit <= 0 raises std::invalid_argument.
Coro<StreamReader> open_read_pipe(int fd,
                                  std::ptrdiff_t limit = static_cast<std::ptrdiff_t>(detail::kDefaultStreamLimit));
// A StreamWriter over a write pipe.
Coro<StreamWriter> open_write_pipe(int fd);

}  // namespace tulip
