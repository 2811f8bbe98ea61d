// Kernel launches per optimizer step and image, the way a GPU runs a step. On a GPU each
// operator that computes is at least one launch, and at some microseconds a launch a step
// of a batch costs its launch count, not its arithmetic, until that count is small. The
// count is the same on any device, so it is taken on the CPU: float tensors sent the
// operations' way (BELLADONNA_FUSED_KERNELS=0) and butteraugli's port where the CPU would
// ask libjxl, as a GPU does. Prints the whole step and its parts measured alone, per image,
// and the run itself part by part (the optimizer's StepPart names).
// Usage: bench_launches [--side N] [--batch B] [--steps S] [--preset fast|default|slow]
//                       [--by-op K]  (the K most frequent operators of the whole run)
//                       [--part NAME]  (with --by-op: of that part of the run only)
#include <ATen/record_function.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "encoders/encoder.h"
#include "perturb/optimizer.h"
#include "perturb/settings.h"
#include "perturb/step_rule.h"
#include "perturb/views/views.h"
#include "perturb/visibility/mask.h"
#include "perturb/visibility/visibility_loss.h"
#include "src/runtime/threads.h"
#include "util/test_images.h"
#include "util/tiny_clip.h"

namespace {

// Operators that launch nothing themselves: views, allocation, metadata, conversions that
// change nothing. An operator counts when it is none of them and nothing it dispatched
// counted, so a composite counts as what it runs; autograd's node wrappers never count.
bool launches_nothing(const char* name) {
    static const char* const names[] = {
        "aten::as_strided", "aten::empty", "aten::empty_strided", "aten::empty_like", "aten::resolve_conj",
        "aten::resolve_neg", "aten::_reshape_alias", "aten::view", "aten::_unsafe_view", "aten::reshape",
        "aten::lift_fresh", "detach", "aten::detach", "aten::detach_", "aten::result_type", "aten::expand",
        "aten::expand_as", "aten::slice", "aten::select", "aten::narrow", "aten::t", "aten::transpose",
        "aten::permute", "aten::unsqueeze", "aten::squeeze", "aten::alias", "aten::scalar_tensor", "aten::to",
        "aten::unbind", "aten::split", "aten::split_with_sizes", "aten::chunk", "aten::unfold", "aten::movedim",
        "aten::flatten", "aten::view_as", "aten::diagonal", "aten::set_", "aten::resize_", "aten::contiguous",
        "aten::_to_copy", "aten::clone", "aten::zeros", "aten::zeros_like", "aten::ones", "aten::ones_like",
        "aten::full", "aten::full_like", "aten::unflatten", "aten::squeeze_", "aten::unsqueeze_",
        "aten::is_nonzero", "aten::item"};
    if (std::strncmp(name, "autograd::", 10) == 0) return true;
    for (const char* n : names)
        if (std::strcmp(n, name) == 0) return true;
    return false;
}

// Operators a GPU runs as one library call (cuDNN's convolutions), whatever the CPU's
// kernels dispatch below them (unfolding, fills, copies): each counts once. The gradient's
// convolution counts once too: the port's taps take no gradient, so only the input's is made.
bool one_call_on_a_gpu(const std::string& name) {
    return name == "aten::_convolution" || name == "aten::convolution_backward";
}

struct Counts {
    std::mutex mutex;
    std::map<std::string, long> by_name;
    std::map<std::string, long> by_part;  // the optimizer's part of a step (its StepPart names)
    std::map<std::pair<std::string, std::string>, long> by_part_and_name;
    long launches = 0;
    long host_reads = 0;  // a device value read into the host: the host waits for the GPU
};
Counts counts;
// Per thread, the operators running, innermost last: each one's name and whether one it
// dispatched counted.
struct Running {
    std::string name;
    bool launched_below = false;
    bool builds_on_host = false;  // see element_fill
};
thread_local std::vector<Running> running;
thread_local std::vector<std::string> parts;  // the optimizer's parts running, innermost last

// A conversion an operator makes of its own inputs (a float times a double scalar): the
// CPU's kernels copy such inputs first, a GPU's kernels convert as they read.
// Checked for a copy_ still on the stack: [..., op, aten::to, aten::_to_copy, aten::copy_].
bool converts_own_input_below() {
    const size_t n = running.size();
    return n >= 4 && running[n - 2].name == "aten::_to_copy" && running[n - 3].name == "aten::to" &&
           running[n - 4].name.rfind("aten::", 0) == 0;
}

// A fill of one element of a tensor: how libtorch builds a constant from a braced list
// (torch::tensor({...})), element by element, on the host. A GPU receives such a constant
// once (device_constant) and launches nothing for it.
bool element_fill(const at::RecordFunction& fn) {
    if (std::strcmp(fn.name(), "aten::fill_") != 0) return false;
    const auto inputs = fn.inputs();
    return !inputs.empty() && inputs[0].isTensor() && inputs[0].toTensor().dim() == 0;
}

at::RecordFunctionCallback counting_callback() {
    return at::RecordFunctionCallback(
               [](const at::RecordFunction& fn) -> std::unique_ptr<at::ObserverContext> {
                   if (fn.scope() == at::RecordScope::USER_SCOPE) parts.push_back(fn.name());
                   else running.push_back({fn.name(), false, element_fill(fn)});
                   return nullptr;
               },
               [](const at::RecordFunction& fn, at::ObserverContext*) {
                   if (fn.scope() == at::RecordScope::USER_SCOPE) {
                       parts.pop_back();
                       return;
                   }
                   const bool below = running.back().launched_below;
                   const bool read = !std::strcmp(fn.name(), "aten::_local_scalar_dense");
                   const bool inside_one_call = std::any_of(running.begin(), running.end() - 1, [](const Running& r) {
                       return one_call_on_a_gpu(r.name);
                   });
                   if (inside_one_call) {
                       running.pop_back();
                       return;
                   }
                   const bool launch = (!below || one_call_on_a_gpu(fn.name())) && !read && !running.back().builds_on_host &&
                                       fn.scope() != at::RecordScope::BACKWARD_FUNCTION &&
                                       !launches_nothing(fn.name()) &&
                                       !(!std::strcmp(fn.name(), "aten::copy_") && converts_own_input_below());
                   running.pop_back();
                   if (launch || read) {
                       std::lock_guard<std::mutex> lock(counts.mutex);
                       if (launch) {
                           ++counts.launches;
                           const std::string part = parts.empty() ? "set-up, outside the steps" : parts.back();
                           ++counts.by_name[fn.name()];
                           ++counts.by_part[part];
                           ++counts.by_part_and_name[{part, fn.name()}];
                       }
                       else ++counts.host_reads;
                   }
                   if ((launch || below) && !running.empty()) running.back().launched_below = true;
               })
        .needsInputs(true)
        .scopes({at::RecordScope::FUNCTION, at::RecordScope::BACKWARD_FUNCTION, at::RecordScope::USER_SCOPE});
}

// Launches and host reads of one call of `run`.
std::pair<long, long> counted(const std::function<void()>& run) {
    counts.launches = counts.host_reads = 0;
    counts.by_name.clear();
    counts.by_part.clear();
    counts.by_part_and_name.clear();
    const auto handle = at::addGlobalCallback(counting_callback());
    run();
    at::removeCallback(handle);
    return {counts.launches, counts.host_reads};
}

bd::PerturbItem item(int64_t side, const bd::Encoder& enc, uint64_t seed) {
    bd::PerturbItem it;
    auto target = torch::ones({enc.embed_dim()});
    it.image = torch::rand({3, side, side});
    it.budget = (8.0f / 255) * bd::perceptual_mask(it.image);
    it.limit = torch::full({1, side, side}, 8.0f / 255);
    it.aims = {bd::EncoderAim{target / target.norm(), {}}};
    it.seed = seed;
    return it;
}

}  // namespace

