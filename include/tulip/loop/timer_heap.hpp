// tulip/loop/timer_heap.hpp — the event loop's timer heap (internal).
//
// asyncio keeps its TimerHandles in a heapq list ordered by deadline; this is
// the same idea tuned for a million timers: a 4-ary min-heap ordered by
// (when, seq) whose 16-byte entries are laid out so that the four children of
// an entry share one 64-byte cache line (a sift down reads one line a level).
// Ties on `when` are broken by reading the nodes' seq, which keeps timers with
// equal deadlines in scheduling order.
#pragma once

#include <cstddef>
#include <cstdint>

#include <tulip/loop/nodes.hpp>

namespace tulip::detail {

class TimerHeap {
public:
    // "Indexed" entries keep their position in their node's heap_index, so
    // that they can be removed from the middle; the others are found only by
    // a walk (the loop cancels those lazily), and moving them writes nothing
    // to their node.
    struct Entry {
        std::int64_t when;
        std::uintptr_t bits;  // the TimerNode, | 1 if indexed
        TimerNode* node() const noexcept { return reinterpret_cast<TimerNode*>(bits & ~std::uintptr_t{1}); }
        bool indexed() const noexcept { return bits & 1; }
    };

    TimerHeap() = default;
    TimerHeap(const TimerHeap&) = delete;
    TimerHeap& operator=(const TimerHeap&) = delete;
    ~TimerHeap();

    bool empty() const noexcept { return size_ == 0; }
    std::size_t size() const noexcept { return size_; }
    const Entry& front() const noexcept { return e_[0]; }
    const Entry& operator[](std::size_t i) const noexcept { return e_[i]; }

    // Adds t at t->when; t->seq must be set (and unique).
    void push(TimerNode* t, bool indexed);
    void pop_front() noexcept;
    // Removes the entry at i (an indexed entry's node->heap_index).
    void remove(std::size_t i) noexcept;
    // Keeps the entries for which keep(entry) holds, in heap order again
    // afterwards (an indexed entry's heap_index follows it).
    template <class Keep>
    void retain(Keep keep) noexcept {
        std::size_t kept = 0;
        for (std::size_t i = 0; i < size_; ++i)
            if (keep(e_[i])) place(kept++, e_[i]);
        size_ = kept;
        for (std::size_t i = kept > 1 ? (kept - 2) / 4 + 1 : 0; i-- > 0;) down(i);
    }
    void clear() noexcept { size_ = 0; }

private:
    static constexpr std::size_t kPad = 3;  // entries before e_[0], so that 4i+1 .. 4i+4 share a line
    void grow();
    void up(std::size_t i) noexcept;
    void down(std::size_t i) noexcept;
    void place(std::size_t i, const Entry& e) noexcept {
        e_[i] = e;
        if (e.indexed()) e.node()->heap_index = i;
    }

    Entry* e_ = nullptr;
    std::size_t size_ = 0;
    std::size_t cap_ = 0;
};

}  // namespace tulip::detail
