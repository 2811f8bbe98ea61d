#include "perturb/optimizer.h"

#include <cmath>

#include "encoders/encoder.h"
#include "perturb/butteraugli.h"
#include "perturb/cancelled.h"
#include "perturb/views.h"
#include "perturb/visibility.h"

namespace bd {

namespace {

// Step size as a fraction of each pixel's budget: large early to cross the budget box,
// small late to settle (cosine decay). The sum over a run is several budgets, so even
// the 50-step preset can reach any corner of the box.
float step_fraction(int step, int steps) {
    const double t = steps > 1 ? double(step) / double(steps - 1) : 1.0;
    return float(0.02 + 0.23 * 0.5 * (1.0 + std::cos(M_PI * t)));
}

// Steps after which the budget is steered by butteraugli: early enough for the optimizer
// to use what is freed, the last one leaving a quarter of the run to settle.
bool steering_step(int step, int steps) {
    for (double at : {0.15, 0.3, 0.45, 0.6, 0.75})
        if (step == int(at * steps) && step > 0) return true;
    return false;
}

struct ItemState {
    torch::Tensor x, budget, limit, delta;  // [C, H, W] (budget, limit may be [1, H, W])
    torch::Tensor alpha;                    // [1, H, W] or undefined
    torch::Tensor lo, hi;            // [C, H, W]: the box delta lives in, x + delta in [0, 1]
    torch::Tensor target, away;      // [D] unit; away = source (poison) or clean (cloak)
    std::unique_ptr<ViewSampler> views;
    int64_t count = 0;               // views per step
};

}  // namespace

std::vector<torch::Tensor> perturb(Encoder& encoder, const std::vector<PerturbItem>& items,
                                   const PerturbSettings& settings,
                                   const PerturbProgress& progress) {
    TORCH_CHECK(settings.steps >= 1, "perturb: steps must be at least 1");
    const auto device = encoder.device();
    const int64_t size = encoder.input_size();

    std::vector<ItemState> state(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
        const auto& item = items[i];
        TORCH_CHECK(item.image.dim() == 3 && (item.image.size(0) == 1 || item.image.size(0) == 3),
                    "perturb: image ", i, " must be [C,H,W] with C = 1 or 3");
        auto& s = state[i];
        s.x = item.image.detach().to(device, torch::kFloat).contiguous();
        s.budget = item.budget.detach().to(device, torch::kFloat);
        s.limit = item.limit.defined() ? item.limit.detach().to(device, torch::kFloat) : s.budget;
        if (item.alpha.defined()) s.alpha = item.alpha.detach().to(torch::kCPU, torch::kFloat);
        // The budget box intersected with [0, 1] once, so each step projects with one clamp.
        s.lo = torch::max(-s.budget, -s.x).contiguous();
        s.hi = torch::min(s.budget, 1 - s.x).contiguous();
        s.delta = torch::zeros_like(s.x).requires_grad_(true);
        s.views = std::make_unique<ViewSampler>(s.x, size, settings.views, settings.robust, item.seed);
        if (settings.mode == Mode::poison) {
            TORCH_CHECK(item.target.defined(), "perturb: poison mode needs a target for image ", i);
            s.target = unit_length(item.target.detach().to(device, torch::kFloat));
        }
        if (item.source.defined() && settings.mode == Mode::poison) {
            s.away = unit_length(item.source.detach().to(device, torch::kFloat));
        } else {
            // The clean image's own embedding: poison moves away from what the image
            // shows; cloak hides it (one fixed anchor keeps a step at one forward pass).
            torch::NoGradGuard no_grad;
            auto clean = resize_center_crop(
                (s.x.size(0) == 1 ? s.x.expand({3, -1, -1}) : s.x).unsqueeze(0), size);
            s.away = unit_length(encoder.encode_images(clean)).squeeze(0);
        }
    }

    const bool steer = settings.visibility > 0 && butteraugli_available();
    for (int step = 0; step < settings.steps; ++step) {
        if (steer && steering_step(step, settings.steps)) {
            torch::NoGradGuard no_grad;
            for (auto& s : state) {
                // Measured on the 8-bit grid the file will most likely have.
                const auto now = torch::round((s.x + s.delta) * 255.0) / 255.0;
                const auto seen = seen_change(s.x, now, s.alpha);
                if (!seen.distmap.defined()) continue;  // too small to measure
                // A little under the target, so the final fit to it rarely has to cut.
                s.budget = steer_budget(s.budget, s.limit, seen.distmap, 0.9 * settings.visibility);
                s.lo = torch::max(-s.budget, -s.x).contiguous();
                s.hi = torch::min(s.budget, 1 - s.x).contiguous();
                s.delta.clamp_(s.lo, s.hi);
            }
        }
        std::vector<torch::Tensor> views;
        views.reserve(state.size());
        for (auto& s : state) {
            auto v = s.views->sample(s.x + s.delta);  // in [0, 1] by the projection
            s.count = v.size(0);
            views.push_back(std::move(v));
        }
        const auto embeddings = unit_length(encoder.encode_images(torch::cat(views, 0)));  // [sum K, D]

        // Each image's loss is a mean over its own views, summed over images, so an
        // image's gradient does not depend on what else is in the batch.
        torch::Tensor loss = torch::zeros({}, embeddings.options());
        int64_t offset = 0;
        for (auto& s : state) {
            const auto e = embeddings.narrow(0, offset, s.count);
            offset += s.count;
            if (settings.mode == Mode::poison)
                loss = loss - torch::matmul(e, s.target).mean() +
                       settings.source_weight * torch::matmul(e, s.away).mean();
            else
                loss = loss + torch::matmul(e, s.away).mean();
        }
        std::vector<torch::Tensor> deltas;
        for (auto& s : state) deltas.push_back(s.delta);
        const auto grads = torch::autograd::grad({loss}, deltas);

        {
            torch::NoGradGuard no_grad;
            const float fraction = step_fraction(step, settings.steps);
            for (size_t i = 0; i < state.size(); ++i) {
                auto& s = state[i];
                // Few passes over full-resolution memory: on a 12-megapixel image every
                // pass costs more than the encoder does.
                s.delta.addcmul_(grads[i].sign(), s.budget, -fraction);
                s.delta.clamp_(s.lo, s.hi);
            }
        }
        if (progress && !progress(float(step + 1) / float(settings.steps))) throw Cancelled();
    }

    std::vector<torch::Tensor> out;
    out.reserve(state.size());
    for (auto& s : state) out.push_back(s.x + s.delta.detach());
    return out;
}

}  // namespace bd
