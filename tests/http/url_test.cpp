// Tests of the URL pieces: percent-coding, remove_dot_segments, Query and
// urlencode, parse_target (the four request-target forms and what they
// refuse) and the client's URL.
#include <tulip/http/url.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace http_url_test {

using namespace tulip::http;

namespace {

using namespace std::string_literals;

// EXPECT_THROW plus a look at the message: each error names its problem.
#define EXPECT_INVALID(expr, words)                                                                    \
    do {                                                                                               \
        try {                                                                                          \
            (void)(expr);                                                                              \
            ADD_FAILURE() << #expr " did not throw";                                                   \
        } catch (const std::invalid_argument& e) {                                                     \
            EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << #expr ": " << e.what(); \
        }                                                                                              \
    } while (0)

// ---- percent-coding ---------------------------------------------------------

struct Decode {
    std::string_view in;
    bool plus;
    std::string out;
};

const Decode kDecodes[] = {
    {"", false, ""},
    {"abc", false, "abc"},
    {"a%20b", false, "a b"},
    {"%41%62%63", false, "Abc"},
    {"%e2%82%ac", false, "\xe2\x82\xac"},
    {"%E2%82%AC", false, "\xe2\x82\xac"},
    {"a%2Fb", false, "a/b"},
    {"a%2fb", false, "a/b"},
    {"%00", false, "\0"s},
    {"%ff", false, "\xff"},
    {"%25", false, "%"},
    {"%2525", false, "%25"},  // decoded once only
    {"a+b", false, "a+b"},
    {"a+b", true, "a b"},
    {"a%2Bb", true, "a+b"},
    {"++", true, "  "},
};

TEST(Url, PercentDecode) {
    for (const auto& d : kDecodes) EXPECT_EQ(percent_decode(d.in, d.plus), d.out) << d.in;
}

TEST(Url, PercentDecodeRefusesBadEscapes) {
    for (std::string_view bad : {"%", "%4", "a%4", "%zz", "%4g", "%g4", "100%", "%%41", "a%2", "%-1", "% 1", "%+1"}) {
        EXPECT_INVALID(percent_decode(bad), "percent-escape");
        EXPECT_INVALID(percent_decode(bad, true), "percent-escape");
    }
}

TEST(Url, PercentDecodeEveryByte) {
    for (int b = 0; b < 256; ++b) {
        static constexpr char hex[] = "0123456789abcdef";
        std::string esc = {'%', hex[b >> 4], hex[b & 15]};
        EXPECT_EQ(percent_decode(esc), std::string(1, static_cast<char>(b)));
    }
}

TEST(Url, PercentEncode) {
    EXPECT_EQ(percent_encode(""), "");
    EXPECT_EQ(percent_encode("AZaz09-._~"), "AZaz09-._~");
    EXPECT_EQ(percent_encode("/a b/c"), "/a%20b/c");
    EXPECT_EQ(percent_encode("/a b/c", ""), "%2Fa%20b%2Fc");
    EXPECT_EQ(percent_encode("a+b=c&d", "+="), "a+b=c%26d");
    EXPECT_EQ(percent_encode("\xe2\x82\xac"), "%E2%82%AC");
    EXPECT_EQ(percent_encode("\0%"s), "%00%25");
    EXPECT_EQ(percent_encode("?#[]@!$'()*,;:"), "%3F%23%5B%5D%40%21%24%27%28%29%2A%2C%3B%3A");
}

TEST(Url, PercentEncodeDecodeRoundTripsEveryByte) {
    std::string all;
    for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
    for (std::string_view safe : {"", "/", "/?=&+"}) EXPECT_EQ(percent_decode(percent_encode(all, safe)), all);
}

// ---- remove_dot_segments ----------------------------------------------------

struct Dots {
    std::string_view in, out;
};

constexpr Dots kDots[] = {
    {"/", "/"},
    {"/a/b/c", "/a/b/c"},
    {"/a/./b", "/a/b"},
    {"/a/../b", "/b"},
    {"/a/b/../../c", "/c"},
    {"/a/b/..", "/a/"},
    {"/a/b/.", "/a/b/"},
    {"/a/b/../", "/a/"},
    {"/..", "/"},
    {"/../", "/"},
    {"/../..", "/"},
    {"/../../etc/passwd", "/etc/passwd"},
    {"/a/../../../b", "/b"},
    {"/.", "/"},
    {"/./", "/"},
    {"/./.", "/"},
    {"/a/.b", "/a/.b"},
    {"/a/..b", "/a/..b"},
    {"/a/b..", "/a/b.."},
    {"/a/.../b", "/a/.../b"},
    {"/a//b", "/a//b"},
    {"/a//../b", "/a/b"},
    {"/mid/content=5/../6", "/mid/6"},  // RFC 3986 5.2.4's example
    {"/a/b/c/./../../g", "/a/g"},       // and the other one
    {"", "/"},
    {"a/../b", "/b"},
    {"..", "/"},
};

TEST(Url, RemoveDotSegments) {
    for (const auto& d : kDots) EXPECT_EQ(remove_dot_segments(d.in), d.out) << d.in;
}

// ---- Query -------------------------------------------------------------------

TEST(Url, QueryParseKeepsOrderAndRepeats) {
    Query q = Query::parse("a=1&b=2&a=3");
    ASSERT_EQ(q.size(), 3u);
    EXPECT_EQ(q[0], (Query::value_type{"a", "1"}));
    EXPECT_EQ(q[1], (Query::value_type{"b", "2"}));
    EXPECT_EQ(q[2], (Query::value_type{"a", "3"}));
    EXPECT_EQ(q.get("a"), "1");
    EXPECT_EQ(q.get("b"), "2");
    EXPECT_EQ(q.get("c"), std::nullopt);
    EXPECT_EQ(q.get_all("a"), (std::vector<std::string_view>{"1", "3"}));
    EXPECT_EQ(q.get_all("c"), std::vector<std::string_view>{});
    EXPECT_TRUE(q.contains("a"));
    EXPECT_FALSE(q.contains("A"));  // keys are case-sensitive
    std::vector<std::string> keys;
    for (const auto& [k, v] : q) keys.push_back(k + "=" + v);
    EXPECT_EQ(keys, (std::vector<std::string>{"a=1", "b=2", "a=3"}));
}

struct QueryCase {
    std::string_view in;
    Query out;
};

const QueryCase kQueries[] = {
    {"", {}},
    {"&", {}},
    {"&&&", {}},
    {"a", {{"a", ""}}},
    {"a=", {{"a", ""}}},
    {"=", {{"", ""}}},
    {"=x", {{"", "x"}}},
    {"a=1&&b=2&", {{"a", "1"}, {"b", "2"}}},
    {"a=b=c", {{"a", "b=c"}}},
    {"a+b=c+d", {{"a b", "c d"}}},
    {"a%20b=c%2Bd", {{"a b", "c+d"}}},
    {"k=%26%3D", {{"k", "&="}}},
    {"q=%E2%82%AC", {{"q", "\xe2\x82\xac"}}},
    {"a;b=1", {{"a;b", "1"}}},  // only '&' separates pairs
    {"x=1&x=2&x=", {{"x", "1"}, {"x", "2"}, {"x", ""}}},
};

TEST(Url, QueryParseTable) {
    for (const auto& c : kQueries) EXPECT_EQ(Query::parse(c.in), c.out) << c.in;
}

TEST(Url, QueryParseRefusesBadEscapes) {
    for (std::string_view bad : {"a=%", "a=%4", "%zz=1", "a=1&b=%g0", "a=100%"})
        EXPECT_INVALID(Query::parse(bad), "percent-escape");
}

TEST(Url, QueryGetOnAnEmptyQuery) {
    Query q;
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.get(""), std::nullopt);
    EXPECT_FALSE(q.contains(""));
    EXPECT_THROW((void)q[0], std::out_of_range);
}

