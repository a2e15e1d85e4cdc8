// tulip/core/pool.hpp — the recycling allocator behind coroutine frames and
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

// Blocks of up to 1 KiB come from 256 KiB slabs carved front to back, and go
// back to a per-size-class free list; larger ones use operator new. Slabs are
// never returned: a thread's pool keeps its high-water mark (and a block
// freed on another thread simply joins that thread's lists). Slabs are kept
// on a global list so leak checkers see them as reachable.
class FramePool {
public:
    static constexpr std::size_t kGranule = 32;            // size-class width in bytes
    static constexpr std::size_t kClasses = 32;            // classes cover up to 1 KiB
    static constexpr std::size_t kSlabBytes = 256 * 1024;  // carved into blocks

    FramePool() = default;
    FramePool(const FramePool&) = delete;
    FramePool& operator=(const FramePool&) = delete;

    void* allocate(std::size_t n) {
#ifndef TULIP_NO_POOL
        std::size_t c = n ? (n - 1) / kGranule : 0;
        if (c < kClasses) {
            if (Block* b = heads_[c]) {
                heads_[c] = b->next;
                return b;
            }
            std::size_t bytes = (c + 1) * kGranule;
            if (static_cast<std::size_t>(slab_end_ - slab_ptr_) < bytes) new_slab();
            void* p = slab_ptr_;
            slab_ptr_ += bytes;
            return p;
        }
#endif
        return ::operator new(n);
    }

    void deallocate(void* p, std::size_t n) noexcept {
#ifndef TULIP_NO_POOL
        std::size_t c = n ? (n - 1) / kGranule : 0;
        if (c < kClasses) {
            auto* b = static_cast<Block*>(p);
            b->next = heads_[c];
            heads_[c] = b;
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
    void new_slab();  // src/core/pool.cpp
    Block* heads_[kClasses] = {};
    char* slab_ptr_ = nullptr;
    char* slab_end_ = nullptr;
};

inline FramePool& frame_pool() noexcept {
    static thread_local FramePool pool;
    return pool;
}

inline void* pool_allocate(std::size_t n) { return frame_pool().allocate(n); }
inline void pool_deallocate(void* p, std::size_t n) noexcept { frame_pool().deallocate(p, n); }

}  // namespace tulip::detail
