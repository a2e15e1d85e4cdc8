// Percent-coding, Query, request-targets and client URLs.
#include <tulip/http/url.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdexcept>

namespace tulip::http {

namespace {

constexpr char kHex[] = "0123456789ABCDEF";

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_unreserved(char c) { return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~'; }
bool is_sub_delim(char c) { return std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos; }
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Bytes that can never be part of a request line's target.
bool is_forbidden(char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
}

void append_escape(std::string& out, unsigned char u) {
    out += '%';
    out += kHex[u >> 4];
    out += kHex[u & 0xf];
}

std::string lowercase(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = lower(c);
    return out;
}

// Path, query or fragment of a URL (or target): no control bytes or spaces.
void check_chars(std::string_view s, const char* what) {
    for (char c : s)
        if (is_forbidden(c)) throw std::invalid_argument(std::string("control byte or space in the ") + what);
}

// Percent-encodes the bytes >= 0x80 (a client URL given as UTF-8 text).
std::string encode_high(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u >= 0x80)
            append_escape(out, u);
        else
            out += c;
    }
    return out;
}

struct Authority {
    std::optional<std::string_view> userinfo;
    std::string host;
    std::optional<std::uint16_t> port;
};

std::uint16_t parse_port(std::string_view s) {
    unsigned long v = 0;
    for (char c : s) {
        if (!is_digit(c)) throw std::invalid_argument("port is not a number");
        v = v * 10 + static_cast<unsigned long>(c - '0');
        if (v > 65535) throw std::invalid_argument("port out of range (1..65535)");
    }
    if (v == 0) throw std::invalid_argument("port out of range (1..65535)");
    return static_cast<std::uint16_t>(v);
}

// authority = [ userinfo "@" ] host [ ":" port ] (RFC 3986 3.2). An empty
// port (after ':') is no port. Hosts: a bracketed IPv6 address or a reg-name
// / IPv4 of unreserved and sub-delim characters (no percent-encoding: no
// IDNA here), lowercased.
Authority parse_authority(std::string_view a) {
    Authority out;
    if (std::size_t at = a.rfind('@'); at != std::string_view::npos) {
        out.userinfo = a.substr(0, at);
        a.remove_prefix(at + 1);
    }
    std::string_view port;
    bool has_port = false;
    if (!a.empty() && a.front() == '[') {
        std::size_t close = a.find(']');
        if (close == std::string_view::npos) throw std::invalid_argument("IPv6 host without ']'");
        std::string addr(a.substr(1, close - 1));
        in6_addr bin{};
        if (::inet_pton(AF_INET6, addr.c_str(), &bin) != 1) throw std::invalid_argument("bad IPv6 host");
        out.host = lowercase(addr);
        std::string_view rest = a.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') throw std::invalid_argument("junk after the IPv6 host");
            has_port = true;
            port = rest.substr(1);
        }
    } else {
        std::size_t colon = a.find(':');
        std::string_view host = a.substr(0, colon);
        if (colon != std::string_view::npos) {
            has_port = true;
            port = a.substr(colon + 1);
        }
        if (host.empty()) throw std::invalid_argument("empty host");
        for (char c : host)
            if (!is_unreserved(c) && !is_sub_delim(c)) throw std::invalid_argument("bad character in the host");
        out.host = lowercase(host);
    }
    if (has_port && !port.empty()) out.port = parse_port(port);
    return out;
}

struct Split {
    std::string_view scheme, authority, path, query, fragment;
    bool has_query = false, has_fragment = false;
};

