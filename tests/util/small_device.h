// An encoder behind a device that holds at most `capacity` images per forward pass and says
// so as a GPU's caching allocator does (c10::OutOfMemoryError), so the halving where memory
// runs out is tested on the CPU. Counts the refusals and the largest pass it allowed.
#pragma once

#include <c10/util/Exception.h>

#include <algorithm>

#include "encoders/encoder.h"

namespace bd::test {

class SmallDevice : public Encoder {
public:
    explicit SmallDevice(Encoder& inner) : inner_(inner) {}
    std::string name() const override { return inner_.name(); }
    int64_t input_size() const override { return inner_.input_size(); }
    int64_t embed_dim() const override { return inner_.embed_dim(); }
    torch::Tensor encode_images(const torch::Tensor& images) override {
        if (capacity > 0 && images.size(0) > capacity) {
            ++refusals;
            TORCH_CHECK_WITH(OutOfMemoryError, false, "out of memory: ", images.size(0), " views");
        }
        largest = std::max(largest, images.size(0));
        return inner_.encode_images(images);
    }
    void to(torch::Device, bool) override {}
    torch::Device device() const override { return inner_.device(); }

    int64_t capacity = 0, largest = 0;
    int refusals = 0;

private:
    Encoder& inner_;
};

}  // namespace bd::test
