// src/http/cookie_jar.cpp — see cookie_jar.hpp.
#include <tulip/http/cookie_jar.hpp>

#include <algorithm>
#include <charconv>
#include <limits>

namespace tulip::http {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool is_ip(std::string_view host) {
    if (host.find(':') != std::string_view::npos) return true;  // IPv6 (URL keeps it without brackets)
    return !host.empty() &&
           std::all_of(host.begin(), host.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

// RFC 6265 5.1.3.
bool domain_match(std::string_view host, std::string_view domain) {
    if (host == domain) return true;
    return host.size() > domain.size() && host.substr(host.size() - domain.size()) == domain &&
           host[host.size() - domain.size() - 1] == '.' && !is_ip(host);
}

// RFC 6265 5.1.4.
bool path_match(std::string_view req, std::string_view cp) {
    if (req == cp) return true;
    if (req.size() <= cp.size() || req.substr(0, cp.size()) != cp) return false;
    return cp.back() == '/' || req[cp.size()] == '/';
}

std::string default_path(std::string_view path) {
    if (path.empty() || path.front() != '/') return "/";
    auto last = path.rfind('/');
    if (last == 0) return "/";
    return std::string(path.substr(0, last));
}

bool is_delimiter(char c) {
    auto u = static_cast<unsigned char>(c);
    return u == 0x09 || (u >= 0x20 && u <= 0x2F) || (u >= 0x3B && u <= 0x40) || (u >= 0x5B && u <= 0x60) ||
           (u >= 0x7B && u <= 0x7E);
}

// 1*max digits at the start of tok, then anything (RFC 6265's date tokens
// may carry trailing non-digits).
bool leading_number(std::string_view tok, std::size_t min, std::size_t max, int& out) {
    std::size_t n = 0;
    while (n < tok.size() && tok[n] >= '0' && tok[n] <= '9') ++n;
    if (n < min || n > max) return false;
    std::from_chars(tok.data(), tok.data() + n, out);
    return true;
}

}  // namespace

std::optional<std::time_t> parse_cookie_date(std::string_view s) {
    bool have_time = false, have_day = false, have_month = false, have_year = false;
    int hour = 0, minute = 0, second = 0, day = 0, month = 0, year = 0;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && is_delimiter(s[i])) ++i;
        std::size_t start = i;
        while (i < s.size() && !is_delimiter(s[i])) ++i;
        std::string_view tok = s.substr(start, i - start);
        if (tok.empty()) continue;
        int h, m, sec;
        if (!have_time) {
            // hh:mm:ss, each 1-2 digits
            auto c1 = tok.find(':');
            auto c2 = c1 == std::string_view::npos ? c1 : tok.find(':', c1 + 1);
            if (c2 != std::string_view::npos && leading_number(tok.substr(0, c1), 1, 2, h) && c1 <= 2 &&
                c2 - c1 - 1 <= 2 && leading_number(tok.substr(c1 + 1, c2 - c1 - 1), 1, 2, m) &&
                leading_number(tok.substr(c2 + 1), 1, 2, sec)) {
                hour = h, minute = m, second = sec;
                have_time = true;
                continue;
            }
        }
        int v;
        if (!have_day && leading_number(tok, 1, 2, v)) {
            day = v;
            have_day = true;
            continue;
        }
        if (!have_month && tok.size() >= 3) {
            static const char* const names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                "jul", "aug", "sep", "oct", "nov", "dec"};
            std::string p = lower(tok.substr(0, 3));
            auto* it = std::find(std::begin(names), std::end(names), p);
            if (it != std::end(names)) {
                month = static_cast<int>(it - std::begin(names)) + 1;
                have_month = true;
                continue;
            }
        }
        if (!have_year && leading_number(tok, 2, 4, v)) {
            year = v;
            have_year = true;
            continue;
        }
    }
    if (have_year && year >= 70 && year <= 99) year += 1900;
    if (have_year && year >= 0 && year <= 69) year += 2000;
    if (!have_time || !have_day || !have_month || !have_year) return std::nullopt;
    if (day < 1 || day > 31 || year < 1601 || hour > 23 || minute > 59 || second > 59) return std::nullopt;
    // Days since the epoch (proleptic Gregorian), without the C library's time zone.
    int y = year - (month <= 2 ? 1 : 0);
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int mp = (month + 9) % 12;
    int doy = (153 * mp + 2) / 5 + day - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    long long days = static_cast<long long>(era) * 146097 + doe - 719468;
    return static_cast<std::time_t>(days * 86400 + hour * 3600 + minute * 60 + second);
}

