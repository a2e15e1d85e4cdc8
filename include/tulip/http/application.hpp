// tulip/http/application.hpp — routes and middleware (aiohttp's
// web.Application with its UrlDispatcher).
//
// Handlers are coroutines taking the Request and returning a Response.
// Routes match the decoded path segment by segment: a literal segment, or
// "{name}" for one segment (the value in request.match_info("name")), or a
// final "{name:.*}" for the rest of the path, slashes included. A path that
// matches no route answers 404; one whose routes take other methods answers
// 405 with an Allow header. HEAD uses the GET route when it has no route of
// its own (the body is not sent).
//
// Middleware wrap every handler of their application and of its
// sub-applications (aiohttp's new-style middleware): the first added is the
// outermost. add_subapp mounts an application under a prefix; its own
// middleware wrap only its routes, inside the parent's.
//
// The server freezes the application when it starts: adding routes after
// that raises std::logic_error.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <tulip/http/request.hpp>
#include <tulip/http/response.hpp>
#include <tulip/task/coro.hpp>

namespace tulip::http {

using Handler = std::function<Coro<Response>(Request&)>;
// next is valid for as long as the application is.
using Middleware = std::function<Coro<Response>(Request&, const Handler& next)>;

class Application {
public:
    Application();
    Application(Application&&) noexcept;
    Application& operator=(Application&&) noexcept;
    ~Application();

    // method: "GET", "POST", ... or "*" for any. path: starts with '/'.
    // A bad pattern raises std::invalid_argument naming it.
    Application& route(std::string method, std::string path, Handler handler);
    Application& get(std::string path, Handler h) { return route("GET", std::move(path), std::move(h)); }
    Application& post(std::string path, Handler h) { return route("POST", std::move(path), std::move(h)); }
    Application& put(std::string path, Handler h) { return route("PUT", std::move(path), std::move(h)); }
    Application& patch(std::string path, Handler h) { return route("PATCH", std::move(path), std::move(h)); }
    Application& delete_(std::string path, Handler h) { return route("DELETE", std::move(path), std::move(h)); }
    Application& middleware(Middleware m);
    // Serves the files under `directory` at prefix/<name> (aiohttp's
    // add_static) as Response::file: GET and HEAD, no directory listings
    // (403), nothing outside the directory, symlinks included (404).
    Application& add_static(std::string prefix, std::string directory);
    // prefix: starts with '/', no trailing '/' ("/api").
    Application& add_subapp(std::string prefix, Application sub);

    // Routes the request and runs its handler through the middleware (what
    // the server calls for each request). Freezes the application.
    Coro<Response> handle(Request& request);
    void freeze();
    bool frozen() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace tulip::http
