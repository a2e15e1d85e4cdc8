// src/http/file_ranges.hpp — the conditional-request and Range rules a file
// response follows (RFC 9110 13 and 14), as pure functions (internal).
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace tulip::http::detail {

// A strong validator made of the file's mtime and size (as nginx's).
std::string file_etag(std::time_t mtime, std::uint64_t size);

// If-None-Match: "*" or a list of entity tags, compared weakly (W/ ignored).
bool etag_list_matches(std::string_view header, std::string_view etag);

struct ByteRange {
    std::uint64_t first = 0;
    std::uint64_t last = 0;  // inclusive
};
enum class RangeResult { ignore, satisfiable, unsatisfiable };
// A Range header against a file of `size` bytes. Only one range is served:
// several (or a malformed header, or another unit) give `ignore` and the
// whole file goes out, which RFC 9110 14.2 allows.
RangeResult parse_range(std::string_view header, std::uint64_t size, ByteRange& out);

}  // namespace tulip::http::detail
