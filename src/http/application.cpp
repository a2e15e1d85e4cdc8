// src/http/application.cpp — routing and middleware (see application.hpp).
#include <tulip/http/application.hpp>

#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <tulip/http/exceptions.hpp>

namespace tulip::http {

namespace {

// A route pattern cut into segments: "/users/{id}/posts" is
// {"users", {id}, "posts"}; a final "{rest:.*}" takes what is left.
struct Segment {
    std::string text;  // the literal, or the parameter's name
    bool param = false;
};

struct Pattern {
    std::vector<Segment> segments;
    bool tail = false;  // the last segment is a "{name:.*}"
    bool literal() const noexcept {
        if (tail) return false;
        for (auto& s : segments)
            if (s.param) return false;
        return true;
    }
};

bool valid_name(std::string_view n) {
    if (n.empty()) return false;
    for (char ch : n)
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_'))
            return false;
    return true;
}

// Splits "/a/b/" into {"a", "b", ""}: a trailing slash is a segment of its
// own, so "/a" and "/a/" are different routes (as aiohttp's).
std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> out;
    if (path.empty() || path[0] != '/') return out;
    std::size_t i = 1;
    for (;;) {
        std::size_t j = path.find('/', i);
        if (j == std::string_view::npos) {
            out.push_back(path.substr(i));
            return out;
        }
        out.push_back(path.substr(i, j - i));
        i = j + 1;
    }
}

Pattern parse_pattern(std::string_view path) {
    auto bad = [&](const char* why) { return std::invalid_argument("bad route '" + std::string(path) + "': " + why); };
    if (path.empty() || path[0] != '/') throw bad("a route starts with '/'");
    Pattern p;
    std::vector<std::string_view> names;
    auto parts = split_path(path);
    for (std::size_t k = 0; k < parts.size(); ++k) {
        std::string_view s = parts[k];
        if (s.find('{') == std::string_view::npos && s.find('}') == std::string_view::npos) {
            p.segments.push_back({std::string(s), false});
            continue;
        }
        if (s.size() < 3 || s.front() != '{' || s.back() != '}') throw bad("a parameter is a whole segment, as {name}");
        std::string_view inner = s.substr(1, s.size() - 2);
        std::string_view name = inner;
        bool tail = false;
        if (auto colon = inner.find(':'); colon != std::string_view::npos) {
            name = inner.substr(0, colon);
            if (inner.substr(colon + 1) != ".*")
                throw bad("the only parameter pattern is {name:.*} (the rest of the path)");
            if (k + 1 != parts.size()) throw bad("{name:.*} must be the last segment");
            tail = true;
        }
        if (!valid_name(name)) throw bad("a parameter name is letters, digits and '_'");
        for (auto n : names)
            if (n == name) throw bad("a parameter name is used twice");
        names.push_back(name);
        p.segments.push_back({std::string(name), true});
        p.tail = tail;
    }
    return p;
}

bool valid_method(std::string_view m) {
    if (m == "*") return true;
    if (m.empty()) return false;
    for (char ch : m)
        if (!((ch >= 'A' && ch <= 'Z') || ch == '-' || ch == '_')) return false;
    return true;
}

struct Route {
    std::string method;
    std::string path;  // as given, with the prefixes of enclosing applications
    Pattern pattern;
    Handler handler;
};

// Matches path segments against a pattern, filling params.
bool match(const Pattern& p, const std::vector<std::string_view>& parts,
           std::vector<std::pair<std::string, std::string>>& params, std::string_view path) {
    std::size_t n = p.segments.size();
    if (p.tail ? parts.size() + 1 < n : parts.size() != n) return false;
    params.clear();
    for (std::size_t i = 0; i < n; ++i) {
        const Segment& s = p.segments[i];
        if (p.tail && i + 1 == n) {
            // The rest of the path, from this segment on (may be empty).
            std::string rest;
            if (i < parts.size()) {
                const char* start = parts[i].data();
                rest.assign(start, static_cast<std::size_t>(path.data() + path.size() - start));
            }
            params.emplace_back(s.text, std::move(rest));
            return true;
        }
        if (s.param) {
            if (parts[i].empty()) return false;
            params.emplace_back(s.text, std::string(parts[i]));
        } else if (parts[i] != s.text) {
            return false;
        }
    }
    return true;
}

std::string join_pattern(std::string_view prefix, std::string_view path) {
    std::string s(prefix);
    s += path;
    return s;
}

}  // namespace

struct Application::Impl {
    std::vector<Route> routes;  // as added (own routes only)
    std::vector<Middleware> middleware;
    std::vector<std::pair<std::string, Application>> subapps;
    bool frozen = false;

    // Built by freeze(): every route of this application and its
    // sub-applications, each handler wrapped in its middleware.
    std::vector<Route> all;
    std::unordered_map<std::string, std::vector<std::size_t>> literal;  // path -> indexes into `all`
    std::vector<std::size_t> patterned;
    Handler not_found;

    void check_not_frozen() const {
        if (frozen) throw std::logic_error("the Application is frozen (its server started): routes cannot change");
    }

