// tests/http/browser_test.cpp — end to end with a real browser (issue 12):
// Debian's headless Chromium loads a page, its stylesheet, script and image
// from tulip's static files, the script fetches JSON from a tulip handler,
// and the test reads what the page became (--dump-dom) and what the server
// was asked for.
//
// Chromium runs in its own session (process group) so that it and every
// helper process it forks are killed together; every wait is bounded. The
// test is skipped when chromium is not installed (scripts/deps.sh installs it).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <exception>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <tulip/http/json.hpp>
#include <tulip/http/server.hpp>
#include <tulip/process/subprocess.hpp>
#include <tulip/tulip.hpp>

#include "support/loop_test.hpp"

namespace http_browser_test {

using namespace tulip;

namespace {

const char* const kChromium = "/usr/bin/chromium";
constexpr double kChromiumBound = 60.0;  // one browser run, start to exit
constexpr double kTestBound = 90.0;      // the whole scenario
// Non-ASCII on purpose: the JSON, fetch() and the DOM dump all carry UTF-8.
const char* const kGreeting = "Hello from tulip \xe2\x80\x94 caf\xc3\xa9";

const char* const kIndexHtml = R"(<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>tulip browser test</title>
<link rel="stylesheet" href="style.css">
</head>
<body>
<p id="out" class="styled">waiting</p>
<img id="logo" src="logo.svg" alt="logo">
<script src="app.js"></script>
</body>
</html>
)";

// The colours only this stylesheet gives #out: the script reports the
// computed value, so the test knows the CSS was served and applied.
// The background (a full-width band 30 px high) shows in a screenshot.
const char* const kStyleCss = R"(#out.styled { color: rgb(12, 34, 56); background: rgb(200, 220, 240); height: 30px; }
)";

const char* const kLogoSvg = R"(<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20" viewBox="0 0 40 20">
<rect width="40" height="20" fill="#c33"/>
</svg>
)";

// Records the computed colour, the image's decoded size and the greeting
// fetched from the server; data-done last, or data-error on a failure.
const char* const kAppJs = R"(async function main() {
  const out = document.getElementById('out');
  document.body.dataset.css = getComputedStyle(out).color;
  const logo = document.getElementById('logo');
  if (!logo.complete) {
    await new Promise((resolve) => {
      logo.addEventListener('load', resolve);
      logo.addEventListener('error', resolve);
    });
  }
  document.body.dataset.logo = logo.naturalWidth + 'x' + logo.naturalHeight;
  const response = await fetch('/api/greeting');
  document.body.dataset.status = String(response.status);
  const data = await response.json();
  out.textContent = data.text;
  document.body.dataset.done = 'yes';
}
main().catch((e) => { document.body.dataset.error = String(e); });
)";

// Counts the pixels of one colour in an 8-bit RGB or RGBA PNG (as Chromium
// writes them): python3 is already a test dependency, zlib comes with it.
// Arguments: the file, then colours as "r,g,b"; prints "width height" and
// each colour's count.
const char* const kCountPixelsPy = R"(import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
wants = [tuple(int(v) for v in rgb.split(',')) for rgb in sys.argv[2:]]
pos, idat = 8, b''
while pos < len(data):
    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    pos += 12 + n
    if kind == b'IHDR':
        w, h, depth, ctype, _, _, interlace = struct.unpack('>IIBBBBB', body)
    elif kind == b'IDAT':
        idat += body
assert depth == 8 and ctype in (2, 6) and interlace == 0, 'unexpected PNG format'
bpp = 3 if ctype == 2 else 4
raw, stride = zlib.decompress(idat), w * bpp
prev, at, counts = bytearray(stride), 0, [0] * len(wants)
for y in range(h):
    kind, line = raw[at], bytearray(raw[at + 1:at + 1 + stride])
    at += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = prev[x]
        c = prev[x - bpp] if x >= bpp else 0
        if kind == 1:
            line[x] = (line[x] + a) & 255
        elif kind == 2:
            line[x] = (line[x] + b) & 255
        elif kind == 3:
            line[x] = (line[x] + (a + b) // 2) & 255
        elif kind == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp):
        pixel = tuple(line[x:x + 3])
        if pixel in wants:
            counts[wants.index(pixel)] += 1
    prev = line
print(w, h, *counts)
)";

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

