#include "perturb/views/views.h"

#include <algorithm>
#include <cmath>

#include "perturb/device_constant.h"
#include "perturb/jpeg/diff_jpeg.h"
#include "perturb/views/median.h"
#include "perturb/views/resample.h"
#include "perturb/views/unit_clamp.h"
#include "perturb/vector_clones.h"

namespace bd {

torch::Tensor resize_to(const torch::Tensor& images, int64_t h, int64_t w) {
    return resample(images, h, w, ResampleFilter::bilinear);
}

namespace {

// Taps for the `keep` samples from `first` on of an axis of n samples: a crop.
Taps crop_taps(int64_t n, int64_t first, int64_t keep) { return rows_of(identity_taps(n), first, keep); }

// One axis of CLIP's framing of an image whose short side is `side`: the centre square cut
// (where there is one), the short side resized to `size`, the centre `size` samples kept.
Taps framing_axis(int64_t n, int64_t side, int64_t size, bool cut) {
    const int64_t kept = cut ? side : n;
    const double scale = double(size) / double(side);
    const int64_t resized = std::max<int64_t>(size, std::llround(kept * scale));
    const auto to_size = rows_of(resize_taps(kept, resized, ResampleFilter::bicubic), (resized - size) / 2, size);
    return compose(to_size, crop_taps(n, (n - kept) / 2, kept));
}

// Both axes of CLIP's framing of an h x w image. Cropping the centre square first and
// resizing it is CLIP's resize-then-crop up to the filter's reach at the crop edges, and it
// never touches the discarded sides.
Axes framing_axes(int64_t h, int64_t w, int64_t size) {
    const int64_t side = std::min(h, w);
    const bool cut = side < std::max(h, w) && side > size;
    return {framing_axis(h, side, size, cut), framing_axis(w, side, size, cut)};
}

}  // namespace

torch::Tensor resize_center_crop(const torch::Tensor& source, int64_t size) {
    return clamp_to_unit(resample_axes(source, {framing_axes(source.size(2), source.size(3), size)})[0]);
}

namespace {

constexpr int kNoiseBank = 4;

double uniform(std::mt19937_64& rng, double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng);
}
bool chance(std::mt19937_64& rng, double p) { return uniform(rng, 0, 1) < p; }

}  // namespace

ViewSampler::ViewSampler(const torch::Tensor& image, int64_t size, int views, bool robust,
                         uint64_t seed, double denoise, bool file_jpeg, double file_jpeg_weight)
    : size_(size), views_(robust ? std::max(1, views) : 1), robust_(robust), denoise_(denoise),
      file_jpeg_views_(file_jpeg && views_ >= 3 ? std::min(2, views_ - 2) : 0), rng_(seed) {
    if (robust_) {
        auto gen = at::make_generator<at::CPUGeneratorImpl>(seed ^ 0x9e3779b97f4a7c15ULL);
        noise_bank_ = at::randn({kNoiseBank, 3, size, size}, gen, torch::kFloat)
                          .to(image.device());
    }
    if (file_jpeg_views_ > 0 && file_jpeg_weight != 1) {
        TORCH_CHECK(file_jpeg_weight > 0, "ViewSampler: the file's JPEG views need a positive weight");
        std::vector<float> w(views_, 1.0f);
        for (int k = 1; k <= file_jpeg_views_; ++k) w[k] = float(file_jpeg_weight);
        weights_ = torch::tensor(w);
        weights_ = (weights_ / weights_.sum()).to(image.device());
    }
}

torch::Tensor ViewSampler::sample(const torch::Tensor& image) {
    return sample_batch(image.unsqueeze(0));
}

std::pair<torch::Tensor, torch::Tensor> ViewSampler::sample_pair(const torch::Tensor& image,
                                                                 const torch::Tensor& clean) {
    const auto both = sample_batch(torch::stack({image, clean}));  // [views * 2, ...]
    return {both.slice(0, 0, c10::nullopt, 2), both.slice(0, 1, c10::nullopt, 2)};
}

