// Fuzz target: the HTTP/1.x response parser (what the client reads), with
// default or small limits, after a GET or a HEAD. See http_common.hpp.
#include "http_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace fuzz_http;
    Plan pl = plan(MessageParser::Kind::response, data, size);
    (void)check_split_invariance("http_response", pl);
    return 0;
}
