// Tests of HTTP dates: IMF-fixdate formatting, the three formats RFC 9110
// 5.6.7 has recipients parse, everything invalid, round trips, DateCache.
#include <tulip/http/date.hpp>

#include <gtest/gtest.h>

#include <ctime>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace http_date_test {

using namespace tulip::http;

namespace {

constexpr std::time_t kRfcExample = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
constexpr std::time_t kNow2026 = 1767225600;    // Thu, 01 Jan 2026 00:00:00 GMT
constexpr std::time_t kYear0 = -62167219200;    // Sat, 01 Jan 0000 00:00:00 GMT
constexpr std::time_t kYear9999End = 253402300799;

TEST(HttpDate, FormatsImfFixdate) {
    EXPECT_EQ(format_http_date(kRfcExample), "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    EXPECT_EQ(format_http_date(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
    EXPECT_EQ(format_http_date(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
    EXPECT_EQ(format_http_date(kNow2026), "Thu, 01 Jan 2026 00:00:00 GMT");
    EXPECT_EQ(format_http_date(kYear9999End), "Fri, 31 Dec 9999 23:59:59 GMT");
    EXPECT_EQ(format_http_date(kYear0), "Sat, 01 Jan 0000 00:00:00 GMT");
}

TEST(HttpDate, FormatRefusesYearsWithoutFourDigits) {
    EXPECT_THROW(format_http_date(kYear9999End + 1), std::out_of_range);
    EXPECT_THROW(format_http_date(kYear0 - 1), std::out_of_range);
    EXPECT_THROW(format_http_date(std::numeric_limits<std::time_t>::max()), std::out_of_range);
    EXPECT_THROW(format_http_date(std::numeric_limits<std::time_t>::min()), std::out_of_range);
}

struct Good {
    std::string_view text;
    std::time_t value;
};

constexpr Good kGood[] = {
    // The three forms of RFC 9110's example.
    {"Sun, 06 Nov 1994 08:49:37 GMT", kRfcExample},
    {"Sunday, 06-Nov-94 08:49:37 GMT", kRfcExample},
    {"Sun Nov  6 08:49:37 1994", kRfcExample},
    // asctime with a two-digit day.
    {"Thu Nov 10 08:49:37 1994", kRfcExample + 4 * 86400},
    // Surrounding whitespace is ignored.
    {"  Sun, 06 Nov 1994 08:49:37 GMT\t", kRfcExample},
    // The day-name is not checked against the date.
    {"Mon, 06 Nov 1994 08:49:37 GMT", kRfcExample},
    {"Friday, 06-Nov-94 08:49:37 GMT", kRfcExample},
    // Leap days, ends of months, the edges of the clock.
    {"Tue, 29 Feb 2000 00:00:00 GMT", 951782400},
    {"Thu, 29 Feb 2024 12:00:00 GMT", 1709208000},
    {"Thu, 01 Jan 1970 00:00:00 GMT", 0},
    {"Wed, 31 Dec 1969 23:59:59 GMT", -1},
    {"Fri, 31 Dec 9999 23:59:59 GMT", kYear9999End},
    {"Sat, 01 Jan 0000 00:00:00 GMT", kYear0},
    // A leap second reads as the next minute's first.
    {"Sat, 31 Dec 2016 23:59:60 GMT", 1483228800},
    // Every month name.
    {"Sat, 31 Jan 2026 00:00:00 GMT", kNow2026 + 30 * 86400},
    {"Sun, 01 Feb 2026 00:00:00 GMT", kNow2026 + 31 * 86400},
    {"Sun, 01 Mar 2026 00:00:00 GMT", kNow2026 + 59 * 86400},
    {"Wed, 01 Apr 2026 00:00:00 GMT", kNow2026 + 90 * 86400},
    {"Fri, 01 May 2026 00:00:00 GMT", kNow2026 + 120 * 86400},
    {"Mon, 01 Jun 2026 00:00:00 GMT", kNow2026 + 151 * 86400},
    {"Wed, 01 Jul 2026 00:00:00 GMT", kNow2026 + 181 * 86400},
    {"Sat, 01 Aug 2026 00:00:00 GMT", kNow2026 + 212 * 86400},
    {"Tue, 01 Sep 2026 00:00:00 GMT", kNow2026 + 243 * 86400},
    {"Thu, 01 Oct 2026 00:00:00 GMT", kNow2026 + 273 * 86400},
    {"Sun, 01 Nov 2026 00:00:00 GMT", kNow2026 + 304 * 86400},
    {"Tue, 01 Dec 2026 00:00:00 GMT", kNow2026 + 334 * 86400},
    // Every long day-name (RFC 850).
    {"Monday, 06-Nov-94 08:49:37 GMT", kRfcExample},
    {"Tuesday, 06-Nov-94 08:49:37 GMT", kRfcExample},
    {"Wednesday, 06-Nov-94 08:49:37 GMT", kRfcExample},
    {"Thursday, 06-Nov-94 08:49:37 GMT", kRfcExample},
    {"Saturday, 06-Nov-94 08:49:37 GMT", kRfcExample},
};

TEST(HttpDate, ParsesTheThreeFormats) {
    for (const auto& g : kGood) {
        auto got = parse_http_date(g.text, kNow2026);
        ASSERT_TRUE(got.has_value()) << g.text;
        EXPECT_EQ(*got, g.value) << g.text;
    }
}

TEST(HttpDate, Rfc850TwoDigitYearsAreAtMostFiftyYearsAhead) {
    // In 2026: "76" is 2076 (50 years ahead), "77" is 1977.
    EXPECT_EQ(parse_http_date("Friday, 06-Nov-76 08:49:37 GMT", kNow2026), 3371878177);
    EXPECT_EQ(parse_http_date("Sunday, 06-Nov-77 08:49:37 GMT", kNow2026), 247654177);
    EXPECT_EQ(parse_http_date("Thursday, 01-Jan-26 00:00:00 GMT", kNow2026), kNow2026);
    // Seen from 1994, "94" is 1994 too.
    EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", kRfcExample), kRfcExample);
    // Without an explicit now, the current year decides: "94" is then 1994
    // until 2044, and 2094 after it.
    EXPECT_TRUE(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT").has_value());
}

constexpr std::string_view kBad[] = {
    "",
    " ",
    "GMT",
    "Sun, 06 Nov 1994 08:49:37",         // no zone
    "Sun, 06 Nov 1994 08:49:37 UTC",     // another zone
    "Sun, 06 Nov 1994 08:49:37 GMT x",   // trailing junk
    "Sun, 06 Nov 1994 08:49:37 gmt",     // case-sensitive
    "sun, 06 Nov 1994 08:49:37 GMT",     //
    "Sun, 06 nov 1994 08:49:37 GMT",     //
    "Sux, 06 Nov 1994 08:49:37 GMT",     // unknown day-name
    "Sun, 06 Nox 1994 08:49:37 GMT",     // unknown month
    "Sun, 6 Nov 1994 08:49:37 GMT",      // one-digit day
    "Sun, 06 Nov 94 08:49:37 GMT",       // two-digit year in IMF-fixdate
    "Sun, 06 Nov 19944 08:49:37 GMT",    //
    "Sun,  06 Nov 1994 08:49:37 GMT",    // extra space
    "Sun 06 Nov 1994 08:49:37 GMT",      // no comma
    "Sun, 06-Nov-1994 08:49:37 GMT",     // RFC 850 dashes in IMF
    "Sun, 06 Nov 1994 8:49:37 GMT",      // one-digit hour
    "Sun, 06 Nov 1994 08:49 GMT",        // no seconds
    "Sun, 06 Nov 1994 08-49-37 GMT",     //
    "Sun, 0x Nov 1994 08:49:37 GMT",     // not digits
    "Sun, +6 Nov 1994 08:49:37 GMT",     //
    "Sun, 00 Nov 1994 08:49:37 GMT",     // day 0
    "Sun, 31 Nov 1994 08:49:37 GMT",     // November has 30
    "Sun, 32 Jan 1994 08:49:37 GMT",     //
    "Sun, 30 Feb 2000 08:49:37 GMT",     // February
    "Sun, 29 Feb 1900 08:49:37 GMT",     // 1900 is not a leap year
    "Sun, 29 Feb 2023 08:49:37 GMT",     //
    "Sun, 31 Apr 2023 08:49:37 GMT",     //
    "Sun, 31 Jun 2023 08:49:37 GMT",     //
    "Sun, 31 Sep 2023 08:49:37 GMT",     //
    "Sun, 06 Nov 1994 24:00:00 GMT",     // hour 24
    "Sun, 06 Nov 1994 08:60:00 GMT",     // minute 60
    "Sun, 06 Nov 1994 08:49:61 GMT",     // second 61
    "Sun, 06 Nov 1994 99:99:99 GMT",     //
    "Sunday, 06 Nov 1994 08:49:37 GMT",  // long name in IMF
    "Sun, 06-Nov-94 08:49:37 GMT",       // short name in RFC 850
    "Sunday, 06-Nov-94 08:49:37",        //
    "Sunday, 6-Nov-94 08:49:37 GMT",     //
    "Sunday, 31-Nov-94 08:49:37 GMT",    //
    "Sunday, 06-Nov-1994 08:49:37 GMT",  //
    "Sundae, 06-Nov-94 08:49:37 GMT",    //
    "Sun Nov 6 08:49:37 1994",           // asctime needs two characters of day
    "Sun Nov 06  08:49:37 1994",         //
    "Sun Nov  6 08:49:37 94",            //
    "Sun Nov  6 08:49:37 1994 GMT",      //
    "Sun Nov  0 08:49:37 1994",          //
    "Sun Nov 31 08:49:37 1994",          //
    "Sun Nov  6 08:49:37",               //
    "Sun",                               //
    "Sun,",                              //
    "1994-11-06T08:49:37Z",              // ISO 8601 is not an HTTP date
    "784111777",                         //
};

TEST(HttpDate, RefusesEverythingElse) {
    for (auto s : kBad) EXPECT_EQ(parse_http_date(s, kNow2026), std::nullopt) << '"' << s << '"';
}

TEST(HttpDate, RefusesEveryTruncationOfAGoodDate) {
    for (std::string_view full : {"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT"}) {
        for (std::size_t n = 0; n < full.size(); ++n)
            EXPECT_EQ(parse_http_date(full.substr(0, n), kNow2026), std::nullopt) << full.substr(0, n);
    }
    // asctime's last field is the year: every prefix short of it fails too.
    std::string_view asc = "Sun Nov  6 08:49:37 1994";
    for (std::size_t n = 0; n < asc.size(); ++n)
        EXPECT_EQ(parse_http_date(asc.substr(0, n), kNow2026), std::nullopt) << asc.substr(0, n);
}

TEST(HttpDate, RefusesNulAndHighBytes) {
    EXPECT_EQ(parse_http_date(std::string_view("Sun, 06 Nov 1994 08:49:37 GMT\0", 30), kNow2026), std::nullopt);
    EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GM\xc3\x9f", kNow2026), std::nullopt);
}

TEST(HttpDate, RoundTrips) {
    // A spread of times from 1900 to 2200, a prime step apart, so every
    // weekday, month and many leap days come up.
    for (std::time_t t = -2208988800; t < 7258118400; t += 86400 * 17 + 3607) {
        std::string s = format_http_date(t);
        ASSERT_EQ(s.size(), 29u);
        EXPECT_EQ(parse_http_date(s, kNow2026), t) << s;
    }
}

TEST(HttpDate, DateCacheFormatsOncePerSecond) {
    DateCache cache;
    std::string_view a = cache.now(kRfcExample);
    EXPECT_EQ(a, "Sun, 06 Nov 1994 08:49:37 GMT");
    const char* first = a.data();
    // The same second: the same buffer, the same text.
    std::string_view b = cache.now(kRfcExample);
    EXPECT_EQ(b.data(), first);
    EXPECT_EQ(b, "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(cache.now(kRfcExample + 1), "Sun, 06 Nov 1994 08:49:38 GMT");
    EXPECT_EQ(cache.now(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    // Going back in time reformats as well.
    EXPECT_EQ(cache.now(kRfcExample), "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(HttpDate, DateCacheNowIsTheCurrentTime) {
    DateCache cache;
    std::time_t before = std::time(nullptr);
    auto got = parse_http_date(cache.now());
    std::time_t after = std::time(nullptr);
    ASSERT_TRUE(got.has_value());
    EXPECT_GE(*got, before);
    EXPECT_LE(*got, after);
}

TEST(HttpDate, DateCacheKeepsItsTextWhenATimeCannotBeFormatted) {
    DateCache cache;
    EXPECT_EQ(cache.now(kRfcExample), "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_THROW(cache.now(kYear9999End + 1), std::out_of_range);
    EXPECT_EQ(cache.now(kRfcExample), "Sun, 06 Nov 1994 08:49:37 GMT");
}

}  // namespace

}  // namespace http_date_test
