// The images of bench_poison's concepts: each concept's folder split once into training and
// held-out test images. The split depends only on the file names and the seed, so every
// protection, purifier and learner sees the same test images, and none of them is ever
// protected or trained on.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace bd::poison {

struct ConceptSplit {
    std::string name;                 // the folder's name
    std::vector<std::string> train;   // paths, in a seeded random order (the poisoning order)
    std::vector<std::string> test;    // paths, sorted
};

// Every PNG/JPEG under `folder`, `test_share` of them (rounded, at least one when there are
// two or more) held out. Throws std::invalid_argument when the folder has fewer than two images.
ConceptSplit split_concept(const std::string& folder, double test_share, uint64_t seed);

// The same on a list of paths (the file names decide; the folders do not).
ConceptSplit split_paths(const std::string& name, std::vector<std::string> paths, double test_share, uint64_t seed);

// How many of `n` training images a poison rate replaces: round(rate * n).
size_t poisoned_count(double rate, size_t n);

}  // namespace bd::poison
