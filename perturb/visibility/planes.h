// One image's psychovisual decomposition at one resolution: the planes butteraugli's
// comparator (butteraugli_torch.h) compares.
#pragma once

#include <torch/torch.h>

#include <array>

namespace bd {

struct ButteraugliPlanes {
    torch::Tensor lf;                  // [B, 3, H, W] low frequencies, in "vals" space
    torch::Tensor mf;                  // [B, 3, H, W] middle frequencies
    std::array<torch::Tensor, 2> hf;   // [B, H, W] high frequencies, X and Y
    std::array<torch::Tensor, 2> uhf;  // [B, H, W] ultra-high frequencies, X and Y
    torch::Tensor mask_blurred;        // [B, H, W] local activity, blurred
    // [B, 2, H, W] X and Y together, where the operations' way made them so (hf and uhf are
    // then their channels); undefined on the CPU's fused loops.
    torch::Tensor hf_pair, uhf_pair;
};

}  // namespace bd