TEST(Url, UrlencodeAndRoundTrip) {
    EXPECT_EQ(urlencode({}), "");
    EXPECT_EQ(urlencode({{"a", "1"}, {"b", "x y"}, {"a", "3"}}), "a=1&b=x+y&a=3");
    EXPECT_EQ(urlencode({{"k", "&=+%/?"}}), "k=%26%3D%2B%25%2F%3F");
    EXPECT_EQ(urlencode({{"", ""}}), "=");
    EXPECT_EQ(urlencode({{"\xe2\x82\xac", "~._-"}}), "%E2%82%AC=~._-");
    std::string all;
    for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
    Query q{{"a", "1"}, {all, all}, {"a", ""}, {"", "x"}, {"sp ace", "p+lus"}};
    EXPECT_EQ(Query::parse(urlencode(q)), q);
}

TEST(Url, QueryAdd) {
    Query q;
    q.add("x", "1");
    q.add("x", "2");
    EXPECT_EQ(q.size(), 2u);
    EXPECT_EQ(q.get_all("x"), (std::vector<std::string_view>{"1", "2"}));
    EXPECT_EQ(urlencode(q), "x=1&x=2");
}

// ---- parse_target ---------------------------------------------------------------

TEST(Url, TargetOriginForm) {
    Target t = parse_target("/p/a%20th?q=1&r=%20");
    EXPECT_EQ(t.form, Target::Form::origin);
    EXPECT_EQ(t.raw_path, "/p/a%20th");
    EXPECT_EQ(t.path, "/p/a th");
    EXPECT_EQ(t.query_string, "q=1&r=%20");
    EXPECT_EQ(t.scheme, "");
    EXPECT_EQ(t.host, "");
    EXPECT_EQ(t.port, 0);
}

