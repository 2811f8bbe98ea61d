// Runs the real `belladonna` ($BD_BIN_DIR/belladonna) as a child process.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

namespace bd::test {

struct CliOutcome {
    int status = -1;  // exit status, or 128 + signal
    std::string out, err;
};

// `args` after the program name; `env` are extra NAME=VALUE entries for the child.
CliOutcome run_belladonna(const std::vector<std::string>& args, const std::vector<std::string>& env = {});

// Lines in a child's output (its newlines): errors must be one line each.
inline size_t line_count(const std::string& s) { return size_t(std::count(s.begin(), s.end(), '\n')); }

}  // namespace bd::test