// What one random view does, drawn before any pixel is touched, so that every view's crop
// can be cut from the image in one pass.
struct ViewSampler::Plan {
    int64_t top = 0, left = 0, ch = 0, cw = 0;  // the crop, in the working copy
    int quality = 0;                            // of the JPEG the crop goes through; 0: none
    double denoise = 0;                         // sigma of the noise before the median; 0: none
    int64_t small_h = 0, small_w = 0;           // shrunk to this and enlarged again; 0: not
    double blur = 0;                            // the blur's sigma; 0: none
    int noise = -1;                             // the noise bank's entry; -1: none
    double noise_level = 0;
    int64_t noise_top = 0, noise_left = 0;      // where a denoise view's tiling of it starts
    bool flip = false;
    bool framed = false;                        // to the encoder as view 0 frames the image
};

// A step's views of one image: the copy they are cut from and each view's plan and cut.
struct ViewSampler::Step {
    Axes copy;              // the working copy's taps; identities once the copy is made
    bool made = false;      // the copy is made first, and the cuts read it
    std::vector<Plan> plans;  // views 1, 2, ...
    // View 0's framing, then one cut per plan, but one for all the file's views, which start
    // from the whole copy.
    std::vector<Axes> cuts;
};

ViewSampler::Step ViewSampler::draw_step(int64_t h, int64_t w) {
    // Every view is a crop of one downscaled copy, and all views are cut in one pass that
    // gathers their gradients in one buffer. A copy close to the image's size is never
    // made: each view's taps go from the image through the copy to the view. One at half
    // the image's size or less is made once, since taps through it would grow with the
    // shrink, for every view.
    Step step;
    step.copy = working_copy(h, w);
    if (2 * step.copy.h.out <= step.copy.h.in || 2 * step.copy.w.out <= step.copy.w.in) step.made = true;
    const Axes copy = step.made ? Axes{identity_taps(step.copy.h.out), identity_taps(step.copy.w.out)} : step.copy;
    const auto framing = framing_axes(copy.h.out, copy.w.out, size_);
    step.cuts.push_back({compose(framing.h, copy.h), compose(framing.w, copy.w)});
    for (int k = 1; k < views_; ++k) {
        step.plans.push_back(k <= file_jpeg_views_ ? draw_file_jpeg(copy.h.out, copy.w.out) : draw(copy.h.out, copy.w.out));
        if (k <= 1 || k > file_jpeg_views_) step.cuts.push_back(cut(step.plans.back(), copy));
    }
    return step;
}

torch::Tensor ViewSampler::source_of(const torch::Tensor& rgb, const Step& step) {
    return step.made ? resample_axes(rgb, {step.copy})[0] : rgb;
}

torch::Tensor ViewSampler::sample_batch(const torch::Tensor& batch) {
    const auto rgb = batch.size(1) == 1 ? batch.expand({-1, 3, -1, -1}) : batch;
    const auto step = draw_step(rgb.size(2), rgb.size(3));
    const auto cropped = resample_axes(source_of(rgb, step), step.cuts);
    std::vector<torch::Tensor> views{cropped[0]};
    size_t next = 1;
    if (file_jpeg_views_ > 0) {
        std::vector<int> qualities;
        for (int k = 0; k < file_jpeg_views_; ++k) qualities.insert(qualities.end(), rgb.size(0), step.plans[size_t(k)].quality);
        views.push_back(file_jpeg_views(cropped[next++], qualities));
    }
    for (size_t k = file_jpeg_views_; k < step.plans.size(); ++k) views.push_back(finish(cropped[next++], step.plans[k]));
    return clamp_to_unit(torch::cat(views, 0));
}

namespace {

// The JPEG's blocks of chroma: the differentiable JPEG pads an image to whole ones.
constexpr int64_t kJpegBlock = 16;
int64_t whole_jpeg_blocks(int64_t n) { return (n + kJpegBlock - 1) / kJpegBlock * kJpegBlock; }

// n samples extended to `out` (>= whole_jpeg_blocks(n)) so that a JPEG of the extended image
// holds the JPEG of the n samples alone in its first n, to float rounding: repeated to whole
// blocks, as the JPEG pads an image itself, then mirrored, so the chroma beyond those blocks,
// which their upsampled edge reads, is the chroma at the edge, as when the JPEG replicates it.
Taps jpeg_padding_taps(int64_t n, int64_t out) {
    const int64_t blocks = whole_jpeg_blocks(n);
    Taps t;
    t.out = out;
    t.in = n;
    for (int64_t i = 0; i < out; ++i) {
        int64_t m = i % (2 * blocks);
        if (m >= blocks) m = 2 * blocks - 1 - m;
        t.start.push_back(std::min(m, n - 1));
        t.weight.push_back(1.0f);
        t.first.push_back(i + 1);
    }
    return t;
}

}  // namespace

