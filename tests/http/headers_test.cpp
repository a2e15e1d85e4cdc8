// tulip::http::Headers: case-insensitive multi-valued fields in order, the
// validation that keeps header injection out, and header_contains_token.
#include <algorithm>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include <tulip/http/headers.hpp>

#include "../../src/http/headers_access.hpp"

namespace http_headers_test {

using namespace tulip::http;
using namespace std::string_view_literals;

namespace {

std::vector<std::string> items(const Headers& h) {
    std::vector<std::string> out;
    for (const auto [n, v] : h) {
        out.push_back(std::string(n) + "=" + std::string(v));
    }
    return out;
}

TEST(Headers, AddGetCaseInsensitiveInOrder) {
    Headers h;
    EXPECT_TRUE(h.empty());
    h.add("Content-Type", "text/plain");
    h.add("Set-Cookie", "a=1");
    h.add("set-cookie", "b=2");
    EXPECT_EQ(h.size(), 3u);
    EXPECT_FALSE(h.empty());
    EXPECT_TRUE(h.contains("content-type"));
    EXPECT_TRUE(h.contains("CONTENT-TYPE"));
    EXPECT_FALSE(h.contains("content-typ"));
    EXPECT_FALSE(h.contains("content-typex"));
    EXPECT_EQ(h.get("content-type"), "text/plain");
    EXPECT_EQ(h.get("SET-COOKIE"), "a=1");  // the first
    EXPECT_EQ(h.get("missing"), std::nullopt);
    EXPECT_EQ(h.get("missing", "dflt"), "dflt");
    EXPECT_EQ(h.get("set-cookie", "dflt"), "a=1");
    EXPECT_EQ(h.get_all("Set-Cookie"), (std::vector<std::string_view>{"a=1", "b=2"}));
    EXPECT_TRUE(h.get_all("x").empty());
    EXPECT_EQ(h.count("set-cookie"), 2u);
    EXPECT_EQ(items(h), (std::vector<std::string>{"Content-Type=text/plain", "Set-Cookie=a=1", "set-cookie=b=2"}));
    EXPECT_EQ(h.at(1).first, "Set-Cookie");
    EXPECT_EQ(h.bytes(), "Content-Typetext/plainSet-Cookiea=1set-cookieb=2"sv.size());
}

TEST(Headers, ValuesTrimmedNotInside) {
    Headers h;
    h.add("X", " \t a  b \t ");
    h.add("Y", "");
    h.add("Z", "   ");
    EXPECT_EQ(h.get("x"), "a  b");
    EXPECT_EQ(h.get("y"), "");
    EXPECT_EQ(h.get("z"), "");
    EXPECT_TRUE(h.contains("y"));
}

TEST(Headers, RejectsInjection) {
    Headers h;
    const auto message = [&](std::string_view n, std::string_view v) -> std::string {
        try {
            h.add(n, v);
        } catch (const std::invalid_argument& e) {
            return e.what();
        }
        return "(accepted)";
    };
    EXPECT_EQ(message("X-A", "1\r\nSet-Cookie: evil"), "value of HTTP header \"X-A\" contains CR");
    EXPECT_EQ(message("X-A", "1\nx"), "value of HTTP header \"X-A\" contains LF");
    EXPECT_EQ(message("X-A", "1\0x"sv), "value of HTTP header \"X-A\" contains NUL");
    EXPECT_EQ(message("", "v"), "HTTP header name is empty");
    EXPECT_EQ(message("X A", "v"), "HTTP header name \"X A\" is not a token");
    EXPECT_EQ(message("X:A", "v"), "HTTP header name \"X:A\" is not a token");
    EXPECT_EQ(message("X\r\nY", "v"), "HTTP header name \"X\r\nY\" is not a token");
    EXPECT_EQ(message("X(", "v"), "HTTP header name \"X(\" is not a token");
    EXPECT_EQ(message("!#$%&'*+-.^_`|~09azAZ", "tab\tand obs-text \xff ok"), "(accepted)");
    EXPECT_EQ(h.size(), 1u);  // nothing of the rejected ones went in
    EXPECT_THROW(h.set("X\n", "v"), std::invalid_argument);
    EXPECT_THROW(h.set("X", "\r"), std::invalid_argument);
    EXPECT_THROW((Headers{{"Bad Name", "v"}}), std::invalid_argument);
    EXPECT_EQ(h.size(), 1u);
}

TEST(Headers, SetReplacesAllKeepingFirstPlace) {
    Headers h{{"A", "1"}, {"B", "2"}, {"a", "3"}, {"C", "4"}, {"A", "5"}};
    h.set("a", "new");
    EXPECT_EQ(items(h), (std::vector<std::string>{"A=new", "B=2", "C=4"}));
    h.set("D", "d");
    EXPECT_EQ(items(h), (std::vector<std::string>{"A=new", "B=2", "C=4", "D=d"}));
    // Many sets on one field do not grow the storage without bound.
    for (int i = 0; i < 10000; ++i) {
        h.set("B", std::to_string(i));
    }
    EXPECT_EQ(h.get("b"), "9999");
    EXPECT_LT(h.bytes(), 100u);
    EXPECT_EQ(items(h), (std::vector<std::string>{"A=new", "B=9999", "C=4", "D=d"}));
}

TEST(Headers, Remove) {
    Headers h{{"A", "1"}, {"B", "2"}, {"a", "3"}};
    EXPECT_EQ(h.remove("x"), 0u);
    EXPECT_EQ(h.remove("A"), 2u);
    EXPECT_EQ(items(h), (std::vector<std::string>{"B=2"}));
    EXPECT_EQ(h.remove("b"), 1u);
    EXPECT_TRUE(h.empty());
    h.add("C", "3");
    EXPECT_EQ(items(h), (std::vector<std::string>{"C=3"}));
}

TEST(Headers, ClearKeepsWorking) {
    Headers h;
    h.reserve(8, 256);
    for (int round = 0; round < 3; ++round) {
        h.clear();
        EXPECT_TRUE(h.empty());
        EXPECT_EQ(h.begin(), h.end());
        h.add("Host", "example.com");
        h.add("Accept", "*/*");
        EXPECT_EQ(items(h), (std::vector<std::string>{"Host=example.com", "Accept=*/*"}));
    }
}

TEST(Headers, AddFromItsOwnViews) {
    Headers h{{"A", "a value long enough to matter when the storage grows"}};
    for (int i = 0; i < 20; ++i) {
        h.add(h.at(0).first, *h.get("a"));  // views into h itself
    }
    for (const auto [n, v] : h) {
        EXPECT_EQ(n, "A");
        EXPECT_EQ(v, "a value long enough to matter when the storage grows");
    }
    h.set("B", h.at(0).second);
    EXPECT_EQ(h.get("b"), "a value long enough to matter when the storage grows");
}

TEST(Headers, Equality) {
    const Headers a{{"Content-Type", "text/html"}, {"X", "1"}};
    EXPECT_EQ(a, (Headers{{"content-type", "text/html"}, {"x", "1"}}));
    EXPECT_NE(a, (Headers{{"Content-Type", "TEXT/HTML"}, {"X", "1"}}));  // values exactly
    EXPECT_NE(a, (Headers{{"X", "1"}, {"Content-Type", "text/html"}}));  // order matters
    EXPECT_NE(a, (Headers{{"Content-Type", "text/html"}}));
    EXPECT_EQ(Headers{}, Headers{});
    Headers copy = a;
    EXPECT_EQ(copy, a);
    Headers moved = std::move(copy);
    EXPECT_EQ(moved, a);
}

TEST(Headers, IteratorIsRandomAccess) {
    static_assert(std::random_access_iterator<Headers::const_iterator>);
    const Headers h{{"A", "1"}, {"B", "2"}, {"C", "3"}};
    EXPECT_EQ(std::distance(h.begin(), h.end()), 3);
    EXPECT_EQ((*(h.begin() + 2)).first, "C");
    EXPECT_EQ(h.begin()[1].second, "2");
    const auto it = std::find_if(h.begin(), h.end(), [](const auto& f) { return f.second == "2"; });
    EXPECT_EQ(it - h.begin(), 1);
}

TEST(Headers, UncheckedAppendForTheParser) {
    Headers h;
    detail::HeadersAccess::append(h, "X", "v");
    detail::HeadersAccess::begin_field(h);
    detail::HeadersAccess::append_name(h, "Con");
    detail::HeadersAccess::append_name(h, "tent-Length");
    detail::HeadersAccess::begin_value(h);
    detail::HeadersAccess::append_value(h, "1");
    detail::HeadersAccess::append_value(h, "2 \t");
    detail::HeadersAccess::end_field(h);
    EXPECT_EQ(items(h), (std::vector<std::string>{"X=v", "Content-Length=12"}));
}

TEST(HeaderTokens, ContainsToken) {
    EXPECT_TRUE(header_contains_token("keep-alive, Upgrade", "upgrade"));
    EXPECT_TRUE(header_contains_token("keep-alive, Upgrade", "KEEP-ALIVE"));
    EXPECT_TRUE(header_contains_token(" close ", "close"));
    EXPECT_TRUE(header_contains_token(",,close,", "close"));
    EXPECT_TRUE(header_contains_token("a,\tclose\t,b", "close"));
    EXPECT_FALSE(header_contains_token("closed", "close"));
    EXPECT_FALSE(header_contains_token("keep-alive", "alive"));
    EXPECT_FALSE(header_contains_token("", "close"));
    EXPECT_FALSE(header_contains_token("x-close", "close"));
}

TEST(HeaderTokens, IequalsAndToken) {
    EXPECT_TRUE(ascii_iequals("Content-Length", "content-LENGTH"));
    EXPECT_FALSE(ascii_iequals("Content-Length", "Content-Lengt"));
    EXPECT_FALSE(ascii_iequals("\xc4", "\xe4"));  // ASCII only
    EXPECT_TRUE(is_token("X-Custom_1.2"));
    EXPECT_FALSE(is_token(""));
    EXPECT_FALSE(is_token("a b"));
    EXPECT_FALSE(is_token("\x80"));
}

}  // namespace

}  // namespace http_headers_test
