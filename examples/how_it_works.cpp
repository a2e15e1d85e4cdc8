// how_it_works.cpp — an event loop, a Future and a Task, from scratch.
//
// This file does NOT use tulip. It rebuilds the core of it in toy form, to
// show what happens under `co_await` (asyncio has the same four pieces):
//
//   1. Loop    a queue of ready callbacks, plus timers: call_soon, call_later, run
//   2. Future  a result that is not there yet, and callbacks to run when it is
//   3. Coro    what a coroutine function returns: a paused function
//   4. Task    drives a Coro: resumes it, and when it stops on a pending
//              Future, asks that Future to resume it again once it is done
//   5. sleep   a Future that a timer completes
//
// What tulip adds: epoll for sockets and pipes, cancellation, exceptions,
// typed results, Coros awaiting Coros without a trip through the loop, and
// no allocation per wake-up. The flow of control is the same as here.
#include <chrono>
#include <coroutine>
#include <deque>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "examples.hpp"

namespace {
namespace toy {

using Clock = std::chrono::steady_clock;

// ---- 1. Loop ------------------------------------------------------------------
class Loop {
public:
    void call_soon(std::function<void()> cb) { ready_.push_back(std::move(cb)); }
    void call_later(double seconds, std::function<void()> cb) {
        auto when = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
        timers_.emplace(when, std::move(cb));  // a multimap keeps equal deadlines in insertion order
    }
    // Runs until nothing is left to do.
    void run() {
        while (!ready_.empty() || !timers_.empty()) {
            // Nothing ready: wait for the first timer. (A real loop waits in
            // epoll_wait() with that timeout, so that I/O can wake it too.)
            if (ready_.empty()) std::this_thread::sleep_until(timers_.begin()->first);
            // Due timers become ready callbacks.
            while (!timers_.empty() && timers_.begin()->first <= Clock::now()) {
                ready_.push_back(std::move(timers_.begin()->second));
                timers_.erase(timers_.begin());
            }
            // Run the callbacks that are ready now, in order. Whatever they
            // schedule waits for the next turn of the loop.
            for (auto n = ready_.size(); n > 0; --n) {
                auto cb = std::move(ready_.front());
                ready_.pop_front();
                cb();
            }
        }
    }

private:
    std::deque<std::function<void()>> ready_;
    std::multimap<Clock::time_point, std::function<void()>> timers_;
};

Loop loop;  // the one loop of this program (tulip has one per thread)

// ---- 2. Future (results are ints, to keep the toy short) ------------------------
class Future {
public:
    bool done() const { return done_; }
    int result() const { return result_; }
    void set_result(int value) {
        result_ = value;
        done_ = true;
        // The callbacks are scheduled, never run inline (asyncio's rule too).
        for (auto& cb : callbacks_) loop.call_soon(std::move(cb));
        callbacks_.clear();
    }
    void add_done_callback(std::function<void()> cb) {
        if (done_)
            loop.call_soon(std::move(cb));
        else
            callbacks_.push_back(std::move(cb));
    }

private:
    std::vector<std::function<void()>> callbacks_;
    int result_ = 0;
    bool done_ = false;
};
using FuturePtr = std::shared_ptr<Future>;

// ---- 3. Coro --------------------------------------------------------------------
// The compiler turns a function containing co_await / co_return into a frame
// that can pause and resume; promise_type tells it how to start, finish and
// hand over its value. This one starts paused (the Task makes the first step)
// and stays paused at the end, so that the Task can read the value.
struct Coro {
    struct promise_type {
        int value = 0;
        FuturePtr awaiting;  // the pending Future this coroutine stopped on
        Coro get_return_object() { return Coro(std::coroutine_handle<promise_type>::from_promise(*this)); }
        std::suspend_always initial_suspend() noexcept { return {}; }
        std::suspend_always final_suspend() noexcept { return {}; }
        void return_value(int v) { value = v; }
        void unhandled_exception() { throw; }  // toy: an error escapes from loop.run()
    };
    explicit Coro(std::coroutine_handle<promise_type> h) : handle(h) {}
    Coro(Coro&& o) noexcept : handle(std::exchange(o.handle, {})) {}
    ~Coro() {
        if (handle) handle.destroy();
    }
    std::coroutine_handle<promise_type> handle;
};

// `co_await future`: if it is done, take the result and go on. If not, leave
// the Future in the promise and pause; the Task driving this coroutine picks
// it up (in asyncio the coroutine yields the Future to Task.__step).
struct FutureAwaiter {
    FuturePtr future;
    bool await_ready() const { return future->done(); }
    void await_suspend(std::coroutine_handle<Coro::promise_type> h) { h.promise().awaiting = future; }
    int await_resume() const { return future->result(); }
};
FutureAwaiter operator co_await(FuturePtr f) { return {std::move(f)}; }

// ---- 4. Task --------------------------------------------------------------------
// A Task is also a Future: it completes with the coroutine's co_return value,
// so one coroutine can await another one's Task.
class Task : public Future, public std::enable_shared_from_this<Task> {
public:
    explicit Task(Coro coro) : coro_(std::move(coro)) {}
    void step() {
        coro_.handle.resume();  // runs until the next pause or the end
        auto& promise = coro_.handle.promise();
        if (coro_.handle.done()) {
            set_result(promise.value);  // wakes whoever awaits this Task
            return;
        }
        // It paused on a pending Future: step again when that one is done.
        FuturePtr waiting_for = std::exchange(promise.awaiting, nullptr);
        waiting_for->add_done_callback([self = shared_from_this()] { self->step(); });
    }

private:
    Coro coro_;
};
using TaskPtr = std::shared_ptr<Task>;

TaskPtr create_task(Coro coro) {
    auto task = std::make_shared<Task>(std::move(coro));
    loop.call_soon([task] { task->step(); });  // the first step runs soon, not now
    return task;
}

// ---- 5. sleep --------------------------------------------------------------------
FuturePtr sleep(double seconds) {
    auto f = std::make_shared<Future>();
    loop.call_later(seconds, [f] { f->set_result(0); });
    return f;
}

int run(Coro main) {
    TaskPtr task = create_task(std::move(main));
    loop.run();
    return task->result();
}

// ---- A program for the toy: two countdowns running side by side ------------------
Coro countdown(std::string name, int n) {
    for (int i = n; i > 0; --i) {
        std::cout << "  " << name << ": " << i << "\n";
        co_await sleep(0.01);  // pauses this coroutine; the loop runs the other one
    }
    co_return n;
}

Coro amain() {
    std::cout << "  main: starting tasks A and B\n";
    TaskPtr a = create_task(countdown("A", 3));
    TaskPtr b = create_task(countdown("B", 2));
    int from_a = co_await a;  // a Task is a Future: this waits for its co_return
    int from_b = co_await b;  // already done by now: no pause at all
    std::cout << "  main: A counted " << from_a << ", B counted " << from_b << "\n";
    co_return from_a + from_b;
}

}  // namespace toy
}  // namespace

int examples::how_it_works() {
    std::cout << "a toy loop, Future and Task (no tulip inside):\n";
    int total = toy::run(toy::amain());
    std::cout << "toy run() returned " << total << "\n";
    return total == 5 ? 0 : 1;
}

#ifndef TULIP_DEMO
int main() { return examples::how_it_works(); }
#endif
