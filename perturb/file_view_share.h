// How much of an image's gain survives the platform's re-encode, as the optimizer sees it:
// the file's JPEG views' progress since the first step as a share of the plain view's.
// An image whose file views lag (smooth gradients, where JPEG quantises fine changes
// away) is one that more steps help.
#pragma once

#include <torch/torch.h>

#include <optional>
#include <vector>

namespace bd {

class FileViewShare {
public:
    // Views 1 .. file_views of each step are the file's JPEG views, view 0 the plain one
    // (perturb/views/views.h); `window`: how many recent steps the share averages over.
    FileViewShare(int file_views, int window);

    // After each step: each view's loss [K] (lower is better; any device).
    void record(const torch::Tensor& view_losses);
    // The file views' mean gain since the first step over the plain view's, averaged over
    // the last window; nothing before a full window, without file views, or while the plain
    // view has not gained. Reads the device.
    std::optional<double> share() const;

private:
    int file_views_;
    size_t window_;
    torch::Tensor first_;
    std::vector<torch::Tensor> recent_;
};

}  // namespace bd
