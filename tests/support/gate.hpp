// tests/support/gate.hpp — a door that jobs on other threads wait at until
// the test opens it; never longer than the loopback bound, so a failing test
// cannot hang on it, and wait() tells whether it was opened or timed out.
#pragma once

#include <condition_variable>
#include <mutex>

#include "support/loop_test.hpp"

namespace tulip::test {

class Gate {
public:
    void open() {
        {
            std::lock_guard g(mu_);
            open_ = true;
        }
        cv_.notify_all();
    }
    bool wait() {
        std::unique_lock g(mu_);
        return cv_.wait_for(g, kLoopbackTimeout, [&] { return open_; });
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool open_ = false;
};

}  // namespace tulip::test
