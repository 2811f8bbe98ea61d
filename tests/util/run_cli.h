// Runs the real `belladonna` ($BD_BIN_DIR/belladonna) as a child process.
#pragma once

#include <string>
#include <vector>

namespace bd::test {

struct CliOutcome {
    int status = -1;  // exit status, or 128 + signal
    std::string out, err;
};

// `args` after the program name; `env` are extra NAME=VALUE entries for the child.
CliOutcome run_belladonna(const std::vector<std::string>& args, const std::vector<std::string>& env = {});

}  // namespace bd::test
