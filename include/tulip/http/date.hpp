// tulip/http/date.hpp — HTTP dates (RFC 9110 5.6.7): formatting as
// IMF-fixdate, parsing the three formats recipients must accept, and the
// per-second cache behind a server's Date header.
#pragma once

#include <cstddef>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace tulip::http {

// "Sun, 06 Nov 1994 08:49:37 GMT". No locale, no strftime. Throws
// std::out_of_range for a time whose year is outside 0..9999 (IMF-fixdate has
// four year digits).
std::string format_http_date(std::time_t t);

// Parses an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), an obsolete
// RFC 850 date ("Sunday, 06-Nov-94 08:49:37 GMT") or an asctime() date
// ("Sun Nov  6 08:49:37 1994"), exactly as RFC 9110's grammar spells them
// (names are case-sensitive), with surrounding spaces and tabs ignored.
// nullopt for anything else: wrong layout, unknown names, a day the month
// does not have (Feb 30, Feb 29 of a common year), hour > 23, minute > 59,
// second > 60 (60 is a leap second, read as the next minute's 00). The
// day-name is checked to be a name, not to match the date (a mismatch is a
// sender's bug that changes nothing). RFC 850's two-digit year is the one
// that is not more than 50 years after `now`'s year (RFC 9110 5.6.7).
std::optional<std::time_t> parse_http_date(std::string_view s);
std::optional<std::time_t> parse_http_date(std::string_view s, std::time_t now);

// The Date header value of the current second, formatted once per second: a
// server writes one on every response. Not thread-safe (one per loop).
class DateCache {
public:
    // The IMF-fixdate of t; valid until the next call.
    std::string_view now(std::time_t t);
    // The same for std::time(nullptr).
    std::string_view now();

private:
    static constexpr std::size_t kSize = 29;  // strlen("Sun, 06 Nov 1994 08:49:37 GMT")
    std::optional<std::time_t> last_;
    char buf_[kSize] = {};
};

}  // namespace tulip::http