struct OriginCase {
    std::string_view target, raw_path, path, query;
};

constexpr OriginCase kOrigins[] = {
    {"/", "/", "/", ""},
    {"/?", "/", "/", ""},
    {"/?a", "/", "/", "a"},
    {"/a?b?c", "/a", "/a", "b?c"},  // the first '?' starts the query
    {"/a/../b", "/a/../b", "/b", ""},
    {"/..", "/..", "/", ""},
    {"/../..", "/../..", "/", ""},
    {"/../../etc/passwd", "/../../etc/passwd", "/etc/passwd", ""},
    {"/static/../../secret", "/static/../../secret", "/secret", ""},
    {"/%2e%2e/%2E%2E/etc", "/%2e%2e/%2E%2E/etc", "/etc", ""},
    {"/a/%2e%2e", "/a/%2e%2e", "/", ""},
    {"/a/..%2f..%2fetc", "/a/..%2f..%2fetc", "/etc", ""},
    {"/a%2Fb", "/a%2Fb", "/a/b", ""},
    {"/./a/./", "/./a/./", "/a/", ""},
    {"//a//b", "//a//b", "//a//b", ""},
    {"/a/..?x=/../", "/a/..", "/", "x=/../"},          // the query is not a path
    {"/%00", "/%00", std::string_view("/\0", 2), ""},  // NUL decodes; the caller decides
    {"/caf\xc3\xa9", "/caf\xc3\xa9", "/caf\xc3\xa9", ""},
    {"/a+b", "/a+b", "/a+b", ""},  // '+' is a plus in a path
};

TEST(Url, TargetOriginFormTable) {
    for (const auto& c : kOrigins) {
        Target t = parse_target(c.target);
        EXPECT_EQ(t.form, Target::Form::origin) << c.target;
        EXPECT_EQ(t.raw_path, c.raw_path) << c.target;
        EXPECT_EQ(t.query_string, c.query) << c.target;
        EXPECT_EQ(t.path, c.path) << c.target;
    }
}

TEST(Url, TargetPathNeverClimbs) {
    // Every mix of "..", "%2e%2e", "." and separators: path stays absolute
    // and has no ".." segment left.
    const std::vector<std::string> parts = {"..", "%2e%2e", "%2E.", ".", "%2e", "a", "..%2f..", "%2f"};
    for (const auto& x : parts)
        for (const auto& y : parts)
            for (const auto& z : parts) {
                std::string target = "/" + x + "/" + y + "/" + z;
                Target t = parse_target(target);
                ASSERT_FALSE(t.path.empty()) << target;
                EXPECT_EQ(t.path.front(), '/') << target;
                std::string p = t.path + "/";
                EXPECT_EQ(p.find("/../"), std::string::npos) << target << " -> " << t.path;
                EXPECT_EQ(p.find("/./"), std::string::npos) << target << " -> " << t.path;
            }
}

TEST(Url, TargetAbsoluteForm) {
    Target t = parse_target("http://Example.COM:8080/p%20x?q=1");
    EXPECT_EQ(t.form, Target::Form::absolute);
    EXPECT_EQ(t.scheme, "http");
    EXPECT_EQ(t.host, "example.com");
    EXPECT_EQ(t.port, 8080);
    EXPECT_EQ(t.raw_path, "/p%20x");
    EXPECT_EQ(t.path, "/p x");
    EXPECT_EQ(t.query_string, "q=1");
}

struct AbsoluteCase {
    std::string_view target, scheme, host;
    std::uint16_t port;
    std::string_view raw_path, path, query;
};

