#include "cli/clip_input.h"

#include <cstdio>
#include <stdexcept>

#include "encoders/encoder.h"

#include "encoders/preprocess.h"
#include "src/error_text.h"
#include "src/io/image_io.h"
#include "src/io/tensor_image.h"

namespace bd::cli {

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

int encode_image_files(Encoder& encoder, const std::vector<std::string>& paths, size_t batch,
                       const std::function<void(const std::vector<std::string>& names,
                                                const torch::Tensor& embeddings)>& each) {
    torch::NoGradGuard no_grad;
    int failed = 0;
    for (size_t start = 0; start < paths.size(); start += batch) {
        std::vector<std::string> names;
        std::vector<torch::Tensor> images;
        for (size_t i = start; i < std::min(paths.size(), start + batch); ++i) {
            try {
                images.push_back(load_clip_input(paths[i], encoder.input_size()));
                names.push_back(paths[i]);
            } catch (const std::exception& e) {  // "PATH: cause"; the others go on
                std::fprintf(stderr, "%s\n", first_line(e.what()).c_str());
                ++failed;
            }
        }
        if (images.empty()) continue;
        each(names, encoder.encode_images(torch::stack(images).to(encoder.device())));
    }
    return failed;
}

}  // namespace bd::cli
