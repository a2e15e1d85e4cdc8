// src/http/fetch.cpp — see fetch.hpp.
#include <tulip/http/fetch.hpp>

#include <tulip/http/client_errors.hpp>
#include <tulip/loop/event_loop.hpp>

namespace tulip::http {

namespace {

// Takes the request already made (it holds the session's state), so the
// client may go away while the task runs.
Coro<FetchResponse> do_fetch(Coro<ClientResponse> request, double start) {
    ClientResponse r = co_await std::move(request);
    FetchResponse out;
    out.body = co_await r.read();
    out.code = r.status();
    out.reason = r.reason();
    out.headers = r.headers();
    out.effective_url = r.url();
    out.request_time = get_running_loop().time() - start;
    if (out.code < 200 || out.code >= 300)
        throw ClientResponseError(out.code, out.reason, out.effective_url.to_string(), out.headers);
    co_return out;
}

}  // namespace

AsyncHTTPClient::AsyncHTTPClient() = default;
AsyncHTTPClient::AsyncHTTPClient(ClientSessionOptions options) : session_(std::move(options)) {}

Task<FetchResponse> AsyncHTTPClient::fetch(std::string url) {
    RequestOptions o;
    return fetch(std::move(url), std::move(o));
}

Task<FetchResponse> AsyncHTTPClient::fetch(std::string url, RequestOptions options) {
    const double start = get_running_loop().time();
    return create_task(do_fetch(session_.get(std::move(url), std::move(options)), start));
}

void AsyncHTTPClient::fetch(std::string url, std::function<void(FetchResponse, std::exception_ptr)> callback) {
    Task<FetchResponse> t = fetch(std::move(url));
    t.add_done_callback([cb = std::move(callback)](Task<FetchResponse>& done) {
        if (done.cancelled()) {
            cb(FetchResponse{}, std::make_exception_ptr(CancelledError()));
        } else if (std::exception_ptr e = done.exception()) {
            cb(FetchResponse{}, e);
        } else {
            cb(done.result(), nullptr);
        }
    });
}

}  // namespace tulip::http
