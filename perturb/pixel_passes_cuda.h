// This project's per-pixel passes (the visibility port's, perturb/visibility/*_pixels.h, and the
// sign step's, step_pixels.h) on a GPU: a thread per pixel, each running the same function of
// one pixel the CPU's loop runs (per_pixel.h). Built where the libtorch found has CUDA and a
// CUDA compiler is there (BELLADONNA_CUDA_KERNELS); pixel_passes.h chooses between the two.
//
// No libtorch here: nvcc compiles this header with the kernels.
#pragma once

#include <cstdint>
#include <type_traits>

#include "perturb/step_pixels.h"
#include "perturb/visibility/ac_tail_pixels.h"
#include "perturb/visibility/blur_pixels.h"
#include "perturb/visibility/combine_pixels.h"
#include "perturb/visibility/frequencies_pixels.h"
#include "perturb/visibility/loss_tail_pixels.h"
#include "perturb/visibility/opsin_pixels.h"
#include "perturb/visibility/srgb_pixels.h"

namespace bd {

// Every pass a GPU runs: pixel_passes_cuda.cu builds a launch of each, and a pass missing here
// fails to compile where it is asked for (pixel_passes.h), in every build, not to link in a
// CUDA build alone.
#define BD_CUDA_PIXEL_PASSES(X)                                                                          \
    X(opsin::PrePass)                                                                                    \
    X(opsin::XybPass)                                                                                    \
    X(opsin::XybBackwardPass)                                                                            \
    X(frequency_split::MiddlePass)                                                                       \
    X(frequency_split::MiddleBackwardPass)                                                               \
    X(frequency_split::HighPass)                                                                         \
    X(frequency_split::HighBackwardPass)                                                                 \
    X(combine::Pass)                                                                                     \
    X(combine::BackwardPass)                                                                             \
    X(blur::Pass)                                                                                        \
    X(blur::MirroredPass)                                                                                \
    X(srgb_linear::Pass)                                                                                 \
    X(srgb_linear::BackwardPass)                                                                         \
    X(loss_tail::Pass)                                                                                   \
    X(loss_tail::BackwardPass)                                                                           \
    X(ac_tail::Pass)                                                                                     \
    X(ac_tail::BackwardPass)                                                                             \
    X(sign_step::Pass)

template <class Pass>
struct IsCudaPixelPass : std::false_type {};
#define BD_CUDA_PIXEL_PASS_LISTED(P) \
    template <>                      \
    struct IsCudaPixelPass<P> : std::true_type {};
BD_CUDA_PIXEL_PASSES(BD_CUDA_PIXEL_PASS_LISTED)
#undef BD_CUDA_PIXEL_PASS_LISTED

// pass(Pixel) for every pixel of `images` images of `plane` pixels whose pointers are on the
// device, on `stream` (a cudaStream_t). Throws std::runtime_error where the launch fails.
template <class Pass>
void each_pixel_cuda(int64_t images, int64_t plane, const Pass& pass, void* stream);

}  // namespace bd
