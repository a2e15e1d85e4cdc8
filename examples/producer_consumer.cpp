// producer_consumer.cpp — a bounded Queue between a producer and two workers.
//
// The asyncio pattern (docs: "Queues"):
//
//     async def producer(queue):
//         for item in range(1, 9):
//             await queue.put(item)            # waits while the queue is full
//
//     async def worker(name, queue):
//         while True:
//             item = await queue.get()
//             await asyncio.sleep(0.1)         # the work
//             queue.task_done()
//
//     async def main():
//         queue = asyncio.Queue(maxsize=2)
//         workers = [asyncio.create_task(worker(n, queue)) for n in "AB"]
//         await producer(queue)
//         await queue.join()                   # every item got its task_done()
//         for w in workers: w.cancel()
//         await asyncio.gather(*workers, return_exceptions=True)
//
// maxsize bounds the queue: a fast producer waits in put() for the workers
// to catch up (backpressure) instead of piling up items. task_done() and
// join() tell the producer's side when every item has been processed; the
// workers loop forever and are cancelled at the end.
//
// The run uses the loop's virtual time (RunnerOptions::virtual_time): the
// clock jumps straight to the next timer when nothing else can run, so the
// 0.1 s "work" takes no real time and the timestamps below are exact. With
// real time it works the same, but the times — and, now and then, the order
// of lines printed at the same moment — would wobble.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <tulip/tulip.hpp>

#include "examples.hpp"

namespace {

using namespace std::chrono_literals;

constexpr int kItems = 8;

struct Stats {
    int produced = 0;
    int processed = 0;
    std::size_t largest_queue = 0;
};

double now() { return tulip::get_running_loop().time(); }

tulip::Coro<void> producer(tulip::Queue<int>* queue, Stats* stats) {
    for (int item = 1; item <= kItems; ++item) {
        if (queue->full()) std::printf("t=%.1f producer: queue full, waiting to put %d\n", now(), item);
        co_await queue->put(item);
        ++stats->produced;
        stats->largest_queue = std::max(stats->largest_queue, queue->qsize());
    }
    std::printf("t=%.1f producer: all %d items queued\n", now(), kItems);
}

tulip::Coro<void> worker(char name, tulip::Queue<int>* queue, Stats* stats) {
    for (;;) {
        int item = co_await queue->get();  // cancelled here at the end
        std::printf("t=%.1f worker %c: processing item %d\n", now(), name, item);
        co_await tulip::sleep(100ms);  // the work
        ++stats->processed;
        queue->task_done();
    }
}

tulip::Coro<int> amain() {
    Stats stats;
    tulip::Queue<int> queue(2);  // maxsize 2
    std::vector<tulip::Task<void>> workers;
    for (char name : {'A', 'B'}) workers.push_back(tulip::create_task(worker(name, &queue, &stats)));

    co_await producer(&queue, &stats);
    co_await queue.join();  // returns once every item got its task_done()
    std::printf("t=%.1f main: join() returned, %d of %d items processed\n", now(), stats.processed, kItems);

    for (auto& w : workers) w.cancel();
    co_await tulip::gather(tulip::return_exceptions, workers);  // wait for them to finish cancelling
    bool all_cancelled = std::all_of(workers.begin(), workers.end(), [](auto& w) { return w.cancelled(); });
    std::printf("workers cancelled: %s; the queue never held more than %zu items\n", all_cancelled ? "yes" : "no",
                stats.largest_queue);
    co_return (stats.processed == kItems && all_cancelled && stats.largest_queue <= 2) ? 0 : 1;
}

}  // namespace

int examples::producer_consumer() {
    tulip::RunnerOptions options;
    options.virtual_time = true;
    return tulip::run(amain(), options);
}

#ifndef TULIP_DEMO
int main() { return examples::producer_consumer(); }
#endif
