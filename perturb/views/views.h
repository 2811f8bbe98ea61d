// Robustness views ("expectation over transformations"): each optimisation step looks at
// the protected image the way a scraper might after the image was posted: resized,
// cropped, re-encoded, blurred, rescaled, noisy, flipped, or noised and denoised as
// protection-removal tools do.
#pragma once

#include <torch/torch.h>

#include "perturb/views/taps.h"

#include <random>
#include <utility>
#include <vector>

namespace bd {

// CLIP's own framing, differentiable: the short side resized to `size` (bicubic,
// antialiased), then the centre square. [N, C, H, W] -> [N, C, size, size].
torch::Tensor resize_center_crop(const torch::Tensor& images, int64_t size);

// Differentiable antialiased resize of [N, C, H, W] to [N, C, h, w].
torch::Tensor resize_to(const torch::Tensor& images, int64_t h, int64_t w);

// What a protection-removal tool does to [N, C, H, W]: `noise` (broadcast) added, the
// result clamped to [0, 1] and median filtered (3 x 3). The gradient passes the median as if
// it were not there.
torch::Tensor noised_and_denoised(const torch::Tensor& images, const torch::Tensor& noise);

class ViewSampler {
public:
    // `image` [C, H, W] fixes the shape and device; `seed` makes the sequence of views
    // reproducible for this image whatever else is in the batch. `denoise`: the share of the
    // random views without JPEG that get Gaussian noise and a 3 x 3 median at the copy's
    // resolution (0: none, and the same views as before such views existed). `file_jpeg`:
    // with at least 3 views, views 1 and 2 (only view 1 with 3 views) are the re-encoded
    // file (see sample()); `file_jpeg_weight`: each such view's share of the loss against
    // one other view's (weights()).
    ViewSampler(const torch::Tensor& image, int64_t size, int views, bool robust, uint64_t seed,
                double denoise = 0, bool file_jpeg = false, double file_jpeg_weight = 1);

    // [views] summing to 1 on the image's device: each view's share of the loss, in the
    // order sample() returns them. Undefined where every view weighs the same.
    const torch::Tensor& weights() const { return weights_; }
    // How many views, after view 0, are the re-encoded file (0, 1 or 2).
    int file_views() const { return file_jpeg_views_; }

    // [C, H, W] (C = 1 or 3) -> [views, 3, size, size]. View 0 is always CLIP's framing
    // of the whole image; with `file_jpeg`, views 1 and 2 are the same framing of the whole
    // image (the working copy) after a JPEG at a random quality 65-85 each, the file as a
    // platform re-encodes it (one random view is always left); the others are random crops
    // with random degradations.
    torch::Tensor sample(const torch::Tensor& image);
    // The same views of `image` and of `clean` (same crops, codecs, noise): [views, 3, size,
    // size] each, so a latent can be compared with the clean latent of the same region.
    std::pair<torch::Tensor, torch::Tensor> sample_pair(const torch::Tensor& image,
                                                        const torch::Tensor& clean);

    // The views of several images of one shape, images[n] by samplers[n] (of one view size
    // and number of views), image by image: [sum of views, 3, size, size], what each one's
    // sample() returns in turn, each sampler drawing what its own sample() would. Off the CPU
    // each kind of view is cut, re-encoded and framed for all the images at once, so the
    // operations of a step's views launch about as often for a batch as for one image.
    static torch::Tensor sample_together(const std::vector<ViewSampler*>& samplers,
                                         const std::vector<torch::Tensor>& images);

private:
    struct Plan;
    struct Step;
    // [B, C, H, W] -> [views * B, 3, size, size], view-major.
    torch::Tensor sample_batch(const torch::Tensor& batch);
    // A step's views of an h x w image, drawn before any pixel is touched.
    Step draw_step(int64_t h, int64_t w);
    // The working copy of [B, 3, H, W] that `step`'s cuts read.
    static torch::Tensor source_of(const torch::Tensor& rgb, const Step& step);
    // The copy of an h x w image every view of a step is cut from (short side at most
    // 4 x size), as the taps that make it.
    Axes working_copy(int64_t h, int64_t w) const;
    // A random view of an h x w copy: its crop and degradations.
    Plan draw(int64_t h, int64_t w);
    // The whole h x w copy, re-encoded at a random quality and framed as view 0.
    Plan draw_file_jpeg(int64_t h, int64_t w);
    // The taps from the crop `p` takes to the encoder's input: its down/up rescale, if any,
    // and the resize.
    Axes to_encoder(const Plan& p) const;
    // The taps from the image to what `p` takes from the copy: the crop, and for a view
    // without JPEG to_encoder() too.
    Axes cut(const Plan& p, const Axes& copy) const;
    // The rest of `p` on what cut() took, all but the clamp to [0, 1] every view ends with.
    torch::Tensor finish(torch::Tensor v, const Plan& p) const;
    // What finish() does to random views after their resize, noise and flip, for views
    // [R, 3, size, size] at once: view r drawn as plans[r] by samplers[image_of[r]].
    static torch::Tensor noised_and_flipped(const std::vector<ViewSampler*>& samplers,
                                            const std::vector<const Plan*>& plans,
                                            const std::vector<int64_t>& image_of, torch::Tensor views);
    // finish() of the file's JPEG views on the whole copy [B, 3, h, w] each starts from, view
    // k of image b at qualities[k * B + b]: [file_jpeg_views_ * B, 3, size, size], view-major.
    torch::Tensor file_jpeg_views(const torch::Tensor& whole, const std::vector<int>& qualities) const;
    // [1, 3, h, w] of the noise bank's entry `p.noise`, tiled from (p.noise_top, p.noise_left).
    torch::Tensor tiled_noise(const Plan& p, int64_t h, int64_t w) const;

    int64_t size_;
    int views_;
    bool robust_;
    double denoise_;
    int file_jpeg_views_;  // views 1 .. file_jpeg_views_ are the re-encoded file
    std::mt19937_64 rng_;
    torch::Tensor noise_bank_;  // [B, 3, size, size], drawn once so steps need no RNG on device
    torch::Tensor weights_;
};

}  // namespace bd
