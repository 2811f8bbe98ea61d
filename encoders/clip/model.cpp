// Ref: openai/CLIP clip/model.py (CLIP).
#include "encoders/clip/model.h"

namespace bd {

ClipModelImpl::ClipModelImpl(const ClipConfig& c) : config(c) {
    visual = register_module("visual", VisionTransformer(c.vision, c.embed_dim, c.quick_gelu));
    if (c.has_text) text = register_module("text", TextTransformer(c.text, c.embed_dim, c.quick_gelu));
    logit_scale = register_parameter("logit_scale", torch::zeros({}));
}

torch::Tensor ClipModelImpl::encode_image(const torch::Tensor& normalised) { return visual(normalised); }

torch::Tensor ClipModelImpl::encode_text(const torch::Tensor& ids) {
    TORCH_CHECK(text, "this CLIP checkpoint has no text tower");
    return text(ids);
}

}  // namespace bd
