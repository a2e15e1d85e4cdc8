// tulip/core.hpp — the core layer: what every other layer builds on
// (asyncio's exceptions.py and constants.py).
//
//   core/exceptions.hpp  CancelledError, InvalidStateError, TimeoutError,
//                        IncompleteReadError, LimitOverrunError, QueueEmpty,
//                        QueueFull, QueueShutDown, BrokenBarrierError,
//                        ExceptionGroup, the OSError subclasses
//   core/ref.hpp         RefCounted / Ref<T>, single-thread shared ownership
// (core/pool.hpp, core/copyable.hpp and core/result_slot.hpp are internal.)
#pragma once

#include <tulip/core/exceptions.hpp>
#include <tulip/core/ref.hpp>
