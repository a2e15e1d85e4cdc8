// Fuzz target: tulip/http/url.hpp, the parsers a server and a client point at
// strings from the network: URL::parse, parse_target, Query::parse and the
// percent coding. Properties: bad input is std::invalid_argument; what a
// parse gives back is stable (a URL printed and parsed again is the same
// URL; a query encoded and parsed again is the same query); what goes on
// the wire (Host header, request line target) holds no byte that could end
// a header or a request line; a target's path never climbs above "/".
#include <tulip/http/url.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

using namespace tulip::http;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "url: %s\n", what);
    std::abort();
}

// CR, LF, NUL, space or another control byte: would split or end a line.
bool unsafe_on_the_wire(std::string_view s) {
    for (unsigned char c : s)
        if (c <= 0x20 || c == 0x7f) return true;
    return false;
}

bool same(const URL& a, const URL& b) {
    return a.scheme == b.scheme && a.user == b.user && a.password == b.password && a.host == b.host &&
           a.port == b.port && a.path == b.path && a.query == b.query && a.fragment == b.fragment;
}

void check_url(std::string_view s) {
    URL u;
    try {
        u = URL::parse(s);
    } catch (const std::invalid_argument&) {
        return;
    }
    if (u.scheme != "http" && u.scheme != "https") fail("a URL with another scheme");
    if (u.host.empty() || u.port == 0) fail("a URL without host or port");
    if (unsafe_on_the_wire(u.host_header())) fail("the Host header could carry a line break or a space");
    if (unsafe_on_the_wire(u.request_target())) fail("the request target could carry a line break or a space");
    URL again;
    try {
        again = URL::parse(u.to_string());
    } catch (const std::invalid_argument&) {
        fail("a parsed URL, printed, does not parse");
    }
    if (!same(u, again)) fail("a parsed URL, printed and parsed again, changed");
}

void check_target(std::string_view s) {
    Target t;
    try {
        t = parse_target(s);
    } catch (const std::invalid_argument&) {
        return;
    }
    if (t.form == Target::Form::origin || t.form == Target::Form::absolute) {
        if (t.path.empty() || t.path.front() != '/') fail("a target path that does not start at /");
        // Any "/../" left, or a trailing "/..", would climb out of a static root.
        std::string_view p = t.path;
        if (p.find("/../") != std::string_view::npos || p.ends_with("/..")) fail("a target path that climbs");
        if (remove_dot_segments(t.path) != t.path) fail("a target path not cleaned of dot-segments");
    }
    if (unsafe_on_the_wire(t.host)) fail("a target host with a control byte or a space");
}

void check_query(std::string_view s) {
    Query q;
    try {
        q = Query::parse(s);
    } catch (const std::invalid_argument&) {
        return;
    }
    if (Query::parse(urlencode(q)) != q) fail("Query::parse(urlencode(q)) != q");
}

void check_percent(std::string_view s) {
    if (percent_decode(percent_encode(s)) != s) fail("percent_decode(percent_encode(s)) != s");
    if (percent_decode(percent_encode(s, ""), true) != s) fail("percent-encoding with no safe bytes is not undone");
    try {
        std::string d = percent_decode(s);
        if (d.size() > s.size()) fail("decoding made a string longer");
    } catch (const std::invalid_argument&) {}
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view s(reinterpret_cast<const char*>(data), size);
    check_url(s);
    check_target(s);
    check_query(s);
    check_percent(s);
    // The same bytes behind a scheme, so that the fuzzer need not find one.
    check_url("http://" + std::string(s));
    return 0;
}
