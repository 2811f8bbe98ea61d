// The end-to-end tests' portfolio: good images of every kind and the bad files a portfolio
// may hold, made at test time, and the helpers that run the real `belladonna` on it and
// read what it left behind.
#pragma once

#include <sys/types.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "src/io/image.h"

namespace bd::test {

struct Portfolio {
    std::string root, model;
    std::vector<std::string> good;  // relative paths
    std::map<std::string, std::string> bad;  // relative path -> expected words in the error
    bool unreadable_checked = false;
};

// Writes the portfolio to `dir`/in and a tiny open_clip model to `dir`/model.
Portfolio make_portfolio(const std::string& dir);

// "sub/a.png" -> "sub/a-protected.png": the default output name.
std::string protected_name(const std::string& rel);

struct Outcome {
    int status = -1;  // exit status, or 128 + signal
    std::string err;
};

// Starts belladonna with stdout to /dev/null and stderr to `log`; returns the pid.
pid_t spawn(const std::vector<std::string>& args, const std::string& log);
Outcome wait_for(pid_t pid, const std::string& log);
Outcome run_bd(const std::vector<std::string>& args, const std::string& log);

// "SIZE:CRC32" of a file.
std::string checksum(const std::string& path);
// Every file below `dir` (links are not followed) with its checksum; unreadable ones as "?".
std::map<std::string, std::string> tree(const std::string& dir);

nlohmann::json read_json(const std::string& path);
// By value: a range-for over read_json(...)["images"] would outlive its temporary.
nlohmann::json images_of(const std::string& path);

void write_text(const std::string& path, const std::string& s);
void put_image(const std::string& path, Image img);

}  // namespace bd::test
