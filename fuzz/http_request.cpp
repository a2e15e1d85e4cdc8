// Fuzz target: the HTTP/1.x request parser (src/http/message_parser, on
// llhttp), with default or small limits. See http_common.hpp.
#include "http_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace fuzz_http;
    Plan pl = plan(MessageParser::Kind::request, data, size);
    (void)check_split_invariance("http_request", pl);
    return 0;
}
