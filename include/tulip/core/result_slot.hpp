// tulip/core/result_slot.hpp — ResultSlot<T>: storage for a value that may not
// be there yet (internal). Holds the result of a Future and of a Coro's frame;
// unlike std::optional it needs nothing of T but its constructor, and the void
// case is a flag.
#pragma once

#include <new>
#include <utility>

namespace tulip::detail {

template <class T>
struct ResultSlot {
    alignas(T) unsigned char buf[sizeof(T)];
    bool has = false;
    template <class... A>
    void emplace(A&&... a) {
        ::new (static_cast<void*>(buf)) T(std::forward<A>(a)...);
        has = true;
    }
    T& get() noexcept { return *std::launder(reinterpret_cast<T*>(buf)); }
    ResultSlot() = default;
    ResultSlot(const ResultSlot&) = delete;
    ~ResultSlot() {
        if (has) get().~T();
    }
};
template <>
struct ResultSlot<void> {
    bool has = false;
    void emplace() noexcept { has = true; }
};

}  // namespace tulip::detail
