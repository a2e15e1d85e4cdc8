// tulip/streams.hpp — high-level streams (asyncio's streams.py).
//
//   streams/stream_reader.hpp    StreamReader
//   streams/stream_writer.hpp    StreamWriter
//   streams/open_connection.hpp  open_connection, start_server (+ Unix)
//   streams/pipes.hpp            open_read_pipe, open_write_pipe (streams over pipes)
// (streams/stream_core.hpp is internal.)
#pragma once

#include <tulip/net.hpp>
#include <tulip/streams/open_connection.hpp>
#include <tulip/streams/pipes.hpp>
#include <tulip/streams/stream_reader.hpp>
#include <tulip/streams/stream_writer.hpp>
#include <tulip/tls.hpp>
