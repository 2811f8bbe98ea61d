#include "src/models/target_images.h"

#include <filesystem>
#include <set>
#include <stdexcept>

#include "src/batch/input_listing.h"

namespace bd {
namespace fs = std::filesystem;
namespace {

// One spelling per file, so "a/../b.png" and "./b.png" compare equal.
std::string identity(const std::string& path) {
    std::error_code ec;
    const auto p = fs::weakly_canonical(fs::path(path), ec);
    return ec ? fs::absolute(path).lexically_normal().string() : p.string();
}

}  // namespace

std::vector<std::string> expand_target_images(const std::vector<std::string>& paths,
                                              const std::vector<std::string>& inputs,
                                              const std::string& output_dir) {
    std::vector<std::string> images;
    for (const auto& path : paths) {
        const auto listed = list_input_files({path});
        size_t found = 0;
        for (const auto& l : listed) {
            if (!l.error.empty()) throw std::invalid_argument("target image " + l.path + ": " + l.error);
            images.push_back(l.path);
            ++found;
        }
        if (found == 0) throw std::invalid_argument("--target-image " + path + ": no PNG or JPEG images in it");
    }
    if (images.empty()) return images;
    std::set<std::string> anchors;
    for (const auto& image : images) anchors.insert(identity(image));
    for (const auto& in : list_input_files(inputs, output_dir))
        if (in.error.empty() && anchors.count(identity(in.path)))
            throw std::invalid_argument("target image " + in.path +
                                        " is also an input: an anchor of the target would be protected toward itself");
    return images;
}

}  // namespace bd
