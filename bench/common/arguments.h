// Comma-separated option values of the bench programs ("low,default", "1,2,4").
#pragma once
#include <string>
#include <vector>

namespace bd::bench {

// The non-empty parts of `s` between commas.
std::vector<std::string> comma_list(const std::string& s);
// The same parts as numbers; throws std::invalid_argument on a part that is not one.
std::vector<double> comma_numbers(const std::string& s);

}  // namespace bd::bench
