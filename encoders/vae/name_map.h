// The one place that knows VAE checkpoint spellings. Everything is translated to diffusers'
// AutoencoderKL names (encoder.down_blocks.0.resnets.1.conv1.weight, ...), which are the
// VaeModel's own module names.
#pragma once

#include "encoders/formats/state_dict.h"

#include <string>

namespace bd {

// True for the tensors the encoder half needs (`encoder.*`, `quant_conv.*`) in either naming;
// decoder, post_quant_conv and everything else are never read.
bool is_vae_encoder_key(const std::string& key);

// Encoder-half tensors in the original LDM naming (encoder.down.0.block.1.nin_shortcut,
// encoder.mid.attn_1.q as 1x1 convs, encoder.norm_out, ...) or in diffusers' naming (also
// the pre-0.14 attention names query/key/value/proj_attn) -> diffusers' names, with the
// attention's 1x1 conv weights squeezed to linear [C, C]. An unknown name is a ModelError
// naming `path` and the tensor.
StateDict vae_to_diffusers(const StateDict& weights, const std::string& path);
// The inverse, for writers (tests, tools): diffusers' names -> LDM names and 1x1 convs.
StateDict diffusers_vae_to_ldm(const StateDict& diffusers);

}  // namespace bd
