#include "perturb/file_view_share.h"

#include <algorithm>

namespace bd {

FileViewShare::FileViewShare(int file_views, int window)
    : file_views_(file_views), window_(size_t(std::max(1, window))) {}

void FileViewShare::record(const torch::Tensor& view_losses) {
    if (file_views_ <= 0) return;
    const auto losses = view_losses.detach().to(torch::kFloat).reshape({-1});
    TORCH_CHECK(losses.numel() > file_views_, "FileViewShare: ", losses.numel(), " views, ", file_views_,
                " of them the file's");
    if (!first_.defined()) first_ = losses;
    recent_.push_back(losses);
    if (recent_.size() > window_) recent_.erase(recent_.begin());
}

std::optional<double> FileViewShare::share() const {
    if (file_views_ <= 0 || recent_.size() < window_) return std::nullopt;
    const auto gain = (first_ - torch::stack(recent_).mean(0)).cpu();
    const double plain = gain[0].item<double>();
    const double file = gain.narrow(0, 1, file_views_).mean().item<double>();
    // A plain view that has not moved gives no share to judge.
    if (!(plain > 1e-6)) return std::nullopt;
    return file / plain;
}

}  // namespace bd
