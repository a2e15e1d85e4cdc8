// fire_and_forget.cpp — start a task, never await it, and it still runs.
//
// The asyncio original:
//
//     async def background(state):
//         for i in range(1, 4):
//             await asyncio.sleep(0.01)
//             print(f"background: tick {i}")
//         state.ran = True
//
//     async def main():
//         asyncio.create_task(background(state))   # no await, no reference kept
//         for step in range(1, 6):
//             print(f"main: step {step}")
//             await asyncio.sleep(0.01)
//
// create_task() schedules the coroutine at once; the caller goes on with its
// own work. tulip's loop owns a task while it is pending, so dropping the
// returned handle is fine (asyncio keeps only a weak reference, and its docs
// tell you to keep one yourself, or the task may vanish mid-flight).
//
// One thing stays as in asyncio: when main returns, run() cancels whatever is
// still pending. So main here does enough of its own work (five 10 ms steps)
// to outlast the background task (three). The interleaving of the lines is
// fixed: timers with equal delays fire in the order they were armed.
#include <iostream>

#include <tulip/tulip.hpp>

#include "examples.hpp"

namespace {

using namespace std::chrono_literals;

tulip::Coro<void> background(bool* ran) {
    for (int i = 1; i <= 3; ++i) {
        co_await tulip::sleep(10ms);
        std::cout << "  background: tick " << i << "\n";
    }
    std::cout << "  background: done\n";
    *ran = true;
}

tulip::Coro<void> amain(bool* ran) {
    tulip::create_task(background(ran));  // fire and forget: the handle is dropped here
    for (int step = 1; step <= 5; ++step) {
        std::cout << "main: step " << step << "\n";
        co_await tulip::sleep(10ms);  // the background task runs while main waits
    }
}

}  // namespace

int examples::fire_and_forget() {
    bool ran = false;  // lives outside the loop, so it can be read after run()
    tulip::run(amain(&ran));
    std::cout << "the task nobody awaited ran to completion: " << (ran ? "yes" : "no") << "\n";
    return ran ? 0 : 1;
}

#ifndef TULIP_DEMO
int main() { return examples::fire_and_forget(); }
#endif
