#include "util/seeded_weights.h"

namespace bd::test {

StateDict seeded_weights(const torch::nn::Module& module, uint64_t seed, const DrawWeight& draw) {
    torch::NoGradGuard no_grad;
    auto gen = at::detail::createCPUGenerator(seed);
    StateDict out;
    for (const auto& p : module.named_parameters(true)) {
        const auto shape = p.value().sizes();
        out[p.key()] = draw(p.key(), p.value(), [&] { return at::randn(shape, gen); });
    }
    return out;
}

torch::Tensor seeded_direction(int64_t dim, uint64_t seed) {
    auto gen = at::detail::createCPUGenerator(seed);
    const auto d = at::randn({dim}, gen, torch::kFloat);
    return d / d.norm();
}

}  // namespace bd::test
