// Where a pixel's samples are, as the per-pixel passes (pixel_passes.h) see them: in single
// planes [B, H, W] and in three-channel ones [B, 3, H, W] of the same images. The CPU's loop
// (per_pixel.h) and the GPU's (pixel_passes_cuda.h) hand one to a pass for each pixel.
//
// No libtorch here: nvcc compiles this header with the kernels.
#pragma once

#include <cstdint>

#include "perturb/host_device.h"

namespace bd {

struct Pixel {
    int64_t i;      // in [B, H, W]
    int64_t c;      // channel 0 in [B, 3, H, W]; channel k is at c + k * plane
    int64_t plane;  // H * W
};

// Pixel i of images of `plane` pixels: image b's channel 0 is at i + 2 b plane.
BD_HOST_DEVICE inline constexpr int64_t channel_zero_of(int64_t i, int64_t image, int64_t plane) {
    return i + 2 * image * plane;
}

// What channel_zero_of put into a Pixel, taken back out: its image b, and b * plane, where that
// image's plane starts in [B, H, W].
BD_PIXEL_INLINE int64_t image_of(const Pixel& x) { return (x.c - x.i) / (2 * x.plane); }
BD_PIXEL_INLINE int64_t plane_start_of(const Pixel& x) { return (x.c - x.i) / 2; }

}  // namespace bd
