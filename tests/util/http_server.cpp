#include "util/http_server.h"

#include "util/test_images.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace bd::test {

LocalHttpServer::LocalHttpServer(const std::string& root, double stall_seconds) {
    const std::string script = source_dir() + "/tests/util/http_server.py";
    log_ = root + "/.requests.log";
    std::remove(log_.c_str());
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("http server: pipe failed");
    const std::string stall = std::to_string(stall_seconds);
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("http server: fork failed");
    if (pid_ == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl("/usr/bin/python3", "python3", script.c_str(), "--root", root.c_str(), "--log",
              log_.c_str(), "--stall", stall.c_str(), (char*)nullptr);
        _exit(127);
    }
    close(fds[1]);
    FILE* out = fdopen(fds[0], "r");
    if (!out || std::fscanf(out, "%d", &port_) != 1 || port_ <= 0) {
        if (out) std::fclose(out);
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
        throw std::runtime_error("http server did not start: " + script);
    }
    std::fclose(out);
}

LocalHttpServer::~LocalHttpServer() {
    if (pid_ > 0) {
        kill(pid_, SIGTERM);
        waitpid(pid_, nullptr, 0);
    }
}

std::string LocalHttpServer::url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/" + path;
}

std::vector<std::string> LocalHttpServer::requests() const {
    std::vector<std::string> lines;
    std::ifstream in(log_);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

}  // namespace bd::test
