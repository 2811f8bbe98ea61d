// A MobileNetV2-shaped image encoder with random weights (fixed seed), written as the
// TorchScript + JSON sidecar pair encoders/torchscript_encoder.cpp loads: the
// convolutional, depthwise-heavy kind of encoder whose per-view cost (0.3 GFLOP at 224 px)
// is close to the work the optimizer does around it. For benchmarks and the loader's tests.
#pragma once

#include <cstdint>
#include <string>

namespace bd::test {

struct MobileNetOptions {
    int image_size = 224;
    double width = 1.0;  // channel multiplier (MobileNetV2's alpha); 1.0 is the published size
    uint64_t seed = 0;
};

// Writes DIR/mobilenet_v2.pt and its .json sidecar; returns the path to pass as --model.
// The embedding is the globally pooled 1280-d feature (no classifier), like the pooled
// features bench/effect.sh uses of a trained CIFAR ResNet.
std::string write_mobilenet_v2(const std::string& dir, const MobileNetOptions& options = {});

}  // namespace bd::test
