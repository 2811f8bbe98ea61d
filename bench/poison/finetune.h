// The learner closest to real training that a CPU can afford: a trained TorchScript encoder
// whose last parameter tensors (its last block and feature layer) are trained again, with a
// new linear head, on the scraped images for a few epochs. Everything before them stays frozen.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "bench/poison/learners.h"

namespace bd::poison {

struct FinetuneOptions {
    int epochs = 4;
    int trainable_tensors = 8;  // the module's last parameter tensors that learn
    int batch = 32;
    double learning_rate = 1e-4;  // the body's; the new head learns 10x faster
    uint64_t seed = 0;
};

class Finetuner {
public:
    // `model`: a TorchScript encoder with its JSON sidecar (model.pt.json), as belladonna loads.
    explicit Finetuner(const std::string& model);
    int64_t input_size() const { return size_; }
    // The encoder's square of each upright [C, H, W] image in [0, 1], normalised: what it trains on.
    torch::Tensor squares(const std::vector<torch::Tensor>& images) const;
    // Trains a fresh copy (the original weights each call) on `inputs` [N, 3, S, S] from
    // squares() with `labels` [N], and predicts the class of each of `tests`.
    std::vector<torch::Tensor> train_and_predict(const torch::Tensor& inputs, const torch::Tensor& labels,
                                                 int64_t classes, const std::vector<torch::Tensor>& tests,
                                                 const FinetuneOptions& options) const;

private:
    std::string path_;
    int64_t size_ = 224;
    torch::Tensor mean_, std_;
};

// Fine-tunes on `train` ([concept] -> squares) and measures on `test` (learners.h's
// Recognition: concept 0 the source, 1 the target, the rest bystanders).
Recognition finetune_outcome(const Finetuner& learner, const std::vector<torch::Tensor>& train,
                             const std::vector<torch::Tensor>& test, const FinetuneOptions& options);

}  // namespace bd::poison
