// Kernel launches per optimizer step and image, the way a GPU runs a step. On a GPU each
// operator that computes is at least one launch, and at some microseconds a launch a step
// of a batch costs its launch count, not its arithmetic, until that count is small. The
// count is the same on any device, so it is taken on the CPU: float tensors sent the
// operations' way (BELLADONNA_FUSED_KERNELS=0) and butteraugli's port where the CPU would
// ask libjxl, as a GPU does. Prints the whole step and its parts measured alone, per image,
// and the run itself part by part (the optimizer's StepPart names).
// With --protect FILE, the whole of a batch's work instead, as `belladonna protect` does it
// (the Protector): the preparation, the run, the fit to the file and the report's metrics,
// on crops of FILE, per image, with the memory each part moves and the arithmetic of its
// matrix products and convolutions: what a GPU's time is made of once launches are few.
// With BELLADONNA_CUDA_KERNELS=1, this project's own GPU kernels (perturb/cuda_kernels.h) take
// their part, their blocks run on the CPU: each counts as one launch with the bytes of the
// planes it reads and writes (their arithmetic, a few additions a tap, is not counted).
// Usage: bench_launches [--side N] [--batch B] [--steps S] [--preset fast|default|slow]
//                       [--by-op K]  (the K most frequent operators of the whole run)
//                       [--part NAME]  (with --by-op: of that part of the run only)
//                       [--protect FILE]  (crops of FILE, side x side, protected whole)
//                       [--encoder tiny|vit-b32]  (a tiny CLIP, or ViT-B/32's shape: random weights)
//                       [--backward-by-node 1]  (gradients' launches under their autograd node)
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
#include "src/io/image_io.h"
#include "src/protector.h"
#include "src/runtime/threads.h"
#include "src/settings.h"
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

using ByName = std::map<std::string, long>;
using ByPartAndName = std::map<std::pair<std::string, std::string>, long>;
using BytesByPartAndName = std::map<std::pair<std::string, std::string>, double>;

struct Counts {
    std::mutex mutex;
    ByName by_name;
    std::map<std::string, long> by_part;  // the optimizer's part of a step (its StepPart names)
    ByPartAndName by_part_and_name;
    long launches = 0;
    long host_reads = 0;  // a device value read into the host: the host waits for the GPU
    // Of the launches: the bytes their tensors read and write, and the arithmetic of their
    // matrix products and convolutions (multiply-adds count two).
    std::map<std::string, double> bytes_by_part, flops_by_part;
    BytesByPartAndName bytes_by_part_and_name;
};
Counts counts;
// The bytes of the tensors among `values`: each tensor's elements, or its storage where that
// is smaller (a broadcast reads its storage, not every element it repeats).
template <typename Values>
double bytes_of(const Values& values) {
    double bytes = 0;
    auto add = [&](const at::Tensor& t) {
        if (!t.defined() || !t.has_storage()) return;
        bytes += std::min(double(t.numel()) * double(t.element_size()), double(t.storage().nbytes()));
    };
    for (const auto& v : values) {
        if (v.isTensor()) add(v.toTensor());
        else if (v.isTensorList())
            for (const at::Tensor& t : v.toTensorList()) add(t);
    }
    return bytes;
}

// What the end of an operator needs of its inputs, taken at its start (its inputs are gone by
// then): their bytes, and for a product or a convolution their sizes.
struct InputsSeen {
    double bytes = 0;
    std::vector<std::vector<int64_t>> sizes;  // of the first three inputs (empty: not a tensor)
    int gradients_asked = 1;                  // of a convolution's gradient: the input's and/or the weight's
};

// (Debian 12's libtorch runs attention as bmm, counted here; a libtorch 2.x's fused attention
// kernels are not.)
bool multiplies(const char* name) {
    for (const char* n : {"aten::mm", "aten::bmm", "aten::addmm", "aten::baddbmm", "aten::_convolution",
                          "aten::convolution_backward"})
        if (!std::strcmp(n, name)) return true;
    return false;
}

