// The learners bench_poison trains on scraped images, on feature vectors of a frozen encoder:
// a linear probe (what a classifier learns from the scrape) and a class-conditional Gaussian
// per concept (the simplest generative model of a concept: what it "draws" for a name). All
// run on the CPU in libtorch and are deterministic for a seed.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace bd::poison {

// Softmax regression on standardised features (logistic regression for two classes).
struct Probe {
    torch::Tensor mean, scale;    // [D]: the training features' standardisation
    torch::Tensor weight, bias;   // [K, D], [K]
};

struct ProbeOptions {
    int iterations = 300;   // full-batch Adam steps
    double l2 = 1e-3;       // weight decay on the standardised scale
    double learning_rate = 0.05;
};

// features [N, D], labels [N] (int64 in [0, classes)).
Probe train_probe(const torch::Tensor& features, const torch::Tensor& labels, int64_t classes,
                  const ProbeOptions& options = {});
torch::Tensor predict(const Probe& probe, const torch::Tensor& features);  // [N] int64

// A concept as a diagonal Gaussian over its training features.
struct ConceptModel {
    torch::Tensor mean, stddev;  // [D]
};
ConceptModel fit_concept(const torch::Tensor& features);
torch::Tensor sample(const ConceptModel& model, int64_t count, uint64_t seed);  // [count, D]

// How far a learned concept mean moved from the clean one toward `toward`, as a fraction of
// the way: 0 = unmoved, 1 = at `toward`, > 1 beyond it (the projection on the line between).
double mean_shift(const torch::Tensor& learned, const torch::Tensor& clean, const torch::Tensor& toward);

// One concept's features, split as the images are.
struct ConceptFeatures {
    torch::Tensor train, test;  // [n, D] each
};

// How a classifier does on each concept's clean held-out images, from the classes it
// predicted for them (one tensor per concept, in concept order): concept 0 is the source,
// 1 the target, any further ones bystanders.
struct Recognition {
    double corruption = 0;   // source test images it does not call the source
    double hijack = 0;       // target test images it calls the source
    double bystanders = NAN; // accuracy on the other concepts' test images (NaN: none)
};
Recognition recognition(const std::vector<torch::Tensor>& predicted);

// What a learner trained on a (poisoned) training set does on clean held-out images. Concept
// 0 is the source (its poisoned images are in its training set, still labelled 0), concept 1
// the target; any further concepts are bystanders.
struct Outcome : Recognition {  // the probe's
    double generated_as_target = 0;  // the source's Gaussian samples a clean probe calls the target
    double mean_shift = 0;   // the source's learned mean, of the way to the target's
};

// `clean_probe` was trained on the clean training sets; `clean` are those sets' features, for
// the means the shift is measured between.
Outcome evaluate(const std::vector<ConceptFeatures>& poisoned, const std::vector<ConceptFeatures>& clean,
                 const Probe& clean_probe, uint64_t seed);

// Training features and labels of all concepts, in concept order.
std::pair<torch::Tensor, torch::Tensor> training_set(const std::vector<ConceptFeatures>& concepts);

}  // namespace bd::poison
