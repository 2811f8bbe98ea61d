#include "perturb/views.h"

#include <algorithm>
#include <cmath>

#include "perturb/diff_jpeg.h"
#include "perturb/resample.h"

namespace bd {

namespace F = torch::nn::functional;

torch::Tensor resize_to(const torch::Tensor& images, int64_t h, int64_t w) {
    return resample(images, h, w, ResampleFilter::bilinear);
}

torch::Tensor resize_center_crop(const torch::Tensor& source, int64_t size) {
    // Cropping the centre square first and resizing it is CLIP's resize-then-crop up to
    // the filter's reach at the crop edges, and it never touches the discarded sides.
    const int64_t sh = source.size(2), sw = source.size(3), side = std::min(sh, sw);
    const auto images = side < std::max(sh, sw) && side > size
                            ? source.narrow(2, (sh - side) / 2, side).narrow(3, (sw - side) / 2, side)
                            : source;
    const int64_t h = images.size(2), w = images.size(3);
    const double scale = double(size) / double(std::min(h, w));
    const int64_t nh = std::max<int64_t>(size, std::llround(h * scale));
    const int64_t nw = std::max<int64_t>(size, std::llround(w * scale));
    const auto resized = resample(images, nh, nw, ResampleFilter::bicubic);
    const int64_t top = (nh - size) / 2, left = (nw - size) / 2;
    return resized.slice(2, top, top + size).slice(3, left, left + size).clamp(0, 1);
}

namespace {

constexpr int kNoiseBank = 4;

double uniform(std::mt19937_64& rng, double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng);
}
bool chance(std::mt19937_64& rng, double p) { return uniform(rng, 0, 1) < p; }

torch::Tensor gaussian_blur(const torch::Tensor& x, double sigma) {
    std::vector<float> k(5);
    float total = 0;
    for (int i = 0; i < 5; ++i) total += k[i] = float(std::exp(-(i - 2) * (i - 2) / (2 * sigma * sigma)));
    for (auto& v : k) v /= total;
    auto k1 = torch::tensor(k).to(x.options());
    auto kernel = torch::outer(k1, k1).expand({x.size(1), 1, 5, 5}).contiguous();
    auto padded = F::pad(x, F::PadFuncOptions({2, 2, 2, 2}).mode(torch::kReplicate));
    return F::conv2d(padded, kernel, F::Conv2dFuncOptions().groups(x.size(1)));
}

}  // namespace

ViewSampler::ViewSampler(const torch::Tensor& image, int64_t size, int views, bool robust,
                         uint64_t seed)
    : size_(size), views_(robust ? std::max(1, views) : 1), robust_(robust), rng_(seed) {
    if (robust_) {
        auto gen = at::make_generator<at::CPUGeneratorImpl>(seed ^ 0x9e3779b97f4a7c15ULL);
        noise_bank_ = at::randn({kNoiseBank, 3, size, size}, gen, torch::kFloat)
                          .to(image.device());
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

torch::Tensor ViewSampler::sample_batch(const torch::Tensor& batch) {
    const auto rgb = batch.size(1) == 1 ? batch.expand({-1, 3, -1, -1}) : batch;
    // Every view is cut from one downscaled copy, the only pass over full-resolution memory
    // (and the only one its gradient takes back). What the encoder sees of a crop resized
    // to its input is the copy's content once the copy keeps as many pixels across as the
    // smallest crop needs.
    const auto copy = working_copy(rgb);
    std::vector<torch::Tensor> views{resize_center_crop(copy, size_)};
    for (int k = 1; k < views_; ++k) views.push_back(random_view(copy));
    return torch::cat(views, 0);
}

torch::Tensor ViewSampler::working_copy(const torch::Tensor& batch) const {
    const int64_t h = batch.size(2), w = batch.size(3), side = std::min(h, w);
    // 4 x the encoder's size: every crop stays a downscale (the smallest spans 0.43 of the
    // short side), and the JPEG's 8-pixel blocks keep the scale they had when crops of the
    // full image were shrunk to 4 x before their JPEG. Measured on a trained CIFAR ResNet
    // (bench/effect.sh, default preset): at 2.5 x the larger blocks cost 0.04 of target
    // cosine (0.752 against 0.795); at 4 x it is 0.798.
    const int64_t keep = 4 * size_;
    if (side <= keep) return batch;
    const double s = double(keep) / double(side);
    return resize_to(batch, std::max<int64_t>(1, std::llround(h * s)), std::max<int64_t>(1, std::llround(w * s)));
}

torch::Tensor ViewSampler::random_view(const torch::Tensor& copy) {
    const int64_t h = copy.size(2), w = copy.size(3);
    const bool jpeg = chance(rng_, 0.5);

    // Random resized crop (area 25-100 %, aspect 3:4-4:3) so every region of a large image
    // carries signal.
    const double area = uniform(rng_, 0.25, 1.0) * double(h) * double(w);
    const double aspect = std::exp(uniform(rng_, std::log(3.0 / 4), std::log(4.0 / 3)));
    int64_t ch = std::clamp<int64_t>(std::llround(std::sqrt(area / aspect)), 1, h);
    int64_t cw = std::clamp<int64_t>(std::llround(std::sqrt(area * aspect)), 1, w);
    if (jpeg) {
        // Whole 16-pixel blocks (JPEG's subsampled chroma): nothing to pad and crop again.
        if (ch >= 16) ch -= ch % 16;
        if (cw >= 16) cw -= cw % 16;
    }
    int64_t top = std::uniform_int_distribution<int64_t>(0, h - ch)(rng_);
    int64_t left = std::uniform_int_distribution<int64_t>(0, w - cw)(rng_);
    if (chance(rng_, 0.25)) {
        // The whole image, squeezed to a square: the only view that reaches the margins
        // of a wide image (a 4:3 crop cannot span 3:2), as a training resize would.
        top = left = 0;
        ch = h;
        cw = w;
    }
    auto v = copy.slice(2, top, top + ch).slice(3, left, left + cw);

    if (jpeg) {
        // On the crop of the copy: platforms shrink large uploads before they re-encode
        // them, and a full-resolution JPEG's 8-pixel blocks average away in the resize to
        // the encoder anyway.
        v = differentiable_jpeg(v, int(uniform(rng_, 50, 96)));
    }
    if (chance(rng_, 0.3)) {
        // Down- then up-scaling, as when a platform shrinks the upload.
        const double f = uniform(rng_, 0.4, 0.9);
        const int64_t small = std::max<int64_t>(8, std::llround(std::min(ch, cw) * f));
        const double s = double(small) / double(std::min(ch, cw));
        v = resize_to(v, std::max<int64_t>(1, std::llround(ch * s)), std::max<int64_t>(1, std::llround(cw * s)));
    }
    v = resize_to(v, size_, size_);
    // Blur and noise at the encoder's resolution: at full resolution they would be
    // erased by the downscale anyway, at a far higher cost.
    if (chance(rng_, 0.3)) v = gaussian_blur(v, uniform(rng_, 0.4, 1.2));
    if (chance(rng_, 0.5)) {
        const auto idx = std::uniform_int_distribution<int>(0, kNoiseBank - 1)(rng_);
        v = v + noise_bank_[idx].unsqueeze(0) * uniform(rng_, 0.0, 0.02);
    }
    if (chance(rng_, 0.5)) v = v.flip({3});
    return v.clamp(0, 1);
}

}  // namespace bd
