// tulip/sync/queue.hpp — Queue, PriorityQueue, LifoQueue (asyncio.Queue & co, 3.13).
//
// put() waits while the queue is full (maxsize > 0), get() while it is empty;
// put_nowait()/get_nowait() throw QueueFull/QueueEmpty instead. task_done()
// and join() track unfinished items. shutdown(immediate) (Python 3.13): puts
// raise QueueShutDown; gets drain what is left then raise QueueShutDown
// (immediate: the queue is emptied at once); blocked callers are woken.
//
// Fairness: waiters are served FIFO. Cancel safety: safe (get(), put(),
// join()); a cancelled get() takes no item and a cancelled put() adds none;
// if a cancelled waiter had been woken, the wake-up passes to the next
// waiter. Thread safety: loop thread only.
// Errors: task_done() called too often throws std::invalid_argument.
#pragma once

#include <coroutine>
#include <cstddef>
#include <deque>
#include <functional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <tulip/core/exceptions.hpp>
#include <tulip/sync/event.hpp>
#include <tulip/sync/waiters.hpp>
#include <tulip/task/coro.hpp>

namespace tulip {

namespace detail {

template <class T>
struct FifoStore {
    std::deque<T> items;
    std::size_t size() const noexcept { return items.size(); }
    void put(T&& v) { items.push_back(std::move(v)); }
    T get() {
        T v = std::move(items.front());
        items.pop_front();
        return v;
    }
};

template <class T>
struct LifoStore {
    std::vector<T> items;
    std::size_t size() const noexcept { return items.size(); }
    void put(T&& v) { items.push_back(std::move(v)); }
    T get() {
        T v = std::move(items.back());
        items.pop_back();
        return v;
    }
};

// Smallest first, as heapq (Compare = std::less: a min-heap). heapq's own
// sift-down and sift-up, written out (the same moves as std::push_heap and
// std::pop_heap, so ties come out in the same order) to keep <algorithm> out
// of this header.
template <class T, class Compare>
struct HeapStore {
    std::vector<T> items;
    Compare less{};
    std::size_t size() const noexcept { return items.size(); }
    void put(T&& v) {
        items.push_back(std::move(v));
        sift_down(0, items.size() - 1);
    }
    T get() {
        T last = std::move(items.back());
        items.pop_back();
        if (items.empty()) return last;
        T v = std::move(items.front());
        items.front() = std::move(last);
        sift_up(0);
        return v;
    }

private:
    // heapq._siftdown: moves the item at pos up towards start while it is
    // smaller than its parent.
    void sift_down(std::size_t start, std::size_t pos) {
        T item = std::move(items[pos]);
        while (pos > start) {
            std::size_t parent = (pos - 1) / 2;
            if (!less(item, items[parent])) break;
            items[pos] = std::move(items[parent]);
            pos = parent;
        }
        items[pos] = std::move(item);
    }
    // heapq._siftup: moves the smaller child up until pos is a leaf, then
    // puts the item there and sifts it back down.
    void sift_up(std::size_t pos) {
        const std::size_t end = items.size(), start = pos;
        T item = std::move(items[pos]);
        std::size_t child = 2 * pos + 1;
        while (child < end) {
            if (child + 1 < end && !less(items[child], items[child + 1])) ++child;
            items[pos] = std::move(items[child]);
            pos = child;
            child = 2 * pos + 1;
        }
        items[pos] = std::move(item);
        sift_down(start, pos);
    }
};

}  // namespace detail

template <class T, class Store = detail::FifoStore<T>>
class BasicQueue {
public:
    // maxsize <= 0: unbounded.
    explicit BasicQueue(std::ptrdiff_t maxsize = 0) : maxsize_(maxsize) { finished_.set(); }
    BasicQueue(const BasicQueue&) = delete;
    BasicQueue& operator=(const BasicQueue&) = delete;

    std::size_t qsize() const noexcept { return store_.size(); }
    std::ptrdiff_t maxsize() const noexcept { return maxsize_; }
    bool empty() const noexcept { return store_.size() == 0; }
    bool full() const noexcept { return maxsize_ > 0 && store_.size() >= static_cast<std::size_t>(maxsize_); }

    void put_nowait(T item) {
        if (shutdown_) throw QueueShutDown();
        if (full()) throw QueueFull();
        store_.put(std::move(item));
        ++unfinished_;
        finished_.clear();
        wakeup_next(getters_);
    }
    T get_nowait() {
        if (empty()) {
            if (shutdown_) throw QueueShutDown();
            throw QueueEmpty();
        }
        T item = store_.get();
        wakeup_next(putters_);
        return item;
    }

