#include "perturb/optimizer.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>

#include "encoders/encoder.h"
#include "perturb/by_shape.h"
#include "perturb/cancelled.h"
#include "perturb/device_constant.h"
#include "perturb/early_stop.h"
#include "perturb/file_view_share.h"
#include "perturb/in_parts.h"
#include "perturb/objective.h"
#include "perturb/reused_gradient.h"
#include "perturb/step_part.h"
#include "perturb/step_rule.h"
#include "perturb/vector_clones.h"
#include "perturb/views/views.h"
#include "perturb/visibility/butteraugli.h"
#include "perturb/visibility/butteraugli_torch.h"
#include "perturb/visibility/visibility.h"
#include "perturb/visibility/visibility_loss.h"

namespace bd {

namespace {

// Steering by butteraugli when the schedule passes these positions: early enough for the
// optimizer to use what is freed, the last one leaving a quarter of the run to settle.
bool steering_due(const StepSchedule& schedule) {
    for (double at : {0.15, 0.3, 0.45, 0.6, 0.75})
        if (schedule.previous_position() < at && at <= schedule.position() && schedule.steps_taken() > 0) return true;
    return false;
}

// One image's view of one ensemble member.
struct MemberState {
    EncoderAim aim;                  // on the member's device, embedding aims unit length
    std::unique_ptr<ViewSampler> views;
    bool paired = false;             // a latent aim without target: compare with clean views
    // Latents: 1 / the clean latent's mean square, so a VAE's loss is relative to its own
    // scale (SD's scaling factors make that about 1; other VAEs may differ by orders) and
    // members of an ensemble weigh what their weights say. 1 for embeddings.
    float scale = 1.0f;
};

struct ItemState {
    torch::Tensor x, budget, limit;  // [C, H, W] (budget, limit may be [1, H, W])
    // x + delta, what the steps move and the gradient is taken for: the views read it as
    // it is, where x + delta would be one more full-resolution pass every step.
    torch::Tensor image;
    torch::Tensor alpha;             // [1, H, W] or undefined
    torch::Tensor lo, hi;            // [C, H, W]: the box image lives in, x +- budget in [0, 1]
    std::vector<MemberState> members;
    std::unique_ptr<StepRule> rule;
    std::unique_ptr<StepSchedule> schedule;
    std::unique_ptr<VisibilityLoss> visibility_term;  // when steering (and at least 8 x 8)
    std::unique_ptr<ReusedGradient> visibility_grad;  // the term's gradient, beside it
    // The file views' share of the gain, until it is judged at half the run (where it may
    // lengthen the run).
    std::unique_ptr<FileViewShare> file_share;
    double judged_share = NAN;  // what file_share said when it was judged
    bool active() const { return !schedule->done(); }
};

int64_t view_size(const EnsembleMember& m) { return m.size > 0 ? m.size : m.encoder->input_size(); }

// What member `m` makes of the clean image `x` as it frames the whole image: the one
// output its aim and its latent scale are measured against. `given`: the caller's copy of
// it, when the caller has one (the Protector measures with it too), else computed here.
torch::Tensor clean_output(const EnsembleMember& m, const torch::Tensor& x, const torch::Tensor& given) {
    if (given.defined()) return given.detach().to(m.encoder->device(), torch::kFloat).reshape({1, -1});
    torch::NoGradGuard no_grad;
    const auto clean = resize_center_crop((x.size(0) == 1 ? x.expand({3, -1, -1}) : x).unsqueeze(0), view_size(m));
    return m.encoder->encode_images(clean.to(m.encoder->device()));
}

// The box the image lives in: the budget around x intersected with [0, 1] once, so each
// step projects with one clamp.
void set_box(ItemState& s) {
    s.lo = (s.x - s.budget).clamp_min_(0).contiguous();
    s.hi = (s.x + s.budget).clamp_max_(1).contiguous();
}

// The aim as the loss wants it: embedding aims unit length, an embedding aim without a
// direction to leave gets the clean image's own embedding (one fixed anchor keeps a step
// at one forward pass).
EncoderAim resolve_aim(const EnsembleMember& m, const EncoderAim& given, const torch::Tensor& clean, Mode mode) {
    const auto device = m.encoder->device();
    EncoderAim aim;
    if (is_latent(*m.encoder)) {
        if (given.target.defined()) aim.target = given.target.detach().to(device, torch::kFloat);
        return aim;
    }
    if (mode == Mode::poison) {
        TORCH_CHECK(given.target.defined(), "perturb: poison mode needs a target for every embedding encoder");
        aim.target = unit_length(given.target.detach().to(device, torch::kFloat));
    }
    if (given.away.defined() && mode == Mode::poison) {
        aim.away = unit_length(given.away.detach().to(device, torch::kFloat));
    } else {
        aim.away = unit_length(clean).squeeze(0);
    }
    return aim;
}

float latent_scale(const torch::Tensor& clean) {
    const double energy = clean.pow(2).mean().item<double>();
    return float(1.0 / std::max(energy, 1e-12));
}

// A latent aim without a target pulls away from the clean latent, whose gradient is zero at
// the clean image itself: such an image starts from a small random change (seeded, a
// quarter of its budget) as PGD's random start does.
torch::Tensor random_start(const torch::Tensor& budget, const torch::Tensor& like, uint64_t seed) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed ^ 0x5bd1e995ULL);
    const auto u = at::rand(like.sizes(), gen, torch::kFloat).to(like.device());
    return (u * 2 - 1) * budget * 0.25;
}