InputsSeen inputs_seen(const at::RecordFunction& fn) {
    InputsSeen seen;
    const auto in = fn.inputs();
    seen.bytes = bytes_of(in);
    // What these only write is counted once, as their output, not also as an input read.
    const bool writes_only_self = !std::strcmp(fn.name(), "aten::copy_") || !std::strcmp(fn.name(), "aten::fill_") ||
                                  !std::strcmp(fn.name(), "aten::zero_");
    if (writes_only_self && !in.empty()) seen.bytes -= bytes_of(in.slice(0, 1));
    if (!multiplies(fn.name())) return seen;
    for (size_t k = 0; k < 3 && k < in.size(); ++k)
        seen.sizes.push_back(in[k].isTensor() ? in[k].toTensor().sizes().vec() : std::vector<int64_t>{});
    if (!in.empty() && in.back().isBoolList()) {
        const auto mask = in.back().toBoolList();
        seen.gradients_asked = int(mask.size() > 0 && mask.get(0)) + int(mask.size() > 1 && mask.get(1));
    }
    return seen;
}

// The arithmetic of a matrix product or a convolution (a multiply-add is two), else 0.
double flops_of(const std::string& name, const InputsSeen& in, const std::vector<c10::IValue>& outputs) {
    auto sizes = [&](size_t k) { return k < in.sizes.size() ? in.sizes[k] : std::vector<int64_t>{}; };
    // mm(a, b), bmm(a, b); addmm(c, a, b), baddbmm(c, a, b): [B,] M x K times K x N.
    const bool added = name == "aten::addmm" || name == "aten::baddbmm";
    if (name == "aten::mm" || name == "aten::bmm" || added) {
        const auto a = sizes(added ? 1 : 0), b = sizes(added ? 2 : 1);
        if (a.size() < 2 || b.size() < 2) return 0;
        const double batch = a.size() == 3 ? double(a[0]) : 1.0;
        return 2.0 * batch * double(a[a.size() - 2]) * double(a.back()) * double(b.back());
    }
    // A convolution: its output times what each output element sums. Its gradient: as much
    // for each of the input's and the weight's asked for.
    const bool backward = name == "aten::convolution_backward";
    if (name != "aten::_convolution" && !backward) return 0;
    const auto output = backward                                          ? sizes(0)
                        : !outputs.empty() && outputs[0].isTensor() ? outputs[0].toTensor().sizes().vec()
                                                                        : std::vector<int64_t>{};
    const auto weight = sizes(backward ? 2 : 1);
    if (output.size() < 3 || weight.size() < 3) return 0;
    double per_output = 1, out = 1;
    for (size_t k = 1; k < weight.size(); ++k) per_output *= double(weight[k]);  // C_in / groups x kernel
    for (int64_t n : output) out *= double(n);
    return 2.0 * out * per_output * (backward ? in.gradients_asked : 1);
}

// Per thread, the operators running, innermost last: each one's name and whether one it
// dispatched counted.
struct Running {
    std::string name;
    bool launched_below = false;
    bool builds_on_host = false;  // see element_fill
    InputsSeen inputs;
};
thread_local std::vector<Running> running;
thread_local std::vector<std::string> parts;  // the optimizer's parts running, innermost last
// --backward-by-node: a gradient's launches counted as parts named after the autograd node
// that made them (PowBackward0, ...), not the part that asked for the gradient.
bool backward_by_node = false;

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
                   if (fn.scope() == at::RecordScope::BACKWARD_FUNCTION && backward_by_node)
                       parts.push_back(std::string("backward of ") + fn.name());
                   if (fn.scope() != at::RecordScope::USER_SCOPE) running.push_back({fn.name(), false, element_fill(fn), inputs_seen(fn)});
                   return nullptr;
               },
               [](const at::RecordFunction& fn, at::ObserverContext*) {
                   if (fn.scope() == at::RecordScope::USER_SCOPE) {
                       parts.pop_back();
                       return;
                   }
                   if (fn.scope() == at::RecordScope::BACKWARD_FUNCTION && backward_by_node) parts.pop_back();
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
                   const InputsSeen inputs = std::move(running.back().inputs);
                   running.pop_back();
                   if (launch || read) {
                       std::lock_guard<std::mutex> lock(counts.mutex);
                       if (launch) {
                           ++counts.launches;
                           const std::string part = parts.empty() ? "set-up, outside the steps" : parts.back();
                           ++counts.by_name[fn.name()];
                           ++counts.by_part[part];
                           ++counts.by_part_and_name[{part, fn.name()}];
                           const double bytes = inputs.bytes + bytes_of(fn.outputs());
                           counts.bytes_by_part[part] += bytes;
                           counts.bytes_by_part_and_name[{part, fn.name()}] += bytes;
                           counts.flops_by_part[part] += flops_of(fn.name(), inputs, fn.outputs());
                       }
                       else ++counts.host_reads;
                   }
                   if ((launch || below) && !running.empty()) running.back().launched_below = true;
               })
        .needsInputs(true)
        .needsOutputs(true)
        .scopes({at::RecordScope::FUNCTION, at::RecordScope::BACKWARD_FUNCTION, at::RecordScope::USER_SCOPE});
}

