// hello_world.cpp — the event loop's "Hello World", with no coroutine at all.
//
// The asyncio original (docs: "Hello World with call_soon()"):
//
//     def hello_world(loop):
//         print('Hello World')
//         loop.stop()
//
//     loop = asyncio.new_event_loop()
//     loop.call_soon(hello_world, loop)
//     try:
//         loop.run_forever()
//     finally:
//         loop.close()
//
// At its heart an event loop is a queue of callbacks: call_soon() appends
// one, run_forever() runs them until someone calls stop().
#include <iostream>

#include <tulip/tulip.hpp>

#include "examples.hpp"

int examples::hello_world() {
    std::unique_ptr<tulip::EventLoop> loop = tulip::new_event_loop();

    // Schedule a callback: it runs in the loop's next iteration, not now.
    loop->call_soon([&loop] {
        std::cout << "Hello World\n";
        loop->stop();  // run_forever() returns once this iteration ends
    });

    loop->run_forever();  // blocks until stop()
    loop->close();        // as `finally: loop.close()`
    return 0;
}

#ifndef TULIP_DEMO
int main() { return examples::hello_world(); }
#endif
