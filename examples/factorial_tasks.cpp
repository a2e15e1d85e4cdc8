// factorial_tasks.cpp — three tasks run concurrently, interleaving at each await.
//
// The asyncio original (docs: "Running Tasks Concurrently"):
//
//     async def factorial(name, number):
//         f = 1
//         for i in range(2, number + 1):
//             print(f"Task {name}: Compute factorial({number}), currently i={i}...")
//             await asyncio.sleep(1)
//             f *= i
//         print(f"Task {name}: factorial({number}) = {f}")
//         return f
//
//     async def main():
//         L = await asyncio.gather(factorial("A", 2), factorial("B", 3), factorial("C", 4))
//         print(L)
//
//     asyncio.run(main())
//
// gather() wraps each coroutine in a Task; every `co_await sleep(...)` hands
// control back to the loop, which runs whichever task is ready next. The
// sleeps are 10 ms here instead of 1 s so that the example stays quick. The
// order of the lines is fixed: tasks start in argument order and timers with
// the same delay fire in the order they were set.
#include <iostream>
#include <string>

#include <tulip/tulip.hpp>

#include "examples.hpp"

namespace {

using namespace std::chrono_literals;

tulip::Coro<long> factorial(std::string name, int number) {
    long f = 1;
    for (int i = 2; i <= number; ++i) {
        std::cout << "Task " << name << ": Compute factorial(" << number << "), currently i=" << i << "...\n";
        co_await tulip::sleep(10ms);  // let the other tasks run meanwhile
        f *= i;
    }
    std::cout << "Task " << name << ": factorial(" << number << ") = " << f << "\n";
    co_return f;
}

tulip::Coro<int> amain() {
    // Results come back as a tuple, in argument order (asyncio returns a list).
    auto [a, b, c] = co_await tulip::gather(factorial("A", 2), factorial("B", 3), factorial("C", 4));
    std::cout << "[" << a << ", " << b << ", " << c << "]\n";
    co_return (a == 2 && b == 6 && c == 24) ? 0 : 1;
}

}  // namespace

int examples::factorial_tasks() { return tulip::run(amain()); }

#ifndef TULIP_DEMO
int main() { return examples::factorial_tasks(); }
#endif