bool CookieJar::set(std::string_view header, const URL& url, std::time_t now) {
    std::string_view pair = header.substr(0, header.find(';'));
    std::string_view attrs = pair.size() < header.size() ? header.substr(pair.size() + 1) : std::string_view();
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) return false;
    Cookie c;
    c.name = std::string(trim(pair.substr(0, eq)));
    c.value = std::string(trim(pair.substr(eq + 1)));
    if (c.name.empty()) return false;
    for (char ch : c.name + c.value)
        if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) return false;
    std::optional<std::time_t> expires, max_age_expiry;
    std::string domain_attr, path_attr;
    while (!attrs.empty()) {
        std::string_view av = attrs.substr(0, attrs.find(';'));
        attrs.remove_prefix(std::min(attrs.size(), av.size() + 1));
        auto aeq = av.find('=');
        std::string key = lower(trim(av.substr(0, aeq)));
        std::string_view val = aeq == std::string_view::npos ? std::string_view() : trim(av.substr(aeq + 1));
        if (key == "expires") {
            if (auto t = parse_cookie_date(val)) expires = *t;
        } else if (key == "max-age") {
            long long secs = 0;
            bool neg = !val.empty() && val.front() == '-';
            std::string_view digits = neg ? val.substr(1) : val;
            if (digits.empty() ||
                !std::all_of(digits.begin(), digits.end(), [](char d) { return d >= '0' && d <= '9'; }))
                continue;
            auto r = std::from_chars(digits.data(), digits.data() + digits.size(), secs);
            if (r.ec != std::errc()) secs = std::numeric_limits<int>::max();  // too large: far future
            max_age_expiry = neg || secs == 0 ? std::time_t(0) : now + static_cast<std::time_t>(secs);
        } else if (key == "domain") {
            std::string_view d = val;
            if (!d.empty() && d.front() == '.') d.remove_prefix(1);
            domain_attr = lower(d);
        } else if (key == "path") {
            path_attr = std::string(val);
        } else if (key == "secure") {
            c.secure = true;
        } else if (key == "httponly") {
            c.http_only = true;
        }
    }
    c.expires = max_age_expiry ? max_age_expiry : expires;
    const std::string& host = url.host;
    if (!domain_attr.empty() && is_ip(host)) {
        if (domain_attr != host) return false;  // an IP address has no subdomains
        c.domain = host;
        c.host_only = true;
    } else if (!domain_attr.empty()) {
        if (domain_attr != host && domain_attr.find('.') == std::string::npos) return false;  // a public suffix, maybe
        if (!domain_match(host, domain_attr)) return false;
        c.domain = domain_attr;
        c.host_only = false;
    } else {
        c.domain = host;
        c.host_only = true;
    }
    c.path = !path_attr.empty() && path_attr.front() == '/' ? path_attr : default_path(url.path);
    if (c.secure && !url.is_secure()) return false;  // RFC 6265bis: only a secure origin sets one
    auto same = std::find_if(cookies_.begin(), cookies_.end(), [&](const Cookie& o) {
        return o.name == c.name && o.domain == c.domain && o.path == c.path;
    });
    const bool expired = c.expires && *c.expires <= now;
    if (same != cookies_.end()) {
        if (expired)
            cookies_.erase(same);
        else
            *same = std::move(c);  // keeps its creation order
        return true;
    }
    if (expired) return true;
    cookies_.push_back(std::move(c));
    return true;
}

void CookieJar::update_from(const Headers& headers, const URL& url, std::time_t now) {
    for (auto [name, value] : headers)
        if (ascii_iequals(name, "Set-Cookie")) (void)set(value, url, now);
}

std::string CookieJar::header_for(const URL& url, std::time_t now) const {
    std::vector<const Cookie*> sel;
    for (const Cookie& c : cookies_) {
        if (c.expires && *c.expires <= now) continue;
        if (c.host_only ? url.host != c.domain : !domain_match(url.host, c.domain)) continue;
        if (!path_match(url.path, c.path)) continue;
        if (c.secure && !url.is_secure()) continue;
        sel.push_back(&c);
    }
    std::stable_sort(sel.begin(), sel.end(),
                     [](const Cookie* a, const Cookie* b) { return a->path.size() > b->path.size(); });
    std::string out;
    for (const Cookie* c : sel) {
        if (!out.empty()) out += "; ";
        out += c->name;
        out += '=';
        out += c->value;
    }
    return out;
}

void CookieJar::clear_expired(std::time_t now) {
    std::erase_if(cookies_, [now](const Cookie& c) { return c.expires && *c.expires <= now; });
}

}  // namespace tulip::http
