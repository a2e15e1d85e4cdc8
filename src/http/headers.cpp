// tulip::http::Headers: one string of storage, a vector of offsets into it.
#include <tulip/http/headers.hpp>

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <string>

namespace tulip::http {

namespace {

constexpr char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

constexpr bool is_tchar(char c) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return true;
    }
    switch (c) {
        case '!':
        case '#':
        case '$':
        case '%':
        case '&':
        case '\'':
        case '*':
        case '+':
        case '-':
        case '.':
        case '^':
        case '_':
        case '`':
        case '|':
        case '~':
            return true;
        default:
            return false;
    }
}

constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && is_ows(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && is_ows(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

// Throws std::invalid_argument naming the header and what is wrong with it.
std::string_view checked_value(std::string_view name, std::string_view value) {
    if (!is_token(name)) {
        throw std::invalid_argument(name.empty() ? std::string("HTTP header name is empty")
                                                 : "HTTP header name \"" + std::string(name) + "\" is not a token");
    }
    for (const char c : value) {
        if (c == '\r' || c == '\n' || c == '\0') {
            const char* what = c == '\r' ? "CR" : c == '\n' ? "LF" : "NUL";
            throw std::invalid_argument("value of HTTP header \"" + std::string(name) + "\" contains " + what);
        }
    }
    return trim_ows(value);
}

}  // namespace

bool ascii_iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

bool is_token(std::string_view s) noexcept { return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar); }

bool header_contains_token(std::string_view value, std::string_view token) noexcept {
    while (true) {
        const auto comma = value.find(',');
        if (ascii_iequals(trim_ows(value.substr(0, comma)), token)) {
            return true;
        }
        if (comma == std::string_view::npos) {
            return false;
        }
        value.remove_prefix(comma + 1);
    }
}

Headers::Headers(std::initializer_list<value_type> fields) {
    for (const auto& [name, value] : fields) {
        add(name, value);
    }
}

void Headers::append_unchecked(std::string_view name, std::string_view value) {
    // A view into our own storage (h.add(n, *h.get(x))) would dangle once the append reallocates.
    const auto inside = [this](std::string_view s) {
        return !s.empty() && std::less_equal<>()(storage_.data(), s.data()) &&
               std::less<>()(s.data(), storage_.data() + storage_.size());
    };
    if (inside(name) || inside(value)) {
        const std::string copy = std::string(name) + std::string(value);
        append_unchecked(std::string_view(copy).substr(0, name.size()), std::string_view(copy).substr(name.size()));
        return;
    }
    if (storage_.size() + name.size() + value.size() > 0xffffffffu) {
        throw std::length_error("tulip::http::Headers: over 4 GiB of header bytes");
    }
    const auto name_off = static_cast<std::uint32_t>(storage_.size());
    storage_.append(name);
    const auto value_off = static_cast<std::uint32_t>(storage_.size());
    storage_.append(value);
    entries_.push_back(
        {name_off, static_cast<std::uint32_t>(name.size()), value_off, static_cast<std::uint32_t>(value.size())});
}

void Headers::add(std::string_view name, std::string_view value) { append_unchecked(name, checked_value(name, value)); }

void Headers::set(std::string_view name, std::string_view value) {
    value = checked_value(name, value);
    std::size_t first = entries_.size();
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        if (ascii_iequals(at(i).first, name)) {
            first = i;
            break;
        }
    }
    if (first == entries_.size()) {
        append_unchecked(name, value);
        return;
    }
    // The first keeps its place (and its name's spelling) with the new value; the others go.
    append_unchecked(name, value);
    Entry added = entries_.back();
    entries_.pop_back();
    Entry& e = entries_[first];
    dead_ += e.value_len + added.name_len;
    e.value_off = added.value_off;
    e.value_len = added.value_len;
    std::size_t out = first + 1;
    for (std::size_t i = first + 1; i < entries_.size(); ++i) {
        if (ascii_iequals(at(i).first, name)) {
            dead_ += entries_[i].name_len + entries_[i].value_len;
        } else {
            entries_[out++] = entries_[i];
        }
    }
    entries_.resize(out);
    compact();
}

std::size_t Headers::remove(std::string_view name) {
    std::size_t out = 0;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        if (ascii_iequals(at(i).first, name)) {
            dead_ += entries_[i].name_len + entries_[i].value_len;
        } else {
            entries_[out++] = entries_[i];
        }
    }
    const std::size_t removed = entries_.size() - out;
    entries_.resize(out);
    compact();
    return removed;
}

// Rewrites the storage without dead bytes once they are most of it, so that
// repeated set() on one Headers does not grow it without bound.
void Headers::compact() {
    if (entries_.empty()) {
        clear();
        return;
    }
    if (dead_ < 256 || dead_ * 2 < storage_.size()) {
        return;
    }
    std::string fresh;
    fresh.reserve(storage_.size() - dead_);
    for (Entry& e : entries_) {
        const auto name_off = static_cast<std::uint32_t>(fresh.size());
        fresh.append(storage_, e.name_off, e.name_len);
        const auto value_off = static_cast<std::uint32_t>(fresh.size());
        fresh.append(storage_, e.value_off, e.value_len);
        e.name_off = name_off;
        e.value_off = value_off;
    }
    storage_ = std::move(fresh);
    dead_ = 0;
}

bool Headers::contains(std::string_view name) const noexcept { return get(name).has_value(); }

std::size_t Headers::count(std::string_view name) const noexcept {
    std::size_t n = 0;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        n += ascii_iequals(at(i).first, name) ? 1 : 0;
    }
    return n;
}

std::optional<std::string_view> Headers::get(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        const auto [n, v] = at(i);
        if (ascii_iequals(n, name)) {
            return v;
        }
    }
    return std::nullopt;
}

std::string_view Headers::get(std::string_view name, std::string_view dflt) const noexcept {
    return get(name).value_or(dflt);
}

std::vector<std::string_view> Headers::get_all(std::string_view name) const {
    std::vector<std::string_view> out;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        const auto [n, v] = at(i);
        if (ascii_iequals(n, name)) {
            out.push_back(v);
        }
    }
    return out;
}

std::size_t Headers::bytes() const noexcept { return storage_.size() - dead_; }

void Headers::clear() noexcept {
    storage_.clear();
    entries_.clear();
    dead_ = 0;
}

void Headers::reserve(std::size_t fields, std::size_t bytes) {
    entries_.reserve(fields);
    storage_.reserve(bytes);
}

bool operator==(const Headers& a, const Headers& b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto [an, av] = a.at(i);
        const auto [bn, bv] = b.at(i);
        if (!ascii_iequals(an, bn) || av != bv) {
            return false;
        }
    }
    return true;
}

}  // namespace tulip::http
