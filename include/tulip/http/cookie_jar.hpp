// tulip/http/cookie_jar.hpp — http::CookieJar, the cookies a ClientSession
// keeps between requests (aiohttp's CookieJar): RFC 6265's storage model —
// Set-Cookie parsed as section 5.2 says (a cookie it cannot use is ignored,
// not an error), Domain/Path matching, Expires and Max-Age, Secure cookies
// sent over https only and set from https only (RFC 6265bis).
//
// Without the public-suffix list: a Domain attribute without a dot (".com")
// is refused unless it is the host itself. Cookies from an IP-address host
// are kept host-only, as browsers do (aiohttp's default jar refuses them).
#pragma once

#include <cstddef>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tulip/http/headers.hpp>
#include <tulip/http/url.hpp>

namespace tulip::http {

struct Cookie {
    std::string name;
    std::string value;
    std::string domain;  // lowercased, no leading dot
    std::string path;
    bool host_only = true;  // no Domain attribute: this very host only
    bool secure = false;
    bool http_only = false;
    std::optional<std::time_t> expires;  // nullopt: until the session ends
};

class CookieJar {
public:
    // Stores the cookie of one Set-Cookie value received from url at `now`
    // (seconds since the epoch); returns false if it was ignored. An expired
    // one removes the cookie it replaces.
    bool set(std::string_view set_cookie, const URL& url, std::time_t now);
    // Every Set-Cookie of a response.
    void update_from(const Headers& response_headers, const URL& url, std::time_t now);
    // The Cookie header value for a request to url ("a=1; b=2"), "" if none:
    // longer paths first, then older cookies first (RFC 6265 5.4).
    std::string header_for(const URL& url, std::time_t now) const;

    const std::vector<Cookie>& cookies() const noexcept { return cookies_; }
    std::size_t size() const noexcept { return cookies_.size(); }
    void clear() noexcept { cookies_.clear(); }
    // Drops the cookies expired at `now`.
    void clear_expired(std::time_t now);

private:
    std::vector<Cookie> cookies_;  // in creation order
};

// RFC 6265 5.1.1: the dates cookies carry ("Wed, 09 Jun 2021 10:18:14 GMT",
// "Wednesday, 09-Jun-21 10:18:14 GMT", ...), leniently. nullopt if none.
std::optional<std::time_t> parse_cookie_date(std::string_view s);

}  // namespace tulip::http
