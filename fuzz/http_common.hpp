// What the HTTP fuzz targets share: a sink that writes down everything the
// parser reports, and a feed loop that drives a MessageParser as a connection
// does. The property every HTTP target checks with them: the same bytes give
// the same report whole and cut into pieces (the cuts come from the input),
// so no message's meaning depends on how TCP split it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "../src/http/message_parser.hpp"

namespace fuzz_http {

using tulip::http::Headers;
using tulip::http::detail::MessageHead;
using tulip::http::detail::MessageParser;
using tulip::http::detail::ParseError;
using tulip::http::detail::ParserLimits;

[[noreturn]] inline void fail(const char* target, const std::string& what) {
    std::string shown;  // control bytes and NULs as \xNN, so that the report is whole
    for (const unsigned char c : what) {
        if (c == '\n' || (c >= 0x20 && c < 0x7f)) {
            shown += static_cast<char>(c);
        } else {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            shown += hex;
        }
    }
    std::fprintf(stderr, "%s: %s\n", target, shown.c_str());
    std::abort();
}

struct Recorder : MessageParser::Sink {
    std::string log;
    std::string body;                 // the current message's body
    std::vector<std::string> bodies;  // each completed message's
    std::uint64_t max_body = 0;
    bool body_over_limit = false;
    void on_head(MessageHead& h) override {
        log += "HEAD " + h.method + " " + h.target + " " + std::to_string(h.status) + " " + h.reason + " " +
               std::to_string(h.version_major) + "." + std::to_string(h.version_minor) +
               (h.keep_alive ? " ka" : " close") + (h.chunked ? " chunked" : "") +
               (h.content_length ? " cl=" + std::to_string(*h.content_length) : "") + (h.upgrade ? " upgrade" : "") +
               (h.expect_continue ? " continue" : "") + "\n";
        for (const auto [n, v] : h.headers) log += " " + std::string(n) + ": " + std::string(v) + "\n";
    }
    void on_body(std::string_view chunk) override {
        if (chunk.empty()) log += "EMPTY BODY CALL\n";
        body += chunk;
        if (body.size() > max_body) body_over_limit = true;
    }
    void on_trailers(Headers& t) override {
        for (const auto [n, v] : t) log += " trailer " + std::string(n) + ": " + std::string(v) + "\n";
    }
    void on_message_complete() override {
        log += "BODY " + std::to_string(body.size()) + " " + body + "\nEND\n";
        bodies.push_back(std::move(body));
        body.clear();
    }
};

struct Options {
    MessageParser::Kind kind = MessageParser::Kind::request;
    ParserLimits limits{};
    bool eof = false;
    bool response_to_head = false;
};

struct Result {
    std::string log;
    std::vector<std::string> bodies;
    bool error = false;
    int status = 0;            // the ParseError's, if any
    std::size_t consumed = 0;  // bytes the parser took before it stopped for good
};

// Feeds `bytes` in pieces ending at `cuts` (sorted offsets), re-feeding what a
// feed() left, as a connection does.
inline Result parse(const char* target, const Options& o, std::string_view bytes,
                    const std::vector<std::size_t>& cuts) {
    Recorder rec;
    rec.max_body = o.limits.max_body;
    MessageParser p(o.kind, rec, o.limits);
    p.set_response_to_head(o.response_to_head);
    Result r;
    std::string buf;
    std::size_t from = 0;
    try {
        for (std::size_t i = 0; i <= cuts.size(); ++i) {
            std::size_t to = i < cuts.size() ? cuts[i] : bytes.size();
            buf += bytes.substr(from, to - from);
            from = to;
            while (!buf.empty() && !p.upgraded()) {
                std::size_t n = p.feed(buf);
                if (n > buf.size()) fail(target, "feed() took more than it was given");
                buf.erase(0, n);
                r.consumed += n;
                if (n == 0) break;
            }
        }
        if (p.upgraded()) rec.log += "UPGRADED rest=" + std::to_string(buf.size()) + "\n";
        if (o.eof && !p.upgraded()) {
            p.feed_eof();
            rec.log += "EOF\n";
        }
        if (p.in_message()) rec.log += "IN MESSAGE\n";
    } catch (const ParseError& e) {
        const int s = e.status();
        if (s != 400 && s != 413 && s != 414 && s != 431 && s != 501 && s != 505)
            fail(target, "ParseError with status " + std::to_string(s));
        if (std::string_view(e.what()).empty()) fail(target, "ParseError without a message");
        // Which error, not only whether: a message both over a limit and
        // malformed may get 431 or 400 depending on where TCP cut it (llhttp
        // reports a span at a buffer's end before it has seen the bad byte
        // after it). Either refuses the message; that is what must not vary.
        rec.log += "ERROR\n";
        if (std::getenv("TULIP_FUZZ_TRACE") != nullptr) std::fprintf(stderr, "ParseError %d: %s\n", s, e.what());
        r.status = s;
        r.error = true;
    }
    if (rec.body_over_limit) fail(target, "a body grew past max_body");
    r.log = std::move(rec.log);
    r.bodies = std::move(rec.bodies);
    return r;
}

// Options and cut points from the first bytes of the input; the rest is the
// message. Small limits half of the time, so that inputs reach them.
struct Plan {
    Options options;
    std::vector<std::size_t> cuts;
    std::string_view bytes;
};

inline Plan plan(MessageParser::Kind kind, const std::uint8_t* data, std::size_t size) {
    Plan pl;
    pl.options.kind = kind;
    if (size < 2) return pl;
    const std::uint8_t flags = data[0], seed = data[1];
    pl.bytes = std::string_view(reinterpret_cast<const char*>(data + 2), size - 2);
    pl.options.eof = flags & 1;
    pl.options.response_to_head = flags & 2;
    if (flags & 4) {
        pl.options.limits.max_line = 16 + (flags >> 3) % 64;
        pl.options.limits.max_header_bytes = 32 + seed % 128;
        pl.options.limits.max_headers = 1 + (flags >> 4) % 8;
        pl.options.limits.max_body = 1 + seed % 64;
    }
    pl.options.limits.require_host = !(flags & 8);
    // Cuts from a small generator seeded by the input: the same input, the same cuts.
    std::uint32_t x = 0x9e3779b9u ^ seed;
    for (std::size_t at = 0; at < pl.bytes.size();) {
        x = x * 1664525u + 1013904223u;
        at += 1 + (x >> 24) % 13;
        if (at < pl.bytes.size()) pl.cuts.push_back(at);
    }
    return pl;
}

// Parses whole, then cut, and insists on one report.
inline Result check_split_invariance(const char* target, const Plan& pl) {
    Result whole = parse(target, pl.options, pl.bytes, {});
    Result cut = parse(target, pl.options, pl.bytes, pl.cuts);
    if (whole.log != cut.log)
        fail(target, "whole and cut input parse differently:\n--- whole\n" + whole.log + "--- cut\n" + cut.log);
    std::vector<std::size_t> bytewise;
    if (pl.bytes.size() <= 512) {
        for (std::size_t i = 1; i < pl.bytes.size(); ++i) bytewise.push_back(i);
        Result one = parse(target, pl.options, pl.bytes, bytewise);
        if (whole.log != one.log)
            fail(target,
                 "whole and bytewise input parse differently:\n--- whole\n" + whole.log + "--- bytewise\n" + one.log);
    }
    return whole;
}

}  // namespace fuzz_http
