#include "bench/common/arguments.h"

#include <sstream>

namespace bd::bench {

std::vector<std::string> comma_list(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream in(s);
    for (std::string part; std::getline(in, part, ',');)
        if (!part.empty()) out.push_back(part);
    return out;
}

std::vector<double> comma_numbers(const std::string& s) {
    std::vector<double> out;
    for (const auto& v : comma_list(s)) out.push_back(std::stod(v));
    return out;
}

}  // namespace bd::bench
