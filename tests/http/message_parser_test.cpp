// MessageParser (src/http): valid requests and responses fed whole, split at
// every offset and a byte at a time; the malformed-request table; the limits
// at and one past each.
#include <cstddef>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "../../src/http/message_parser.hpp"
#include "bad_requests.hpp"

namespace http_message_parser_test {

using namespace tulip::http;
using namespace tulip::http::detail;
using namespace std::string_literals;
using Kind = MessageParser::Kind;

namespace {

// Writes what the parser reports as text, independent of how the input was cut.
struct Recorder : MessageParser::Sink {
    std::string log;
    std::string body;
    int heads = 0;

    void on_head(MessageHead& h) override {
        ++heads;
        log += "HEAD " + h.method + " " + h.target + " " + std::to_string(h.status) + " " + h.reason + " HTTP/" +
               std::to_string(h.version_major) + "." + std::to_string(h.version_minor);
        log += h.keep_alive ? " keep-alive" : " close";
        if (h.chunked) {
            log += " chunked";
        }
        if (h.content_length) {
            log += " length=" + std::to_string(*h.content_length);
        }
        if (h.upgrade) {
            log += " upgrade";
        }
        if (h.expect_continue) {
            log += " expect-continue";
        }
        log += "\n";
        for (const auto [n, v] : h.headers) {
            log += "  " + std::string(n) + ": " + std::string(v) + "\n";
        }
        // Taking the head away must not disturb the parser.
        MessageHead taken = std::move(h);
        (void)taken;
    }
    void on_body(std::string_view chunk) override {
        EXPECT_FALSE(chunk.empty());
        body += chunk;
    }
    void on_trailers(Headers& t) override {
        for (const auto [n, v] : t) {
            log += "  trailer " + std::string(n) + ": " + std::string(v) + "\n";
        }
    }
    void on_message_complete() override {
        log += "BODY " + body + "\nEND\n";
        body.clear();
    }
};

struct Options {
    ParserLimits limits{};
    bool eof = false;  // feed_eof() after the input
    bool response_to_head = false;
};

// Feeds `pieces` one after the other as a connection would: what a feed()
// leaves is fed again (with the next piece appended once it stopped taking any).
std::string parse(Kind kind, const std::vector<std::string_view>& pieces, const Options& o = {}) {
    Recorder rec;
    MessageParser p(kind, rec, o.limits);
    p.set_response_to_head(o.response_to_head);
    std::string buf;
    try {
        for (const auto piece : pieces) {
            buf += piece;
            for (int guard = 0; !buf.empty() && !p.upgraded(); ++guard) {
                EXPECT_LT(guard, 1000) << "feed() makes no progress";
                if (guard >= 1000) {
                    break;
                }
                const std::size_t n = p.feed(buf);
                EXPECT_LE(n, buf.size());
                buf.erase(0, n);
                if (n == 0) {
                    break;
                }
            }
        }
        if (p.upgraded()) {
            rec.log += "UPGRADED rest=" + buf + "\n";
        }
        if (o.eof) {
            p.feed_eof();
            rec.log += "EOF\n";
        }
        if (p.in_message()) {
            rec.log += "IN MESSAGE\n";
        }
    } catch (const ParseError& e) {
        rec.log += "ERROR " + std::to_string(e.status()) + "\n";
    }
    return rec.log;
}

std::string parse_whole(Kind kind, std::string_view bytes, const Options& o = {}) { return parse(kind, {bytes}, o); }

// Same result whole, cut in two at every offset, and a byte at a time.
std::string parse_every_way(Kind kind, std::string_view bytes, const Options& o = {}) {
    const std::string whole = parse_whole(kind, bytes, o);
    for (std::size_t k = 0; k <= bytes.size(); ++k) {
        EXPECT_EQ(parse(kind, {bytes.substr(0, k), bytes.substr(k)}, o), whole) << "cut at " << k;
    }
    std::vector<std::string_view> bytewise;
    for (std::size_t k = 0; k < bytes.size(); ++k) {
        bytewise.push_back(bytes.substr(k, 1));
    }
    EXPECT_EQ(parse(kind, bytewise, o), whole) << "a byte at a time";
    return whole;
}

// ---- valid requests --------------------------------------------------------

TEST(MessageParser, Get) {
    EXPECT_EQ(parse_every_way(Kind::request, "GET /a/b?x=1&y=%20 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n"),
              "HEAD GET /a/b?x=1&y=%20 0  HTTP/1.1 keep-alive\n"
              "  Host: example.com\n  Accept: */*\n"
              "BODY \nEND\n");
}

TEST(MessageParser, PostWithContentLength) {
    EXPECT_EQ(
        parse_every_way(Kind::request,
                        "POST /submit HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\nContent-Type: text/plain\r\n\r\n"
                        "hello world"),
        "HEAD POST /submit 0  HTTP/1.1 keep-alive length=11\n"
        "  Host: a\n  Content-Length: 11\n  Content-Type: text/plain\n"
        "BODY hello world\nEND\n");
}

TEST(MessageParser, ChunkedWithExtensionsAndTrailers) {
    EXPECT_EQ(parse_every_way(Kind::request,
                              "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "5;name=value\r\nhello\r\n"
                              "6\r\n world\r\n"
                              "0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n"),
              "HEAD POST /up 0  HTTP/1.1 keep-alive chunked\n"
              "  Host: a\n  Transfer-Encoding: chunked\n"
              "  trailer X-Checksum: abc\n  trailer X-Other: 1\n"
              "BODY hello world\nEND\n");
}

TEST(MessageParser, ChunkedUppercaseHexAndCase) {
    EXPECT_EQ(parse_every_way(Kind::request,
                              "PUT /x HTTP/1.1\r\nHost: a\r\ntransfer-encoding: Chunked\r\n\r\n"
                              "A\r\n0123456789\r\n0\r\n\r\n"),
              "HEAD PUT /x 0  HTTP/1.1 keep-alive chunked\n"
              "  Host: a\n  transfer-encoding: Chunked\n"
              "BODY 0123456789\nEND\n");
}

TEST(MessageParser, PipelinedRequestsOneAtATime) {
    const std::string_view three =
        "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
        "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
        "GET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    EXPECT_EQ(parse_every_way(Kind::request, three),
              "HEAD GET /1 0  HTTP/1.1 keep-alive\n  Host: a\nBODY \nEND\n"
              "HEAD POST /2 0  HTTP/1.1 keep-alive length=3\n  Host: a\n  Content-Length: 3\nBODY abc\nEND\n"
              "HEAD GET /3 0  HTTP/1.1 close\n  Host: a\n  Connection: close\nBODY \nEND\n");

