#include "bench/poison/features.h"

#include "perturb/views/views.h"

namespace bd::poison {

torch::Tensor features(Encoder& encoder, const std::vector<torch::Tensor>& images) {
    torch::NoGradGuard no_grad;
    constexpr size_t kBatch = 16;  // one encoder batch; images differ in size, their squares do not
    std::vector<torch::Tensor> out;
    for (size_t start = 0; start < images.size(); start += kBatch) {
        std::vector<torch::Tensor> squares;
        for (size_t i = start; i < std::min(images.size(), start + kBatch); ++i) {
            auto rgb = images[i].size(0) == 1 ? images[i].expand({3, -1, -1}) : images[i];
            squares.push_back(resize_center_crop(rgb.unsqueeze(0), encoder.input_size()));
        }
        out.push_back(unit_length(encoder.encode_images(torch::cat(squares).to(encoder.device()))).to(torch::kCPU));
    }
    return out.empty() ? torch::zeros({0, encoder.embed_dim()}) : torch::cat(out);
}

}  // namespace bd::poison
