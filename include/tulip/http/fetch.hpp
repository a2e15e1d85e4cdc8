// tulip/http/fetch.hpp — http::AsyncHTTPClient, Tornado's AsyncHTTPClient
// over a ClientSession: fetch(url) with a callback, as a Future (a Task),
// and with co_await — the three styles the asyncio talks show side by side.
//
//     http::AsyncHTTPClient client;
//     client.fetch(url, [](http::FetchResponse r, std::exception_ptr e) {...});  // callback
//     Task<http::FetchResponse> f = client.fetch(url);                          // Future
//     f.add_done_callback(...);
//     http::FetchResponse r = co_await client.fetch(url);                        // coroutine
//
// A FetchResponse holds the whole body, as Tornado's HTTPResponse does. As
// Tornado's raise_error=True, a final status outside 200-299 raises
// ClientResponseError (Tornado's HTTPClientError). Calls run on the loop
// thread, inside a coroutine or a callback of the running loop.
#pragma once

#include <exception>
#include <functional>
#include <string>

#include <tulip/http/client_session.hpp>
#include <tulip/http/headers.hpp>
#include <tulip/http/url.hpp>
#include <tulip/task/task.hpp>

namespace tulip::http {

// Tornado's HTTPResponse.
struct FetchResponse {
    int code = 0;
    std::string reason;
    Headers headers;
    std::string body;
    URL effective_url;          // after redirects
    double request_time = 0.0;  // seconds, from the request to the end of the body
};

class AsyncHTTPClient {
public:
    AsyncHTTPClient();
    explicit AsyncHTTPClient(ClientSessionOptions options);

    // The request as a Task, which is a Future: co_await it, or add a done
    // callback, or gather several.
    Task<FetchResponse> fetch(std::string url);
    Task<FetchResponse> fetch(std::string url, RequestOptions options);
    // Tornado's callback style: callback(response, nullptr) when it succeeds,
    // callback({}, error) when it fails; it runs on the loop.
    void fetch(std::string url, std::function<void(FetchResponse, std::exception_ptr)> callback);

    ClientSession& session() noexcept { return session_; }
    Coro<void> close() { return session_.close(); }

private:
    ClientSession session_;
};

}  // namespace tulip::http
