// tests/support/coro_helpers.hpp — small coroutines and a macro the task
// tests share: an ASSERT that works inside a coroutine, a value or a failure
// after a delay, and whether an awaitable ran into its timeout.
#pragma once

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <utility>

#include <tulip/tulip.hpp>

// ASSERT_* returns, which a coroutine cannot do: fail and co_return instead.
#define CO_ASSERT(cond)                                  \
    do {                                                 \
        if (!(cond)) {                                   \
            ADD_FAILURE() << "assertion failed: " #cond; \
            co_return;                                   \
        }                                                \
    } while (0)

namespace tulip::test {

// Returns value after sleeping delay seconds.
inline Coro<int> value_after(double delay, int value) {
    co_await sleep(delay);
    co_return value;
}

// Throws E(message) after sleeping delay seconds.
template <class E = std::runtime_error>
Coro<int> fail_after(double delay, std::string message) {
    co_await sleep(delay);
    throw E(message);
}

// True if awaiting aw raised TimeoutError, false if it completed; any other
// error propagates.
template <class A>
Coro<bool> times_out(A aw) {
    try {
        co_await std::move(aw);
    } catch (const TimeoutError&) {
        co_return true;
    }
    co_return false;
}

}  // namespace tulip::test
