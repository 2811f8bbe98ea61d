// Ref: openai/CLIP clip/clip.py (_transform); torchvision Resize / CenterCrop.
#include "encoders/preprocess.h"

#include <cmath>

namespace bd {

torch::Tensor resize_antialiased(const torch::Tensor& nchw, int64_t h, int64_t w) {
    TORCH_CHECK(nchw.dim() == 4, "resize_antialiased expects [N, C, H, W], got ", nchw.sizes());
    TORCH_CHECK(h > 0 && w > 0, "resize_antialiased: bad size ", h, "x", w);
    if (nchw.size(2) == h && nchw.size(3) == w) return nchw;
    return at::_upsample_bicubic2d_aa(nchw, {h, w}, /*align_corners=*/false);
}

torch::Tensor clip_preprocess(const torch::Tensor& chw_rgb01, int64_t size) {
    TORCH_CHECK(chw_rgb01.dim() == 3 && chw_rgb01.size(0) == 3, "clip_preprocess expects [3, H, W], got ",
                chw_rgb01.sizes());
    TORCH_CHECK(size > 0, "clip_preprocess: bad size ", size);
    const int64_t h = chw_rgb01.size(1), w = chw_rgb01.size(2);
    // torchvision: the short side becomes `size`, the long side int(size * long / short).
    int64_t nh = size, nw = size;
    if (h < w) nw = int64_t(double(size) * double(w) / double(h));
    else if (w < h) nh = int64_t(double(size) * double(h) / double(w));
    auto x = resize_antialiased(chw_rgb01.to(torch::kFloat).unsqueeze(0), nh, nw).squeeze(0).clamp(0.0, 1.0);
    // CenterCrop: top = int(round((h - size) / 2)).
    const int64_t top = int64_t(std::nearbyint((nh - size) / 2.0)),
                  left = int64_t(std::nearbyint((nw - size) / 2.0));  // Python round(): half to even
    return x.slice(1, top, top + size).slice(2, left, left + size).contiguous();
}

}  // namespace bd
