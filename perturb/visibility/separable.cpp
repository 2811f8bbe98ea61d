#include "perturb/visibility/separable.h"

#include <vector>

namespace bd {

namespace {

// The CPU's correlation as shifted adds, without autograd.
torch::Tensor shifted_adds(const torch::Tensor& x, const torch::Tensor& taps, int64_t dim) {
    const int64_t r = taps.size(0) / 2, n = x.size(dim);
    const auto pad = dim == 3 ? std::vector<int64_t>{r, r} : std::vector<int64_t>{0, 0, r, r};
    const auto padded = torch::constant_pad_nd(x, pad);
    const auto t = taps.to(torch::kCPU, torch::kFloat).contiguous();
    const float* w = t.data_ptr<float>();
    auto out = padded.narrow(dim, 0, n) * w[0];
    for (int64_t k = 1; k < taps.size(0); ++k) out.add_(padded.narrow(dim, k, n), w[k]);
    return out;
}

// Its gradient by hand: autograd's own would allocate a padded plane for every tap. The
// adjoint of a zero-padded correlation is the correlation with the taps reversed.
struct ShiftedAdds : torch::autograd::Function<ShiftedAdds> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                                 const torch::Tensor& taps, int64_t dim) {
        ctx->save_for_backward({taps});
        ctx->saved_data["dim"] = dim;
        return shifted_adds(x, taps, dim);
    }
    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grad) {
        const auto taps = ctx->get_saved_variables()[0];
        return {shifted_adds(grad[0], taps.flip(0), ctx->saved_data["dim"].toInt()), torch::Tensor(), torch::Tensor()};
    }
};

}  // namespace

torch::Tensor correlate(const torch::Tensor& x, const torch::Tensor& taps, int64_t dim) {
    TORCH_CHECK(x.dim() == 4 && (dim == 2 || dim == 3) && taps.size(0) % 2 == 1, "correlate: bad arguments");
    const int64_t r = taps.size(0) / 2;
    if (x.is_cuda()) {
        const auto shape = dim == 3 ? std::vector<int64_t>{1, 1, 1, -1} : std::vector<int64_t>{1, 1, -1, 1};
        const auto padding = dim == 3 ? std::vector<int64_t>{0, r} : std::vector<int64_t>{r, 0};
        const auto planes = x.reshape({-1, 1, x.size(2), x.size(3)});
        return torch::conv2d(planes, taps.to(x.device(), x.scalar_type()).view(shape), {}, 1, padding).view(x.sizes());
    }
    return ShiftedAdds::apply(x, taps.detach(), dim);
}

torch::Tensor normalised_blur(const torch::Tensor& x, const torch::Tensor& taps) {
    const int64_t r = taps.size(0) / 2, h = x.size(2), w = x.size(3);
    const auto k = taps.to(x.device(), torch::kFloat);
    const auto inside = [&](int64_t n) {
        return torch::conv1d(torch::ones({1, 1, n}, x.options().dtype(torch::kFloat)), k.view({1, 1, -1}), {}, 1, r);
    };
    const auto rows = correlate(x, k, 3) / inside(w).view({1, 1, 1, w});
    return correlate(rows, k, 2) / inside(h).view({1, 1, h, 1});
}

}  // namespace bd
