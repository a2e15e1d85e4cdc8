// Malformed and ambiguous HTTP/1.1 requests (request smuggling, RFC 9112) with
// the exact status a server must answer each with. Shared by the parser test
// (tests/http/message_parser_test.cpp) and the server-level smuggling test.
#pragma once

#include <string_view>

namespace tulip::http::test {

using namespace std::string_view_literals;

struct BadRequest {
    const char* name;
    std::string_view bytes;
    int status;
    // The head was valid and reported (a server's handler may have started):
    // the error is in the body framing (chunks).
    bool after_head = false;
};

// With the default ParserLimits.
inline constexpr BadRequest bad_requests[] = {
    // Conflicting or invalid framing.
    {"cl_and_te", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"sv,
     400},
    {"te_and_cl", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"sv,
     400},
    {"cl_duplicate_equal", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"sv, 400},
    {"cl_duplicate_different", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"sv,
     400},
    {"cl_list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello"sv, 400},
    {"cl_negative", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"sv, 400},
    {"cl_plus", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello"sv, 400},
    {"cl_hex", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello"sv, 400},
    {"cl_inner_space", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\nhello"sv, 400},
    {"cl_overflow", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n"sv, 400},
    {"cl_empty", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n"sv, 400},
    {"cl_letter", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5a\r\n\r\nhello"sv, 400},
    {"cl_too_big", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048577\r\n\r\n"sv, 413},
    {"te_chunked_then_gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"sv, 400},
    {"te_gzip_only", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"sv, 400},
    {"te_identity", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n"sv, 400},
    {"te_chunked_twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"sv, 400},
    {"te_lines_chunked_then_gzip",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n"sv, 400},
    {"te_misspelt", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunkedx\r\n\r\n0\r\n\r\n"sv, 400},
    {"te_with_parameter", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n"sv, 400},
    {"te_space_before_colon", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n"sv, 400},
    {"te_gzip_chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"sv, 501},
    {"te_lines_gzip_then_chunked",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"sv, 501},
    {"te_in_http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n"sv, 400},
    // Chunks.
    {"chunk_size_not_hex", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"sv,
     400, true},
    {"chunk_size_negative",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n"sv, 400, true},
    {"chunk_size_overflow",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\nhello\r\n0\r\n\r\n"sv, 400,
     true},
    {"chunk_size_0x", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n"sv,
     400, true},
    {"chunk_size_empty", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\r\nhello\r\n0\r\n\r\n"sv,
     400, true},
    {"chunk_data_longer", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n"sv,
     400, true},
    {"chunk_bare_lf_after_size",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n"sv, 400, true},
    {"chunk_bare_lf_after_data",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n"sv, 400, true},
    {"chunk_ext_control_char",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\x01\r\nhello\r\n0\r\n\r\n"sv, 400, true},
    {"chunk_too_big", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n100001\r\n"sv, 413, true},
    // Line endings and folding.
    {"obs_fold", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n  2\r\n\r\n"sv, 400},
    {"obs_fold_tab", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n\t2\r\n\r\n"sv, 400},
    {"obs_fold_after_empty_value", "GET / HTTP/1.1\r\nHost: a\r\nX-A:\r\n 2\r\n\r\n"sv, 400},
    {"obs_fold_of_content_length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n 5\r\n\r\nhello"sv, 400},
    {"first_header_folded", "GET / HTTP/1.1\r\n Host: a\r\n\r\n"sv, 400},
    {"bare_lf_request_line", "GET / HTTP/1.1\nHost: a\r\n\r\n"sv, 400},
    {"bare_lf_header", "GET / HTTP/1.1\r\nHost: a\nX-A: 1\r\n\r\n"sv, 400},
    {"bare_lf_end_of_head", "GET / HTTP/1.1\r\nHost: a\r\n\n"sv, 400},
    {"bare_cr_in_header", "GET / HTTP/1.1\r\nHost: a\rX-A: 1\r\n\r\n"sv, 400},
    // Header names and values.
    {"space_before_colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n"sv, 400},
    {"name_with_paren", "GET / HTTP/1.1\r\nHost: a\r\nX(A): 1\r\n\r\n"sv, 400},
    {"name_with_at", "GET / HTTP/1.1\r\nHost: a\r\nX@A: 1\r\n\r\n"sv, 400},
    {"name_empty", "GET / HTTP/1.1\r\nHost: a\r\n: 1\r\n\r\n"sv, 400},
    {"name_with_nul", "GET / HTTP/1.1\r\nHost: a\r\nX\0A: 1\r\n\r\n"sv, 400},
    {"name_without_colon", "GET / HTTP/1.1\r\nHost: a\r\nX-A 1\r\n\r\n"sv, 400},
    {"value_with_nul", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\0 2\r\n\r\n"sv, 400},
    {"value_with_control", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\x01 2\r\n\r\n"sv, 400},
    {"value_with_del", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\x7f 2\r\n\r\n"sv, 400},
    {"host_missing", "GET / HTTP/1.1\r\nX-A: 1\r\n\r\n"sv, 400},
    {"host_duplicate", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"sv, 400},
    // Request line.
    {"method_unknown", "FOO / HTTP/1.1\r\nHost: a\r\n\r\n"sv, 400},
    {"method_lowercase", "get / HTTP/1.1\r\nHost: a\r\n\r\n"sv, 400},
    {"method_bad_char", "G@T / HTTP/1.1\r\nHost: a\r\n\r\n"sv, 400},
    {"method_missing", " / HTTP/1.1\r\nHost: a\r\n\r\n"sv, 400},
    {"two_spaces_after_method", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n"sv, 400},
    {"target_with_space", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"sv, 400},
    {"target_with_tab", "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n"sv, 400},
    {"target_with_control", "GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n"sv, 400},
    {"target_with_utf8", "GET /\xc3\xa4 HTTP/1.1\r\nHost: a\r\n\r\n"sv, 400},
    {"target_with_del", "GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n"sv, 400},
    {"version_missing", "GET /\r\nHost: a\r\n\r\n"sv, 400},
    {"version_lowercase", "GET / http/1.1\r\nHost: a\r\n\r\n"sv, 400},
    {"version_letter", "GET / HTTP/1.x\r\nHost: a\r\n\r\n"sv, 400},
    {"version_space_after", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n"sv, 400},
    {"version_2", "GET / HTTP/2.0\r\nHost: a\r\n\r\n"sv, 505},
    {"tls_client_hello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"sv, 400},
};

}  // namespace tulip::http::test