// Whether images like `x` gain from being taken in groups: where each operation is a launch
// (a GPU), not the fused CPU loops, which take one image as fast and would only hold more.
bool taken_in_groups(const torch::Tensor& x) { return !takes_fused_kernels(x); }

// The pixels a call of the visibility term judges of an image like `x`: all of it, or one
// window.
int64_t judged_pixels(const torch::Tensor& x) {
    return std::min(x.size(1), kVisibilityLossWindow) * std::min(x.size(2), kVisibilityLossWindow);
}

// The items' indices by their images' shape, each alone where `together` says no, in order.
template <class Together>
std::vector<std::vector<size_t>> by_image_shape(const std::vector<ItemState>& state,
                                                const std::vector<size_t>& items, Together&& together) {
    return by_shape(items, [&](size_t i) -> const torch::Tensor& { return state[i].x; }, together);
}

// The visibility terms of the images `wanted`. Off the CPU those of one shape are made in
// groups of the size they are judged in (VisibilityLoss::for_each): their originals are
// decomposed in one call, and a group judged later, in the same order, is joined without a copy.
void make_visibility_terms(std::vector<ItemState>& state, const std::vector<size_t>& wanted,
                           const std::vector<PerturbItem>& items, double target, int64_t& pixels_at_once) {
    for (const auto& group : by_image_shape(state, wanted, taken_in_groups)) {
        in_parts_of_pixels(group.size(), judged_pixels(state[group.front()].x), pixels_at_once, [&](size_t begin, size_t end) {
            std::vector<torch::Tensor> originals, alphas;
            std::vector<uint64_t> seeds;
            for (size_t k = begin; k < end; ++k) {
                originals.push_back(state[group[k]].x);
                alphas.push_back(state[group[k]].alpha);
                seeds.push_back(items[group[k]].seed);
            }
            auto terms = VisibilityLoss::for_each(originals, target, alphas, seeds);
            for (size_t k = begin; k < end; ++k) state[group[k]].visibility_term = std::move(terms[k - begin]);
        });
    }
}

// The visibility term's gradient of each live image due for a fresh one this step (undefined
// for the others), weighted as the loss weighs it. `pixels_at_once`: a group's size, lowered
// for the rest of the run where a group ran out of memory.
std::vector<torch::Tensor> fresh_visibility_gradients(std::vector<ItemState>& state, const std::vector<size_t>& live,
                                                      const PerturbSettings& settings, int64_t& pixels_at_once) {
    std::vector<torch::Tensor> fresh(state.size());
    std::vector<size_t> due;
    for (size_t i : live)
        if (state[i].visibility_term && state[i].visibility_grad->due(state[i].schedule->steps_taken()))
            due.push_back(i);
    const auto groups = by_image_shape(state, due, taken_in_groups);
    for (const auto& group : groups) {
        in_parts_of_pixels(group.size(), judged_pixels(state[group.front()].x), pixels_at_once, [&](size_t begin, size_t end) {
            std::vector<VisibilityLoss*> terms;
            std::vector<torch::Tensor> images;
            for (size_t k = begin; k < end; ++k) {
                terms.push_back(state[group[k]].visibility_term.get());
                images.push_back(state[group[k]].image);
            }
            // Each image's term depends on that image alone: the sum's gradient is each one's own.
            const auto grads = torch::autograd::grad({visibility_terms(terms, images).sum()}, images);
            for (size_t k = begin; k < end; ++k) fresh[group[k]] = settings.visibility_loss * grads[k - begin];
        });
    }
    return fresh;
}