torch::Tensor ViewSampler::sample_together(const std::vector<ViewSampler*>& samplers,
                                           const std::vector<torch::Tensor>& images) {
    TORCH_CHECK(!samplers.empty() && samplers.size() == images.size(), "sample_together: one sampler per image");
    const ViewSampler& first = *samplers.front();
    for (size_t b = 0; b < samplers.size(); ++b) {
        const auto* s = samplers[b];
        TORCH_CHECK(s->size_ == first.size_ && s->views_ == first.views_ && s->file_jpeg_views_ == first.file_jpeg_views_,
                    "sample_together: samplers of one view size and number of views");
        TORCH_CHECK(images[b].sizes() == images.front().sizes(), "sample_together: images of one shape");
    }
    const auto n = int64_t(samplers.size());
    if (takes_fused_kernels(images.front())) {
        // The CPU's fused loops gain nothing from a batch: each image its own sample().
        std::vector<torch::Tensor> own;
        for (int64_t b = 0; b < n; ++b) own.push_back(samplers[size_t(b)]->sample(images[size_t(b)]));
        return torch::cat(own, 0);
    }
    const auto batch = torch::stack(images);
    const auto rgb = batch.size(1) == 1 ? batch.expand({-1, 3, -1, -1}) : batch;
    std::vector<Step> steps;
    for (auto* s : samplers) steps.push_back(s->draw_step(rgb.size(2), rgb.size(3)));
    // The copy depends on the shape and the view size alone: the same for every image.
    const auto source = source_of(rgb, steps.front());
    const int views = first.views_, file_views = first.file_jpeg_views_;

    // The result is made of blocks of views; image b's view k is row row_of[b * views + k].
    std::vector<torch::Tensor> blocks;
    std::vector<int64_t> row_of(size_t(n * views));
    int64_t rows = 0;
    const auto add_block = [&](torch::Tensor block) {
        const int64_t at = rows;
        rows += block.size(0);
        blocks.push_back(std::move(block));
        return at;
    };
    // View 0 and the whole copy the file's views start from: the same taps for every image.
    std::vector<Axes> shared{steps.front().cuts[0]};
    if (file_views > 0) shared.push_back(steps.front().cuts[1]);
    const auto cut_shared = resample_axes(source, shared);
    const int64_t framed = add_block(cut_shared[0]);
    for (int64_t b = 0; b < n; ++b) row_of[size_t(b * views)] = framed + b;
    if (file_views > 0) {
        std::vector<int> qualities(size_t(file_views * n));
        for (int64_t b = 0; b < n; ++b)
            for (int k = 0; k < file_views; ++k) qualities[size_t(k * n + b)] = steps[size_t(b)].plans[size_t(k)].quality;
        const int64_t file = add_block(first.file_jpeg_views(cut_shared[1], qualities));
        for (int64_t b = 0; b < n; ++b)
            for (int k = 0; k < file_views; ++k) row_of[size_t(b * views + 1 + k)] = file + k * n + b;
    }

    // The random views: those cut straight to the encoder's input in one cut; those
    // re-encoded padded to one size, for one cut, one JPEG and one resize; those with a
    // median, which looks at a crop's neighbours, each its own way.
    struct Random {
        int64_t image;
        int view;
        const Plan* plan;
        const Axes* cut;
    };
    std::vector<Random> direct, encoded;
    for (int64_t b = 0; b < n; ++b) {
        const auto& step = steps[size_t(b)];
        size_t next = file_views > 0 ? 2 : 1;
        for (size_t k = size_t(file_views); k < step.plans.size(); ++k) {
            const Random r{b, int(k) + 1, &step.plans[k], &step.cuts[next++]};
            if (r.plan->denoise > 0) {
                const auto cut = resample_axes(source.narrow(0, b, 1), {*r.cut})[0];
                row_of[size_t(b * views + r.view)] = add_block(samplers[size_t(b)]->finish(cut, *r.plan));
            } else {
                (r.plan->quality > 0 ? encoded : direct).push_back(r);
            }
        }
    }
    std::vector<torch::Tensor> parts;
    if (!direct.empty()) {
        std::vector<Axes> cuts;
        std::vector<int64_t> image_of;
        for (const auto& r : direct) {
            cuts.push_back(*r.cut);
            image_of.push_back(r.image);
        }
        parts.push_back(resample_rows(source, cuts, image_of));
    }
    if (!encoded.empty()) {
        int64_t h = 0, w = 0;
        for (const auto& r : encoded) {
            h = std::max(h, whole_jpeg_blocks(r.plan->ch));
            w = std::max(w, whole_jpeg_blocks(r.plan->cw));
        }
        std::vector<Axes> cuts, to_encoder;
        std::vector<int64_t> image_of, own;
        std::vector<int> qualities;
        for (const auto& r : encoded) {
            cuts.push_back({compose(jpeg_padding_taps(r.plan->ch, h), r.cut->h), compose(jpeg_padding_taps(r.plan->cw, w), r.cut->w)});
            image_of.push_back(r.image);
            qualities.push_back(r.plan->quality);
            // What the padding added is read by nothing.
            const auto taps = samplers[size_t(r.image)]->to_encoder(*r.plan);
            to_encoder.push_back({shifted(taps.h, 0, h), shifted(taps.w, 0, w)});
            own.push_back(int64_t(own.size()));
        }
        const auto jpeg = differentiable_jpeg(resample_rows(source, cuts, image_of), qualities);
        parts.push_back(resample_rows(jpeg, to_encoder, own));
    }
    if (!parts.empty()) {
        std::vector<const Plan*> plans;
        std::vector<int64_t> image_of;
        std::vector<int64_t> slots;
        for (const auto* list : {&direct, &encoded})
            for (const auto& r : *list) {
                plans.push_back(r.plan);
                image_of.push_back(r.image);
                slots.push_back(r.image * views + r.view);
            }
        const int64_t random = add_block(
            noised_and_flipped(samplers, plans, image_of, parts.size() == 1 ? parts[0] : torch::cat(parts, 0)));
        for (size_t r = 0; r < slots.size(); ++r) row_of[size_t(slots[r])] = random + int64_t(r);
    }

    auto all = blocks.size() == 1 ? blocks[0] : torch::cat(blocks, 0);
    bool in_order = true;
    for (size_t k = 0; in_order && k < row_of.size(); ++k) in_order = row_of[k] == int64_t(k);
    if (!in_order) all = all.index_select(0, to_device_async(row_of, all.device()));
    return clamp_to_unit(all);
}

