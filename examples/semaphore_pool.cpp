// semaphore_pool.cpp — at most 3 jobs at a time, with a Semaphore.
//
// The asyncio pattern:
//
//     async def job(n, seconds, sem):
//         async with sem:                      # waits while 3 jobs hold it
//             print(f"job {n} starts")
//             await asyncio.sleep(seconds)
//
//     async def main():
//         sem = asyncio.Semaphore(3)
//         await asyncio.gather(*(job(n, s, sem) for n, s in enumerate(durations)))
//
// gather() starts all eight jobs at once; the semaphore lets only three past
// `async with` at a time. When one finishes and releases, the longest-waiting
// job goes next (waiters are served first come, first served). In C++ the
// `async with` is an RAII guard: `auto slot = co_await sem.acquire();` holds
// the semaphore until `slot` goes out of scope — on return and on exceptions
// (cancellation included) alike.
//
// The program counts how many jobs run at once and checks the most it ever
// saw is the limit. It runs on the loop's virtual time (the clock jumps to
// the next timer), so it takes no real time and the timestamps are exact.
#include <algorithm>
#include <cstdio>
#include <vector>

#include <tulip/tulip.hpp>

#include "examples.hpp"

namespace {

constexpr int kLimit = 3;

struct Pool {
    tulip::Semaphore sem{kLimit};
    int running = 0;
    int peak = 0;
};

tulip::Coro<void> job(int n, double seconds, Pool* pool) {
    auto& loop = tulip::get_running_loop();
    auto slot = co_await pool->sem.acquire();  // async with sem:
    pool->peak = std::max(pool->peak, ++pool->running);
    std::printf("t=%.1f job %d starts (%.1f s of work), %d running\n", loop.time(), n, seconds, pool->running);
    co_await tulip::sleep(seconds);
    --pool->running;
    std::printf("t=%.1f job %d done\n", loop.time(), n);
}  // `slot` releases the semaphore here

tulip::Coro<int> amain() {
    Pool pool;
    const double durations[] = {0.2, 0.3, 0.1, 0.3, 0.4, 0.2, 0.3, 0.3};
    std::vector<tulip::Coro<void>> jobs;
    for (int n = 0; n < 8; ++n) jobs.push_back(job(n + 1, durations[n], &pool));
    co_await tulip::gather(std::move(jobs));  // all eight start; the semaphore holds back five
    std::printf("at most %d jobs ran at once (the limit is %d)\n", pool.peak, kLimit);
    co_return pool.peak == kLimit ? 0 : 1;
}

}  // namespace

int examples::semaphore_pool() {
    tulip::RunnerOptions options;
    options.virtual_time = true;
    return tulip::run(amain(), options);
}

#ifndef TULIP_DEMO
int main() { return examples::semaphore_pool(); }
#endif