int main(int argc, char** argv) {
    int64_t side = 1024;
    int batch = 1, steps = 8, by_op = 0;
    std::string preset = "default", only_part;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--side")) side = std::atoll(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--batch")) batch = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--steps")) steps = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--preset")) preset = argv[i + 1];
        else if (!std::strcmp(argv[i], "--by-op")) by_op = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--part")) only_part = argv[i + 1];
    }
    // Read once, at first use: set before anything runs.
    setenv("BELLADONNA_FUSED_KERNELS", "0", 0);
    setenv("BELLADONNA_BUTTERAUGLI", "torch", 0);
    bd::configure_threads(0);
    bd::test::TempDir dir;
    auto enc = bd::load_encoder(bd::test::write_tiny_clip(dir.path(), bd::test::TinyFormat::open_clip));
    std::vector<bd::PerturbItem> items;
    for (int i = 0; i < batch; ++i) items.push_back(item(side, *enc, uint64_t(i)));
    auto s = bd::make_settings("poison", "default", 0, preset, steps, 1);
    s.early_stop = false;  // every step taken
    s.lagging_extra_steps = 0;

    const auto [whole, reads] = counted([&] { bd::perturb(*enc, items, s); });
    const auto by_name = counts.by_name;
    const auto by_part = counts.by_part;
    const auto by_part_and_name = counts.by_part_and_name;
    const double per = double(steps) * double(batch);
    std::printf("side %lld, batch %d, %d steps, preset %s, the way a GPU runs it\n", (long long)side, batch, steps,
                preset.c_str());
    std::printf("| part | launches per image |\n|---|---|\n");
    std::printf("| a step of the whole run, set-up and steering included | %.0f |\n", double(whole) / per);

    // The parts, each once for one image.
    const auto& x = items.front();
    auto image = x.image.clone().requires_grad_(true);
    bd::ViewSampler views(x.image, enc->input_size(), s.views, s.robust, 1, s.denoise_views, s.file_jpeg_view,
                          s.file_jpeg_weight);
    const auto [view_launches, view_reads] =
        counted([&] { torch::autograd::grad({views.sample(image).sum()}, {image}); });
    std::printf("| its %d views, forward and backward, 1 image alone | %ld |\n", s.views, view_launches);
    if (batch > 1) {
        // All the batch's images at once, as the optimizer samples images of one shape off the CPU.
        std::vector<std::unique_ptr<bd::ViewSampler>> samplers;
        std::vector<bd::ViewSampler*> group;
        std::vector<torch::Tensor> images;
        for (const auto& it : items) {
            samplers.push_back(std::make_unique<bd::ViewSampler>(it.image, enc->input_size(), s.views, s.robust,
                                                                 it.seed, s.denoise_views, s.file_jpeg_view,
                                                                 s.file_jpeg_weight));
            group.push_back(samplers.back().get());
            images.push_back(it.image.clone().requires_grad_(true));
        }
        const auto [together, together_reads] = counted([&] {
            torch::autograd::grad({bd::ViewSampler::sample_together(group, images).sum()}, images);
        });
        std::printf("| its %d views, forward and backward, %d images together | %.0f |\n", s.views, batch,
                    double(together) / batch);
    }
    const auto in = torch::rand({long(s.views), 3, enc->input_size(), enc->input_size()}).requires_grad_(true);
    const auto [enc_launches, enc_reads] =
        counted([&] { torch::autograd::grad({enc->encode_images(in).sum()}, {in}); });
    std::printf("| the encoder on them, forward and backward (once for a whole batch) | %ld |\n", enc_launches);
    if (s.visibility_loss > 0) {
        // Alone, and four of one shape at once as the optimizer judges them off the CPU.
        for (const int together : {1, 4}) {
            std::vector<std::unique_ptr<bd::VisibilityLoss>> terms;
            std::vector<bd::VisibilityLoss*> group;
            std::vector<torch::Tensor> changed;
            for (int k = 0; k < together; ++k) {
                terms.push_back(std::make_unique<bd::VisibilityLoss>(x.image, s.visibility, torch::Tensor(), k));
                group.push_back(terms.back().get());
                changed.push_back((x.image + 0.01 * torch::randn_like(x.image)).clamp(0, 1).requires_grad_(true));
            }
            const auto [term_launches, term_reads] =
                counted([&] { torch::autograd::grad({bd::visibility_terms(group, changed).sum()}, changed); });
            std::printf("| the visibility term, forward and backward, %d image%s at once (every %d steps) | %.0f |\n",
                        together, together > 1 ? "s" : "", s.visibility_loss_every, double(term_launches) / together);
        }
    }
    bd::StepRule rule(s.update);
    auto delta = x.image.clone();
    const auto grad = torch::randn_like(delta);
    const auto lo = (x.image - x.budget).clamp_min(0), hi = (x.image + x.budget).clamp_max(1);
    const auto [rule_launches, rule_reads] = counted([&] { rule.apply(delta, grad, x.budget, 0.1f, lo, hi); });
    std::printf("| the update | %ld |\n", rule_launches);
    std::printf("host reads in the whole run: %ld (%.2f per image and step)\n", reads, double(reads) / per);

    std::printf("\n| part of the run | launches per image and step |\n|---|---|\n");
    for (const auto& [part, n] : by_part) std::printf("| %s | %.0f |\n", part.c_str(), double(n) / per);

    std::vector<std::pair<long, std::string>> ranked;
    if (only_part.empty()) {
        for (const auto& [name, n] : by_name) ranked.push_back({n, name});
    } else {
        std::printf("\nin %s:\n", only_part.c_str());
        for (const auto& [key, n] : by_part_and_name)
            if (key.first == only_part) ranked.push_back({n, key.second});
    }
    std::sort(ranked.rbegin(), ranked.rend());
    for (int k = 0; k < by_op && k < int(ranked.size()); ++k)
        std::printf("  %8.1f  %s\n", double(ranked[k].first) / per, ranked[k].second.c_str());
}