torch::Tensor ViewSampler::noised_and_flipped(const std::vector<ViewSampler*>& samplers,
                                              const std::vector<const Plan*>& plans,
                                              const std::vector<int64_t>& image_of, torch::Tensor views) {
    std::vector<torch::Tensor> noise;
    std::vector<float> levels, flips;
    bool noised = false, flip = false;
    for (size_t r = 0; r < plans.size(); ++r) {
        const auto& p = *plans[r];
        noised = noised || p.noise >= 0;
        flip = flip || p.flip;
        // A view without noise takes the first entry at level 0: it adds exactly nothing.
        noise.push_back(samplers[size_t(image_of[r])]->noise_bank_[std::max(p.noise, 0)]);
        levels.push_back(p.noise >= 0 ? float(p.noise_level) : 0.0f);
        flips.push_back(p.flip ? 1.0f : 0.0f);
    }
    const auto device = views.device();
    if (noised) views = views + torch::stack(noise) * to_device_async(levels, device).view({-1, 1, 1, 1});
    if (flip) views = torch::where(to_device_async(flips, device).view({-1, 1, 1, 1}) > 0, views.flip({3}), views);
    return views;
}

torch::Tensor ViewSampler::file_jpeg_views(const torch::Tensor& whole, const std::vector<int>& qualities) const {
    // All of them in one JPEG, each image of the batch at its view's quality, and one
    // framing: what finish() does to each, in one pass instead of one per view.
    const auto encoded = differentiable_jpeg(whole.repeat({file_jpeg_views_, 1, 1, 1}), qualities);
    return resample_axes(encoded, {framing_axes(whole.size(2), whole.size(3), size_)})[0];
}