// Launches and host reads of one call of `run`.
std::pair<long, long> counted(const std::function<void()>& run) {
    counts.launches = counts.host_reads = 0;
    counts.by_name.clear();
    counts.by_part.clear();
    counts.by_part_and_name.clear();
    counts.bytes_by_part.clear();
    counts.flops_by_part.clear();
    counts.bytes_by_part_and_name.clear();
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

// The `top` most frequent operators of a count, of the part `only_part` (all when empty),
// each divided by `per`; with `bytes` (a part's), also the megabytes each moved.
void print_most_frequent(const ByName& by_name, const ByPartAndName& by_part_and_name, int top,
                         const std::string& only_part, double per, const BytesByPartAndName* bytes = nullptr) {
    std::vector<std::pair<long, std::string>> ranked;
    if (only_part.empty()) {
        for (const auto& [name, n] : by_name) ranked.push_back({n, name});
    } else {
        std::printf("\nin %s:%s\n", only_part.c_str(), bytes ? " launches, MB read and written" : "");
        for (const auto& [key, n] : by_part_and_name)
            if (key.first == only_part) ranked.push_back({n, key.second});
    }
    std::sort(ranked.rbegin(), ranked.rend());
    for (int k = 0; k < top && k < int(ranked.size()); ++k) {
        std::printf("  %8.1f  ", double(ranked[k].first) / per);
        if (bytes && !only_part.empty()) {
            const auto moved = bytes->find({only_part, ranked[k].second});
            std::printf("%9.1f  ", moved == bytes->end() ? 0.0 : moved->second / 1e6 / per);
        }
        std::printf("%s\n", ranked[k].second.c_str());
    }
}

// `side` x `side` of `image` from (left, top), interleaved samples as read, metadata dropped.
bd::Image crop(const bd::Image& image, uint32_t left, uint32_t top, uint32_t side) {
    bd::Image out;
    out.width = out.height = side;
    out.channels = image.channels;
    out.bits = image.bits;
    out.format = image.format;
    const size_t pixel = size_t(image.channels) * image.bytes_per_sample();
    for (uint32_t y = top; y < top + side; ++y) {
        const auto row = image.data.begin() + std::ptrdiff_t(y * image.row_bytes() + left * pixel);
        out.data.insert(out.data.end(), row, row + std::ptrdiff_t(side * pixel));
    }
    return out;
}

// The Protector's whole work on `batch` crops of `file`, one per 16 pixels along its
// diagonal, counted part by part per image.
int protect_whole(const std::string& file, int64_t side, int batch, int steps, const std::string& preset,
                  const std::string& model, int by_op, const std::string& only_part) {
    const auto image = bd::read_image(file);
    const int64_t room = std::min<int64_t>(image.width, image.height) - side;
    if (room < 16 * int64_t(batch - 1)) {
        std::fprintf(stderr, "%s: %u x %u has no room for %d crops of %lld px\n", file.c_str(), image.width,
                     image.height, batch, (long long)side);
        return 1;
    }
    std::vector<bd::Image> crops;
    for (int k = 0; k < batch; ++k) crops.push_back(crop(image, uint32_t(16 * k), uint32_t(16 * k), uint32_t(side)));
    std::vector<const bd::Image*> images;
    for (const auto& c : crops) images.push_back(&c);
    auto protector = bd::Protector::open(model, "cpu");
    bd::ProtectSettings settings;
    settings.target = "cat";
    settings.steps = steps;
    settings.quality = bd::parse_quality(preset);
    // One small image first, not counted: what a Protector makes once for all its batches (the
    // zero-shot concept table, read from the disk cache or, on a model's first run, made by the
    // text tower and stored there) would otherwise land in the metrics' row of one run and not
    // the next.
    {
        const auto small = crop(image, 0, 0, 64);
        bd::ProtectSettings once = settings;
        once.steps = 1;
        protector->protect_batch({&small}, once);
    }
    std::vector<bd::ProtectResult> results;
    const auto [whole, reads] = counted([&] { results = protector->protect_batch(images, settings); });
    double taken = 0;
    for (const auto& r : results) taken += r.steps;
    std::printf("%s, %d crops of %lld px, %d steps (%.1f taken on average), preset %s, the way a GPU runs it\n",
                file.c_str(), batch, (long long)side, steps, taken / batch, preset.c_str());
    std::printf("| part | launches per image | host reads per image | GB read and written per image | GFLOP "
                "of products and convolutions per image |\n|---|---|---|---|---|\n");
    double bytes = 0, flops = 0;
    for (const auto& [part, n] : counts.bytes_by_part) bytes += n;
    for (const auto& [part, n] : counts.flops_by_part) flops += n;
    std::printf("| all of it | %.0f | %.0f | %.2f | %.1f |\n", double(whole) / batch, double(reads) / batch,
                bytes / 1e9 / batch, flops / 1e9 / batch);
    for (const auto& [part, n] : counts.by_part)
        std::printf("| %s | %.0f | | %.2f | %.1f |\n", part.c_str(), double(n) / batch,
                    counts.bytes_by_part[part] / 1e9 / batch, counts.flops_by_part[part] / 1e9 / batch);
    print_most_frequent(counts.by_name, counts.by_part_and_name, by_op, only_part, batch,
                        &counts.bytes_by_part_and_name);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    int64_t side = 1024;
    int batch = 1, steps = 8, by_op = 0;
    std::string preset = "default", only_part, protect_file, encoder = "tiny";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--side")) side = std::atoll(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--batch")) batch = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--steps")) steps = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--preset")) preset = argv[i + 1];
        else if (!std::strcmp(argv[i], "--by-op")) by_op = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--part")) only_part = argv[i + 1];
        else if (!std::strcmp(argv[i], "--protect")) protect_file = argv[i + 1];
        else if (!std::strcmp(argv[i], "--encoder")) encoder = argv[i + 1];
        else if (!std::strcmp(argv[i], "--backward-by-node")) backward_by_node = std::atoi(argv[i + 1]) != 0;
    }
    // Read once, at first use: set before anything runs.
    setenv("BELLADONNA_FUSED_KERNELS", "0", 0);
    setenv("BELLADONNA_BUTTERAUGLI", "torch", 0);
    bd::configure_threads(0);
    bd::test::TempDir dir;
    const auto model = bd::test::write_tiny_clip(dir.path(), bd::test::TinyFormat::open_clip,
                                                 encoder == "vit-b32" ? bd::test::vit_b32_options()
                                                                      : bd::test::TinyClipOptions{});
    if (!protect_file.empty()) return protect_whole(protect_file, side, batch, steps, preset, model, by_op, only_part);
    auto enc = bd::load_encoder(model);
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
    // With the visibility term's gradient where the run has the term.
    const auto extra = s.visibility_loss > 0 ? torch::randn_like(delta) : torch::Tensor();
    const auto [rule_launches, rule_reads] =
        counted([&] { rule.apply(delta, grad, extra, x.budget, 0.1f, lo, hi); });
    std::printf("| the update | %ld |\n", rule_launches);
    std::printf("host reads in the whole run: %ld (%.2f per image and step)\n", reads, double(reads) / per);

    std::printf("\n| part of the run | launches per image and step |\n|---|---|\n");
    for (const auto& [part, n] : by_part) std::printf("| %s | %.0f |\n", part.c_str(), double(n) / per);

    print_most_frequent(by_name, by_part_and_name, by_op, only_part, per);
}
