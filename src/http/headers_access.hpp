// Internal access to tulip::http::Headers for the message parser: appends
// fields without validation (llhttp has validated them) and builds a field
// from the pieces llhttp hands over, straight into the Headers' storage.
#pragma once

#include <tulip/http/headers.hpp>

#include <cstddef>
#include <stdexcept>
#include <string_view>

namespace tulip::http::detail {

struct HeadersAccess {
    static void append(Headers& h, std::string_view name, std::string_view value) { h.append_unchecked(name, value); }

    // A field arriving in pieces: begin_field, name pieces, begin_value, value
    // pieces, end_field (which trims the value's trailing SP/HTAB).
    static void begin_field(Headers& h) {
        check_size(h, 0);
        const auto off = static_cast<std::uint32_t>(h.storage_.size());
        h.entries_.push_back({off, 0, off, 0});
    }
    static void append_name(Headers& h, std::string_view piece) {
        check_size(h, piece.size());
        h.storage_.append(piece);
        h.entries_.back().name_len += static_cast<std::uint32_t>(piece.size());
    }
    static void begin_value(Headers& h) {
        auto& e = h.entries_.back();
        e.value_off = static_cast<std::uint32_t>(h.storage_.size());
        e.value_len = 0;
    }
    static void append_value(Headers& h, std::string_view piece) {
        check_size(h, piece.size());
        h.storage_.append(piece);
        h.entries_.back().value_len += static_cast<std::uint32_t>(piece.size());
    }
    static void end_field(Headers& h) {
        auto& e = h.entries_.back();
        while (e.value_len > 0) {
            const char c = h.storage_[e.value_off + e.value_len - 1];
            if (c != ' ' && c != '\t') {
                break;
            }
            --e.value_len;
        }
        while (e.value_len > 0) {
            const char c = h.storage_[e.value_off];
            if (c != ' ' && c != '\t') {
                break;
            }
            ++e.value_off;
            --e.value_len;
        }
    }
    // The field being built (or the last one).
    static std::string_view last_name(const Headers& h) {
        const auto& e = h.entries_.back();
        return std::string_view(h.storage_).substr(e.name_off, e.name_len);
    }
    static std::string_view last_value(const Headers& h) {
        const auto& e = h.entries_.back();
        return std::string_view(h.storage_).substr(e.value_off, e.value_len);
    }

private:
    static void check_size(const Headers& h, std::size_t more) {
        if (h.storage_.size() + more > 0xffffffffu) {
            throw std::length_error("tulip::http::Headers: over 4 GiB of header bytes");
        }
    }
};

}  // namespace tulip::http::detail
