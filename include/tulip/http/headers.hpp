// tulip::http::Headers: the header fields of an HTTP message, as aiohttp's
// CIMultiDict holds them: names compared case-insensitively (ASCII), several
// values per name, insertion order kept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tulip::http {

class Headers;

namespace detail {
struct HeadersAccess;
}

// ASCII case-insensitive equality (header names, tokens).
[[nodiscard]] bool ascii_iequals(std::string_view a, std::string_view b) noexcept;

// Whether `s` is a non-empty RFC 9110 token (what a header name must be).
[[nodiscard]] bool is_token(std::string_view s) noexcept;

// Whether the comma-separated list `value` (e.g. `Connection: keep-alive, Upgrade`)
// holds `token`, compared case-insensitively; whitespace around elements and
// empty elements are ignored.
[[nodiscard]] bool header_contains_token(std::string_view value, std::string_view token) noexcept;

// Header fields in order. All names and values live in one string and the
// fields are a vector of offsets into it, so a message's headers cost two
// allocations, which clear() keeps for the next message.
//
// Every string_view this class hands out (from get, get_all, iteration) is
// valid until the next mutation of the Headers (add, set, remove, clear,
// assignment) or its destruction.
class Headers {
public:
    using value_type = std::pair<std::string_view, std::string_view>;  // name, value

    class const_iterator {
    public:
        using iterator_category = std::random_access_iterator_tag;
        using iterator_concept = std::random_access_iterator_tag;
        using value_type = Headers::value_type;
        using difference_type = std::ptrdiff_t;
        using reference = value_type;  // built on the fly: a proxy, as for vector<bool>
        using pointer = void;

        const_iterator() = default;
        reference operator*() const noexcept { return h_->at(i_); }
        reference operator[](difference_type n) const noexcept {
            return h_->at(static_cast<std::size_t>(static_cast<difference_type>(i_) + n));
        }
        const_iterator& operator++() noexcept {
            ++i_;
            return *this;
        }
        const_iterator operator++(int) noexcept {
            auto t = *this;
            ++i_;
            return t;
        }
        const_iterator& operator--() noexcept {
            --i_;
            return *this;
        }
        const_iterator operator--(int) noexcept {
            auto t = *this;
            --i_;
            return t;
        }
        const_iterator& operator+=(difference_type n) noexcept {
            i_ = static_cast<std::size_t>(static_cast<difference_type>(i_) + n);
            return *this;
        }
        const_iterator& operator-=(difference_type n) noexcept { return *this += -n; }
        friend const_iterator operator+(const_iterator it, difference_type n) noexcept { return it += n; }
        friend const_iterator operator+(difference_type n, const_iterator it) noexcept { return it += n; }
        friend const_iterator operator-(const_iterator it, difference_type n) noexcept { return it -= n; }
        friend difference_type operator-(const const_iterator& a, const const_iterator& b) noexcept {
            return static_cast<difference_type>(a.i_) - static_cast<difference_type>(b.i_);
        }
        friend bool operator==(const const_iterator& a, const const_iterator& b) noexcept { return a.i_ == b.i_; }
        friend auto operator<=>(const const_iterator& a, const const_iterator& b) noexcept { return a.i_ <=> b.i_; }

    private:
        friend class Headers;
        const_iterator(const Headers* h, std::size_t i) noexcept : h_(h), i_(i) {}
        const Headers* h_ = nullptr;
        std::size_t i_ = 0;
    };
    using iterator = const_iterator;

    Headers() = default;
    // Each pair goes through add() (validated).
    Headers(std::initializer_list<value_type> fields);

    // Appends a field. Throws std::invalid_argument if the name is not a token
    // or the value holds CR, LF or NUL (header injection). Leading and trailing
    // SP/HTAB of the value are dropped.
    void add(std::string_view name, std::string_view value);
    // Replaces every field named `name` by one (where the first was, else at
    // the end); validated as add().
    void set(std::string_view name, std::string_view value);
    // Removes every field named `name`; returns how many.
    std::size_t remove(std::string_view name);

    [[nodiscard]] bool contains(std::string_view name) const noexcept;
    [[nodiscard]] std::size_t count(std::string_view name) const noexcept;
    // The first value of `name`.
    [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const noexcept;
    [[nodiscard]] std::string_view get(std::string_view name, std::string_view dflt) const noexcept;
    // Every value of `name`, in order.
    [[nodiscard]] std::vector<std::string_view> get_all(std::string_view name) const;

    // The i-th field (i < size()).
    [[nodiscard]] value_type at(std::size_t i) const noexcept {
        const Entry& e = entries_[i];
        return {std::string_view(storage_).substr(e.name_off, e.name_len),
                std::string_view(storage_).substr(e.value_off, e.value_len)};
    }

    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
    [[nodiscard]] bool empty() const noexcept { return entries_.empty(); }
    // Bytes of all names and values (what a size limit counts).
    [[nodiscard]] std::size_t bytes() const noexcept;
    // Empties, keeping the capacity for reuse.
    void clear() noexcept;
    void reserve(std::size_t fields, std::size_t bytes);

    [[nodiscard]] const_iterator begin() const noexcept { return {this, 0}; }
    [[nodiscard]] const_iterator end() const noexcept { return {this, entries_.size()}; }

    // Same fields in the same order; names compared case-insensitively,
    // values exactly.
    friend bool operator==(const Headers& a, const Headers& b) noexcept;

private:
    friend struct detail::HeadersAccess;
    struct Entry {
        std::uint32_t name_off, name_len, value_off, value_len;
    };
    void append_unchecked(std::string_view name, std::string_view value);
    void compact();

    std::string storage_;
    std::vector<Entry> entries_;
    std::size_t dead_ = 0;  // bytes of storage_ no entry refers to (after set/remove)
};

}  // namespace tulip::http
