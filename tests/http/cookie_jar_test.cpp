// tests/http/cookie_jar_test.cpp — http::CookieJar against RFC 6265's rules:
// Set-Cookie parsing, Domain and Path matching, expiry, Secure, ordering, and
// the cookie date format.
#include <tulip/http/cookie_jar.hpp>

#include <gtest/gtest.h>

#include <string>

namespace http_cookie_jar_test {

using namespace tulip;
using http::CookieJar;
using http::URL;

namespace {

constexpr std::time_t kNow = 1'700'000'000;  // 2023-11-14

URL u(const char* s) { return URL::parse(s); }

TEST(CookieJarTest, AHostOnlyCookieGoesBackToItsHostUnderItsDefaultPath) {
    CookieJar jar;
    EXPECT_TRUE(jar.set("a=1", u("http://example.com/docs/page"), kNow));
    EXPECT_EQ(jar.header_for(u("http://example.com/docs/other"), kNow), "a=1");
    EXPECT_EQ(jar.header_for(u("http://example.com/docs"), kNow), "a=1");
    EXPECT_EQ(jar.header_for(u("http://example.com/documents"), kNow), "");  // "/docs" is not a prefix segment
    EXPECT_EQ(jar.header_for(u("http://example.com/"), kNow), "");
    EXPECT_EQ(jar.header_for(u("http://www.example.com/docs/x"), kNow), "");  // host-only
    ASSERT_EQ(jar.size(), 1u);
    EXPECT_EQ(jar.cookies()[0].path, "/docs");
    EXPECT_TRUE(jar.cookies()[0].host_only);
}

TEST(CookieJarTest, ADomainCookieGoesToSubdomainsButNotToLookAlikes) {
    CookieJar jar;
    EXPECT_TRUE(jar.set("sid=x; Domain=.Example.com; Path=/", u("http://www.example.com/login"), kNow));
    EXPECT_EQ(jar.header_for(u("http://api.example.com/"), kNow), "sid=x");
    EXPECT_EQ(jar.header_for(u("http://example.com/a/b"), kNow), "sid=x");
    EXPECT_EQ(jar.header_for(u("http://badexample.com/"), kNow), "");
    EXPECT_EQ(jar.header_for(u("http://example.org/"), kNow), "");
}

TEST(CookieJarTest, DomainsThatDoNotCoverTheHostOrAreTooWideAreIgnored) {
    CookieJar jar;
    EXPECT_FALSE(jar.set("a=1; Domain=other.com", u("http://example.com/"), kNow));
    EXPECT_FALSE(jar.set("a=1; Domain=com", u("http://example.com/"), kNow));
    EXPECT_FALSE(jar.set("a=1; Domain=www.example.com", u("http://example.com/"), kNow));
    EXPECT_TRUE(jar.set("a=1; Domain=localhost", u("http://localhost/"), kNow));  // the host itself
    EXPECT_EQ(jar.size(), 1u);
}

TEST(CookieJarTest, IpAddressHostsKeepHostOnlyCookies) {
    CookieJar jar;
    EXPECT_TRUE(jar.set("a=1", u("http://127.0.0.1:8080/"), kNow));
    EXPECT_TRUE(jar.set("b=2; Domain=127.0.0.1", u("http://127.0.0.1/"), kNow));
    EXPECT_FALSE(jar.set("c=3; Domain=0.0.1", u("http://127.0.0.1/"), kNow));
    EXPECT_EQ(jar.header_for(u("http://127.0.0.1:9000/x"), kNow), "a=1; b=2");  // ports do not matter (RFC 6265 8.5)
    EXPECT_EQ(jar.header_for(u("http://127.0.0.2/"), kNow), "");
}

TEST(CookieJarTest, SecureCookiesComeFromAndGoToHttpsOnly) {
    CookieJar jar;
    EXPECT_FALSE(jar.set("s=1; Secure", u("http://example.com/"), kNow));
    EXPECT_TRUE(jar.set("s=1; Secure; HttpOnly", u("https://example.com/"), kNow));
    EXPECT_EQ(jar.header_for(u("http://example.com/"), kNow), "");
    EXPECT_EQ(jar.header_for(u("https://example.com/"), kNow), "s=1");
    EXPECT_TRUE(jar.cookies()[0].http_only);
}

TEST(CookieJarTest, ExpiresAndMaxAge) {
    CookieJar jar;
    EXPECT_TRUE(jar.set("old=1; Expires=Wed, 09 Jun 2021 10:18:14 GMT", u("http://h.example/"), kNow));
    EXPECT_EQ(jar.size(), 0u);  // expired on arrival: not stored
    EXPECT_TRUE(jar.set("new=1; Expires=Thu, 01 Jan 2037 00:00:00 GMT", u("http://h.example/"), kNow));
    EXPECT_TRUE(jar.set("short=1; Max-Age=10", u("http://h.example/"), kNow));
    // Max-Age wins over Expires, whatever their order.
    EXPECT_TRUE(jar.set("both=1; Max-Age=10; Expires=Thu, 01 Jan 2037 00:00:00 GMT", u("http://h.example/"), kNow));
    EXPECT_EQ(jar.header_for(u("http://h.example/"), kNow + 5), "new=1; short=1; both=1");
    EXPECT_EQ(jar.header_for(u("http://h.example/"), kNow + 11), "new=1");
    jar.clear_expired(kNow + 11);
    EXPECT_EQ(jar.size(), 1u);
    EXPECT_EQ(jar.cookies()[0].expires, std::optional<std::time_t>(2114380800));
    // Max-Age=0 (or negative) deletes.
    EXPECT_TRUE(jar.set("new=gone; Max-Age=0", u("http://h.example/"), kNow));
    EXPECT_EQ(jar.size(), 0u);
}

TEST(CookieJarTest, ASameNamedCookieIsReplacedInPlaceAndLongerPathsComeFirst) {
    CookieJar jar;
    jar.set("a=1; Path=/", u("http://h.example/"), kNow);
    jar.set("b=2; Path=/x/y", u("http://h.example/"), kNow);
    jar.set("c=3; Path=/x", u("http://h.example/"), kNow);
    jar.set("a=9; Path=/", u("http://h.example/"), kNow);
    EXPECT_EQ(jar.header_for(u("http://h.example/x/y/z"), kNow), "b=2; c=3; a=9");
    EXPECT_EQ(jar.size(), 3u);
    jar.set("a=other; Path=/x/y", u("http://h.example/"), kNow);  // another path: another cookie
    EXPECT_EQ(jar.size(), 4u);
}

TEST(CookieJarTest, MalformedSetCookieValuesAreIgnored) {
    CookieJar jar;
    EXPECT_FALSE(jar.set("no-equals-sign", u("http://h.example/"), kNow));
    EXPECT_FALSE(jar.set("=value-without-name", u("http://h.example/"), kNow));
    EXPECT_FALSE(jar.set("a=b\x01", u("http://h.example/"), kNow));
    EXPECT_TRUE(jar.set("  spaced  =  value ; path=/p ; max-age=junk", u("http://h.example/"), kNow));
    ASSERT_EQ(jar.size(), 1u);
    EXPECT_EQ(jar.cookies()[0].name, "spaced");
    EXPECT_EQ(jar.cookies()[0].value, "value");
    EXPECT_EQ(jar.cookies()[0].path, "/p");
    EXPECT_FALSE(jar.cookies()[0].expires);  // a bad Max-Age is ignored
}

TEST(CookieJarTest, UpdateFromTakesEverySetCookie) {
    CookieJar jar;
    http::Headers h{{"Set-Cookie", "a=1"}, {"Content-Type", "text/plain"}, {"set-cookie", "b=2"}};
    jar.update_from(h, u("http://h.example/"), kNow);
    EXPECT_EQ(jar.header_for(u("http://h.example/"), kNow), "a=1; b=2");
}

TEST(CookieDateTest, TheFormatsServersSend) {
    EXPECT_EQ(http::parse_cookie_date("Wed, 09 Jun 2021 10:18:14 GMT"), std::optional<std::time_t>(1623233894));
    EXPECT_EQ(http::parse_cookie_date("Wednesday, 09-Jun-21 10:18:14 GMT"), std::optional<std::time_t>(1623233894));
    EXPECT_EQ(http::parse_cookie_date("Wed, 09-Jun-2021 10:18:14 GMT"), std::optional<std::time_t>(1623233894));
    EXPECT_EQ(http::parse_cookie_date("Sun Nov  6 08:49:37 1994"), std::optional<std::time_t>(784111777));
    EXPECT_EQ(http::parse_cookie_date("Sun, 06 Nov 94 08:49:37 GMT"), std::optional<std::time_t>(784111777));
    EXPECT_FALSE(http::parse_cookie_date("tomorrow"));
    EXPECT_FALSE(http::parse_cookie_date("Wed, 32 Jun 2021 10:18:14 GMT"));
    EXPECT_FALSE(http::parse_cookie_date("Wed, 09 Jun 2021 25:18:14 GMT"));
    EXPECT_FALSE(http::parse_cookie_date(""));
}

}  // namespace
}  // namespace http_cookie_jar_test
