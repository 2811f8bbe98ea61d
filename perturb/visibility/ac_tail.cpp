#include "perturb/visibility/ac_tail.h"

#include <vector>

#include "perturb/pixel_passes.h"
#include "perturb/visibility/ac_tail_pixels.h"

namespace bd {

namespace {

// What both passes read; `squares` may be undefined (the gradient reads none of them).
ac_tail::Inputs inputs_of(const torch::Tensor& squares, const torch::Tensor& hf_x,
                          const torch::Tensor& hf_y, const torch::Tensor& i0,
                          const std::vector<double>& w_gt, const std::vector<double>& w_lt) {
    ac_tail::Inputs in{};
    in.squares = squares.defined() ? squares.data_ptr<float>() : nullptr;
    in.squares_band = hf_x.numel();
    in.i1[0] = hf_x.data_ptr<float>();
    in.i1[1] = hf_y.data_ptr<float>();
    in.o.i0 = i0.data_ptr<float>();
    in.o.band = i0.stride(0);
    in.o.image = i0.stride(1);
    for (int k = 0; k < 2; ++k) {
        in.o.w_gt[k] = float(w_gt[size_t(k)]);
        in.o.w_lt[k] = float(w_lt[size_t(k)]);
    }
    return in;
}

struct AcTail : torch::autograd::Function<AcTail> {
    static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx,
                                                  const torch::Tensor& squares_in,
                                                  const torch::Tensor& hf_x_in,
                                                  const torch::Tensor& hf_y_in,
                                                  const torch::Tensor& i0_in, std::vector<double> w_gt,
                                                  std::vector<double> w_lt) {
        const auto squares = squares_in.contiguous(), hf_x = hf_x_in.contiguous(),
                   hf_y = hf_y_in.contiguous(), i0 = in_rows(i0_in);
        ctx->save_for_backward({hf_x, hf_y, i0});
        ctx->saved_data["w_gt"] = w_gt;
        ctx->saved_data["w_lt"] = w_lt;
        auto ac_x = torch::empty_like(hf_x), ac_y = torch::empty_like(hf_x);
        run_pixel_pass("belladonna::ac_tail", hf_x, {squares, hf_x, hf_y, i0, ac_x, ac_y},
                       hf_x.size(0), hf_x.size(1) * hf_x.size(2),
                       ac_tail::Pass{inputs_of(squares, hf_x, hf_y, i0, w_gt, w_lt),
                                     {ac_x.data_ptr<float>(), ac_y.data_ptr<float>()}});
        return {ac_x, ac_y};
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grad) {
        const auto saved = ctx->get_saved_variables();
        const auto &hf_x = saved[0], &hf_y = saved[1], &i0 = saved[2];
        // Both defined: autograd hands a function zeros for an output nobody used.
        const auto g_x = grad[0].contiguous(), g_y = grad[1].contiguous();
        auto d_squares = torch::empty({6, hf_x.size(0), hf_x.size(1), hf_x.size(2)}, hf_x.options());
        auto d_x = torch::empty_like(hf_x), d_y = torch::empty_like(hf_x);
        run_pixel_pass("belladonna::ac_tail_backward", hf_x, {hf_x, hf_y, i0, g_x, g_y, d_squares, d_x, d_y},
                       hf_x.size(0), hf_x.size(1) * hf_x.size(2),
                       ac_tail::BackwardPass{inputs_of(torch::Tensor(), hf_x, hf_y, i0,
                                                       ctx->saved_data["w_gt"].toDoubleVector(),
                                                       ctx->saved_data["w_lt"].toDoubleVector()),
                                             {g_x.data_ptr<float>(), g_y.data_ptr<float>()},
                                             d_squares.data_ptr<float>(),
                                             {d_x.data_ptr<float>(), d_y.data_ptr<float>()}});
        return {d_squares, d_x, d_y, torch::Tensor(), torch::Tensor(), torch::Tensor()};
    }
};

}  // namespace

bool takes_ac_sums(const torch::Tensor& squares, const L2Original& original, const torch::Tensor& hf_x,
                   const torch::Tensor& hf_y) {
    return takes_cuda_pixel_passes(squares, hf_x, hf_y, original.i0) && !original.i0.requires_grad() &&
           original.w_gt_values.size() == 2 && original.w_lt_values.size() == 2;
}

std::array<torch::Tensor, 2> ac_sums(const torch::Tensor& squares, const L2Original& original,
                                     const torch::Tensor& hf_x, const torch::Tensor& hf_y) {
    TORCH_CHECK(takes_ac_sums(squares, original, hf_x, hf_y) && squares.dim() == 4 && squares.size(0) == 6 &&
                    hf_x.dim() == 3 && hf_x.sizes() == hf_y.sizes() && squares.sizes().slice(1) == hf_x.sizes() &&
                    original.i0.dim() == 4 && original.i0.size(0) == 2 &&
                    original.i0.sizes().slice(1) == hf_x.sizes(),
                "ac_sums: expected six bands of squares and two high bands of one shape, the kernels allowed");
    const auto out =
        AcTail::apply(squares, hf_x, hf_y, original.i0, original.w_gt_values, original.w_lt_values);
    return {out[0], out[1]};
}

}  // namespace bd
