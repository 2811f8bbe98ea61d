#include "bench/poison/detect.h"

#include "bench/poison/learners.h"

namespace bd::poison {

torch::Tensor residual_statistics(const torch::Tensor& upright) {
    torch::NoGradGuard no_grad;
    const auto x = upright.to(torch::kFloat).unsqueeze(0);
    const auto r = (x - torch::avg_pool2d(torch::replication_pad2d(x, {1, 1, 1, 1}), 3, 1)).squeeze(0) * 255.0;
    std::vector<torch::Tensor> stats;
    const auto flat = r.flatten(1);  // [C, HW]
    const auto magnitude = flat.abs();
    const auto spread = flat.std(1).clamp_min(1e-6);
    const auto centred = flat - flat.mean(1, true);
    stats.push_back(magnitude.mean(1));
    stats.push_back(spread);
    stats.push_back(centred.pow(4).mean(1) / spread.pow(4));
    stats.push_back((magnitude < 0.25).to(torch::kFloat).mean(1));
    stats.push_back(((magnitude >= 0.25) & (magnitude < 1.5)).to(torch::kFloat).mean(1));
    auto features = torch::cat(stats);
    if (flat.size(0) == 3) {
        const auto unit = centred / (centred.norm(2, 1, true) + 1e-6);
        features = torch::cat({features, (unit[0] * unit[1]).sum().view({1}), (unit[1] * unit[2]).sum().view({1}),
                               (unit[0] * unit[2]).sum().view({1})});
    } else {
        features = torch::cat({features.repeat({3}), torch::ones({3})});  // gray: the same shape
    }
    return features;
}

double detection_accuracy(const std::vector<torch::Tensor>& clean, const std::vector<torch::Tensor>& protected_images,
                          uint64_t seed) {
    const int64_t n = int64_t(std::min(clean.size(), protected_images.size()));
    if (n < 4) return NAN;
    auto gen = at::detail::createCPUGenerator(seed);
    const auto order = torch::randperm(n, gen, torch::kLong);
    std::vector<torch::Tensor> train_x, test_x;
    std::vector<int64_t> train_y, test_y;
    for (int64_t k = 0; k < n; ++k) {
        const int64_t i = order[k].item<int64_t>();
        auto& xs = k < n / 2 ? train_x : test_x;
        auto& ys = k < n / 2 ? train_y : test_y;
        xs.push_back(residual_statistics(clean[size_t(i)]));
        ys.push_back(0);
        xs.push_back(residual_statistics(protected_images[size_t(i)]));
        ys.push_back(1);
    }
    const auto probe = train_probe(torch::stack(train_x), torch::tensor(train_y), 2);
    const auto right = predict(probe, torch::stack(test_x)) == torch::tensor(test_y);
    return right.to(torch::kDouble).mean().item<double>();
}

}  // namespace bd::poison
