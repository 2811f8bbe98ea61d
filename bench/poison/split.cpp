#include "bench/poison/split.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <utility>

#include "src/batch/input_listing.h"

namespace bd::poison {
namespace {

// FNV-1a of the file name, mixed with the seed: a stable order that no folder layout or
// listing order can change.
uint64_t rank(const std::string& path, uint64_t seed) {
    uint64_t h = 1469598103934665603ull ^ (seed * 0x9E3779B97F4A7C15ull);
    for (unsigned char c : std::filesystem::path(path).filename().string()) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

}  // namespace

ConceptSplit split_paths(const std::string& name, std::vector<std::string> paths, double test_share, uint64_t seed) {
    if (paths.size() < 2)
        throw std::invalid_argument("concept " + name + " has " + std::to_string(paths.size()) +
                                    " images; a split needs at least 2");
    std::vector<std::pair<uint64_t, std::string>> ranked;
    for (auto& p : paths) ranked.emplace_back(rank(p, seed), std::move(p));
    std::sort(ranked.begin(), ranked.end());
    const size_t n = ranked.size();
    const size_t held = std::clamp<size_t>(size_t(std::lround(test_share * double(n))), 1, n - 1);
    ConceptSplit split;
    split.name = name;
    for (size_t i = 0; i < n; ++i) (i < held ? split.test : split.train).push_back(ranked[i].second);
    std::sort(split.test.begin(), split.test.end());
    return split;
}

ConceptSplit split_concept(const std::string& folder, double test_share, uint64_t seed) {
    std::vector<std::string> paths;
    for (const auto& entry : list_input_files({folder}))
        if (entry.error.empty()) paths.push_back(entry.path);
    return split_paths(std::filesystem::path(folder).filename().string(), std::move(paths), test_share, seed);
}

size_t poisoned_count(double rate, size_t n) {
    return std::min(n, size_t(std::lround(std::clamp(rate, 0.0, 1.0) * double(n))));
}

}  // namespace bd::poison
