#include "perturb/optimizer.h"

#include <algorithm>
#include <cmath>

#include "encoders/encoder.h"
#include "perturb/butteraugli.h"
#include "perturb/cancelled.h"
#include "perturb/early_stop.h"
#include "perturb/step_rule.h"
#include "perturb/views.h"
#include "perturb/visibility.h"

namespace bd {

namespace {

// Steering by butteraugli when the schedule passes these positions: early enough for the
// optimizer to use what is freed, the last one leaving a quarter of the run to settle.
bool steering_due(const StepSchedule& schedule) {
    for (double at : {0.15, 0.3, 0.45, 0.6, 0.75})
        if (schedule.previous_position() < at && at <= schedule.position() && schedule.steps_taken() > 0) return true;
    return false;
}

struct ItemState {
    torch::Tensor x, budget, limit, delta;  // [C, H, W] (budget, limit may be [1, H, W])
    torch::Tensor alpha;                    // [1, H, W] or undefined
    torch::Tensor lo, hi;            // [C, H, W]: the box delta lives in, x + delta in [0, 1]
    torch::Tensor target, away;      // [D] unit; away = source (poison) or clean (cloak)
    std::unique_ptr<ViewSampler> views;
    std::unique_ptr<StepRule> rule;
    std::unique_ptr<StepSchedule> schedule;
    int64_t count = 0;               // views per step
    torch::Tensor progress;          // this step's negated loss
};

}  // namespace

std::vector<torch::Tensor> perturb(Encoder& encoder, const std::vector<PerturbItem>& items,
                                   const PerturbSettings& settings,
                                   const PerturbProgress& progress, PerturbStats* stats) {
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
        s.rule = std::make_unique<StepRule>(settings.update);
        s.schedule = std::make_unique<StepSchedule>(settings.steps, settings.early_stop);
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
    auto active = [](const ItemState& s) { return !s.schedule->done(); };
    while (std::any_of(state.begin(), state.end(), active)) {
        if (steer) {
            torch::NoGradGuard no_grad;
            for (auto& s : state) {
                if (!active(s) || !steering_due(*s.schedule)) continue;
                // Measured on the 8-bit grid the file will most likely have.
                const auto now = torch::round((s.x + s.delta) * 255.0) / 255.0;
                const auto seen = seen_change(s.x, now, s.alpha);
                if (!seen.distmap.defined()) continue;  // too small to measure
                // A little under the target, so the final fit to it rarely has to cut.
                s.budget = steer_budget(s.budget, s.limit, seen.distmap, 0.9 * settings.visibility);
                s.lo = torch::max(-s.budget, -s.x).contiguous();
                s.hi = torch::min(s.budget, 1 - s.x).contiguous();
                s.delta.clamp_(s.lo, s.hi);
                s.schedule->disturbed();
            }
        }
        std::vector<torch::Tensor> views;
        views.reserve(state.size());
        for (auto& s : state) {
            s.count = 0;
            if (!active(s)) continue;  // settled: out of the batch
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
            if (!s.count) continue;
            const auto before = loss;
            const auto e = embeddings.narrow(0, offset, s.count);
            offset += s.count;
            if (settings.mode == Mode::poison)
                loss = loss - torch::matmul(e, s.target).mean() +
                       settings.source_weight * torch::matmul(e, s.away).mean();
            else
                loss = loss + torch::matmul(e, s.away).mean();
            s.progress = (before - loss).detach();
        }
        std::vector<torch::Tensor> deltas;
        for (auto& s : state)
            if (s.count) deltas.push_back(s.delta);
        const auto grads = torch::autograd::grad({loss}, deltas);

        size_t next = 0;
        for (auto& s : state) {
            if (!s.count) continue;
            s.rule->apply(s.delta, grads[next++], s.budget, step_fraction(s.schedule->position()), s.lo, s.hi);
            s.schedule->record(s.progress);
        }
        if (progress) {
            double done = 0;
            for (const auto& s : state)
                done += s.schedule->done() ? 1.0 : double(s.schedule->steps_taken()) / double(settings.steps);
            if (!progress(float(done / double(state.size())))) throw Cancelled();
        }
    }
    if (stats) {
        stats->steps.clear();
        for (const auto& s : state) stats->steps.push_back(s.schedule->steps_taken());
    }

    std::vector<torch::Tensor> out;
    out.reserve(state.size());
    for (auto& s : state) out.push_back(s.x + s.delta.detach());
    return out;
}

}  // namespace bd