// The live images' views for member `m` this step, image by image in live order: [sum of
// views, 3, size, size], in [0, 1] by the projection, and in `counts` how many each has; the
// clean halves of paired views appended to `clean_views` in live order. Off the CPU the views
// of images of one shape are sampled together.
torch::Tensor step_views(std::vector<ItemState>& state, const std::vector<size_t>& live, size_t m,
                         std::vector<int64_t>& counts, std::vector<torch::Tensor>& clean_views) {
    std::vector<torch::Tensor> blocks;  // the views of one image, or of a group sampled together
    std::vector<std::vector<size_t>> block_items;
    std::vector<size_t> unpaired;
    for (size_t i : live) {
        auto& s = state[i];
        if (!s.members[m].paired) {
            unpaired.push_back(i);
            continue;
        }
        auto pair = s.members[m].views->sample_pair(s.image, s.x);
        blocks.push_back(std::move(pair.first));
        block_items.push_back({i});
        clean_views.push_back(pair.second.detach());
    }
    for (const auto& group : by_image_shape(state, unpaired, taken_in_groups)) {
        std::vector<ViewSampler*> samplers;
        std::vector<torch::Tensor> images;
        for (size_t i : group) {
            samplers.push_back(state[i].members[m].views.get());
            images.push_back(state[i].image);
        }
        blocks.push_back(group.size() == 1 ? samplers.front()->sample(images.front())
                                           : ViewSampler::sample_together(samplers, images));
        block_items.push_back(group);
    }
    // Where each image's views are among the blocks' rows.
    std::vector<int64_t> first_row(state.size()), count(state.size());
    std::vector<size_t> order;
    int64_t rows = 0;
    for (size_t b = 0; b < blocks.size(); ++b) {
        const int64_t each = blocks[b].size(0) / int64_t(block_items[b].size());
        for (size_t i : block_items[b]) {
            first_row[i] = rows;
            count[i] = each;
            rows += each;
            order.push_back(i);
        }
    }
    counts.clear();
    for (size_t i : live) counts.push_back(count[i]);
    const auto all = blocks.size() == 1 ? blocks.front() : torch::cat(blocks, 0);
    if (order == live) return all;
    std::vector<int64_t> index;
    for (size_t i : live)
        for (int64_t r = 0; r < count[i]; ++r) index.push_back(first_row[i] + r);
    return all.index_select(0, to_device_async(index, all.device()));
}

bool any_file_share(const std::vector<ItemState>& state, const std::vector<size_t>& live) {
    return std::any_of(live.begin(), live.end(), [&](size_t i) { return bool(state[i].file_share); });
}

// Off the CPU, the live images' losses for an embedding member, [live] (unweighted by the
// member), in one set of operations (embedding_losses); `per_view`, when given, receives the
// views' losses. Undefined where each image takes its own aim_loss(): on the CPU (whose
// result stays what it was), for a latent, a lone image, or aims of different kinds.
torch::Tensor losses_together(const std::vector<ItemState>& state, const std::vector<size_t>& live, size_t m,
                              const Encoder& encoder, const torch::Tensor& outputs, const std::vector<int64_t>& counts,
                              const PerturbSettings& settings, torch::Tensor* per_view) {
    if (live.size() < 2 || is_latent(encoder) || takes_fused_kernels(outputs)) return {};
    const auto& first = state[live.front()].members[m];
    std::vector<torch::Tensor> targets, aways;
    for (size_t k = 0; k < live.size(); ++k) {
        const auto& ms = state[live[k]].members[m];
        if (counts[k] != counts.front() || ms.aim.target.defined() != first.aim.target.defined() ||
            ms.views->weights().defined() != first.views->weights().defined())
            return {};
        if (ms.aim.target.defined()) targets.push_back(ms.aim.target);
        aways.push_back(ms.aim.away);
    }
    return embedding_losses(outputs, counts.front(), targets.empty() ? torch::Tensor() : torch::stack(targets),
                            torch::stack(aways), settings.source_weight, first.views->weights(), per_view);
}

