#include "perturb/views/views.h"

#include <algorithm>
#include <cmath>

#include "perturb/jpeg/diff_jpeg.h"
#include "perturb/views/median.h"
#include "perturb/views/resample.h"
#include "perturb/views/unit_clamp.h"

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

torch::Tensor ViewSampler::sample_batch(const torch::Tensor& batch) {
    const auto rgb = batch.size(1) == 1 ? batch.expand({-1, 3, -1, -1}) : batch;
    // Every view is a crop of one downscaled copy, and all views are cut in one pass that
    // gathers their gradients in one buffer. A copy close to the image's size is never
    // made: each view's taps go from the image through the copy to the view. One at half
    // the image's size or less is made once, since taps through it would grow with the
    // shrink, for every view.
    auto copy = working_copy(rgb.size(2), rgb.size(3));
    auto source = rgb;
    if (2 * copy.h.out <= copy.h.in || 2 * copy.w.out <= copy.w.in) {
        source = resample_axes(rgb, {copy})[0];
        copy = {identity_taps(copy.h.out), identity_taps(copy.w.out)};
    }
    const auto framing = framing_axes(copy.h.out, copy.w.out, size_);
    std::vector<Axes> cuts{{compose(framing.h, copy.h), compose(framing.w, copy.w)}};
    std::vector<Plan> plans;
    for (int k = 1; k < views_; ++k) {
        plans.push_back(k <= file_jpeg_views_ ? draw_file_jpeg(copy.h.out, copy.w.out) : draw(copy.h.out, copy.w.out));
        // The file's views all start from the whole copy: it is cut once.
        if (k <= 1 || k > file_jpeg_views_) cuts.push_back(cut(plans.back(), copy));
    }
    const auto cropped = resample_axes(source, cuts);
    std::vector<torch::Tensor> views{clamp_to_unit(cropped[0])};
    size_t next = 1;
    if (file_jpeg_views_ > 0) views.push_back(file_jpeg_views(cropped[next++], plans));
    for (size_t k = file_jpeg_views_; k < plans.size(); ++k) views.push_back(finish(cropped[next++], plans[k]));
    return torch::cat(views, 0);
}

torch::Tensor ViewSampler::file_jpeg_views(const torch::Tensor& whole, const std::vector<Plan>& plans) const {
    // All of them in one JPEG, each image of the batch at its view's quality, and one
    // framing: what finish() does to each, in one pass instead of one per view.
    const int64_t batch = whole.size(0);
    std::vector<int> qualities;
    for (int k = 0; k < file_jpeg_views_; ++k) qualities.insert(qualities.end(), batch, plans[k].quality);
    const auto encoded = differentiable_jpeg(whole.repeat({file_jpeg_views_, 1, 1, 1}), qualities);
    return clamp_to_unit(resample_axes(encoded, {to_encoder(plans.front())})[0]);
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
    return clamp_to_unit(v);
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
