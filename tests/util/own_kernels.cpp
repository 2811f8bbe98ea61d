#include "util/own_kernels.h"

#include <vector>

#include "perturb/visibility/visibility_loss.h"
#include "src/io/image_io.h"
#include "src/io/tensor_image.h"
#include "util/fused_kernels_off.h"
#include "util/test_images.h"

namespace bd::test {

double largest_relative_difference(const torch::Tensor& ours, const torch::Tensor& theirs) {
    return (ours - theirs).abs().max().item<double>() / theirs.abs().max().item<double>();
}

KernelsCompared visibility_term_with_and_without_kernels(const torch::Device& device, bool second_alone) {
    FusedKernelsOff gpu_way;
    auto art = color_to_tensor(read_image(source_dir() + "/samples/flat-illustration.png"));
    art = art.slice(0, 0, 3).slice(1, 0, 256).slice(2, 0, 320).contiguous().to(device);
    const std::vector<torch::Tensor> originals{art, art.flip(2).contiguous()};
    std::vector<torch::Tensor> values, grads;
    for (const bool kernels : {true, false}) {
        const CudaKernels allowed(kernels);
        auto terms = VisibilityLoss::for_each(originals, 1.0, {}, {1, 2});
        std::vector<VisibilityLoss*> group;
        std::vector<torch::Tensor> changed;
        torch::manual_seed(16);
        for (size_t k = second_alone ? 1 : 0; k < originals.size(); ++k) {
            group.push_back(terms[k].get());
            changed.push_back((originals[k] + torch::randn_like(originals[k]) * 0.02).clamp(0, 1).requires_grad_());
        }
        const auto value = visibility_terms(group, changed).sum();
        values.push_back(value.detach().cpu().to(torch::kDouble));
        grads.push_back(torch::stack(torch::autograd::grad({value}, changed)).cpu().to(torch::kDouble));
    }
    return {((values[0] - values[1]).abs() / values[1].abs()).item<double>(),
            ((grads[0] - grads[1]).norm() / grads[1].norm()).item<double>()};
}

}  // namespace bd::test