// `sum` plus `v`, or `v` where there is no sum yet.
void add_to(torch::Tensor& sum, const torch::Tensor& v) { sum = sum.defined() ? sum + v : v; }

// The budgets of the images `due`, steered toward the visibility `target`: shrunk where the
// change shows, grown where it does not. Off the CPU, images of one shape are compared in
// one call (seen_change_maps), in parts of at most `pixels_at_once`, as the term is.
void steer_budgets(std::vector<ItemState>& state, const std::vector<size_t>& due, double target,
                   int64_t& pixels_at_once) {
    torch::NoGradGuard no_grad;
    // Measured on the 8-bit grid the file will most likely have.
    const auto on_grid = [](const torch::Tensor& image) { return torch::round(image * 255.0) / 255.0; };
    std::vector<size_t> measurable;
    for (size_t i : due)
        if (std::min(state[i].x.size(1), state[i].x.size(2)) >= 8) measurable.push_back(i);  // else too small
    std::vector<torch::Tensor> maps(state.size());
    for (const auto& group : by_image_shape(state, measurable, compared_in_groups)) {
        const auto& first = state[group.front()];
        if (!compared_in_groups(first.x)) {  // a group of one
            maps[group.front()] = seen_change(first.x, on_grid(first.image), first.alpha).distmap;
            continue;
        }
        const int64_t pixels = first.x.size(1) * first.x.size(2);
        in_parts_of_pixels(group.size(), pixels, pixels_at_once, [&](size_t begin, size_t end) {
            std::vector<torch::Tensor> originals, changed, alphas;
            // The visibility terms' comparators of the originals, where every image of the
            // part is opaque and has one: then only the changed images are decomposed.
            std::vector<const TorchButteraugli*> comparators;
            for (size_t k = begin; k < end; ++k) {
                const auto& s = state[group[k]];
                originals.push_back(s.x);
                changed.push_back(on_grid(s.image));
                alphas.push_back(s.alpha);
                if (s.visibility_term && s.visibility_term->comparator() && !s.alpha.defined())
                    comparators.push_back(s.visibility_term->comparator());
            }
            const auto seen = comparators.size() == originals.size()
                                  ? seen_change_maps_with(comparators, originals, changed)
                                  : seen_change_maps(originals, changed, alphas);
            for (size_t k = begin; k < end; ++k) maps[group[k]] = seen[int64_t(k - begin)];
        });
    }
    for (size_t i : measurable) {
        auto& s = state[i];
        if (!maps[i].defined()) continue;
        // A little under the target, so the final fit to it rarely has to cut.
        s.budget = steer_budget(s.budget, s.limit, maps[i], 0.9 * target);
        set_box(s);
        s.image.clamp_(s.lo, s.hi);
        s.schedule->disturbed();
        if (s.visibility_grad) s.visibility_grad->forget();
    }
}

}  // namespace

std::vector<torch::Tensor> perturb(Encoder& encoder, const std::vector<PerturbItem>& items,
                                   const PerturbSettings& settings,
                                   const PerturbProgress& progress, PerturbStats* stats) {
    return perturb(std::vector<EnsembleMember>{{&encoder, 1.0f, 0}}, items, settings, progress, stats);
}

