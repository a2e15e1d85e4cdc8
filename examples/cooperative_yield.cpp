// cooperative_yield.cpp — a long computation shares the loop by yielding.
//
// The asyncio original:
//
//     async def count_primes(limit, chunk, state):
//         found = 0
//         for n in range(2, limit):
//             found += is_prime(n)
//             if chunk and n % chunk == 0:
//                 print(f"compute: {n} numbers checked, {found} primes so far")
//                 await asyncio.sleep(0)          # let the others run
//         state.done = True
//
//     async def heartbeat(state):
//         while not state.done:
//             state.beats += 1
//             await asyncio.sleep(0)
//
// Tasks are cooperative: a coroutine keeps the loop's thread until it awaits
// something. A CPU-bound loop that never awaits starves every other task.
// `co_await sleep(0)` is the polite pause: the task goes to the back of the
// ready queue and the others get one turn each before it resumes.
//
// The program runs the same computation twice, without and with pauses, and
// counts how many turns a second task got while the computation was going.
#include <iostream>

#include <tulip/tulip.hpp>

#include "examples.hpp"

namespace {

constexpr int kLimit = 40000;

bool is_prime(int n) {
    if (n < 2) return false;
    for (int d = 2; d * d <= n; ++d)
        if (n % d == 0) return false;
    return true;
}

struct Shared {
    bool done = false;
    int beats = 0;
};

// Counts the primes below kLimit; with chunk > 0, yields every `chunk` numbers.
tulip::Coro<int> count_primes(int chunk, Shared* s) {
    int found = 0;
    for (int n = 2; n < kLimit; ++n) {
        if (is_prime(n)) ++found;
        if (chunk > 0 && n % chunk == 0) {
            std::cout << "  compute: " << n << " numbers checked, " << found << " primes so far\n";
            co_await tulip::sleep(0);  // a bare yield: one trip through the ready queue
        }
    }
    std::cout << "  compute: done, " << found << " primes below " << kLimit << "\n";
    s->done = true;
    co_return found;
}

// Another task that wants the loop too: one beat per turn it gets.
tulip::Coro<void> heartbeat(Shared* s) {
    while (!s->done) {
        ++s->beats;
        std::cout << "  heartbeat " << s->beats << "\n";
        co_await tulip::sleep(0);
    }
}

tulip::Coro<int> amain(int chunk) {
    Shared s;
    co_await tulip::gather(count_primes(chunk, &s), heartbeat(&s));
    std::cout << "  -> the other task got " << s.beats << " turns during the computation\n";
    co_return s.beats;
}

}  // namespace

int examples::cooperative_yield() {
    std::cout << "without yielding:\n";
    int greedy = tulip::run(amain(0));
    std::cout << "with a sleep(0) every 10000 numbers:\n";
    int polite = tulip::run(amain(10000));
    return (greedy == 0 && polite > 0) ? 0 : 1;
}

#ifndef TULIP_DEMO
int main() { return examples::cooperative_yield(); }
#endif
