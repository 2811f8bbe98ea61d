#include "perturb/visibility/loss_tail.h"

#include <vector>

#include "perturb/pixel_passes.h"
#include "perturb/visibility/colour_shift.h"
#include "perturb/visibility/loss_tail_pixels.h"

namespace bd {

namespace {

loss_tail::Inputs inputs_of(const torch::Tensor& distance, const torch::Tensor& rgb, const torch::Tensor& lab,
                            const torch::Tensor& alpha, const LossTailSettings& s) {
    return {distance.data_ptr<float>(),
            rgb.data_ptr<float>(),
            lab.data_ptr<float>(),
            alpha.numel() > 0 ? alpha.data_ptr<float>() : nullptr,
            float(s.seen_from),
            float(s.shift_from),
            float(s.per_unit),
            float(s.colour_weight)};
}

// What a pass reads: the empty alpha of opaque images is nothing a profiler counts.
std::vector<torch::Tensor> read_by_both(const std::vector<torch::Tensor>& saved) {
    std::vector<torch::Tensor> out;
    for (const auto& t : saved)
        if (t.numel() > 0) out.push_back(t);
    return out;
}

struct LossTail : torch::autograd::Function<LossTail> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& distance,
                                 const torch::Tensor& rgb, const torch::Tensor& lab, const torch::Tensor& alpha,
                                 double seen_from, double shift_from, double per_unit, double colour_weight) {
        const std::vector<torch::Tensor> saved = {distance.contiguous(), rgb.contiguous(), lab.contiguous(),
                                                  alpha.contiguous()};
        const LossTailSettings settings{seen_from, shift_from, per_unit, colour_weight};
        ctx->save_for_backward(saved);
        ctx->saved_data["settings"] = std::vector<double>{seen_from, shift_from, per_unit, colour_weight};
        auto each_pixel = torch::empty_like(saved[0]);
        auto touched = read_by_both(saved);
        touched.push_back(each_pixel);
        run_pixel_pass("belladonna::loss_tail", each_pixel, touched, each_pixel.size(0),
                       each_pixel.size(1) * each_pixel.size(2),
                       loss_tail::Pass{inputs_of(saved[0], saved[1], saved[2], saved[3], settings),
                                       each_pixel.data_ptr<float>()});
        return each_pixel.mean({1, 2});
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grad) {
        const auto saved = ctx->get_saved_variables();
        const auto s = ctx->saved_data["settings"].toDoubleVector();
        const LossTailSettings settings{s[0], s[1], s[2], s[3]};
        const auto g = grad[0].contiguous();
        auto d_distance = torch::empty_like(saved[0]), d_rgb = torch::empty_like(saved[1]);
        auto touched = read_by_both(saved);
        touched.insert(touched.end(), {g, d_distance, d_rgb});
        run_pixel_pass("belladonna::loss_tail_backward", d_distance, touched, d_distance.size(0),
                       d_distance.size(1) * d_distance.size(2),
                       loss_tail::BackwardPass{inputs_of(saved[0], saved[1], saved[2], saved[3], settings),
                                               g.data_ptr<float>(), d_distance.data_ptr<float>(),
                                               d_rgb.data_ptr<float>()});
        return {d_distance, d_rgb, torch::Tensor(), torch::Tensor(),
                torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
    }
};

// Whether the tensors take the pass: the GPU's kernels, all on one device.
bool takes_loss_tail(const torch::Tensor& distance, const torch::Tensor& blurred_rgb,
                     const torch::Tensor& original_lab, const torch::Tensor& alpha) {
    const bool passes = alpha.defined() ? takes_cuda_pixel_passes(distance, blurred_rgb, original_lab, alpha)
                                        : takes_cuda_pixel_passes(distance, blurred_rgb, original_lab);
    return passes && !original_lab.requires_grad() && !(alpha.defined() && alpha.requires_grad());
}

torch::Tensor tail_operations(const torch::Tensor& distance, const torch::Tensor& blurred_rgb,
                              const torch::Tensor& original_lab, const torch::Tensor& alpha,
                              const LossTailSettings& s) {
    auto seen = (distance - s.seen_from).clamp_min(0).square();
    const auto colour = ColourShiftLoss::compared(original_lab, blurred_rgb);
    auto shift = (colour / s.per_unit - s.shift_from).clamp_min(0).square();
    if (alpha.defined()) {
        seen = seen * alpha;
        shift = shift * alpha;
    }
    return seen.mean({1, 2}) + s.colour_weight * shift.mean({1, 2});
}

}  // namespace

torch::Tensor visibility_tail(const torch::Tensor& distance, const torch::Tensor& blurred_rgb,
                              const torch::Tensor& original_lab, const torch::Tensor& alpha,
                              const LossTailSettings& settings) {
    TORCH_CHECK(distance.dim() == 3 && blurred_rgb.dim() == 4 && blurred_rgb.size(1) == 3 &&
                    blurred_rgb.sizes() == original_lab.sizes() && blurred_rgb.size(0) == distance.size(0) &&
                    (!alpha.defined() || alpha.sizes() == distance.sizes()),
                "visibility_tail: the distance map, the colour comparison and alpha of different shapes");
    // The pass takes the colour comparison at the map's size; the operations take each part's
    // own mean, so a comparison made smaller (a wide blur's) goes their way.
    const bool same_size = blurred_rgb.size(2) == distance.size(1) && blurred_rgb.size(3) == distance.size(2);
    if (!same_size || !takes_loss_tail(distance, blurred_rgb, original_lab, alpha))
        return tail_operations(distance, blurred_rgb, original_lab, alpha, settings);
    // An autograd function takes no undefined tensor: opaque images' alpha is an empty one.
    const auto alpha_or_empty = alpha.defined() ? alpha : torch::empty({0}, distance.options());
    return LossTail::apply(distance, blurred_rgb, original_lab, alpha_or_empty, settings.seen_from,
                           settings.shift_from, settings.per_unit, settings.colour_weight);
}

}  // namespace bd
