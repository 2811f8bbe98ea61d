// Ref: openai/CLIP clip/model.py (VisionTransformer).
#include "encoders/clip/vision_transformer.h"

namespace bd {

VisionTransformerImpl::VisionTransformerImpl(const ClipVisionConfig& c, int64_t embed_dim, bool quick_gelu)
    : config(c) {
    TORCH_CHECK(c.patch > 0 && c.image_size % c.patch == 0, "image size ", c.image_size,
                " is not a multiple of the patch size ", c.patch);
    const int64_t grid = c.image_size / c.patch;
    conv1 = register_module(
        "conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, c.width, c.patch).stride(c.patch).bias(false)));
    class_embedding = register_parameter("class_embedding", torch::zeros({c.width}));
    positional_embedding = register_parameter("positional_embedding", torch::zeros({grid * grid + 1, c.width}));
    ln_pre = register_module("ln_pre", clip_layer_norm(c.width));
    transformer = register_module("transformer", Transformer(c.width, c.layers, c.heads, quick_gelu));
    ln_post = register_module("ln_post", clip_layer_norm(c.width));
    proj = register_parameter("proj", torch::zeros({c.width, embed_dim}));
}

torch::Tensor VisionTransformerImpl::forward(const torch::Tensor& x) {
    TORCH_CHECK(x.dim() == 4 && x.size(1) == 3 && x.size(2) == config.image_size && x.size(3) == config.image_size,
                "expected images [N, 3, ", config.image_size, ", ", config.image_size, "], got ", x.sizes());
    auto h = conv1(x);                                  // [N, W, g, g]
    h = h.reshape({h.size(0), h.size(1), -1}).permute({0, 2, 1});  // [N, g*g, W]
    auto cls = class_embedding.to(h.dtype()).expand({h.size(0), 1, h.size(2)});
    h = torch::cat({cls, h}, 1) + positional_embedding.to(h.dtype());  // [N, g*g+1, W]
    h = transformer(ln_pre(h));
    h = ln_post(h.select(1, 0));                        // [N, W]
    return torch::matmul(h, proj.to(h.dtype()));       // [N, D]
}

}  // namespace bd
