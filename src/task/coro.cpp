// Coroutine debug support (coro.hpp): whether new coroutines record where
// they were made, and the "never awaited" report.
#include <tulip/task/coro.hpp>

#include <tulip/loop/event_loop.hpp>

namespace tulip::detail {

bool coro_debug_slow() noexcept {
    if (EventLoop* l = running_loop()) return l->get_debug();
    static const bool env = debug_from_env();
    tls_debug_state = env ? 1 : 0;  // run_forever overrides it while a loop runs
    return env;
}

void report_never_awaited(std::string* traceback) noexcept {
    try {
        log(LogLevel::warning, "coroutine was never awaited; created at:\n" + *traceback);
    } catch (...) {}
}

}  // namespace tulip::detail
