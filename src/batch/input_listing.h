// Turning the INPUT arguments of `belladonna protect` into the sorted list of images to
// protect. Folders are recursed (symlinks followed, loops cut), hidden entries and files that
// are neither images nor named like one are skipped silently; files that are named like an
// image (or were named explicitly) but cannot be opened or are not PNG/JPEG become error
// entries so the report can name them.
#pragma once

#include <string>
#include <vector>

#include "src/io/image.h"

namespace bd {

struct ListedInput {
    std::string path;      // as it will be opened (argument joined with the relative part)
    std::string relative;  // path below the argument folder; the file name for a file argument
    ImageFormat format = ImageFormat::unknown;  // from the magic bytes
    std::string error;     // non-empty: this entry failed while listing
};

// `exclude_dir` (may be empty): a folder whose subtree is not listed (the output folder when it
// lies inside an input folder, so earlier outputs are not protected again).
// Result: sorted per argument by relative path (byte order), arguments in the order given,
// each file once (a file reached twice keeps its first entry).
std::vector<ListedInput> list_input_files(const std::vector<std::string>& inputs,
                                          const std::string& exclude_dir = {});

// True when a file name's extension is one belladonna reads (.png .jpg .jpeg .jpe .jfif).
bool has_image_extension(const std::string& name);

// Deterministic partition for N workers: entry k belongs to shard k % count. Round robin so
// that folders of big and small images are spread evenly.
template <class T>
std::vector<T> take_shard(const std::vector<T>& all, int index, int count) {
    if (count <= 1) return all;
    std::vector<T> part;
    for (size_t k = size_t(index); k < all.size(); k += size_t(count)) part.push_back(all[k]);
    return part;
}

}  // namespace bd
