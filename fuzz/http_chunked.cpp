// Fuzz target: the chunked decoder. The input is the body of a chunked POST
// (the head is fixed, so every input exercises the decoder). Besides the
// whole/cut invariance of http_common.hpp: whatever the parser completes, a
// strict decoder of RFC 9112 7.1 written here must accept too, with the
// same bytes of body and the same end. A laxer parser than that (a bare LF,
// a size with spaces or "0x", an overflowing size) is how a front end and a
// back end come to disagree on where a request ends: request smuggling.
#include <optional>

#include "http_common.hpp"

namespace {

constexpr std::string_view kHead = "POST /upload HTTP/1.1\r\nHost: fuzz\r\nTransfer-Encoding: chunked\r\n\r\n";

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool tchar(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

struct Decoded {
    std::string body;
    std::size_t end = 0;  // offset just past the final CRLF
};

// RFC 9112 7.1, strictly where it decides where things end: chunk-size
// 1*HEXDIG, CRLF everywhere (no bare LF), a chunk's data exactly its size,
// a trailer section of "name: value" lines.
std::optional<Decoded> strict_decode(std::string_view s) {
    Decoded d;
    std::size_t i = 0;
    auto crlf = [&]() {
        if (s.substr(i, 2) != "\r\n") return false;
        i += 2;
        return true;
    };
    auto ows = [&]() {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    };
    auto token = [&]() {
        std::size_t from = i;
        while (i < s.size() && tchar(s[i])) ++i;
        return i > from;
    };
    for (;;) {
        std::uint64_t size = 0;
        std::size_t digits = 0;
        while (i < s.size() && hex(s[i]) >= 0) {
            if (size >> 60) return std::nullopt;  // would overflow 64 bits
            size = size * 16 + static_cast<unsigned>(hex(s[i]));
            ++i;
            ++digits;
        }
        if (digits == 0) return std::nullopt;
        // Extensions: their grammar is not checked (llhttp takes ";=v", an
        // empty name, which RFC 9112 does not; no recipient acts on them),
        // only that they keep to the line: no CR, LF or other control byte
        // inside, which is what could move a chunk's end.
        if (i < s.size() && (s[i] == ';' || s[i] == ' ' || s[i] == '\t')) {
            ows();
            if (i >= s.size() || s[i] != ';') return std::nullopt;
            while (i < s.size() && s[i] != '\r') {
                auto c = static_cast<unsigned char>(s[i]);
                if ((c < 0x20 && c != '\t') || c == 0x7f) return std::nullopt;
                ++i;
            }
        }
        if (!crlf()) return std::nullopt;
        if (size == 0) break;
        if (s.size() - i < size) return std::nullopt;
        d.body += s.substr(i, size);
        i += size;
        if (!crlf()) return std::nullopt;
    }
    // Trailer fields, then the empty line. A line that starts with SP or HTAB
    // after a field is obs-fold, which RFC 9112 5.2 lets a server replace
    // with SP (tulip refuses a fold that carries a value; one of whitespace
    // only adds nothing and is let through): where the section ends is the
    // same either way.
    bool after_field = false;
    while (!crlf()) {
        if (after_field && i < s.size() && (s[i] == ' ' || s[i] == '\t')) {
            while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
            if (!crlf()) return std::nullopt;
            continue;
        }
        after_field = true;
        if (!token()) return std::nullopt;
        if (i >= s.size() || s[i] != ':') return std::nullopt;
        ++i;
        while (i < s.size() && s[i] != '\r' && s[i] != '\n') {
            auto c = static_cast<unsigned char>(s[i]);
            if ((c < 0x20 && c != '\t') || c == 0x7f) return std::nullopt;
            ++i;
        }
        if (!crlf()) return std::nullopt;
    }
    d.end = i;
    return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace fuzz_http;
    if (size < 2) return 0;
    std::string message(kHead);
    message.append(reinterpret_cast<const char*>(data + 2), size - 2);
    std::string input(reinterpret_cast<const char*>(data), 2);
    input += message;
    Plan pl = plan(MessageParser::Kind::request, reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
    pl.options.limits.max_line = 8 * 1024;  // the head is fixed; the body's limits are what matter
    pl.options.limits.require_host = true;
    Result r = check_split_invariance("http_chunked", pl);
    if (r.bodies.empty()) return 0;  // not completed: an error, or more input wanted
    std::string_view chunked = std::string_view(message).substr(kHead.size());
    std::optional<Decoded> strict = strict_decode(chunked);
    if (!strict) fail("http_chunked", "the parser completed a chunked body that RFC 9112 does not allow");
    if (strict->body != r.bodies.front()) fail("http_chunked", "the parser's body differs from the strict decoder's");
    return 0;
}