void write_file(const std::string& path, const std::string& data) {
    std::ofstream f(path, std::ios::binary);
    f << data;
}

// A child (chromium, or python3): it is a session leader, so its pid names
// the process group of it and all its helpers.
struct Child {
    std::optional<Process> proc;
    std::string out, err;
    bool timed_out = false;
    bool cleaned_up = false;  // run_child killed the group and reaped the child
    Child() = default;
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    // Last resort (the loop died under the test): nothing outlives us. Not
    // after run_child's own clean-up: the group id could be anyone's by now.
    ~Child() {
        if (!cleaned_up) kill_group();
    }
    void kill_group() const {
        if (proc) ::kill(-proc->pid(), SIGKILL);  // ESRCH when all are gone: fine
    }
};

// Runs program with args and waits (bounded) for it to exit with its output;
// then kills whatever is left of its group and reaps it.
Coro<void> run_child(Child* c, std::string program, std::vector<std::string> args) {
    SubprocessOptions o;
    o.std_in = DEVNULL;
    o.std_out = PIPE;
    o.std_err = PIPE;
    o.start_new_session = true;
    Process p = co_await create_subprocess_exec(std::move(program), std::move(args), o);
    c->proc = p;
    std::exception_ptr error;
    try {
        auto res = co_await wait_for(p.communicate(), kChromiumBound);
        c->out = res.first.value_or("");
        c->err = res.second.value_or("");
    } catch (const TimeoutError&) {
        c->timed_out = true;
    } catch (...) {
        error = std::current_exception();
    }
    // Helpers (zygotes, renderers) may outlive the main process briefly.
    c->kill_group();
    if (!p.returncode()) co_await wait_for(p.wait(), 5.0);
    c->cleaned_up = true;
    if (error) std::rethrow_exception(error);
}

class BrowserTest : public test::IoLoopTest {
protected:
    void SetUp() override {
        IoLoopTest::SetUp();
        if (::access(kChromium, X_OK) != 0)
            GTEST_SKIP() << kChromium << " is not installed (scripts/deps.sh installs Debian's chromium)";
        char tmpl[] = "/tmp/tulip-browser-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        root = tmpl;
        www = root + "/www";
        profile = root + "/profile";
        ASSERT_EQ(::mkdir(www.c_str(), 0755), 0);
        ASSERT_EQ(::mkdir(profile.c_str(), 0700), 0);
        write_file(www + "/index.html", kIndexHtml);
        write_file(www + "/style.css", kStyleCss);
        write_file(www + "/app.js", kAppJs);
        write_file(www + "/logo.svg", kLogoSvg);
    }
    void TearDown() override {
        if (!root.empty()) {
            std::string cmd = "rm -rf '" + root + "'";
            EXPECT_EQ(std::system(cmd.c_str()), 0);
        }
        IoLoopTest::TearDown();
    }

    // As run_io, with a bound that leaves room for a browser's start.
    template <class A>
    void run_bounded(A&& a) {
        try {
            run(wait_for(std::forward<A>(a), kTestBound));
        } catch (...) {
            cancel_all_tasks(*loop_);
            loop_->run_until_complete(tulip::shutdown_default_executor(*loop_));
            loop_->close();
            throw;
        }
    }

    // The site: the static files, the JSON greeting, and a middleware that
    // counts the requests per path (whatever route, or none, answers them).
    http::Application site() {
        http::Application app;
        app.middleware([this](http::Request& r, const http::Handler& next) -> Coro<http::Response> {
            ++requests[r.path()];
            co_return co_await next(r);
        });
        app.add_static("/static", www);
        app.get("/api/greeting", [](http::Request&) -> Coro<http::Response> {
            nlohmann::json body = {{"text", kGreeting}};
            co_return http::json_response(body);
        });
        return app;
    }

    std::vector<std::string> chromium_args(std::uint16_t port, std::vector<std::string> mode) const {
        // The flags that work as root in a container: no sandbox, no GPU, no
        // /dev/shm, and nothing that talks to the network on its own.
        std::vector<std::string> args{"--headless",
                                      "--no-sandbox",
                                      "--disable-gpu",
                                      "--disable-dev-shm-usage",
                                      "--no-first-run",
                                      "--disable-background-networking",
                                      "--disable-component-update",
                                      "--disable-sync",
                                      "--disable-quic",
                                      "--user-data-dir=" + profile,
                                      "--virtual-time-budget=5000"};
        args.insert(args.end(), mode.begin(), mode.end());
        args.push_back("http://127.0.0.1:" + std::to_string(port) + "/static/index.html");
        return args;
    }

