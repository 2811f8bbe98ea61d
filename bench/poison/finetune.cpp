#include "bench/poison/finetune.h"

#include <torch/script.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "encoders/torchscript_encoder.h"
#include "perturb/views/views.h"

namespace bd::poison {

Finetuner::Finetuner(const std::string& model) : path_(model) {
    const auto sidecar = torchscript_sidecar(model);
    if (!sidecar) throw std::invalid_argument(model + ": fine-tuning needs a TorchScript encoder with its JSON sidecar");
    std::ifstream in(*sidecar);
    const auto j = nlohmann::json::parse(in);
    size_ = j.value("input_size", int64_t(224));
    mean_ = torch::tensor(j.value("mean", std::vector<float>{0, 0, 0})).view({1, 3, 1, 1});
    std_ = torch::tensor(j.value("std", std::vector<float>{1, 1, 1})).view({1, 3, 1, 1});
}

torch::Tensor Finetuner::squares(const std::vector<torch::Tensor>& images) const {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> out;
    for (const auto& image : images) {
        auto rgb = image.size(0) == 1 ? image.expand({3, -1, -1}) : image;
        out.push_back((resize_center_crop(rgb.unsqueeze(0), size_) - mean_) / std_);
    }
    return torch::cat(out);
}

std::vector<torch::Tensor> Finetuner::train_and_predict(const torch::Tensor& inputs, const torch::Tensor& labels,
                                                        int64_t classes, const std::vector<torch::Tensor>& tests,
                                                        const FinetuneOptions& options) const {
    auto module = torch::jit::load(path_);
    std::vector<torch::Tensor> body;
    const auto params = module.parameters();
    const int64_t count = int64_t(params.size());
    int64_t index = 0;
    for (auto p : params) {
        const bool learns = index++ >= count - options.trainable_tensors;
        p.set_requires_grad(learns);
        if (learns) body.push_back(p);
    }
    torch::manual_seed(options.seed);
    auto features = [&](const torch::Tensor& x) { return module.forward({x}).toTensor().flatten(1); };
    int64_t dim = 0;
    {
        torch::NoGradGuard no_grad;
        dim = features(inputs.slice(0, 0, 1)).size(1);
    }
    torch::nn::Linear head(dim, classes);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(body, std::make_unique<torch::optim::AdamOptions>(options.learning_rate));
    groups.emplace_back(head->parameters(), std::make_unique<torch::optim::AdamOptions>(10 * options.learning_rate));
    torch::optim::Adam adam(groups, torch::optim::AdamOptions(options.learning_rate));
    auto gen = at::detail::createCPUGenerator(options.seed);
    const int64_t n = inputs.size(0);
    for (int epoch = 0; epoch < options.epochs; ++epoch) {
        const auto order = torch::randperm(n, gen, torch::kLong);
        for (int64_t start = 0; start < n; start += options.batch) {
            const auto pick = order.slice(0, start, std::min(n, start + options.batch));
            auto x = inputs.index_select(0, pick);
            // A random horizontal flip per batch: the augmentation every training recipe has.
            if (torch::rand({1}, gen).item<float>() < 0.5f) x = x.flip(3);
            adam.zero_grad();
            torch::nn::functional::cross_entropy(head(features(x)), labels.index_select(0, pick)).backward();
            adam.step();
        }
    }
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> predictions;
    for (const auto& t : tests) {
        std::vector<torch::Tensor> parts;
        for (int64_t start = 0; start < t.size(0); start += options.batch)
            parts.push_back(head(features(t.slice(0, start, std::min(t.size(0), start + options.batch)))).argmax(1));
        predictions.push_back(parts.empty() ? torch::zeros({0}, torch::kLong) : torch::cat(parts));
    }
    return predictions;
}

Recognition finetune_outcome(const Finetuner& learner, const std::vector<torch::Tensor>& train,
                             const std::vector<torch::Tensor>& test, const FinetuneOptions& options) {
    std::vector<torch::Tensor> labels;
    for (size_t k = 0; k < train.size(); ++k) labels.push_back(torch::full({train[k].size(0)}, int64_t(k), torch::kLong));
    return recognition(
        learner.train_and_predict(torch::cat(train), torch::cat(labels), int64_t(train.size()), test, options));
}

}  // namespace bd::poison