    // Waits for room, then puts the item. An awaiter rather than a coroutine:
    // when there is room (nearly always) `co_await put(x)` is put_nowait(x)
    // and costs no frame; only a caller that must wait runs put_slow().
    class [[nodiscard]] PutAwaiter {
    public:
        // Not an aggregate: see the GCC 12.2 note in sync/waiters.hpp.
        PutAwaiter(BasicQueue& q, T&& item) : q_(q), item_(std::move(item)) {}
        bool await_ready() {
            if (q_.full()) return false;
            q_.put_nowait(std::move(item_));  // as asyncio: no yield when there is room
            done_ = true;
            return true;
        }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> h) {
            slow_ = q_.put_slow(std::move(item_));
            auto aw = slow_.operator co_await();
            (void)aw.await_ready();
            return aw.await_suspend(h);
        }
        void await_resume() {
            if (!done_) slow_.operator co_await().await_resume();
        }

    private:
        BasicQueue& q_;
        T item_;
        Coro<void> slow_;
        bool done_ = false;
    };
    PutAwaiter put(T item) { return PutAwaiter(*this, std::move(item)); }

    // Waits for an item, then takes it (an awaiter for the same reason).
    class [[nodiscard]] GetAwaiter {
    public:
        explicit GetAwaiter(BasicQueue& q) noexcept : q_(q) {}
        bool await_ready() const noexcept { return !q_.empty(); }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> h) {
            slow_ = q_.get_slow();
            auto aw = slow_.operator co_await();
            (void)aw.await_ready();
            return aw.await_suspend(h);
        }
        T await_resume() {
            if (!slow_) return q_.get_nowait();
            return slow_.operator co_await().await_resume();
        }

    private:
        BasicQueue& q_;
        Coro<T> slow_;
    };
    GetAwaiter get() noexcept { return GetAwaiter(*this); }

    void task_done() {
        if (unfinished_ == 0) throw std::invalid_argument("task_done() called too many times");
        if (--unfinished_ == 0) finished_.set();
    }
    // Waits until every item put has been marked task_done().
    Coro<void> join() {
        if (unfinished_ > 0) co_await finished_.wait();
    }
    // Python 3.13 Queue.shutdown.
    void shutdown(bool immediate = false) {
        shutdown_ = true;
        if (immediate) {
            while (!empty()) {
                (void)store_.get();
                if (unfinished_ > 0) --unfinished_;
            }
            if (unfinished_ == 0) finished_.set();
        }
        // Every blocked caller re-checks and sees the shutdown.
        while (auto* w = getters_.pop_front())
            if (!w->done()) w->set_result();
        while (auto* w = putters_.pop_front())
            if (!w->done()) w->set_result();
    }
    bool is_shutdown() const noexcept { return shutdown_; }

private:
    Coro<void> put_slow(T item) {
        while (full()) {
            if (shutdown_) throw QueueShutDown();
            co_await Park(*this, putters_);
        }
        put_nowait(std::move(item));
    }
    Coro<T> get_slow() {
        while (empty()) {
            if (shutdown_) throw QueueShutDown();
            co_await Park(*this, getters_);
        }
        co_return get_nowait();
    }

    // Waiting for room or an item (asyncio: a future in _putters/_getters).
    struct Park {
        // A constructor, not aggregate init: GCC 12.2 destroys members of an
        // aggregate-initialised co_await temporary twice (seen here as a bad free).
        Park(BasicQueue& queue, detail::WaiterList& l) noexcept : q(queue), list(l) {}
        BasicQueue& q;
        detail::WaiterList& list;
        detail::LinkedWaiter lw;
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> h) {
            lw.list = &list;
            list.push_back(&lw.w);
            lw.w.park(h);
        }
        void await_resume() {
            try {
                lw.w.raise_if_cancelled();
            } catch (...) {
                list.remove(&lw.w);  // may already be gone (woken, or shutdown)
                // Woken by the other side but not taking it: wake the next in line.
                bool room = (&list == &q.putters_) ? !q.full() : !q.empty();
                if (room && !lw.w.cancelled()) q.wakeup_next(list);
                throw;
            }
        }
    };

    static void wakeup_next(detail::WaiterList& waiters) noexcept {
        while (auto* w = waiters.pop_front()) {
            if (!w->done()) {
                w->set_result();
                break;
            }
        }
    }

    Store store_;
    detail::WaiterList getters_;
    detail::WaiterList putters_;
    Event finished_;
    std::size_t unfinished_ = 0;
    std::ptrdiff_t maxsize_;
    bool shutdown_ = false;
};

template <class T>
using Queue = BasicQueue<T, detail::FifoStore<T>>;
template <class T>
using LifoQueue = BasicQueue<T, detail::LifoStore<T>>;
// Smallest item first (Compare orders items; std::less gives heapq's order).
template <class T, class Compare = std::less<T>>
using PriorityQueue = BasicQueue<T, detail::HeapStore<T, Compare>>;

}  // namespace tulip