constexpr AbsoluteCase kAbsolutes[] = {
    {"http://h", "http", "h", 80, "/", "/", ""},
    {"HTTPS://h", "https", "h", 443, "/", "/", ""},
    {"https://h/", "https", "h", 443, "/", "/", ""},
    {"http://h?x", "http", "h", 80, "/", "/", "x"},
    {"http://h:/a", "http", "h", 80, "/a", "/a", ""},  // empty port: the default
    {"http://h:1/a", "http", "h", 1, "/a", "/a", ""},
    {"http://h:65535/a", "http", "h", 65535, "/a", "/a", ""},
    {"https://h:0443/", "https", "h", 443, "/", "/", ""},
    {"http://127.0.0.1:8080/a/../b", "http", "127.0.0.1", 8080, "/a/../b", "/b", ""},
    {"http://[::1]/", "http", "::1", 80, "/", "/", ""},
    {"http://[::1]:8080/x", "http", "::1", 8080, "/x", "/x", ""},
    {"http://[2001:DB8::1]:1/x", "http", "2001:db8::1", 1, "/x", "/x", ""},
    {"http://[::ffff:1.2.3.4]/", "http", "::ffff:1.2.3.4", 80, "/", "/", ""},
    {"http://a-b.c_d~e/", "http", "a-b.c_d~e", 80, "/", "/", ""},
    {"http://h/..%2f../x?y=1", "http", "h", 80, "/..%2f../x", "/x", "y=1"},
};

TEST(Url, TargetAbsoluteFormTable) {
    for (const auto& c : kAbsolutes) {
        Target t = parse_target(c.target);
        EXPECT_EQ(t.form, Target::Form::absolute) << c.target;
        EXPECT_EQ(t.scheme, c.scheme) << c.target;
        EXPECT_EQ(t.host, c.host) << c.target;
        EXPECT_EQ(t.port, c.port) << c.target;
        EXPECT_EQ(t.raw_path, c.raw_path) << c.target;
        EXPECT_EQ(t.path, c.path) << c.target;
        EXPECT_EQ(t.query_string, c.query) << c.target;
    }
}

TEST(Url, TargetAuthorityForm) {
    Target t = parse_target("Example.com:443");
    EXPECT_EQ(t.form, Target::Form::authority);
    EXPECT_EQ(t.host, "example.com");
    EXPECT_EQ(t.port, 443);
    EXPECT_EQ(t.raw_path, "");
    EXPECT_EQ(t.path, "");
    Target v6 = parse_target("[::1]:8443");
    EXPECT_EQ(v6.form, Target::Form::authority);
    EXPECT_EQ(v6.host, "::1");
    EXPECT_EQ(v6.port, 8443);
    EXPECT_EQ(parse_target("10.0.0.1:1").host, "10.0.0.1");
}

TEST(Url, TargetAsteriskForm) {
    Target t = parse_target("*");
    EXPECT_EQ(t.form, Target::Form::asterisk);
    EXPECT_EQ(t.path, "");
    EXPECT_EQ(t.host, "");
}

struct BadTarget {
    std::string target;
    std::string_view words;
};

const BadTarget kBadTargets[] = {
    {"", "empty"},
    {"/a b", "control byte or space"},
    {"/a\tb", "control byte or space"},
    {"/a\r\nb", "control byte or space"},
    {"/a\x7f", "control byte or space"},
    {"/a\0b"s, "control byte or space"},
    {" /a", "control byte or space"},
    {"/a#f", "fragment"},
    {"http://h/#f", "fragment"},
    {"/%", "percent-escape"},
    {"/%4", "percent-escape"},
    {"/a%zz", "percent-escape"},
    {"**", "without a port"},  // '*' is a sub-delim: "**" is a host
    {"a", "port"},
    {"a:", "port"},
    {"a:0", "port out of range"},
    {"a:65536", "port out of range"},
    {"a:99999999999999999999999", "port out of range"},
    {"a:8x", "port is not a number"},
    {"a:-1", "port is not a number"},
    {"a:+1", "port is not a number"},
    {":80", "empty host"},
    {"a/b:80", "authority-form"},
    {"u@a:80", "authority-form"},
    {"a:80?x", "authority-form"},
    {"[::1]", "without a port"},
    {"[::1", "']'"},
    {"[::g]:80", "bad IPv6"},
    {"[1.2.3.4]:80", "bad IPv6"},
    {"[::1]x:80", "junk after"},
    {"[]:80", "bad IPv6"},
    {"ftp://h/", "not http or https"},
    {"ws://h/", "not http or https"},
    {"1http://h/", "scheme"},
    {"ht^tp://h/", "scheme"},
    {"://h/", "scheme"},
    {"http:/h/", "authority-form"},  // no "://": not absolute-form
    {"http://", "empty host"},
    {"http:///p", "empty host"},
    {"http://:80/p", "empty host"},
    {"http://u@h/", "userinfo"},
    {"http://u:p@h/", "userinfo"},
    {"http://h:65536/", "port out of range"},
    {"http://h:0/", "port out of range"},
    {"http://h:x/", "not a number"},
    {"http://h%41/", "bad character in the host"},
    {"http://h\xc3\xa9/", "bad character in the host"},
    {"http://h/%zz", "percent-escape"},
    {"http://[::1/", "']'"},
    {"http://[fe80::1%25lo]/", "bad IPv6"},
};

