#include "bench/poison/learners.h"

#include <cmath>

namespace bd::poison {
namespace {

torch::Tensor standardised(const Probe& probe, const torch::Tensor& features) {
    return (features - probe.mean) / probe.scale;
}

double share(const torch::Tensor& hits) {
    return hits.numel() ? hits.to(torch::kDouble).mean().item<double>() : 0.0;
}

}  // namespace

Probe train_probe(const torch::Tensor& features, const torch::Tensor& labels, int64_t classes,
                  const ProbeOptions& options) {
    torch::NoGradGuard outer;
    Probe probe;
    probe.mean = features.mean(0);
    probe.scale = features.std(0, /*unbiased=*/false).clamp_min(1e-6);
    const auto x = standardised(probe, features);
    auto weight = torch::zeros({classes, features.size(1)}, torch::requires_grad());
    auto bias = torch::zeros({classes}, torch::requires_grad());
    torch::optim::Adam adam({weight, bias}, torch::optim::AdamOptions(options.learning_rate));
    {
        torch::AutoGradMode grad(true);
        for (int i = 0; i < options.iterations; ++i) {
            adam.zero_grad();
            const auto loss = torch::nn::functional::cross_entropy(torch::addmm(bias, x, weight.t()), labels) +
                              options.l2 * weight.pow(2).sum();
            loss.backward();
            adam.step();
        }
    }
    probe.weight = weight.detach();
    probe.bias = bias.detach();
    return probe;
}

torch::Tensor predict(const Probe& probe, const torch::Tensor& features) {
    torch::NoGradGuard no_grad;
    return torch::addmm(probe.bias, standardised(probe, features), probe.weight.t()).argmax(1);
}

ConceptModel fit_concept(const torch::Tensor& features) {
    return {features.mean(0), features.std(0, /*unbiased=*/false)};
}

torch::Tensor sample(const ConceptModel& model, int64_t count, uint64_t seed) {
    auto gen = at::detail::createCPUGenerator(seed);
    const auto noise = at::normal(0.0, 1.0, {count, model.mean.size(0)}, gen);
    return model.mean + noise * model.stddev;
}

double mean_shift(const torch::Tensor& learned, const torch::Tensor& clean, const torch::Tensor& toward) {
    const auto way = (toward - clean).to(torch::kDouble);
    const double length2 = way.pow(2).sum().item<double>();
    if (length2 <= 0) return 0.0;
    return ((learned - clean).to(torch::kDouble) * way).sum().item<double>() / length2;
}

std::pair<torch::Tensor, torch::Tensor> training_set(const std::vector<ConceptFeatures>& concepts) {
    std::vector<torch::Tensor> xs, ys;
    for (size_t k = 0; k < concepts.size(); ++k) {
        xs.push_back(concepts[k].train);
        ys.push_back(torch::full({concepts[k].train.size(0)}, int64_t(k), torch::kLong));
    }
    return {torch::cat(xs), torch::cat(ys)};
}

Recognition recognition(const std::vector<torch::Tensor>& predicted) {
    Recognition r;
    r.corruption = share(predicted[0] != 0);
    r.hijack = share(predicted[1] == 0);
    int64_t right = 0, total = 0;
    for (size_t k = 2; k < predicted.size(); ++k) {
        right += (predicted[k] == int64_t(k)).sum().item<int64_t>();
        total += predicted[k].numel();
    }
    if (total) r.bystanders = double(right) / double(total);
    return r;
}

Outcome evaluate(const std::vector<ConceptFeatures>& poisoned, const std::vector<ConceptFeatures>& clean,
                 const Probe& clean_probe, uint64_t seed) {
    const auto [x, y] = training_set(poisoned);
    const auto probe = train_probe(x, y, int64_t(poisoned.size()));
    std::vector<torch::Tensor> predicted;
    for (const auto& concept_features : poisoned)
        predicted.push_back(predict(probe, concept_features.test));
    Outcome out;
    static_cast<Recognition&>(out) = recognition(predicted);
    const auto model = fit_concept(poisoned[0].train);
    out.generated_as_target = share(predict(clean_probe, sample(model, 1000, seed)) == 1);
    out.mean_shift = mean_shift(model.mean, clean[0].train.mean(0), clean[1].train.mean(0));
    return out;
}

}  // namespace bd::poison
