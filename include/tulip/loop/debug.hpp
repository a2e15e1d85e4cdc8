// tulip/loop/debug.hpp — the per-thread debug switch that coroutines read when
// they are created (asyncio's debug mode, loop.get_debug() / PYTHONASYNCIODEBUG),
// and the backtrace it records (internal).
//
// Apart from event_loop.hpp so that task/coro.hpp can read it without the loop.
#pragma once

#include <string>

namespace tulip::detail {

// Whether coroutines created on this thread record where (debug mode): the
// running loop's get_debug(), else TULIP_DEBUG. -1: not known yet (no loop
// runs and the environment has not been read); the slow path fills it in.
// Kept here so creating a coroutine costs one TLS load, not two calls.
inline thread_local signed char tls_debug_state = -1;

// Captures a short backtrace as text (debug mode: where objects were created).
std::string capture_traceback(int skip = 1);

}  // namespace tulip::detail