    // Serves the site while chromium runs with mode.
    Coro<void> browse(Child* browser, std::vector<std::string> mode) {
        http::Server server = co_await http::start_server(site(), "127.0.0.1", 0);
        std::uint16_t port = server.addresses().at(0).port();
        std::vector<std::string> args = chromium_args(port, std::move(mode));
        std::exception_ptr error;
        try {
            co_await run_child(browser, kChromium, std::move(args));
        } catch (...) {
            error = std::current_exception();
        }
        co_await server.shutdown(2.0);
        if (error) std::rethrow_exception(error);
    }

    std::string root, www, profile;
    std::map<std::string, int> requests;
};

TEST_F(BrowserTest, ChromiumRendersThePageItsAssetsAndTheFetchedJson) {
    Child browser;
    run_bounded(browse(&browser, {"--dump-dom"}));

    ASSERT_FALSE(browser.timed_out) << "chromium did not finish in " << kChromiumBound << " s\n" << browser.err;
    ASSERT_EQ(browser.proc->returncode(), 0) << browser.err;
    const std::string& dom = browser.out;
    SCOPED_TRACE("DOM:\n" + dom + "\nchromium stderr:\n" + browser.err);
    EXPECT_FALSE(contains(dom, "data-error")) << "app.js failed";
    EXPECT_TRUE(contains(dom, "data-done=\"yes\"")) << "app.js did not finish";
    // The script ran and its fetch went through tulip.
    EXPECT_TRUE(contains(dom, std::string("<p id=\"out\" class=\"styled\">") + kGreeting + "</p>"));
    EXPECT_TRUE(contains(dom, "data-status=\"200\""));
    // The stylesheet applied; the SVG was served as an image and decoded.
    EXPECT_TRUE(contains(dom, "data-css=\"rgb(12, 34, 56)\""));
    EXPECT_TRUE(contains(dom, "data-logo=\"40x20\""));

    // Each resource asked for once (a favicon request may come too).
    std::map<std::string, int> seen = requests;
    seen.erase("/favicon.ico");
    std::map<std::string, int> expected{{"/static/index.html", 1},
                                        {"/static/style.css", 1},
                                        {"/static/app.js", 1},
                                        {"/static/logo.svg", 1},
                                        {"/api/greeting", 1}};
    EXPECT_EQ(seen, expected);
}

TEST_F(BrowserTest, ChromiumScreenshotShowsTheStyledPageAndTheImage) {
    Child browser;
    const std::string png = root + "/shot.png";
    run_bounded(browse(&browser, {"--window-size=800,600", "--screenshot=" + png}));
    ASSERT_FALSE(browser.timed_out) << "chromium did not finish in " << kChromiumBound << " s\n" << browser.err;
    ASSERT_EQ(browser.proc->returncode(), 0) << browser.err;
    struct stat st {};
    ASSERT_EQ(::stat(png.c_str(), &st), 0) << "no screenshot\n" << browser.err;
    EXPECT_GT(st.st_size, 1000);
    EXPECT_EQ(requests["/static/style.css"], 1);
    EXPECT_EQ(requests["/static/logo.svg"], 1);

    // The pixels of the stylesheet's background for #out and of the SVG's
    // fill (its 40x20 rectangle, drawn at 1:1).
    const std::string script = root + "/count_pixels.py";
    write_file(script, kCountPixelsPy);
    Child counter;
    run_bounded(run_child(&counter, "/usr/bin/python3", {script, png, "200,220,240", "204,51,51"}));
    ASSERT_FALSE(counter.timed_out);
    ASSERT_EQ(counter.proc->returncode(), 0) << counter.err;
    std::istringstream in(counter.out);
    long width = 0, height = 0, background = 0, logo = 0;
    in >> width >> height >> background >> logo;
    ASSERT_FALSE(in.fail()) << counter.out;
    EXPECT_EQ(width, 800);
    EXPECT_EQ(height, 600);
    EXPECT_GT(background, 15000) << "the #out background is missing: " << counter.out;
    EXPECT_EQ(logo, 40 * 20) << "the logo is missing or not 40x20: " << counter.out;
}

}  // namespace

}  // namespace http_browser_test
