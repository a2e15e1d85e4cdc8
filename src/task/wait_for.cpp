// wait_for's helper: cancels the inner work and waits until it is done (asyncio.wait_for).
#include <tulip/task/wait_for.hpp>

namespace tulip::detail {

Coro<void> cancel_and_wait(FutureBase f) {
    auto waiter = Future<void>::create(f.get_loop());
    auto cb = f.add_done_callback([waiter] {
        if (!waiter.done()) waiter.set_result();
    });
    f.cancel();
    try {
        co_await waiter;
    } catch (...) {
        f.remove_done_callback(cb);
        throw;
    }
    f.remove_done_callback(cb);
}

}  // namespace tulip::detail
