// tulip/core/owned.hpp — detail::Owned<T>: the owning pointer behind a pimpl
// (no asyncio counterpart; Python objects need none).
//
// What a class keeps behind its source (a loop's cold state, a lock, a hash
// set) is held through this rather than std::unique_ptr: every distinct
// unique_ptr<T> makes each user's translation unit instantiate its tuple,
// deleter and impl classes, which bench/compile_time.sh measured at tens of
// milliseconds for tulip.hpp. Owned is one pointer, moves, and deletes. T may
// be incomplete where Owned is a member, as long as the owner's destructor is
// defined where T is complete (the static_assert says so otherwise).
#pragma once

#include <utility>

namespace tulip::detail {

template <class T>
class Owned {
public:
    Owned() noexcept = default;
    explicit Owned(T* p) noexcept : p_(p) {}
    Owned(Owned&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    Owned& operator=(Owned&& o) noexcept {
        reset(std::exchange(o.p_, nullptr));
        return *this;
    }
    Owned(const Owned&) = delete;
    Owned& operator=(const Owned&) = delete;
    ~Owned() { destroy(p_); }

    void reset(T* p = nullptr) noexcept { destroy(std::exchange(p_, p)); }
    T* get() const noexcept { return p_; }
    T* operator->() const noexcept { return p_; }
    T& operator*() const noexcept { return *p_; }
    explicit operator bool() const noexcept { return p_ != nullptr; }

private:
    static void destroy(T* p) noexcept {
        static_assert(sizeof(T) > 0,
                      "Owned<T> destroyed where T is incomplete: define the owner's destructor in its source");
        delete p;
    }
    T* p_ = nullptr;
};

template <class T, class... Args>
Owned<T> make_owned(Args&&... args) {
    return Owned<T>(new T(std::forward<Args>(args)...));
}

}  // namespace tulip::detail
