// src/http/inflater.cpp — see inflater.hpp.
#include "inflater.hpp"

#include <zlib.h>

#include <tulip/http/client_errors.hpp>
#include <tulip/http/headers.hpp>

namespace tulip::http::detail {

struct Inflater::Impl {
    z_stream z{};
    Coding coding;
    bool started = false;  // a byte has been decoded
    bool raw = false;      // deflate without its zlib wrapper
    bool ended = false;    // Z_STREAM_END seen
    bool open = false;

    explicit Impl(Coding c) : coding(c) { init(); }
    ~Impl() {
        if (open) inflateEnd(&z);
    }
    void init() {
        if (open) inflateEnd(&z);
        z = z_stream{};
        // gzip: 16 + 15 (the gzip wrapper). deflate is zlib-wrapped by the
        // RFC, but servers (old IIS, some proxies) send raw deflate: -15.
        int bits = coding == Coding::gzip ? 16 + MAX_WBITS : (raw ? -MAX_WBITS : MAX_WBITS);
        if (inflateInit2(&z, bits) != Z_OK) throw ClientPayloadError("zlib: cannot start decoding");
        open = true;
    }
};

Inflater::Inflater(Coding c) : impl_(std::make_unique<Impl>(c)) {}
Inflater::Inflater(Inflater&&) noexcept = default;
Inflater& Inflater::operator=(Inflater&&) noexcept = default;
Inflater::~Inflater() = default;

bool Inflater::coding_of(std::string_view ce, Coding& c) noexcept {
    while (!ce.empty() && (ce.front() == ' ' || ce.front() == '\t')) ce.remove_prefix(1);
    while (!ce.empty() && (ce.back() == ' ' || ce.back() == '\t')) ce.remove_suffix(1);
    if (ascii_iequals(ce, "gzip") || ascii_iequals(ce, "x-gzip")) {
        c = Coding::gzip;
        return true;
    }
    if (ascii_iequals(ce, "deflate")) {
        c = Coding::deflate;
        return true;
    }
    return false;
}

void Inflater::feed(std::string_view in, std::string& out) {
    Impl& s = *impl_;
    if (in.empty()) return;
    if (s.ended) throw ClientPayloadError("data after the end of the compressed body");
    std::string_view first = in;  // to start again as raw deflate
    const std::size_t out_start = out.size();
    s.z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    s.z.avail_in = static_cast<uInt>(in.size());
    for (;;) {
        std::size_t old = out.size();
        std::size_t room = std::max<std::size_t>(in.size() * 4, 16 * 1024);
        out.resize(old + room);
        s.z.next_out = reinterpret_cast<Bytef*>(out.data() + old);
        s.z.avail_out = static_cast<uInt>(room);
        int rc = inflate(&s.z, Z_NO_FLUSH);
        out.resize(old + (room - s.z.avail_out));
        if (rc == Z_DATA_ERROR && s.coding == Coding::deflate && !s.started && !s.raw) {
            s.raw = true;
            s.init();
            out.resize(out_start);
            s.z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(first.data()));
            s.z.avail_in = static_cast<uInt>(first.size());
            continue;
        }
        if (rc == Z_STREAM_END) {
            s.ended = true;
            if (s.z.avail_in != 0) throw ClientPayloadError("data after the end of the compressed body");
            return;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            throw ClientPayloadError(std::string("cannot decode the ") +
                                     (s.coding == Coding::gzip ? "gzip" : "deflate") +
                                     " body: " + (s.z.msg ? s.z.msg : "corrupt data"));
        if (out.size() > out_start) s.started = true;
        if (s.z.avail_in == 0 && s.z.avail_out != 0) return;
        if (rc == Z_BUF_ERROR && s.z.avail_in == 0) return;
    }
}

void Inflater::finish() {
    // A raw deflate stream may end without a Z_STREAM_END only if it is
    // empty; anything else was cut short.
    if (!impl_->ended && (impl_->started || impl_->z.total_in != 0))
        throw ClientPayloadError("the compressed body ends before its end");
}

}  // namespace tulip::http::detail
