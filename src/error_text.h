// What belladonna shows of an exception: its first line. libtorch's errors carry a C++
// backtrace on the lines after it, and every error the CLI, the report and the C API give
// is one line.
#pragma once

#include <string>

namespace bd {

inline std::string first_line(const std::string& message) { return message.substr(0, message.find('\n')); }

}  // namespace bd
