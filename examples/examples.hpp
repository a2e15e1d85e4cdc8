// examples/examples.hpp — the example programs as functions, for the demo.
//
// Each examples/<name>.cpp is a complete program: its main() (compiled unless
// TULIP_DEMO is defined) just calls the function declared here. tulip_demo
// compiles the same files with TULIP_DEMO and calls them one after another,
// in one process. Each returns 0 when it showed what it set out to show.
#pragma once

namespace examples {

int hello_world();        // loop.call_soon + run_forever + stop
int factorial_tasks();    // three tasks interleaving at each co_await sleep()
int gather_sleeps();      // gather of 0.2 s and 0.3 s takes about 0.3 s
int fire_and_forget();    // a task nobody awaits still runs to completion
int run_in_executor();    // a blocking read on a worker thread; the loop keeps going
int cooperative_yield();  // a long computation that yields with sleep(0)
int how_it_works();       // a toy loop, Future and Task written from scratch

}  // namespace examples
