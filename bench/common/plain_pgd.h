// What the benchmarks compare belladonna with, shared by bench_effect and bench_poison: a
// plain sign-PGD (the same optimizer, steps, views and objective with a uniform L-inf budget,
// no mask and no visibility steering), and the file a protected image would be written as.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "src/io/image.h"
#include "src/protector.h"

namespace bd::bench {

// The unit mean direction of the anchors' embeddings through the protector's first encoder,
// as the Protector aims at target images.
torch::Tensor anchor_direction(Protector& protector, const std::vector<std::string>& anchors);

// `image` as the file a JPEG input would be written to (q95) reads back, else itself.
Image as_written(const Image& image);

struct PgdResult {
    Image image;  // as written
    int steps = 0;
};

// Plain PGD toward `target` at `linf`/255, `steps` (0 = the quality's) with the quality's
// views, from `seed`.
PgdResult plain_pgd(Protector& protector, const Image& image, const torch::Tensor& target, double linf,
                    const std::string& quality, int steps, uint64_t seed);

// The same for several images optimised together (one encoder batch per step); image i
// starts from seed + i * 7919, as plain_pgd of each alone would from that seed.
std::vector<PgdResult> plain_pgd_batch(Protector& protector, const std::vector<const Image*>& images,
                                       const torch::Tensor& target, double linf, const std::string& quality,
                                       int steps, uint64_t seed);

// Where `x` lies among `ascending` values (the plain PGD rows' butteraugli): the two values
// around it and the fraction of the way between them, or the nearest end (t clamped) when
// it lies outside them. The PGD's figures at x are lo's + t * (hi's - lo's).
struct Between {
    size_t lo = 0, hi = 0;
    double t = 0;
    bool outside = false;
};
Between between(const std::vector<double>& ascending, double x);

}  // namespace bd::bench