Axes ViewSampler::working_copy(int64_t h, int64_t w) const {
    const int64_t side = std::min(h, w);
    // 4 x the encoder's size: every crop stays a downscale (the smallest spans 0.43 of the
    // short side), and the JPEG's 8-pixel blocks keep the scale they had when crops of the
    // full image were shrunk to 4 x before their JPEG. Measured on a trained CIFAR ResNet
    // (bench/effect.sh, default preset): at 2.5 x the larger blocks cost 0.04 of target
    // cosine (0.752 against 0.795); at 4 x it is 0.798. On a trained 224-px MobileNetV2 and
    // 1000-1500 px images (MOBILENET_TFLITE=...): 0.581 at 4 x, 0.577 at 3 x, 0.568 at 2 x,
    // for 18.7, 18.8 and 17.6 s per image (seed 1): a smaller copy saves little and costs
    // effect.
    const int64_t keep = 4 * size_;
    if (side <= keep) return {identity_taps(h), identity_taps(w)};
    const double s = double(keep) / double(side);
    return {resize_taps(h, std::max<int64_t>(1, std::llround(h * s)), ResampleFilter::bilinear),
            resize_taps(w, std::max<int64_t>(1, std::llround(w * s)), ResampleFilter::bilinear)};
}

ViewSampler::Plan ViewSampler::draw(int64_t h, int64_t w) {
    Plan p;
    const bool jpeg = chance(rng_, 0.5);

    // Random resized crop (area 25-100 %, aspect 3:4-4:3) so every region of a large image
    // carries signal.
    const double area = uniform(rng_, 0.25, 1.0) * double(h) * double(w);
    const double aspect = std::exp(uniform(rng_, std::log(3.0 / 4), std::log(4.0 / 3)));
    p.ch = std::clamp<int64_t>(std::llround(std::sqrt(area / aspect)), 1, h);
    p.cw = std::clamp<int64_t>(std::llround(std::sqrt(area * aspect)), 1, w);
    if (jpeg) {
        // Whole 16-pixel blocks (JPEG's subsampled chroma): nothing to pad and crop again.
        if (p.ch >= 16) p.ch -= p.ch % 16;
        if (p.cw >= 16) p.cw -= p.cw % 16;
    }
    p.top = std::uniform_int_distribution<int64_t>(0, h - p.ch)(rng_);
    p.left = std::uniform_int_distribution<int64_t>(0, w - p.cw)(rng_);
    if (chance(rng_, 0.25)) {
        // The whole image, squeezed to a square: the only view that reaches the margins
        // of a wide image (a 4:3 crop cannot span 3:2), as a training resize would.
        p.top = p.left = 0;
        p.ch = h;
        p.cw = w;
    }
    // On the crop of the copy: platforms shrink large uploads before they re-encode them,
    // and a full-resolution JPEG's 8-pixel blocks average away in the resize to the encoder
    // anyway.
    if (jpeg) p.quality = int(uniform(rng_, 50, 96));
    // Noise then a median, at the crop's resolution where a removal tool applies them (a
    // 224-px view would see the median erase what the downscale had already averaged).
    // Drawn only when asked for, so that without it the views stay what they were.
    if (!jpeg && denoise_ > 0 && chance(rng_, denoise_)) {
        p.denoise = uniform(rng_, 0.03, 0.1);
        p.noise = std::uniform_int_distribution<int>(0, kNoiseBank - 1)(rng_);
        p.noise_top = std::uniform_int_distribution<int64_t>(0, size_ - 1)(rng_);
        p.noise_left = std::uniform_int_distribution<int64_t>(0, size_ - 1)(rng_);
    }
    if (chance(rng_, 0.3)) {
        // Down- then up-scaling, as when a platform shrinks the upload.
        const double f = uniform(rng_, 0.4, 0.9);
        const int64_t small = std::max<int64_t>(8, std::llround(std::min(p.ch, p.cw) * f));
        const double s = double(small) / double(std::min(p.ch, p.cw));
        p.small_h = std::max<int64_t>(1, std::llround(p.ch * s));
        p.small_w = std::max<int64_t>(1, std::llround(p.cw * s));
    }
    // Blur and noise at the encoder's resolution: at full resolution they would be erased
    // by the downscale anyway, at a far higher cost.
    if (chance(rng_, 0.3)) p.blur = uniform(rng_, 0.4, 1.2);
    if (chance(rng_, 0.5) && p.denoise == 0) {
        p.noise = std::uniform_int_distribution<int>(0, kNoiseBank - 1)(rng_);
        p.noise_level = uniform(rng_, 0.0, 0.02);
    }
    p.flip = chance(rng_, 0.5);
    return p;
}