TEST(Url, TargetRefusesBadTargets) {
    for (const auto& b : kBadTargets) {
        SCOPED_TRACE(b.target);
        EXPECT_INVALID(parse_target(b.target), b.words);
    }
    // The query is kept raw: its escapes are checked by whoever parses it.
    EXPECT_EQ(parse_target("/a?%zz").query_string, "%zz");
    EXPECT_INVALID(Query::parse(parse_target("/a?%zz").query_string), "percent-escape");
}

TEST(Url, TargetNeverCrashesOnShortJunk) {
    // Every string of up to three characters from an alphabet of the
    // syntax's delimiters: parses or throws std::invalid_argument, nothing
    // else.
    const std::string alphabet = "/?#%:@[]*.a1 \0"s;
    std::vector<std::string> inputs = {""};
    for (int len = 1; len <= 3; ++len) {
        std::vector<std::string> next;
        for (const auto& s : inputs)
            if (s.size() == static_cast<std::size_t>(len - 1))
                for (char c : alphabet) next.push_back(s + c);
        inputs.insert(inputs.end(), next.begin(), next.end());
    }
    int parsed = 0;
    for (const auto& s : inputs) {
        try {
            (void)parse_target(s);
            (void)parse_target("http://h" + s);
            ++parsed;
        } catch (const std::invalid_argument&) {}
    }
    EXPECT_GT(parsed, 0);
}

// ---- URL -------------------------------------------------------------------------

TEST(Url, UrlParseEverything) {
    URL u = URL::parse("HTTPS://us%20er:p%40ss@Host.Example:8443/p/a%20th?q=1&r#frag");
    EXPECT_EQ(u.scheme, "https");
    EXPECT_EQ(u.user, "us er");
    EXPECT_EQ(u.password, "p@ss");
    EXPECT_EQ(u.host, "host.example");
    EXPECT_EQ(u.port, 8443);
    EXPECT_EQ(u.path, "/p/a%20th");
    EXPECT_EQ(u.query, "q=1&r");
    EXPECT_EQ(u.fragment, "frag");
    EXPECT_TRUE(u.is_secure());
    EXPECT_FALSE(u.is_default_port());
    EXPECT_EQ(u.host_header(), "host.example:8443");
    EXPECT_EQ(u.request_target(), "/p/a%20th?q=1&r");
    EXPECT_EQ(u.to_string(), "https://us%20er:p%40ss@host.example:8443/p/a%20th?q=1&r#frag");
}

struct UrlCase {
    std::string_view url, scheme, host;
    std::uint16_t port;
    std::string_view path, query, host_header, request_target;
};

