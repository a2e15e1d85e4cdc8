// Tests of reason_phrase (every registered code, unknown ones) and
// status_has_body (1xx, 204, 304, HEAD, CONNECT).
#include <tulip/http/status.hpp>

#include <gtest/gtest.h>

#include <string_view>

namespace http_status_test {

using namespace tulip::http;

namespace {

struct Reason {
    int code;
    std::string_view phrase;
};

constexpr Reason kRegistered[] = {
    {100, "Continue"},
    {101, "Switching Protocols"},
    {102, "Processing"},
    {103, "Early Hints"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {203, "Non-Authoritative Information"},
    {204, "No Content"},
    {205, "Reset Content"},
    {206, "Partial Content"},
    {207, "Multi-Status"},
    {208, "Already Reported"},
    {226, "IM Used"},
    {300, "Multiple Choices"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {304, "Not Modified"},
    {305, "Use Proxy"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {402, "Payment Required"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {407, "Proxy Authentication Required"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Range Not Satisfiable"},
    {417, "Expectation Failed"},
    {418, "I'm a teapot"},
    {421, "Misdirected Request"},
    {422, "Unprocessable Content"},
    {423, "Locked"},
    {424, "Failed Dependency"},
    {425, "Too Early"},
    {426, "Upgrade Required"},
    {428, "Precondition Required"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {451, "Unavailable For Legal Reasons"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
    {506, "Variant Also Negotiates"},
    {507, "Insufficient Storage"},
    {508, "Loop Detected"},
    {510, "Not Extended"},
    {511, "Network Authentication Required"},
};

TEST(Status, EveryRegisteredCodeHasItsPhrase) {
    for (const auto& r : kRegistered) EXPECT_EQ(reason_phrase(r.code), r.phrase) << r.code;
}

TEST(Status, ExactlyTheRegisteredCodesHaveAPhrase) {
    // Any code in 0..999 outside the table is unknown.
    int known = 0;
    for (int code = 0; code < 1000; ++code)
        if (!reason_phrase(code).empty()) ++known;
    EXPECT_EQ(known, static_cast<int>(std::size(kRegistered)));
}

TEST(Status, UnknownCodesGiveAnEmptyPhrase) {
    for (int code : {-1, 0, 99, 104, 199, 209, 299, 306, 309, 419, 420, 430, 499, 509, 512, 599, 600, 1000, 2147483647})
        EXPECT_EQ(reason_phrase(code), "") << code;
}

struct BodyCase {
    int status;
    std::string_view method;
    bool has_body;
};

constexpr BodyCase kBodyCases[] = {
    {100, "GET", false},    {101, "GET", false},     {103, "POST", false},    {199, "GET", false},
    {200, "GET", true},     {201, "POST", true},     {204, "GET", false},     {205, "GET", true},
    {206, "GET", true},     {301, "GET", true},      {304, "GET", false},     {400, "POST", true},
    {404, "GET", true},     {500, "DELETE", true},   {200, "HEAD", false},    {404, "HEAD", false},
    {500, "HEAD", false},   {200, "CONNECT", false}, {299, "CONNECT", false}, {407, "CONNECT", true},
    {502, "CONNECT", true}, {200, "head", true},  // methods are case-sensitive: "head" is not HEAD
};

TEST(Status, HasBodyTable) {
    for (const auto& c : kBodyCases)
        EXPECT_EQ(status_has_body(c.status, c.method), c.has_body) << c.status << " " << c.method;
}

TEST(Status, HasBodyIsConstexprAndDefaultsToGet) {
    static_assert(status_has_body(200));
    static_assert(!status_has_body(204));
    static_assert(!status_has_body(200, "HEAD"));
    EXPECT_TRUE(status_has_body(418));
}

}  // namespace

}  // namespace http_status_test
