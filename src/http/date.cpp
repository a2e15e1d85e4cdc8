// HTTP dates: IMF-fixdate formatting, parsing of RFC 9110's three formats,
// DateCache.
#include <tulip/http/date.hpp>

#include <time.h>

#include <array>
#include <stdexcept>

namespace tulip::http {

namespace {

constexpr std::array<std::string_view, 7> kDays{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> kLongDays{"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                    "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void put2(char* p, int v) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
}

// Writes exactly 29 characters at out.
void format_into(char* out, std::time_t t) {
    struct tm tm {};
    if (::gmtime_r(&t, &tm) == nullptr) throw std::out_of_range("time out of range for an HTTP date");
    long year = static_cast<long>(tm.tm_year) + 1900;
    if (year < 0 || year > 9999) throw std::out_of_range("HTTP date year outside 0..9999");
    std::string_view day = kDays[static_cast<std::size_t>(tm.tm_wday)];
    std::string_view mon = kMonths[static_cast<std::size_t>(tm.tm_mon)];
    // "Sun, 06 Nov 1994 08:49:37 GMT"
    out[0] = day[0], out[1] = day[1], out[2] = day[2];
    out[3] = ',', out[4] = ' ';
    put2(out + 5, tm.tm_mday);
    out[7] = ' ';
    out[8] = mon[0], out[9] = mon[1], out[10] = mon[2];
    out[11] = ' ';
    put2(out + 12, static_cast<int>(year / 100));
    put2(out + 14, static_cast<int>(year % 100));
    out[16] = ' ';
    put2(out + 17, tm.tm_hour);
    out[19] = ':';
    put2(out + 20, tm.tm_min);
    out[22] = ':';
    put2(out + 23, tm.tm_sec);
    out[25] = ' ', out[26] = 'G', out[27] = 'M', out[28] = 'T';
}

// A left-to-right reader over the date text; every step fails softly.
class Reader {
public:
    explicit Reader(std::string_view s) : s_(s) {}
    bool done() const { return s_.empty(); }
    bool lit(std::string_view l) {
        if (s_.substr(0, l.size()) != l) return false;
        s_.remove_prefix(l.size());
        return true;
    }
    // Exactly n ASCII digits.
    std::optional<int> digits(std::size_t n) {
        if (s_.size() < n) return std::nullopt;
        int v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            char c = s_[i];
            if (c < '0' || c > '9') return std::nullopt;
            v = v * 10 + (c - '0');
        }
        s_.remove_prefix(n);
        return v;
    }
    template <std::size_t N>
    std::optional<int> name(const std::array<std::string_view, N>& names) {
        for (std::size_t i = 0; i < N; ++i)
            if (lit(names[i])) return static_cast<int>(i);
        return std::nullopt;
    }

private:
    std::string_view s_;
};

struct Fields {
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;  // month 1..12
};

bool read_time(Reader& r, Fields& f) {
    auto h = r.digits(2);
    if (!h || !r.lit(":")) return false;
    auto m = r.digits(2);
    if (!m || !r.lit(":")) return false;
    auto s = r.digits(2);
    if (!s) return false;
    f.hour = *h, f.minute = *m, f.second = *s;
    return true;
}

bool read_month(Reader& r, Fields& f) {
    auto m = r.name(kMonths);
    if (!m) return false;
    f.month = *m + 1;
    return true;
}

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
    static constexpr std::array<int, 12> kLen{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : kLen[static_cast<std::size_t>(m - 1)];
}

int year_of(std::time_t t) {
    struct tm tm {};
    if (::gmtime_r(&t, &tm) == nullptr) return 2000;  // unreachable for real clocks
    return tm.tm_year + 1900;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

std::string format_http_date(std::time_t t) {
    std::string s(29, '\0');
    format_into(s.data(), t);
    return s;
}

std::optional<std::time_t> parse_http_date(std::string_view s) { return parse_http_date(s, std::time(nullptr)); }

std::optional<std::time_t> parse_http_date(std::string_view text, std::time_t now) {
    Reader r(trim(text));
    Fields f;
    // The long day-names start with the short ones: try them first.
    if (Reader rfc850 = r; rfc850.name(kLongDays) && rfc850.lit(", ")) {
        // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
        r = rfc850;
        auto d = r.digits(2);
        if (!d || !r.lit("-") || !read_month(r, f) || !r.lit("-")) return std::nullopt;
        auto yy = r.digits(2);
        if (!yy || !r.lit(" ") || !read_time(r, f) || !r.lit(" GMT")) return std::nullopt;
        int current = year_of(now);
        int year = current / 100 * 100 + *yy;
        if (year > current + 50) year -= 100;
        f.day = *d, f.year = year;
    } else if (!r.name(kDays)) {
        return std::nullopt;
    } else if (r.lit(", ")) {
        // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
        auto d = r.digits(2);
        if (!d || !r.lit(" ") || !read_month(r, f) || !r.lit(" ")) return std::nullopt;
        auto y = r.digits(4);
        if (!y || !r.lit(" ") || !read_time(r, f) || !r.lit(" GMT")) return std::nullopt;
        f.day = *d, f.year = *y;
    } else if (r.lit(" ")) {
        // asctime: "Sun Nov  6 08:49:37 1994"
        if (!read_month(r, f) || !r.lit(" ")) return std::nullopt;
        std::optional<int> d = r.lit(" ") ? r.digits(1) : r.digits(2);
        if (!d || !r.lit(" ") || !read_time(r, f) || !r.lit(" ")) return std::nullopt;
        auto y = r.digits(4);
        if (!y) return std::nullopt;
        f.day = *d, f.year = *y;
    } else {
        return std::nullopt;
    }
    if (!r.done()) return std::nullopt;
    if (f.day < 1 || f.day > days_in_month(f.year, f.month)) return std::nullopt;
    if (f.hour > 23 || f.minute > 59 || f.second > 60) return std::nullopt;
    struct tm tm {};
    tm.tm_year = f.year - 1900;
    tm.tm_mon = f.month - 1;
    tm.tm_mday = f.day;
    tm.tm_hour = f.hour;
    tm.tm_min = f.minute;
    tm.tm_sec = f.second;
    return ::timegm(&tm);
}

std::string_view DateCache::now(std::time_t t) {
    if (!last_ || *last_ != t) {
        format_into(buf_, t);
        last_ = t;
    }
    return {buf_, kSize};
}

std::string_view DateCache::now() { return now(std::time(nullptr)); }

}  // namespace tulip::http
