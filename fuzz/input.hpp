// The fuzz targets that read their input as a program take its bytes one at
// a time; past the end every byte reads as 0.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fuzz {

struct Input {
    const std::uint8_t* p;
    std::size_t n;
    bool empty() const { return n == 0; }
    std::uint8_t next() {
        if (n == 0) return 0;
        --n;
        return *p++;
    }
};

}  // namespace fuzz
