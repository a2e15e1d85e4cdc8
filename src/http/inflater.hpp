// src/http/inflater.hpp — Content-Encoding gzip/deflate decoding with zlib,
// incremental (a response body is decoded as it arrives). Internal.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace tulip::http::detail {

class Inflater {
public:
    enum class Coding { gzip, deflate };
    explicit Inflater(Coding c);
    Inflater(Inflater&&) noexcept;
    Inflater& operator=(Inflater&&) noexcept;
    ~Inflater();

    // Decodes `in` and appends the output to `out`. Throws ClientPayloadError
    // on corrupt data, or data after the end of the compressed stream.
    void feed(std::string_view in, std::string& out);
    // The body ended: throws ClientPayloadError if the stream is incomplete.
    void finish();

    // "gzip"/"x-gzip" -> gzip, "deflate" -> deflate, else none.
    static bool coding_of(std::string_view content_encoding, Coding& c) noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace tulip::http::detail
