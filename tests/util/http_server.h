// Starts tests/util/http_server.py (with /usr/bin/python3) serving a folder on 127.0.0.1
// and stops it again; see that script for the misbehaving path prefixes (/cut/, /stall/,
// /norange/) and the request log.
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

namespace bd::test {

class LocalHttpServer {
public:
    // Throws std::runtime_error when the server does not come up.
    explicit LocalHttpServer(const std::string& root, double stall_seconds = 30.0);
    ~LocalHttpServer();
    LocalHttpServer(const LocalHttpServer&) = delete;
    LocalHttpServer& operator=(const LocalHttpServer&) = delete;

    int port() const { return port_; }
    std::string url(const std::string& path) const;  // "http://127.0.0.1:PORT/" + path
    // One "PATH RANGE" line per request so far ("-" when there was no Range header).
    std::vector<std::string> requests() const;

private:
    pid_t pid_ = -1;
    int port_ = 0;
    std::string log_;
};

}  // namespace bd::test