std::vector<torch::Tensor> perturb(const std::vector<EnsembleMember>& members,
                                   const std::vector<PerturbItem>& items,
                                   const PerturbSettings& settings,
                                   const PerturbProgress& progress, PerturbStats* stats) {
    TORCH_CHECK(settings.steps >= 1, "perturb: steps must be at least 1");
    TORCH_CHECK(!members.empty(), "perturb: no encoder");
    const auto device = members.front().encoder->device();

    std::vector<ItemState> state(items.size());
    std::vector<size_t> with_term;  // the images that take a visibility term
    for (size_t i = 0; i < items.size(); ++i) {
        const auto& item = items[i];
        TORCH_CHECK(item.image.dim() == 3 && (item.image.size(0) == 1 || item.image.size(0) == 3),
                    "perturb: image ", i, " must be [C,H,W] with C = 1 or 3");
        TORCH_CHECK(item.aims.size() == members.size(), "perturb: image ", i, " has ", item.aims.size(),
                    " aims for ", members.size(), " encoders");
        auto& s = state[i];
        s.x = item.image.detach().to(device, torch::kFloat).contiguous();
        s.budget = item.budget.detach().to(device, torch::kFloat);
        s.limit = item.limit.defined() ? item.limit.detach().to(device, torch::kFloat) : s.budget;
        if (item.alpha.defined()) s.alpha = item.alpha.detach().to(torch::kCPU, torch::kFloat);
        set_box(s);
        s.image = s.x.clone().requires_grad_(true);
        s.rule = std::make_unique<StepRule>(settings.update);
        s.schedule = std::make_unique<StepSchedule>(settings.steps, settings.early_stop);
        if (settings.visibility_loss > 0 && settings.visibility > 0 && butteraugli_available() &&
            std::min(s.x.size(1), s.x.size(2)) >= 8) {
            with_term.push_back(i);
            s.visibility_grad = std::make_unique<ReusedGradient>(settings.visibility_loss_every);
        }
        for (size_t m = 0; m < members.size(); ++m) {
            MemberState ms;
            const bool latent = is_latent(*members[m].encoder);
            const bool given = m < item.clean.size() && item.clean[m].defined();
            // Only what needs it: an embedding aim without a direction to leave, or a latent.
            const bool needs_clean = latent || !(settings.mode == Mode::poison && item.aims[m].away.defined());
            const auto clean = needs_clean ? clean_output(members[m], s.x, given ? item.clean[m] : torch::Tensor())
                                           : torch::Tensor();
            ms.aim = resolve_aim(members[m], item.aims[m], clean, settings.mode);
            ms.paired = latent && !ms.aim.target.defined();
            if (latent) ms.scale = latent_scale(clean);
            // Each member its own view sequence, seeded apart, so adding a member does not
            // change the views another one sees.
            ms.views = std::make_unique<ViewSampler>(s.x, view_size(members[m]), settings.views,
                                                     settings.robust, item.seed + 0x632be59bd9b4e019ULL * m,
                                                     settings.denoise_views, settings.file_jpeg_view,
                                                     settings.file_jpeg_weight);
            s.members.push_back(std::move(ms));
        }
        const int file_views = s.members.front().views->file_views();
        if (settings.lagging_extra_steps > 0 && file_views > 0)
            // Averaged over the early stop's last window before half the run.
            s.file_share = std::make_unique<FileViewShare>(file_views, s.schedule->window());
        if (std::any_of(s.members.begin(), s.members.end(), [](const MemberState& ms) { return ms.paired; })) {
            torch::NoGradGuard no_grad;
            s.image.copy_((s.x + random_start(s.budget, s.x, item.seed)).clamp(s.lo, s.hi));
        }
    }

    int64_t visibility_pixels_at_once = kVisibilityPixelsAtOnce;
    make_visibility_terms(state, with_term, items, settings.visibility, visibility_pixels_at_once);
    const bool steer = settings.visibility > 0 && butteraugli_available();
    while (std::any_of(state.begin(), state.end(), [](const ItemState& s) { return s.active(); })) {
        std::optional<StepPart> part;
        if (steer) {
            part.emplace("belladonna::steering");
            std::vector<size_t> due;
            for (size_t i = 0; i < state.size(); ++i)
                if (state[i].active() && steering_due(*state[i].schedule)) due.push_back(i);
            steer_budgets(state, due, settings.visibility, visibility_pixels_at_once);
        }
        // Settled images leave the batch; each image's progress is its negated loss.
        std::vector<size_t> live;
        for (size_t i = 0; i < state.size(); ++i)
            if (state[i].active()) live.push_back(i);
        std::vector<torch::Tensor> item_progress(state.size());
        // Each image's loss per view, summed over embedding members, while its share is judged.
        std::vector<torch::Tensor> item_view_losses(state.size());
        // One backward pass per member, gradients summed: the members' graphs are never held
        // in memory together.
        std::vector<torch::Tensor> grads(state.size());
        for (size_t m = 0; m < members.size(); ++m) {
            torch::Tensor loss;
            Encoder& encoder = *members[m].encoder;
            const auto member_device = encoder.device();
            std::vector<torch::Tensor> clean_views;
            std::vector<int64_t> counts;
            part.emplace("belladonna::views");
            const auto views = step_views(state, live, m, counts, clean_views).to(member_device);
            part.emplace("belladonna::encoder");
            const auto outputs = encoder.encode_images(views);  // [sum K, D]
            torch::Tensor clean;
            if (!clean_views.empty()) {
                torch::NoGradGuard no_grad;
                clean = encoder.encode_images(torch::cat(clean_views, 0).to(member_device));
            }
            // Each image's loss is a mean over its own views, summed over images, so an
            // image's gradient does not depend on what else is in the batch.
            part.emplace("belladonna::loss");
            torch::Tensor per_view;
            const auto together = losses_together(state, live, m, encoder, outputs, counts, settings,
                                                  any_file_share(state, live) ? &per_view : nullptr);
            // Each image's progress (its negated loss) and, while its file views' share is
            // judged, its views' losses.
            std::vector<torch::Tensor> progress(live.size()), view_loss(live.size());
            if (together.defined()) {
                const auto losses = (members[m].weight * together).to(device);
                loss = losses.sum();
                const auto negated = -losses.detach();
                if (per_view.defined()) per_view = (members[m].weight * per_view.detach()).to(device);
                for (size_t k = 0; k < live.size(); ++k) {
                    progress[k] = negated[int64_t(k)];
                    if (state[live[k]].file_share) view_loss[k] = per_view.narrow(0, int64_t(k) * counts[k], counts[k]);
                }
            } else {
                int64_t offset = 0, clean_offset = 0;
                for (size_t k = 0; k < live.size(); ++k) {
                    const size_t i = live[k];
                    const auto& ms = state[i].members[m];
                    torch::Tensor c;
                    if (ms.paired) {
                        c = clean.narrow(0, clean_offset, counts[k]);
                        clean_offset += counts[k];
                    }
                    const auto l = members[m].weight * ms.scale *
                                   aim_loss(is_latent(encoder), outputs.narrow(0, offset, counts[k]), ms.aim,
                                            c, settings.source_weight, ms.views->weights()).to(device);
                    if (state[i].file_share && !is_latent(encoder)) {
                        torch::NoGradGuard no_grad;
                        view_loss[k] = members[m].weight *
                                       view_losses(outputs.narrow(0, offset, counts[k]).detach(), ms.aim,
                                                   settings.source_weight).to(device);
                    }
                    offset += counts[k];
                    add_to(loss, l);
                    progress[k] = -l.detach();
                }
            }
            for (size_t k = 0; k < live.size(); ++k) {
                add_to(item_progress[live[k]], progress[k]);
                if (view_loss[k].defined()) add_to(item_view_losses[live[k]], view_loss[k]);
            }
            std::vector<torch::Tensor> images;
            for (size_t i : live) images.push_back(state[i].image);
            part.emplace("belladonna::backward");
            const auto member_grads = torch::autograd::grad({loss}, images);
            for (size_t k = 0; k < live.size(); ++k) {
                const size_t i = live[k];
                add_to(grads[i], member_grads[k]);
            }
        }

        part.emplace("belladonna::visibility_term");
        const auto fresh = fresh_visibility_gradients(state, live, settings, visibility_pixels_at_once);
        part.emplace("belladonna::update");
        for (size_t i : live) {
            auto& s = state[i];
            const torch::Tensor visibility_grad =
                s.visibility_term ? s.visibility_grad->at(s.schedule->steps_taken(), [&] { return fresh[i]; })
                                  : torch::Tensor();
            s.rule->apply(s.image, grads[i], visibility_grad, s.budget, step_fraction(s.schedule->position()), s.lo,
                          s.hi);
            s.schedule->record(item_progress[i]);
            if (s.file_share && item_view_losses[i].defined()) {
                s.file_share->record(item_view_losses[i]);
                if (s.schedule->position() >= 0.5) {
                    const auto share = s.file_share->share();
                    if (share) s.judged_share = *share;
                    if (share && *share < settings.lagging_file_share) s.schedule->extend(settings.lagging_extra_steps);
                    s.file_share.reset();
                }
            }
        }
        if (progress) {
            double done = 0;
            for (const auto& s : state)
                // The schedule's position, which never goes back when a run is lengthened.
                done += s.schedule->done() ? 1.0 : s.schedule->position();
            if (!progress(float(done / double(state.size())))) throw Cancelled();
        }
    }
    if (stats) {
        stats->steps.clear();
        stats->file_view_shares.clear();
        for (const auto& s : state) {
            stats->steps.push_back(s.schedule->steps_taken());
            stats->file_view_shares.push_back(s.judged_share);
        }
    }

    std::vector<torch::Tensor> out;
    out.reserve(state.size());
    for (auto& s : state) out.push_back(s.image.detach());
    return out;
}

}  // namespace bd
