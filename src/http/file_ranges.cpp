// src/http/file_ranges.cpp — see file_ranges.hpp.
#include "file_ranges.hpp"

#include <charconv>

namespace tulip::http::detail {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool parse_u64(std::string_view s, std::uint64_t& v) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace

std::string file_etag(std::time_t mtime, std::uint64_t size) {
    char buf[48];
    char* p = buf;
    *p++ = '"';
    p = std::to_chars(p, buf + 20, static_cast<std::uint64_t>(mtime), 16).ptr;
    *p++ = '-';
    p = std::to_chars(p, buf + 44, size, 16).ptr;
    *p++ = '"';
    return std::string(buf, p);
}

bool etag_list_matches(std::string_view header, std::string_view etag) {
    header = trim(header);
    if (header == "*") return true;
    std::string_view want = etag;
    if (want.substr(0, 2) == "W/") want.remove_prefix(2);
    while (!header.empty()) {
        std::size_t comma = header.find(',');
        std::string_view item = trim(header.substr(0, comma));
        if (item.substr(0, 2) == "W/") item.remove_prefix(2);
        if (item == want) return true;
        if (comma == std::string_view::npos) break;
        header.remove_prefix(comma + 1);
    }
    return false;
}

RangeResult parse_range(std::string_view header, std::uint64_t size, ByteRange& out) {
    header = trim(header);
    if (header.substr(0, 6) != "bytes=") return RangeResult::ignore;
    std::string_view spec = trim(header.substr(6));
    if (spec.find(',') != std::string_view::npos) return RangeResult::ignore;
    std::size_t dash = spec.find('-');
    if (dash == std::string_view::npos) return RangeResult::ignore;
    std::string_view a = trim(spec.substr(0, dash)), b = trim(spec.substr(dash + 1));
    if (a.empty()) {  // suffix: the last n bytes
        std::uint64_t n;
        if (!parse_u64(b, n)) return RangeResult::ignore;
        if (n == 0 || size == 0) return RangeResult::unsatisfiable;
        out.first = n >= size ? 0 : size - n;
        out.last = size - 1;
        return RangeResult::satisfiable;
    }
    std::uint64_t first;
    if (!parse_u64(a, first)) return RangeResult::ignore;
    std::uint64_t last = size == 0 ? 0 : size - 1;
    if (!b.empty()) {
        if (!parse_u64(b, last)) return RangeResult::ignore;
        if (last < first) return RangeResult::ignore;  // invalid: RFC 9110 14.1.1 says ignore
        if (size > 0 && last >= size) last = size - 1;
    }
    if (first >= size) return RangeResult::unsatisfiable;
    out.first = first;
    out.last = last;
    return RangeResult::satisfiable;
}

}  // namespace tulip::http::detail
