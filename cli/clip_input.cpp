#include "cli/clip_input.h"

#include <stdexcept>

#include "encoders/preprocess.h"
#include "src/image_io.h"
#include "src/tensor_image.h"

namespace bd::cli {

std::string first_line(const char* message) {
    std::string s = message ? message : "";
    const auto nl = s.find('\n');
    return nl == std::string::npos ? s : s.substr(0, nl);
}

torch::Tensor load_clip_input(const std::string& path, int64_t size) {
    const Image image = read_image(path);  // ImageError names the file
    try {
        auto chw = orient(color_to_tensor(image), image.metadata.orientation);  // [C, H, W]
        if (chw.size(0) == 1) chw = chw.expand({3, -1, -1}).contiguous();
        return clip_preprocess(chw, size);  // [3, S, S]
    } catch (const c10::Error& e) {
        throw std::runtime_error(path + ": " + first_line(e.what_without_backtrace()));
    }
}

}  // namespace bd::cli
