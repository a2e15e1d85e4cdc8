#include <tulip/loop/timer_heap.hpp>

#include <cstring>
#include <new>

namespace tulip::detail {

namespace {
constexpr std::align_val_t kLine{64};

// (when, seq) order; seq is read from the nodes only on equal deadlines.
inline bool earlier(const TimerHeap::Entry& a, const TimerHeap::Entry& b) noexcept {
    return a.when < b.when || (a.when == b.when && a.node()->seq < b.node()->seq);
}
}  // namespace

TimerHeap::~TimerHeap() {
    if (e_) ::operator delete(e_ - kPad, kLine);
}

void TimerHeap::grow() {
    std::size_t cap = cap_ ? cap_ * 2 : 256;
    auto* mem = static_cast<Entry*>(::operator new((cap + kPad) * sizeof(Entry), kLine));
    if (e_) {
        std::memcpy(mem + kPad, e_, size_ * sizeof(Entry));
        ::operator delete(e_ - kPad, kLine);
    }
    e_ = mem + kPad;
    cap_ = cap;
}

void TimerHeap::push(TimerNode* t, bool indexed) {
    if (size_ == cap_) grow();
    std::size_t i = size_++;
    e_[i] = Entry{t->when, reinterpret_cast<std::uintptr_t>(t) | (indexed ? 1 : 0)};
    up(i);
}

void TimerHeap::pop_front() noexcept {
    if (--size_ == 0) return;
    e_[0] = e_[size_];
    down(0);
}

void TimerHeap::remove(std::size_t i) noexcept {
    std::size_t last = --size_;
    if (i == last) return;
    place(i, e_[last]);
    if (i > 0 && earlier(e_[i], e_[(i - 1) / 4]))
        up(i);
    else
        down(i);
}

void TimerHeap::up(std::size_t i) noexcept {
    Entry e = e_[i];
    while (i > 0) {
        std::size_t p = (i - 1) / 4;
        if (!earlier(e, e_[p])) break;
        place(i, e_[p]);
        i = p;
    }
    place(i, e);
}

void TimerHeap::down(std::size_t i) noexcept {
    Entry e = e_[i];
    const std::size_t n = size_;
    for (;;) {
        std::size_t c = 4 * i + 1;
        if (c >= n) break;
        std::size_t best = c;
        std::size_t last = c + 4 < n ? c + 4 : n;
        for (std::size_t k = c + 1; k < last; ++k)
            if (earlier(e_[k], e_[best])) best = k;
        if (!earlier(e_[best], e)) break;
        place(i, e_[best]);
        i = best;
    }
    place(i, e);
}

}  // namespace tulip::detail