ViewSampler::Plan ViewSampler::draw_file_jpeg(int64_t h, int64_t w) {
    // Random crops reach a whole-image JPEG in about one view in eight, and squeezed to a
    // square at that, so the gain survived a platform's re-encode worst on flat-colour art,
    // which has little texture of its own for the change to hide in. Measured on a trained
    // 224-px MobileNetV2, default preset, five flat illustrations (bench/effect.sh
    // --per-image, then each file re-encoded with 4:2:0 chroma at qualities 50-90): one such
    // view at 65-85 raised the share of the gain kept at q75 by 6-13 points; two (each
    // drawn on its own) raise it again, from 70-92 % to 80-96 %, and by 1-9 points at q60
    // and q90, within 2 points at q50, for the same direct gain. At a fixed q75 one view
    // gained most at q75 but lost up to 9 points at q50: tuned to one quality, not to
    // re-encoding.
    Plan p;
    p.ch = h;
    p.cw = w;
    p.quality = int(uniform(rng_, 65, 86));
    p.framed = true;
    return p;
}

Axes ViewSampler::to_encoder(const Plan& p) const {
    if (p.framed) return framing_axes(p.ch, p.cw, size_);
    Axes a{identity_taps(p.ch), identity_taps(p.cw)};
    if (p.small_h > 0) a = {resize_taps(p.ch, p.small_h, ResampleFilter::bilinear),
                            resize_taps(p.cw, p.small_w, ResampleFilter::bilinear)};
    a = {compose(resize_taps(a.h.out, size_, ResampleFilter::bilinear), a.h),
         compose(resize_taps(a.w.out, size_, ResampleFilter::bilinear), a.w)};
    if (p.blur > 0) {
        const auto blur = blur_taps(size_, p.blur);  // the view is square: one axis serves both
        a = {compose(blur, a.h), compose(blur, a.w)};
    }
    return a;
}

Axes ViewSampler::cut(const Plan& p, const Axes& copy) const {
    const Axes crop{rows_of(copy.h, p.top, p.ch), rows_of(copy.w, p.left, p.cw)};
    // The JPEG and the median need the crop itself; finish() resizes after them.
    if (p.quality > 0 || p.denoise > 0) return crop;
    const auto rest = to_encoder(p);
    return {compose(rest.h, crop.h), compose(rest.w, crop.w)};
}

torch::Tensor ViewSampler::finish(torch::Tensor v, const Plan& p) const {
    if (p.quality > 0) v = resample_axes(differentiable_jpeg(v, p.quality), {to_encoder(p)})[0];
    if (p.denoise > 0) {
        v = resample_axes(noised_and_denoised(v, tiled_noise(p, v.size(2), v.size(3)) * p.denoise),
                          {to_encoder(p)})[0];
    } else if (p.noise >= 0) {
        v = v + noise_bank_[p.noise].unsqueeze(0) * p.noise_level;
    }
    if (p.flip) v = v.flip({3});
    return v;
}

torch::Tensor noised_and_denoised(const torch::Tensor& images, const torch::Tensor& noise) {
    // The median's own gradient reaches only the pixel each window picked: a scattered
    // signal that, measured, moved nothing. Passed straight through instead (BPDA, Athalye
    // et al. 2018), the view sees the denoised image and the gradient stays whole.
    const auto noisy = clamp_to_unit(images + noise);
    return noisy + (median3x3(noisy.detach()) - noisy).detach();
}

torch::Tensor ViewSampler::tiled_noise(const Plan& p, int64_t h, int64_t w) const {
    // The bank's encoder-sized tiles repeated: a bank the size of the 896-px copy would be
    // 38 MB an image, and repeated tiles of independent noise are as much noise to a 3 x 3
    // median.
    const auto at = [&](int64_t first, int64_t n) {
        return (torch::arange(n, torch::TensorOptions().dtype(torch::kLong).device(noise_bank_.device())) + first) %
               size_;
    };
    return noise_bank_[p.noise].index_select(1, at(p.noise_top, h)).index_select(2, at(p.noise_left, w)).unsqueeze(0);
}

}  // namespace bd
