// tulip/detail/pool.hpp — the recycling allocator behind coroutine frames and
// callback nodes (internal). Blocks are kept on per-thread free lists by size
// class, so the steady state of a loop allocates nothing from the heap.
// Under AddressSanitizer the pool is bypassed so that use-after-free is caught.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define TULIP_NO_POOL 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TULIP_NO_POOL 1
#endif
#endif

namespace tulip::detail {

class FramePool {
public:
    static constexpr std::size_t kGranule = 32;   // size-class width in bytes
    static constexpr std::size_t kClasses = 32;   // classes cover up to 1 KiB
    static constexpr std::uint32_t kMaxCached = 1u << 16;  // blocks kept per class

    FramePool() = default;
    FramePool(const FramePool&) = delete;
    FramePool& operator=(const FramePool&) = delete;
    ~FramePool() {
        for (auto& h : heads_)
            while (h) {
                Block* b = h;
                h = h->next;
                ::operator delete(b);
            }
    }

    void* allocate(std::size_t n) {
#ifndef TULIP_NO_POOL
        std::size_t c = n ? (n - 1) / kGranule : 0;
        if (c < kClasses) {
            if (Block* b = heads_[c]) {
                heads_[c] = b->next;
                --counts_[c];
                return b;
            }
            return ::operator new((c + 1) * kGranule);
        }
#endif
        return ::operator new(n);
    }

    void deallocate(void* p, std::size_t n) noexcept {
#ifndef TULIP_NO_POOL
        std::size_t c = n ? (n - 1) / kGranule : 0;
        if (c < kClasses && counts_[c] < kMaxCached) {
            auto* b = static_cast<Block*>(p);
            b->next = heads_[c];
            heads_[c] = b;
            ++counts_[c];
            return;
        }
#else
        (void)n;
#endif
        ::operator delete(p);
    }

private:
    struct Block {
        Block* next;
    };
    Block* heads_[kClasses] = {};
    std::uint32_t counts_[kClasses] = {};
};

inline FramePool& frame_pool() noexcept {
    static thread_local FramePool pool;
    return pool;
}

inline void* pool_allocate(std::size_t n) { return frame_pool().allocate(n); }
inline void pool_deallocate(void* p, std::size_t n) noexcept { frame_pool().deallocate(p, n); }

}  // namespace tulip::detail