// "scheme://authority/path?query#fragment"; throws when it is not of that
// shape. The scheme is checked as RFC 3986 spells it, not which it is.
Split split_absolute(std::string_view s) {
    Split out;
    std::size_t colon = s.find(':');
    if (colon == std::string_view::npos || colon == 0 || !is_alpha(s[0]))
        throw std::invalid_argument("URL without a scheme");
    out.scheme = s.substr(0, colon);
    for (char c : out.scheme)
        if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.')
            throw std::invalid_argument("bad character in the scheme");
    s.remove_prefix(colon + 1);
    if (s.substr(0, 2) != "//") throw std::invalid_argument("URL without '//' and a host");
    s.remove_prefix(2);
    if (std::size_t hash = s.find('#'); hash != std::string_view::npos) {
        out.fragment = s.substr(hash + 1);
        out.has_fragment = true;
        s = s.substr(0, hash);
    }
    if (std::size_t q = s.find('?'); q != std::string_view::npos) {
        out.query = s.substr(q + 1);
        out.has_query = true;
        s = s.substr(0, q);
    }
    std::size_t slash = s.find('/');
    out.authority = s.substr(0, slash);
    out.path = slash == std::string_view::npos ? std::string_view{} : s.substr(slash);
    return out;
}

std::uint16_t default_port(std::string_view scheme) { return scheme == "https" ? 443 : 80; }

std::string http_scheme(std::string_view scheme) {
    std::string s = lowercase(scheme);
    if (s != "http" && s != "https") throw std::invalid_argument("scheme is not http or https: " + s);
    return s;
}

}  // namespace

std::string percent_decode(std::string_view s, bool plus_as_space) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 1 < s.size() ? hex_value(s[i + 1]) : -1;
            int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) throw std::invalid_argument("bad percent-escape (not '%' and two hex digits)");
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_as_space) {
            out += ' ';
        } else {
            out += c;
        }
    }
    return out;
}

std::string percent_encode(std::string_view s, std::string_view safe) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        if (is_unreserved(c) || safe.find(c) != std::string_view::npos)
            out += c;
        else
            append_escape(out, static_cast<unsigned char>(c));
    }
    return out;
}

std::string remove_dot_segments(std::string_view in) {
    // RFC 3986 5.2.4 on an absolute path: the input is consumed from the
    // left, one "/segment" at a time; ".." drops the output's last segment.
    std::string out;
    out.reserve(in.size() + 1);
    std::string owned;
    if (in.empty() || in.front() != '/') {
        // Built with append: GCC 12 -O2 warns a false -Wrestrict on "/" + string.
        owned.reserve(in.size() + 1);
        owned += '/';
        owned += in;
        in = owned;
    }
    auto drop_last = [&out] {
        std::size_t slash = out.rfind('/');
        out.erase(slash == std::string::npos ? 0 : slash);
    };
    std::size_t i = 0;
    const std::size_t n = in.size();
    while (i < n) {
        std::string_view rest = in.substr(i);
        if (rest.substr(0, 3) == "/./") {
            i += 2;  // "/./x" -> "/x"
        } else if (rest == "/.") {
            out += '/';
            break;
        } else if (rest.substr(0, 4) == "/../") {
            i += 3;  // "/../x" -> "/x", one segment less
            drop_last();
        } else if (rest == "/..") {
            drop_last();
            out += '/';
            break;
        } else {
            std::size_t next = in.find('/', i + 1);
            if (next == std::string_view::npos) next = n;
            out.append(in.substr(i, next - i));
            i = next;
        }
    }
    return out;
}

Query Query::parse(std::string_view s) {
    Query q;
    while (!s.empty()) {
        std::size_t amp = s.find('&');
        std::string_view pair = s.substr(0, amp);
        s = amp == std::string_view::npos ? std::string_view{} : s.substr(amp + 1);
        if (pair.empty()) continue;
        std::size_t eq = pair.find('=');
        std::string_view key = pair.substr(0, eq);
        std::string_view value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
        q.add(percent_decode(key, true), percent_decode(value, true));
    }
    return q;
}

std::optional<std::string_view> Query::get(std::string_view key) const {
    for (const auto& [k, v] : items_)
        if (k == key) return std::string_view(v);
    return std::nullopt;
}

std::vector<std::string_view> Query::get_all(std::string_view key) const {
    std::vector<std::string_view> out;
    for (const auto& [k, v] : items_)
        if (k == key) out.emplace_back(v);
    return out;
}

