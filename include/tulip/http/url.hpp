// tulip/http/url.hpp — URLs as HTTP needs them: percent-coding, the query
// string as a multi-map (Query), a server's request-target (parse_target)
// and a client's absolute URL (URL).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tulip::http {

// Decodes every "%XX" (either case of hex digit) to its byte, and '+' to ' '
// when plus_as_space (form encoding). The bytes that come out may be
// anything, NUL and "/" included: "a%2Fb" decodes to "a/b", as aiohttp/yarl
// do for route matching; the caller decides what it accepts. Throws
// std::invalid_argument on a '%' without two hex digits after it ("%4",
// "%zz"): a server answers 400.
std::string percent_decode(std::string_view s, bool plus_as_space = false);

// Encodes every byte but RFC 3986's unreserved ones (A-Z a-z 0-9 - . _ ~) and
// those in `safe` as "%XX" (upper-case hex).
std::string percent_encode(std::string_view s, std::string_view safe = "/");

// RFC 3986 5.2.4 remove_dot_segments for an absolute path ("/a/./b/../c" ->
// "/a/c"). ".." at the root stays at the root ("/../../etc" -> "/etc"), so
// the result never climbs above "/". A path not starting with '/' is
// treated as if it did.
std::string remove_dot_segments(std::string_view path);

// A query string (or an application/x-www-form-urlencoded body) as ordered
// key/value pairs, keys repeatable: aiohttp's MultiDict of request.query.
class Query {
public:
    using value_type = std::pair<std::string, std::string>;
    using const_iterator = std::vector<value_type>::const_iterator;

    Query() = default;
    Query(std::initializer_list<value_type> items) : items_(items) {}

    // "a=1&b=x+y&a=%33" -> a=1, b="x y", a=3: pairs split on '&', then on the
    // first '='; '+' is a space and %XX is decoded in keys and values; empty
    // pairs ("a=1&&b") are skipped; "a" without '=' is a with value "".
    // Throws std::invalid_argument on a bad escape (a server answers 400).
    static Query parse(std::string_view s);

    // The first value of key, if any (a view into this Query).
    std::optional<std::string_view> get(std::string_view key) const;
    // Every value of key, in order.
    std::vector<std::string_view> get_all(std::string_view key) const;
    bool contains(std::string_view key) const;
    std::size_t size() const noexcept { return items_.size(); }
    bool empty() const noexcept { return items_.empty(); }
    void add(std::string key, std::string value) { items_.emplace_back(std::move(key), std::move(value)); }

    const_iterator begin() const noexcept { return items_.begin(); }
    const_iterator end() const noexcept { return items_.end(); }
    const value_type& operator[](std::size_t i) const { return items_.at(i); }

    bool operator==(const Query&) const = default;

private:
    std::vector<value_type> items_;
};

// "a=1&b=x+y": the form encoding of the pairs, in order (space as '+', every
// byte but A-Z a-z 0-9 - . _ ~ as %XX). Query::parse(urlencode(q)) == q.
std::string urlencode(const Query& q);

// A request-target (RFC 9112 3.2), as a server receives it.
struct Target {
    enum class Form { origin, absolute, authority, asterisk };
    Form form = Form::origin;
    // absolute-form: "http" or "https" (lowercased); empty otherwise.
    std::string scheme;
    // absolute- and authority-form: the host, lowercased, IPv6 without its
    // brackets; and the port (absolute-form without one: 80 or 443).
    std::string host;
    std::uint16_t port = 0;
    // origin- and absolute-form: the path as received ("/p/a%20th"; "/" when
    // absolute-form has none) and decoded, then cleaned of dot-segments
    // ("/p/a th"). The decoding comes first, so "%2e%2e" and "..%2F" cannot
    // climb either: `path` never leaves "/" and is safe to join to a static
    // root (it may still hold any byte, NUL included, after decoding).
    std::string raw_path;
    std::string path;
    // What follows the first '?' (raw), "" if none; Query::parse reads it.
    std::string query_string;
};

// Parses "/p?q" (origin), "http://host:port/p?q" (absolute; http and https
// only, no userinfo), "host:port" (authority, for CONNECT; port required) or
// "*" (asterisk). Which form suits which method is the caller's check.
// Throws std::invalid_argument naming the problem: empty target, control
// bytes, space or '#', a bad escape in the path, a bad host or port.
Target parse_target(std::string_view target);

// An absolute http or https URL, as a client uses it.
struct URL {
    std::string scheme;  // "http" or "https", lowercased
    std::string user;    // userinfo, percent-decoded; empty if none
    std::string password;
    std::string host;        // lowercased; IPv6 without brackets
    std::uint16_t port = 0;  // the explicit port, or 80/443
    std::string path;        // raw, "/" if empty
    std::string query;       // raw, without '?'
    std::string fragment;    // raw, without '#'

    // "https://user:pw@Host:8443/p?q#f". Throws std::invalid_argument naming
    // the problem: no or another scheme, no host, a bad IPv6 address, a port
    // that is not 1..65535, control bytes or spaces. Bytes >= 0x80 in the
    // path, query and fragment are percent-encoded.
    static URL parse(std::string_view url);

    bool is_secure() const noexcept { return scheme == "https"; }
    bool is_default_port() const noexcept { return port == (is_secure() ? 443 : 80); }
    // "host", "host:8080", "[::1]:8080": the Host header.
    std::string host_header() const;
    // "/p?q": what the request line carries (no fragment).
    std::string request_target() const;
    // The URL again, normalised: "https://user@host:8443/p?q#f".
    std::string to_string() const;
};

}  // namespace tulip::http
