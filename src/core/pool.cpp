#include <tulip/core/pool.hpp>

#include <sys/mman.h>

#include <mutex>
#include <new>
#include <vector>

namespace tulip::detail {

namespace {
// Every slab ever made, so that they stay reachable (see FramePool).
std::mutex& slabs_mu() {
    static std::mutex m;
    return m;
}
std::vector<void*>& slabs() {
    static auto* v = new std::vector<void*>();  // never destroyed: blocks may outlive static destruction
    return *v;
}
}  // namespace

void FramePool::new_slab() {
    // Pre-faulted: first-touch page faults were over half the cost of a burst
    // of new tasks or callbacks (bench/RESULTS.md).
    void* p = ::mmap(nullptr, kSlabBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    {
        std::lock_guard g(slabs_mu());
        slabs().push_back(p);
    }
    slab_ptr_ = static_cast<char*>(p);
    slab_end_ = slab_ptr_ + kSlabBytes;
}

}  // namespace tulip::detail