bool Query::contains(std::string_view key) const { return get(key).has_value(); }

std::string urlencode(const Query& q) {
    std::string out;
    auto put = [&out](std::string_view s) {
        for (char c : s) {
            if (c == ' ')
                out += '+';
            else if (is_unreserved(c))
                out += c;
            else
                append_escape(out, static_cast<unsigned char>(c));
        }
    };
    for (const auto& [k, v] : q) {
        if (!out.empty()) out += '&';
        put(k);
        out += '=';
        put(v);
    }
    return out;
}

Target parse_target(std::string_view s) {
    if (s.empty()) throw std::invalid_argument("empty request-target");
    for (char c : s) {
        if (is_forbidden(c)) throw std::invalid_argument("control byte or space in the request-target");
        if (c == '#') throw std::invalid_argument("fragment ('#') in the request-target");
    }
    Target t;
    if (s == "*") {
        t.form = Target::Form::asterisk;
        return t;
    }
    std::string_view path_and_query;
    if (s.front() == '/') {
        t.form = Target::Form::origin;
        path_and_query = s;
    } else if (s.find("://") != std::string_view::npos) {
        t.form = Target::Form::absolute;
        Split sp = split_absolute(s);
        t.scheme = http_scheme(sp.scheme);
        Authority a = parse_authority(sp.authority);
        if (a.userinfo) throw std::invalid_argument("userinfo in the request-target");
        t.host = std::move(a.host);
        t.port = a.port.value_or(default_port(t.scheme));
        // Back to "path?query" of the same text (no fragment: refused above).
        std::size_t start = static_cast<std::size_t>(sp.authority.data() + sp.authority.size() - s.data());
        path_and_query = s.substr(start);
    } else {
        // authority-form: host:port only.
        t.form = Target::Form::authority;
        if (s.find_first_of("/?@") != std::string_view::npos)
            throw std::invalid_argument("bad authority-form request-target");
        Authority a = parse_authority(s);
        if (!a.port) throw std::invalid_argument("authority-form request-target without a port");
        t.host = std::move(a.host);
        t.port = *a.port;
        return t;
    }
    std::size_t q = path_and_query.find('?');
    std::string_view raw_path = path_and_query.substr(0, q);
    if (q != std::string_view::npos) t.query_string = path_and_query.substr(q + 1);
    t.raw_path = raw_path.empty() ? "/" : std::string(raw_path);
    t.path = remove_dot_segments(percent_decode(t.raw_path));
    return t;
}

URL URL::parse(std::string_view s) {
    check_chars(s, "URL");
    Split sp = split_absolute(s);
    URL u;
    u.scheme = http_scheme(sp.scheme);
    Authority a = parse_authority(sp.authority);
    if (a.userinfo) {
        std::size_t colon = a.userinfo->find(':');
        u.user = percent_decode(a.userinfo->substr(0, colon));
        if (colon != std::string_view::npos) u.password = percent_decode(a.userinfo->substr(colon + 1));
    }
    u.host = std::move(a.host);
    u.port = a.port.value_or(default_port(u.scheme));
    u.path = sp.path.empty() ? "/" : encode_high(sp.path);
    u.query = encode_high(sp.query);
    u.fragment = encode_high(sp.fragment);
    return u;
}

std::string URL::host_header() const {
    std::string h;
    if (host.find(':') != std::string::npos) {
        h += '[';
        h += host;
        h += ']';
    } else {
        h = host;
    }
    if (!is_default_port()) {
        h += ':';
        h += std::to_string(port);
    }
    return h;
}

std::string URL::request_target() const { return query.empty() ? path : path + "?" + query; }

std::string URL::to_string() const {
    std::string s = scheme;
    s += "://";
    if (!user.empty() || !password.empty()) {
        s += percent_encode(user, "");
        if (!password.empty()) {
            s += ':';
            s += percent_encode(password, "");
        }
        s += '@';
    }
    s += host_header();
    s += request_target();
    if (!fragment.empty()) s += "#" + fragment;
    return s;
}

}  // namespace tulip::http
