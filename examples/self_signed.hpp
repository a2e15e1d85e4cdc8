// examples/self_signed.hpp — what the TLS examples share: a temporary
// directory holding a self-signed certificate for localhost and 127.0.0.1,
// made by Debian's `openssl req` run through create_subprocess_exec.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include <tulip/tulip.hpp>

namespace examples {

// A fresh directory under /tmp, removed with everything in it at the end.
struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/tulip-example-XXXXXX";
        if (::mkdtemp(tmpl)) path = tmpl;
    }
    ~TempDir() {
        if (!path.empty()) std::filesystem::remove_all(path);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

// Makes dir/cert.pem and dir/key.pem (EC P-256, valid one day); false if
// `openssl` could not make them.
inline tulip::Coro<bool> make_certificate(std::string dir) {
    std::vector<std::string> args{"req",
                                  "-x509",
                                  "-newkey",
                                  "ec",
                                  "-pkeyopt",
                                  "ec_paramgen_curve:prime256v1",
                                  "-nodes",
                                  "-days",
                                  "1",
                                  "-subj",
                                  "/CN=localhost",
                                  "-addext",
                                  "subjectAltName=DNS:localhost,IP:127.0.0.1",
                                  "-keyout",
                                  dir + "/key.pem",
                                  "-out",
                                  dir + "/cert.pem"};
    tulip::SubprocessOptions o;
    o.std_out = tulip::DEVNULL;
    o.std_err = tulip::DEVNULL;
    tulip::Process p = co_await tulip::create_subprocess_exec("openssl", args, o);
    int rc = co_await p.wait();
    co_return rc == 0;
}

}  // namespace examples
