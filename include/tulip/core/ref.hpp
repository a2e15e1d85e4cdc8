// tulip/core/ref.hpp — RefCounted and Ref<T>: intrusive, single-threaded
// reference counting for objects several owners share on one loop thread
// (transports, servers, stream states) — Python's references, without
// std::shared_ptr's atomics.
#pragma once

#include <cstdint>
#include <utility>

namespace tulip {

class RefCounted {
public:
    void incref() const noexcept { ++refs_; }
    void decref() const noexcept {
        if (--refs_ == 0) delete this;
    }
    std::uint32_t refcount() const noexcept { return refs_; }

protected:
    RefCounted() = default;
    RefCounted(const RefCounted&) = delete;
    RefCounted& operator=(const RefCounted&) = delete;
    virtual ~RefCounted() = default;

private:
    mutable std::uint32_t refs_ = 0;
};

template <class T>
class Ref {
public:
    Ref() noexcept = default;
    Ref(T* p) noexcept : p_(p) {
        if (p_) p_->incref();
    }
    Ref(const Ref& o) noexcept : Ref(o.p_) {}
    Ref(Ref&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    template <class U>
    Ref(const Ref<U>& o) noexcept : Ref(o.get()) {}
    Ref& operator=(Ref o) noexcept {
        std::swap(p_, o.p_);
        return *this;
    }
    ~Ref() {
        if (p_) p_->decref();
    }
    T* get() const noexcept { return p_; }
    T* operator->() const noexcept { return p_; }
    T& operator*() const noexcept { return *p_; }
    explicit operator bool() const noexcept { return p_ != nullptr; }
    bool operator==(const Ref& o) const noexcept { return p_ == o.p_; }
    void reset() noexcept { Ref().swap(*this); }
    void swap(Ref& o) noexcept { std::swap(p_, o.p_); }

private:
    T* p_ = nullptr;
};

template <class T, class... A>
Ref<T> make_ref(A&&... a) {
    return Ref<T>(new T(std::forward<A>(a)...));
}

}  // namespace tulip
