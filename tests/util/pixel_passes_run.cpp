#include "util/pixel_passes_run.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "perturb/visibility/ac_differences.h"
#include "perturb/visibility/colour_shift.h"
#include "perturb/visibility/combine.h"
#include "perturb/visibility/frequencies.h"
#include "perturb/visibility/loss_tail.h"
#include "perturb/visibility/opsin.h"
#include "perturb/visibility/pixel_math.h"
#include "util/fused_kernels_off.h"
#include "util/own_kernels.h"

namespace bd::test {

namespace {

// Values over many magnitudes, so every threshold of the frequency split is crossed.
torch::Tensor spread(at::IntArrayRef sizes) { return torch::randn(sizes) * torch::exp(torch::rand(sizes) * 8 - 4); }

using Function = std::function<std::vector<torch::Tensor>(const std::vector<torch::Tensor>&)>;

// f's outputs and its inputs' gradients against random output gradients, all made on the
// CPU (so every device sees the same numbers) and taken to `device`.
void run(PixelPassesRun& out, const torch::Device& device, const Function& f,
         const std::vector<torch::Tensor>& inputs) {
    std::vector<torch::Tensor> in;
    for (const auto& t : inputs) in.push_back(t.to(device).requires_grad_());
    const auto outputs = f(in);
    std::vector<torch::Tensor> grad_out;
    for (const auto& o : outputs) grad_out.push_back(torch::randn(o.sizes()).to(device));
    out.nodes.push_back(outputs[0].grad_fn() ? outputs[0].grad_fn()->name() : "none");
    for (const auto& o : outputs) out.values.push_back(o.detach().cpu());
    for (const auto& g : torch::autograd::grad(outputs, in, grad_out)) out.values.push_back(g.cpu());
}

}  // namespace

PixelPassesRun pixel_passes_on(const torch::Device& device) {
    torch::manual_seed(21);
    PixelPassesRun out;
    const int64_t b = 2, h = 19, w = 23;
    auto linear = torch::rand({b, 3, h, w});
    linear.narrow(2, 0, 2).zero_();  // black: the absorbance at its floor
    linear.narrow(2, 2, 2).fill_(1);
    const auto blurred = (linear * (torch::rand_like(linear) + 0.5)).clamp(0, 1);
    run(out, device, [](const auto& in) { return std::vector<torch::Tensor>{opsin_xyb(in[0], in[1])}; },
        {linear, blurred});
    run(out, device,
        [](const auto& in) {
            const auto m = split_middle(in[0], in[1], in[2]);
            return std::vector<torch::Tensor>{m.mf, m.hf0, m.hf1, m.lf};
        },
        {spread({b, 3, h, w}), spread({b, 3, h, w}), spread({b, 3, h, w})});
    run(out, device,
        [](const auto& in) {
            const auto v = split_high(in[0], in[1], in[2], in[3]);
            return std::vector<torch::Tensor>{v.uhf0, v.hf0, v.uhf1, v.hf1, v.activity};
        },
        {spread({b, h, w}), spread({b, h, w}), spread({b, h, w}) * 20, spread({b, h, w}) * 20});
    const CombineOriginal original{torch::randn({b, 3, h, w}).to(device), torch::randn({b, 3, h, w}).to(device),
                                   torch::rand({b, h, w}).to(device), torch::rand({b, h, w}).to(device),
                                   torch::rand({b, h, w}).to(device)};
    auto mf = original.mf.cpu() + torch::randn({b, 3, h, w}) * 0.1;
    mf.narrow(2, 0, 2).copy_(original.mf.cpu().narrow(2, 0, 2));  // unchanged rows: a zero map
    auto lf = original.lf.cpu() + torch::randn({b, 3, h, w}) * 0.1;
    lf.narrow(2, 0, 2).copy_(original.lf.cpu().narrow(2, 0, 2));
    auto activity = original.mask_blurred.cpu() + torch::randn({b, h, w}) * 0.1;
    activity.narrow(1, 0, 2).copy_(original.mask_blurred.cpu().narrow(1, 0, 2));
    auto ac_x = torch::rand({b, h, w}), ac_y = torch::rand({b, h, w});
    ac_x.narrow(1, 0, 2).zero_();
    ac_y.narrow(1, 0, 2).zero_();
    run(out, device,
        [&](const auto& in) {
            return std::vector<torch::Tensor>{combine_to_distmap(in[0], in[1], in[2], in[3], in[4], original)};
        },
        {ac_x, ac_y, mf, lf, activity});
    return out;
}

PixelPassesRun gpu_way_passes_on(const torch::Device& device) {
    torch::manual_seed(22);
    PixelPassesRun out;
    // Samples across [0, 1] and beyond, some exactly on its bounds (saturated pixels), where
    // the clamp passes the gradient.
    auto samples = torch::rand({2, 3, 7, 9}) * 1.4 - 0.2;
    samples.view(-1).narrow(0, 0, 4).fill_(0);
    samples.view(-1).narrow(0, 4, 4).fill_(1);
    run(out, device, [](const auto& in) { return std::vector<torch::Tensor>{clamped_srgb_to_linear(in[0])}; },
        {samples});
    const int64_t b = 2, h = 11, w = 13;
    auto originals = torch::rand({b, 3, h, w});
    originals.narrow(2, 0, 3).zero_();  // black: CIELAB's straight segment
    // Changed past [0, 1] in the upper rows, so the clamp before CIELAB cuts the gradient
    // there, and little in the lower ones, where the colour part stays below its threshold.
    auto noise = torch::randn_like(originals) * 0.4;
    noise.narrow(2, 6, h - 6).mul_(0.05);
    torch::Tensor lab, blurred;
    {
        // The same inputs whatever way the caller's scope takes: the operations'.
        const FusedKernelsOff operations;
        const CudaKernels none(false);
        const auto losses = ColourShiftLoss::each(originals, 2.0);
        std::vector<const ColourShiftLoss*> joined;
        for (const auto& l : losses) joined.push_back(&l);
        lab = ColourShiftLoss::joined_originals(joined).to(device);
        blurred = ColourShiftLoss::joined_blurred(joined, originals + noise);
    }
    blurred.view(-1).narrow(0, 0, 4).fill_(0);  // on the clamp's bounds
    blurred.view(-1).narrow(0, 4, 4).fill_(1);
    const auto alpha = torch::rand({b, h, w}).to(device);
    const LossTailSettings settings{0.5, 1.0 / 3.0, 2.0, 10.0};
    for (const bool opaque : {true, false})
        run(out, device,
            [&](const auto& in) {
                return std::vector<torch::Tensor>{
                    visibility_tail(in[0], in[1], lab, opaque ? torch::Tensor() : alpha, settings)};
            },
            {torch::rand({b, h, w}) * 2, blurred});
    // The AC differences' last sum (ac_tail.h), the changed bands around the original's: on
    // every side of the L2 difference's clamp.
    ButteraugliPlanes original;
    original.mf = spread({b, 3, h, w}).to(device);
    for (int k = 0; k < 2; ++k) {
        original.hf[k] = spread({b, h, w}).to(device);
        original.uhf[k] = spread({b, h, w}).to(device);
    }
    const auto shared = ac_original(original);
    const auto near = [](const torch::Tensor& o) {
        const auto t = o.cpu();
        return t * (torch::rand_like(t) * 3 - 1) + torch::randn_like(t) * 0.1 * t.abs().mean();
    };
    run(out, device,
        [&](const auto& in) {
            ButteraugliPlanes changed;
            changed.mf = in[0];
            changed.hf = {in[1], in[2]};
            changed.uhf = {in[3], in[4]};
            const auto ac = ac_differences(original, shared, changed);
            return std::vector<torch::Tensor>{ac[0], ac[1]};
        },
        {near(original.mf), near(original.hf[0]), near(original.hf[1]), near(original.uhf[0]), near(original.uhf[1])});
    return out;
}

bool all_passes(const PixelPassesRun& run) {
    return std::all_of(run.nodes.begin(), run.nodes.end(),
                       [](const std::string& n) { return n.find("CppNode<bd::") != std::string::npos; });
}

double largest_relative_difference(const PixelPassesRun& a, const PixelPassesRun& b) {
    double worst = 0;
    for (size_t k = 0; k < b.values.size(); ++k) {
        const double apart = largest_relative_difference(a.values[k], b.values[k]);
        if (!std::isnan(apart)) worst = std::max(worst, apart);  // NaN: both all zero, the same
    }
    return worst;
}

}  // namespace bd::test