    // feed() stops after each message: the caller answers before reading on.
    Recorder rec;
    MessageParser p(Kind::request, rec);
    const std::size_t first = p.feed(three);
    EXPECT_EQ(three.substr(0, first), "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_EQ(rec.heads, 1);
    EXPECT_FALSE(p.in_message());
    const std::size_t second = p.feed(three.substr(first));
    EXPECT_EQ(rec.heads, 2);
    EXPECT_EQ(p.feed(three.substr(first + second)), three.size() - first - second);
    EXPECT_EQ(rec.heads, 3);
}

TEST(MessageParser, Http10AndKeepAlive) {
    EXPECT_EQ(parse_every_way(Kind::request, "GET / HTTP/1.0\r\n\r\n"), "HEAD GET / 0  HTTP/1.0 close\nBODY \nEND\n");
    EXPECT_EQ(parse_every_way(Kind::request, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
              "HEAD GET / 0  HTTP/1.0 keep-alive\n  Connection: keep-alive\nBODY \nEND\n");
    EXPECT_EQ(parse_every_way(Kind::request, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"),
              "HEAD GET / 0  HTTP/1.1 close\n  Host: a\n  Connection: close\nBODY \nEND\n");
    EXPECT_EQ(parse_whole(Kind::request, "GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, CLOSE\r\n\r\n"),
              "HEAD GET / 0  HTTP/1.1 close\n  Host: a\n  Connection: Keep-Alive, CLOSE\nBODY \nEND\n");
}

TEST(MessageParser, ExpectContinue) {
    EXPECT_EQ(parse_every_way(Kind::request,
                              "PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nok"),
              "HEAD PUT /f 0  HTTP/1.1 keep-alive length=2 expect-continue\n"
              "  Host: a\n  Expect: 100-Continue\n  Content-Length: 2\nBODY ok\nEND\n");
    // Not from an HTTP/1.0 client.
    EXPECT_EQ(parse_whole(Kind::request, "PUT /f HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok"),
              "HEAD PUT /f 0  HTTP/1.0 close length=2\n  Expect: 100-continue\n  Content-Length: 2\nBODY ok\nEND\n");
    // The head comes before the body is sent: a server answers 100 then.
    Recorder rec;
    MessageParser p(Kind::request, rec);
    const std::string_view head = "PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
    EXPECT_EQ(p.feed(head), head.size());
    EXPECT_EQ(rec.heads, 1);
    EXPECT_TRUE(p.in_message());
}

TEST(MessageParser, HeadOptionsConnect) {
    EXPECT_EQ(parse_every_way(Kind::request, "HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n"),
              "HEAD HEAD /x 0  HTTP/1.1 keep-alive\n  Host: a\nBODY \nEND\n");
    EXPECT_EQ(parse_every_way(Kind::request, "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"),
              "HEAD OPTIONS * 0  HTTP/1.1 keep-alive\n  Host: a\nBODY \nEND\n");
    // CONNECT: authority-form; what follows is the tunnel, not HTTP.
    EXPECT_EQ(
        parse_every_way(Kind::request, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03"),
        "HEAD CONNECT example.com:443 0  HTTP/1.1 keep-alive upgrade\n  Host: example.com:443\n"
        "BODY \nEND\nUPGRADED rest=\x16\x03\n");
}

TEST(MessageParser, Upgrade) {
    EXPECT_EQ(parse_every_way(Kind::request,
                              "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nxyz"),
              "HEAD GET /ws 0  HTTP/1.1 keep-alive upgrade\n  Host: a\n  Connection: Upgrade\n  Upgrade: websocket\n"
              "BODY \nEND\nUPGRADED rest=xyz\n");
    Recorder rec;
    MessageParser p(Kind::request, rec);
    const std::string_view req = "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n";
    EXPECT_EQ(p.feed(std::string(req) + "more"), req.size());
    EXPECT_TRUE(p.upgraded());
    EXPECT_THROW(p.feed("more"), std::logic_error);
}

TEST(MessageParser, HeaderValuesTrimmedAndEmpty) {
    EXPECT_EQ(
        parse_every_way(Kind::request, "GET / HTTP/1.1\r\nHost: a\r\nX-A:   padded \t \r\nX-Empty:\r\nX-B:\t\r\n\r\n"),
        "HEAD GET / 0  HTTP/1.1 keep-alive\n  Host: a\n  X-A: padded\n  X-Empty: \n  X-B: \nBODY \nEND\n");
}

TEST(MessageParser, AbsoluteFormAndHttp10WithoutHost) {
    EXPECT_EQ(parse_whole(Kind::request, "GET http://example.com/x?y HTTP/1.1\r\nHost: example.com\r\n\r\n"),
              "HEAD GET http://example.com/x?y 0  HTTP/1.1 keep-alive\n  Host: example.com\nBODY \nEND\n");
    ParserLimits lax;
    lax.require_host = false;
    EXPECT_EQ(parse_whole(Kind::request, "GET / HTTP/1.1\r\n\r\n", {lax}),
              "HEAD GET / 0  HTTP/1.1 keep-alive\nBODY \nEND\n");
}

TEST(MessageParser, CutShortAtEof) {
    EXPECT_EQ(parse(Kind::request, {"GET / HTTP/1.1\r\nHost"}, {{}, true}), "ERROR 400\n");
    EXPECT_EQ(parse(Kind::request, {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhel"}, {{}, true}),
              "HEAD POST / 0  HTTP/1.1 keep-alive length=5\n  Host: a\n  Content-Length: 5\nERROR 400\n");
    // Between messages, EOF is a clean end.
    EXPECT_EQ(parse(Kind::request, {"GET / HTTP/1.1\r\nHost: a\r\n\r\n"}, {{}, true}),
              "HEAD GET / 0  HTTP/1.1 keep-alive\n  Host: a\nBODY \nEND\nEOF\n");
    EXPECT_EQ(parse(Kind::request, {""}, {{}, true}), "EOF\n");
}

TEST(MessageParser, DeadAfterError) {
    Recorder rec;
    MessageParser p(Kind::request, rec);
    EXPECT_THROW(p.feed("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), ParseError);
    try {
        p.feed("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        ADD_FAILURE() << "a dead parser parsed";
    } catch (const ParseError& e) {
        EXPECT_EQ(e.status(), 400);
        EXPECT_NE(std::string(e.what()).find("header"), std::string::npos) << e.what();
    }
    EXPECT_THROW(p.feed_eof(), ParseError);
}

// A sink's exception comes out of feed() as it is, not through llhttp.
TEST(MessageParser, SinkExceptionPropagates) {
    struct Throwing : Recorder {
        void on_head(MessageHead&) override { throw std::domain_error("sink says no"); }
    } sink;
    MessageParser p(Kind::request, sink);
    EXPECT_THROW(p.feed("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), std::domain_error);
    EXPECT_THROW(p.feed("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), std::domain_error);
}

TEST(MessageParser, MoreValidRequests) {
    // Repeated names, UTF-8 (obs-text) in values, a tab inside a value, no space after the colon.
    EXPECT_EQ(parse_every_way(Kind::request,
                              "GET / HTTP/1.1\r\nHost: a\r\nCookie: n=\xc3\xa4\r\nCookie: m=1\r\n"
                              "X-T: a\tb\r\nX-Y:v\r\n\r\n"),
              "HEAD GET / 0  HTTP/1.1 keep-alive\n  Host: a\n  Cookie: n=\xc3\xa4\n  Cookie: m=1\n  X-T: a\tb\n"
              "  X-Y: v\nBODY \nEND\n");
    // An empty line between pipelined requests is skipped (RFC 9112 2.2).
    EXPECT_EQ(
        parse_every_way(Kind::request, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n"),
        "HEAD GET /1 0  HTTP/1.1 keep-alive\n  Host: a\nBODY \nEND\n"
        "HEAD GET /2 0  HTTP/1.1 keep-alive\n  Host: a\nBODY \nEND\n");
    // Leading zeros in Content-Length; Upgrade without "Connection: upgrade" is no upgrade.
    EXPECT_EQ(
        parse_every_way(Kind::request, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 003\r\nUpgrade: h2c\r\n\r\nabc"),
        "HEAD POST / 0  HTTP/1.1 keep-alive length=3\n  Host: a\n  Content-Length: 003\n  Upgrade: h2c\n"
        "BODY abc\nEND\n");
    // A trailer named Content-Length is only a trailer.
    EXPECT_EQ(parse_every_way(Kind::request,
                              "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "1\r\nx\r\n0\r\nContent-Length: 5\r\n\r\n"),
              "HEAD POST / 0  HTTP/1.1 keep-alive chunked\n  Host: a\n  Transfer-Encoding: chunked\n"
              "  trailer Content-Length: 5\nBODY x\nEND\n");
}

// After a message that closes the connection llhttp takes no more: the
// server stops reading there.
TEST(MessageParser, NothingAfterConnectionClose) {
    EXPECT_EQ(
        parse_whole(Kind::request, "GET /1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"),
        "HEAD GET /1 0  HTTP/1.1 close\n  Host: a\n  Connection: close\nBODY \nEND\nERROR 400\n");
}

// ---- the malformed-request table -----------------------------------------

TEST(MessageParser, BadRequestsTable) {
    ASSERT_GE(std::size(test::bad_requests), 45u);
    for (const auto& bad : test::bad_requests) {
        SCOPED_TRACE(bad.name);
        const std::string log = parse_every_way(Kind::request, bad.bytes);
        const std::string expect_end = "ERROR " + std::to_string(bad.status) + "\n";
        ASSERT_GE(log.size(), expect_end.size()) << log;
        EXPECT_EQ(log.substr(log.size() - expect_end.size()), expect_end) << log;
        EXPECT_EQ(log.find("END\n") == std::string::npos, true) << "a bad request completed: " << log;
        EXPECT_EQ(log.rfind("HEAD ", 0) == 0, bad.after_head) << log;
    }
}

TEST(MessageParser, ErrorReasonsNameTheProblem) {
    const auto reason = [](std::string_view bytes) -> std::string {
        Recorder rec;
        MessageParser p(Kind::request, rec);
        try {
            p.feed(bytes);
        } catch (const ParseError& e) {
            return e.what();
        }
        return "(accepted)";
    };
    EXPECT_EQ(reason("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"),
              "Transfer-Encoding and Content-Length both present");
    EXPECT_EQ(reason("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n"),
              "duplicate Content-Length");
    EXPECT_EQ(reason("POST / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n"), "obs-fold (line folding) is not allowed");
    EXPECT_NE(reason("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n").find("invalid Content-Length"),
              std::string::npos);
    EXPECT_NE(reason("GET / HTTP/1.1\nHost: a\r\n\r\n").find("LF"), std::string::npos)
        << reason("GET / HTTP/1.1\nHost: a\r\n\r\n");
}

// ---- limits, one by one: at the limit accepted, one past rejected ----------

std::string request_with_target(std::size_t target_len) {
    return "GET /" + std::string(target_len - 1, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n";
}

std::string final_line(const std::string& log) {
    const auto end = log.rfind('\n', log.size() - 2);
    return end == std::string::npos ? log : log.substr(end + 1);
}

// Found by fuzz/http_chunked: llhttp 8.1 ends a chunked body's trailer
// section at a bare LF. A front end that wants CRLF there reads on, so the
// bytes after it were a second request to us and trailer lines to it. The
// first message is refused, before the sink hears that it completed.
TEST(MessageParser, ABareLfEndingTheTrailerSectionIsRefused) {
    const std::string head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n";
    for (const std::string end : {"0\r\n\n", "0\r\nX-T: 1\r\n\n", "0\r\nX-T: 1\n\n", "0\r\n\n\r\n"}) {
        const std::string got =
            parse_every_way(Kind::request, head + end + "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n");
        EXPECT_EQ(final_line(got), "ERROR 400\n") << end;
        EXPECT_EQ(got.find("END"), std::string::npos) << end;
        EXPECT_EQ(got.find("smuggled"), std::string::npos) << end;
    }
    // CRLF there, with or without trailers, still ends the message.
    EXPECT_EQ(final_line(parse_every_way(Kind::request, head + "0\r\n\r\n")), "END\n");
    EXPECT_EQ(final_line(parse_every_way(Kind::request, head + "0\r\nX-T: 1\r\n\r\n")), "END\n");
}

// Found by fuzz/http_response: a response's obs-fold was seen only through
// its value's pieces, so a fold after an empty value, or one whose line
// began a feed, got through, and a response's head reached the sink before
// its bytes were checked. Now refused before the head, however it is cut.
TEST(MessageParser, AResponseWithObsFoldIsRefusedBeforeItsHeadHoweverItIsCut) {
    for (const std::string fold : {"X: a\r\n b\r\n", "X:\r\n b\r\n", "X: a\r\n \r\n"}) {
        const std::string got =
            parse_every_way(Kind::response, "HTTP/1.1 200 OK\r\n" + fold + "Content-Length: 0\r\n\r\n");
        EXPECT_EQ(got, "ERROR 400\n") << fold;
    }
    // A body that looks like a fold (a line starting with a space) is a body.
    EXPECT_EQ(final_line(parse_every_way(Kind::response, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n\r\n x\r\n")),
              "END\n");
}

// Found by fuzz/http_chunked: a fold in the trailer section after an empty
// value added its line to that trailer (the value's pieces could not see
// it); and the trailers reached the sink before their bytes were checked.
// The trailer section is now scanned as a head is, before anything of it is
// delivered, for requests and responses, however the bytes are cut.
TEST(MessageParser, ObsFoldInTheTrailerSectionIsRefusedBeforeTheTrailersAreDelivered) {
    for (const std::string fold : {"X:\r\n more\r\n", "X: a\r\n more\r\n", "X:\r\n \r\n"}) {
        const std::string req = parse_every_way(
            Kind::request,
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n" + fold + "\r\n");
        EXPECT_EQ(final_line(req), "ERROR 400\n") << fold;
        EXPECT_EQ(req.find("trailer"), std::string::npos) << fold;
        const std::string resp = parse_every_way(
            Kind::response, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n" + fold + "\r\n");
        EXPECT_EQ(final_line(resp), "ERROR 400\n") << fold;
        EXPECT_EQ(resp.find("trailer"), std::string::npos) << fold;
    }
}

TEST(MessageParser, LimitRequestTarget) {
    ParserLimits l;
    l.max_line = 100;
    EXPECT_EQ(final_line(parse_whole(Kind::request, request_with_target(100), {l})), "END\n");
    EXPECT_EQ(parse_whole(Kind::request, request_with_target(101), {l}), "ERROR 414\n");
    // Defaults: 8 KiB. Also when the target arrives in small pieces.
    EXPECT_EQ(final_line(parse_whole(Kind::request, request_with_target(8192))), "END\n");
    EXPECT_EQ(parse_whole(Kind::request, request_with_target(8193)), "ERROR 414\n");
    const std::string too_long = request_with_target(8193);
    std::vector<std::string_view> pieces;
    for (std::size_t k = 0; k < too_long.size(); k += 7) {
        pieces.push_back(std::string_view(too_long).substr(k, 7));
    }
    EXPECT_EQ(parse(Kind::request, pieces), "ERROR 414\n");
}

// Host: a (5 bytes of name + value) plus one X-F header of n bytes in all.
std::string request_with_header_bytes(std::size_t total) {
    return "GET / HTTP/1.1\r\nHost: a\r\nX-F: " + std::string(total - 5 - 3, 'v') + "\r\n\r\n";
}

TEST(MessageParser, LimitHeaderBytes) {
    ParserLimits l;
    l.max_header_bytes = 200;
    EXPECT_EQ(final_line(parse_whole(Kind::request, request_with_header_bytes(200), {l})), "END\n");
    EXPECT_EQ(parse_whole(Kind::request, request_with_header_bytes(201), {l}), "ERROR 431\n");
    EXPECT_EQ(final_line(parse_whole(Kind::request, request_with_header_bytes(16 * 1024))), "END\n");
    EXPECT_EQ(parse_whole(Kind::request, request_with_header_bytes(16 * 1024 + 1)), "ERROR 431\n");
    // Trailers count too.
    const std::string chunked =
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: " + std::string(200, 't') +
        "\r\n\r\n";
    EXPECT_EQ(final_line(parse_whole(Kind::request, chunked, {l})), "ERROR 431\n");
}

std::string request_with_headers(std::size_t count) {
    std::string r = "GET / HTTP/1.1\r\nHost: a\r\n";
    for (std::size_t i = 1; i < count; ++i) {
        r += "X-" + std::to_string(i) + ": v\r\n";
    }
    return r + "\r\n";
}

TEST(MessageParser, LimitHeaderCount) {
    ParserLimits l;
    l.max_headers = 10;
    EXPECT_EQ(final_line(parse_whole(Kind::request, request_with_headers(10), {l})), "END\n");
    EXPECT_EQ(parse_whole(Kind::request, request_with_headers(11), {l}), "ERROR 431\n");
    EXPECT_EQ(final_line(parse_whole(Kind::request, request_with_headers(100))), "END\n");
    EXPECT_EQ(parse_whole(Kind::request, request_with_headers(101)), "ERROR 431\n");
}

TEST(MessageParser, LimitBody) {
    ParserLimits l;
    l.max_body = 10;
    const auto with_length = [](std::size_t n) {
        return "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(n) + "\r\n\r\n" + std::string(n, 'b');
    };
    EXPECT_EQ(final_line(parse_whole(Kind::request, with_length(10), {l})), "END\n");
    // Rejected from the head alone, before any of the body.
    EXPECT_EQ(parse_whole(Kind::request, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", {l}),
              "ERROR 413\n");
    const auto chunked = [](std::size_t a, std::size_t b) {
        const auto hex = [](std::size_t n) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%zx", n);
            return std::string(buf);
        };
        return "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + hex(a) + "\r\n" +
               std::string(a, 'x') + "\r\n" + hex(b) + "\r\n" + std::string(b, 'y') + "\r\n0\r\n\r\n";
    };
    EXPECT_EQ(final_line(parse_whole(Kind::request, chunked(6, 4), {l})), "END\n");
    EXPECT_EQ(final_line(parse_whole(Kind::request, chunked(6, 5), {l})), "ERROR 413\n");
    EXPECT_EQ(final_line(parse_every_way(Kind::request, chunked(6, 5), {l})), "ERROR 413\n");
    // Defaults: 1 MiB.
    EXPECT_EQ(final_line(parse_whole(Kind::request, with_length(1024 * 1024))), "END\n");
    EXPECT_EQ(parse_whole(Kind::request, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048577\r\n\r\n"),
              "ERROR 413\n");
}

// The first problem in the stream decides the status, however it is cut.
TEST(MessageParser, FirstProblemWins) {
    const std::string bare_lf_then_big = "GET / HTTP/1.1\nHost: a\r\nX: " + std::string(17 * 1024, 'v') + "\r\n\r\n";
    EXPECT_EQ(parse_whole(Kind::request, bare_lf_then_big), "ERROR 400\n");
    EXPECT_EQ(parse(Kind::request,
                    {std::string_view(bare_lf_then_big).substr(0, 20), std::string_view(bare_lf_then_big).substr(20)}),
              "ERROR 400\n");
    const std::string big_then_bare_lf = "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(17 * 1024, 'v') + "\n\r\n";
    EXPECT_EQ(parse_whole(Kind::request, big_then_bare_lf), "ERROR 431\n");
}

// Bytes llhttp skips without telling us (whitespace before a value) are bounded too.
TEST(MessageParser, HeadBackstop) {
    const std::string r = "GET / HTTP/1.1\r\nHost: a\r\nX-A:" + std::string(64 * 1024, ' ') + "v\r\n\r\n";
    EXPECT_EQ(parse_whole(Kind::request, r), "ERROR 431\n");
}

// ---- responses ---------------------------------------------------------------

TEST(MessageParser, ResponseWithContentLength) {
    EXPECT_EQ(parse_every_way(Kind::response, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello"),
              "HEAD   200 OK HTTP/1.1 keep-alive length=5\n  Content-Length: 5\n  Server: x\nBODY hello\nEND\n");
}

TEST(MessageParser, ResponseChunked) {
    EXPECT_EQ(parse_every_way(Kind::response,
                              "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                              "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
              "HEAD   404 Not Found HTTP/1.1 keep-alive chunked\n  Transfer-Encoding: chunked\nBODY abc\nEND\n"
              "HEAD   200 OK HTTP/1.1 keep-alive length=0\n  Content-Length: 0\nBODY \nEND\n");
}

TEST(MessageParser, ResponseUntilEof) {
    EXPECT_EQ(parse_every_way(Kind::response, "HTTP/1.1 200 OK\r\nServer: x\r\n\r\nall of this", {{}, true}),
              "HEAD   200 OK HTTP/1.1 close\n  Server: x\nBODY all of this\nEND\nEOF\n");
    EXPECT_EQ(parse_every_way(Kind::response, "HTTP/1.0 200 OK\r\n\r\nold", {{}, true}),
              "HEAD   200 OK HTTP/1.0 close\nBODY old\nEND\nEOF\n");
    // Without the EOF it is not over.
    EXPECT_EQ(parse_whole(Kind::response, "HTTP/1.1 200 OK\r\n\r\nmore"), "HEAD   200 OK HTTP/1.1 close\nIN MESSAGE\n");
}

TEST(MessageParser, ResponseToHead) {
    Options o;
    o.response_to_head = true;
    EXPECT_EQ(parse_every_way(Kind::response,
                              "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
                              "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                              o),
              "HEAD   200 OK HTTP/1.1 keep-alive length=1000\n  Content-Length: 1000\nBODY \nEND\n"
              "HEAD   200 OK HTTP/1.1 keep-alive length=2\n  Content-Length: 2\nBODY ok\nEND\n");
    // An interim 100 does not use up "the response to HEAD".
    EXPECT_EQ(
        parse_every_way(Kind::response, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", o),
        "HEAD   100 Continue HTTP/1.1 keep-alive\nBODY \nEND\n"
        "HEAD   200 OK HTTP/1.1 keep-alive length=3\n  Content-Length: 3\nBODY \nEND\n");
}

TEST(MessageParser, ResponsesWithoutBody) {
    EXPECT_EQ(parse_every_way(Kind::response,
                              "HTTP/1.1 204 No Content\r\n\r\n"
                              "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"
                              "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"
                              "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"
                              "HTTP/1.1 100 Continue\r\n\r\n"
                              "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n!"),
              "HEAD   204 No Content HTTP/1.1 keep-alive\nBODY \nEND\n"
              "HEAD   304 Not Modified HTTP/1.1 keep-alive\n  ETag: \"x\"\nBODY \nEND\n"
              "HEAD   304 Not Modified HTTP/1.1 keep-alive length=5\n  Content-Length: 5\nBODY \nEND\n"
              "HEAD   204 No Content HTTP/1.1 keep-alive length=5\n  Content-Length: 5\nBODY \nEND\n"
              "HEAD   100 Continue HTTP/1.1 keep-alive\nBODY \nEND\n"
              "HEAD   200 OK HTTP/1.1 keep-alive length=1\n  Content-Length: 1\nBODY !\nEND\n");
}

TEST(MessageParser, BadResponses) {
    EXPECT_EQ(parse_whole(Kind::response, "HTTP/1.1 20 OK\r\n\r\n"), "ERROR 400\n");
    EXPECT_EQ(parse_whole(Kind::response, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
              "ERROR 400\n");
    EXPECT_EQ(parse_whole(Kind::response, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab", {{}, true}),
              "HEAD   200 OK HTTP/1.1 keep-alive length=3\n  Content-Length: 3\nERROR 400\n");
    ParserLimits l;
    l.max_body = 3;
    EXPECT_EQ(parse_whole(Kind::response, "HTTP/1.1 200 OK\r\n\r\nabcd", {l}),
              "HEAD   200 OK HTTP/1.1 close\nERROR 413\n");
    EXPECT_EQ(parse_whole(Kind::response, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd", {l}), "ERROR 413\n");
    // Lengths of bodies that are not sent do not count.
    EXPECT_EQ(parse_whole(Kind::response, "HTTP/1.1 304 Not Modified\r\nContent-Length: 4\r\n\r\n", {l}),
              "HEAD   304 Not Modified HTTP/1.1 keep-alive length=4\n  Content-Length: 4\nBODY \nEND\n");
    Options head_of_big{l, false, true};
    EXPECT_EQ(parse_whole(Kind::response, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n", head_of_big),
              "HEAD   200 OK HTTP/1.1 keep-alive length=4\n  Content-Length: 4\nBODY \nEND\n");
}

}  // namespace

namespace {

TEST(MessageParser, ResponseSwitchingProtocols) {
    EXPECT_EQ(
        parse_every_way(
            Kind::response,
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x7f"),
        "HEAD   101 Switching Protocols HTTP/1.1 keep-alive upgrade\n  Connection: Upgrade\n  Upgrade: websocket\n"
        "BODY \nEND\nUPGRADED rest=\x81\x7f\n");
}

}  // namespace

namespace {

TEST(MessageParser, InHeadAndInMessage) {
    Recorder rec;
    MessageParser p(Kind::request, rec);
    EXPECT_FALSE(p.in_message());
    EXPECT_FALSE(p.in_head());
    EXPECT_EQ(p.feed("POST / HTTP/1.1\r\nHost: a\r\n"), std::string_view("POST / HTTP/1.1\r\nHost: a\r\n").size());
    EXPECT_TRUE(p.in_message());
    EXPECT_TRUE(p.in_head());
    EXPECT_EQ(p.feed("Content-Length: 2\r\n\r\na"), std::string_view("Content-Length: 2\r\n\r\na").size());
    EXPECT_TRUE(p.in_message());
    EXPECT_FALSE(p.in_head());
    EXPECT_EQ(p.feed("b"), std::string_view("b").size());
    EXPECT_FALSE(p.in_message());
    EXPECT_FALSE(p.in_head());
}

TEST(MessageParser, ResetForAnotherConnection) {
    Recorder rec;
    MessageParser p(Kind::request, rec);
    EXPECT_THROW(p.feed("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), ParseError);
    p.reset();
    EXPECT_EQ(p.feed("GET /x HTTP/1.1\r\nHost: a\r\n\r\n"),
              std::string_view("GET /x HTTP/1.1\r\nHost: a\r\n\r\n").size());
    EXPECT_EQ(rec.log, "HEAD GET /x 0  HTTP/1.1 keep-alive\n  Host: a\nBODY \nEND\n");
    // Half a message, then reset: the next connection starts clean.
    EXPECT_EQ(p.feed("GET /half HTTP/1.1\r\nHo"), std::string_view("GET /half HTTP/1.1\r\nHo").size());
    p.reset();
    EXPECT_FALSE(p.in_message());
    rec.log.clear();
    EXPECT_EQ(p.feed("GET /y HTTP/1.1\r\nHost: b\r\n\r\n"),
              std::string_view("GET /y HTTP/1.1\r\nHost: b\r\n\r\n").size());
    EXPECT_EQ(rec.log, "HEAD GET /y 0  HTTP/1.1 keep-alive\n  Host: b\nBODY \nEND\n");
}

}  // namespace

namespace {

// Mutated requests: however the bytes are cut, the outcome is the same (and
// nothing crashes: the asan preset runs this too).
TEST(MessageParser, MutationsGiveTheSameResultHoweverCut) {
    const std::string base =
        "POST /a?b=c HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nX-A: 1, 2\r\n\r\nabc"
        "PUT /t HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3;e=v\r\nxyz\r\n0\r\nT: 1\r\n\r\n"
        "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    const std::string alphabet = std::string(" \t\r\n:;,0aA-/\x7f\xff", 14) + std::string(1, '\0');
    std::mt19937 rng(12345);
    int errors = 0;
    for (int round = 0; round < 400; ++round) {
        std::string m = base;
        const int edits = 1 + static_cast<int>(rng() % 3);
        for (int e = 0; e < edits; ++e) {
            const std::size_t at = rng() % m.size();
            const char c = alphabet[rng() % alphabet.size()];
            switch (rng() % 3) {
                case 0:
                    m[at] = c;
                    break;
                case 1:
                    m.insert(at, 1, c);
                    break;
                default:
                    m.erase(at, 1);
                    break;
            }
        }
        SCOPED_TRACE(::testing::PrintToString(m));
        const std::string whole = parse_whole(Kind::request, m, {{}, true});
        errors += whole.find("ERROR") != std::string::npos ? 1 : 0;
        for (int cut = 0; cut < 4; ++cut) {
            const std::size_t k = rng() % (m.size() + 1);
            const std::string_view v(m);
            ASSERT_EQ(parse(Kind::request, {v.substr(0, k), v.substr(k)}, {{}, true}), whole) << "cut at " << k;
        }
        std::vector<std::string_view> bytewise;
        for (std::size_t k = 0; k < m.size(); ++k) {
            bytewise.push_back(std::string_view(m).substr(k, 1));
        }
        ASSERT_EQ(parse(Kind::request, bytewise, {{}, true}), whole) << "a byte at a time";
    }
    // The mutations do hit the error paths, and not only them.
    EXPECT_GT(errors, 50);
    EXPECT_LT(errors, 400);
}

}  // namespace

}  // namespace http_message_parser_test
