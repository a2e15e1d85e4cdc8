// tests/support/recording_runner.hpp — RunnerOptions for tests of run()/Runner
// that check what reaches the loop's exception handler (CPython's tests mock
// loop.call_exception_handler for this).
#pragma once

#include <vector>

#include <tulip/tulip.hpp>

namespace tulip::test {

// A Runner loop on virtual time whose exception handler appends each call to
// `calls` (which must outlive the Runner).
inline RunnerOptions recording_runner_options(std::vector<ExceptionContext>& calls) {
    RunnerOptions o;
    o.loop_factory = [&calls] {
        EventLoopOptions lo;
        lo.virtual_time = true;
        auto l = new_event_loop(lo);
        l->set_exception_handler([&calls](EventLoop&, const ExceptionContext& c) { calls.push_back(c); });
        return l;
    };
    return o;
}

}  // namespace tulip::test