constexpr UrlCase kUrls[] = {
    {"http://h", "http", "h", 80, "/", "", "h", "/"},
    {"http://h/", "http", "h", 80, "/", "", "h", "/"},
    {"https://h", "https", "h", 443, "/", "", "h", "/"},
    {"http://h:80/", "http", "h", 80, "/", "", "h", "/"},
    {"http://h:443/", "http", "h", 443, "/", "", "h:443", "/"},
    {"https://h:80/", "https", "h", 80, "/", "", "h:80", "/"},
    {"https://h:443/x", "https", "h", 443, "/x", "", "h", "/x"},
    {"http://h:/x", "http", "h", 80, "/x", "", "h", "/x"},
    {"http://h?a=1", "http", "h", 80, "/", "a=1", "h", "/?a=1"},
    {"http://h#f", "http", "h", 80, "/", "", "h", "/"},
    {"http://h/a?b#c?d", "http", "h", 80, "/a", "b", "h", "/a?b"},
    {"http://h/a#b?c", "http", "h", 80, "/a", "", "h", "/a"},
    {"http://127.0.0.1:8080/x", "http", "127.0.0.1", 8080, "/x", "", "127.0.0.1:8080", "/x"},
    {"http://[::1]/", "http", "::1", 80, "/", "", "[::1]", "/"},
    {"http://[::1]:8080/", "http", "::1", 8080, "/", "", "[::1]:8080", "/"},
    {"https://[2001:DB8::A]:443/", "https", "2001:db8::a", 443, "/", "", "[2001:db8::a]", "/"},
    {"http://h/a/../b", "http", "h", 80, "/a/../b", "", "h", "/a/../b"},  // the client sends what it is given
    {"http://h/caf\xc3\xa9?\xc3\xa9", "http", "h", 80, "/caf%C3%A9", "%C3%A9", "h", "/caf%C3%A9?%C3%A9"},
};

TEST(Url, UrlParseTable) {
    for (const auto& c : kUrls) {
        URL u = URL::parse(c.url);
        EXPECT_EQ(u.scheme, c.scheme) << c.url;
        EXPECT_EQ(u.host, c.host) << c.url;
        EXPECT_EQ(u.port, c.port) << c.url;
        EXPECT_EQ(u.path, c.path) << c.url;
        EXPECT_EQ(u.query, c.query) << c.url;
        EXPECT_EQ(u.user, "") << c.url;
        EXPECT_EQ(u.host_header(), c.host_header) << c.url;
        EXPECT_EQ(u.request_target(), c.request_target) << c.url;
    }
}

TEST(Url, UrlUserinfo) {
    URL a = URL::parse("http://user@h/");
    EXPECT_EQ(a.user, "user");
    EXPECT_EQ(a.password, "");
    URL b = URL::parse("http://:pw@h/");
    EXPECT_EQ(b.user, "");
    EXPECT_EQ(b.password, "pw");
    URL c = URL::parse("http://u:p:q@h/");  // the first ':' splits
    EXPECT_EQ(c.user, "u");
    EXPECT_EQ(c.password, "p:q");
    URL d = URL::parse("http://a@b@h/");  // the last '@' ends the userinfo
    EXPECT_EQ(d.user, "a@b");
    EXPECT_EQ(d.host, "h");
    EXPECT_EQ(d.to_string(), "http://a%40b@h/");
    EXPECT_INVALID(URL::parse("http://u%zz@h/"), "percent-escape");
}

TEST(Url, UrlToStringRoundTrips) {
    for (std::string_view s : {"http://h/", "https://u:p@h:8443/a?b#c", "http://[::1]:81/x?y", "https://h/%20?a=%20"}) {
        URL u = URL::parse(s);
        EXPECT_EQ(u.to_string(), s);
        URL again = URL::parse(u.to_string());
        EXPECT_EQ(again.to_string(), s);
    }
}

const BadTarget kBadUrls[] = {
    {"", "scheme"},
    {"h/p", "scheme"},
    {"/p", "scheme"},
    {"//h/p", "scheme"},
    {"ftp://h/", "not http or https"},
    {"file:///etc/passwd", "not http or https"},
    {"http:h", "'//'"},
    {"http://", "empty host"},
    {"http:///x", "empty host"},
    {"http://u@/x", "empty host"},
    {"http://h:0/", "port out of range"},
    {"http://h:65536/", "port out of range"},
    {"http://h:123456789012345678901234567890/", "port out of range"},
    {"http://h:8o/", "not a number"},
    {"http://[::1/", "']'"},
    {"http://[::1]8080/", "junk after"},
    {"http://[zz::1]/", "bad IPv6"},
    {"http://[127.0.0.1]/", "bad IPv6"},
    {"http://h o/", "control byte or space"},
    {"http://h/a b", "control byte or space"},
    {" http://h/", "control byte or space"},
    {"http://h/\r\nX: y", "control byte or space"},
    {"http://h/\0"s, "control byte or space"},
    {"http://h<>/", "bad character in the host"},
    {"http://h\\x/", "bad character in the host"},
};

TEST(Url, UrlRefusesBadUrls) {
    for (const auto& b : kBadUrls) {
        SCOPED_TRACE(b.target);
        EXPECT_INVALID(URL::parse(b.target), b.words);
    }
}

}  // namespace

}  // namespace http_url_test

#undef EXPECT_INVALID