    // Collects this application's routes under `prefix`, wrapped in `outer`
    // (the enclosing applications' middleware, outermost first).
    void collect(const std::string& prefix, std::vector<Middleware> outer, std::vector<Route>& out) {
        for (auto& m : middleware) outer.push_back(m);
        for (auto& r : routes) {
            Route copy;
            copy.method = r.method;
            copy.path = join_pattern(prefix, r.path);
            copy.pattern = parse_pattern(copy.path);
            copy.handler = wrap(r.handler, outer);
            out.push_back(std::move(copy));
        }
        for (auto& [p, sub] : subapps) sub.impl_->collect(prefix + p, outer, out);
    }

    static Handler wrap(Handler h, const std::vector<Middleware>& mws) {
        for (auto it = mws.rbegin(); it != mws.rend(); ++it) {
            // The lambda owns `next`; the middleware gets a reference to it,
            // valid while the application (which owns the lambda) lives.
            h = [mw = *it, next = std::move(h)](Request& r) { return mw(r, next); };
        }
        return h;
    }
};

Application::Application() : impl_(std::make_unique<Impl>()) {}
Application::Application(Application&&) noexcept = default;
Application& Application::operator=(Application&&) noexcept = default;
Application::~Application() = default;

Application& Application::route(std::string method, std::string path, Handler handler) {
    impl_->check_not_frozen();
    if (!valid_method(method)) throw std::invalid_argument("bad HTTP method '" + method + "' for a route");
    if (!handler) throw std::invalid_argument("route " + method + " " + path + ": no handler");
    Route r;
    r.pattern = parse_pattern(path);  // checks it now, where the caller can see it
    r.method = std::move(method);
    r.path = std::move(path);
    r.handler = std::move(handler);
    impl_->routes.push_back(std::move(r));
    return *this;
}

Application& Application::middleware(Middleware m) {
    impl_->check_not_frozen();
    if (!m) throw std::invalid_argument("an empty middleware");
    impl_->middleware.push_back(std::move(m));
    return *this;
}

Application& Application::add_subapp(std::string prefix, Application sub) {
    impl_->check_not_frozen();
    if (prefix.size() < 2 || prefix[0] != '/' || prefix.back() == '/')
        throw std::invalid_argument("a sub-application's prefix starts with '/' and does not end with one: '" + prefix +
                                    "'");
    (void)parse_pattern(prefix);
    if (sub.impl_->frozen) throw std::invalid_argument("the sub-application is frozen already");
    impl_->subapps.emplace_back(std::move(prefix), std::move(sub));
    return *this;
}

bool Application::frozen() const noexcept { return impl_->frozen; }

void Application::freeze() {
    Impl& im = *impl_;
    if (im.frozen) return;
    im.all.clear();
    im.collect("", {}, im.all);
    for (std::size_t i = 0; i < im.all.size(); ++i) {
        if (im.all[i].pattern.literal())
            im.literal[im.all[i].path].push_back(i);
        else
            im.patterned.push_back(i);
    }
    // No route: 404 or 405, through the application's own middleware (as
    // aiohttp, where the router's HTTPNotFound passes them too).
    im.not_found = Impl::wrap(
        [](Request& r) -> Coro<Response> {
            if (!r.allow_.empty()) {
                HTTPException e(405);
                e.headers().add("Allow", r.allow_);
                throw e;
            }
            throw HTTPException(404);
        },
        im.middleware);
    im.frozen = true;
    for (auto& [p, sub] : im.subapps) sub.impl_->frozen = true;
}

Coro<Response> Application::handle(Request& request) {
    Impl& im = *impl_;
    if (!im.frozen) freeze();
    const std::string& method = request.method();
    const std::string& path = request.path();
    const Route* found = nullptr;
    const Route* get_fallback = nullptr;
    std::string allow;
    auto consider = [&](const Route& r) {
        if (r.method == method || r.method == "*") {
            found = &r;
            return true;
        }
        if (method == "HEAD" && r.method == "GET" && !get_fallback) get_fallback = &r;
        if (allow.find(r.method) == std::string::npos) {
            if (!allow.empty()) allow += ", ";
            allow += r.method;
        }
        return false;
    };
    if (auto it = im.literal.find(path); it != im.literal.end()) {
        request.match_.clear();
        for (std::size_t i : it->second)
            if (consider(im.all[i])) break;
    }
    if (!found && !im.patterned.empty()) {
        auto parts = split_path(path);
        std::vector<std::pair<std::string, std::string>> params;
        for (std::size_t i : im.patterned) {
            const Route& r = im.all[i];
            if (!match(r.pattern, parts, params, path)) continue;
            if (consider(r)) {
                request.match_ = std::move(params);
                break;
            }
            if (get_fallback == &r) request.match_ = params;
        }
    }
    if (!found && get_fallback) found = get_fallback;
    if (found) return found->handler(request);
    request.match_.clear();
    request.allow_ = std::move(allow);  // non-empty: 405 with this Allow
    return im.not_found(request);
}

}  // namespace tulip::http
