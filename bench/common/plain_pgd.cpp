#include "bench/common/plain_pgd.h"

#include <algorithm>

#include "encoders/encoder.h"
#include "perturb/optimizer.h"
#include "perturb/settings.h"
#include "perturb/views/views.h"
#include "perturb/visibility/budget.h"
#include "src/io/image_io.h"
#include "src/io/tensor_image.h"

namespace bd::bench {

torch::Tensor anchor_direction(Protector& protector, const std::vector<std::string>& anchors) {
    torch::NoGradGuard no_grad;
    torch::Tensor sum;
    for (const auto& path : anchors) {
        const auto a = read_image(path);
        auto rgb = orient(color_to_tensor(a), a.metadata.orientation);
        if (rgb.size(0) == 1) rgb = rgb.expand({3, -1, -1});
        const auto view = resize_center_crop(rgb.unsqueeze(0), protector.encoder().input_size());
        const auto e = unit_length(protector.encoder().encode_images(view)).squeeze(0).to(torch::kCPU);
        sum = sum.defined() ? sum + e : e;
    }
    return unit_length(sum);
}

Image as_written(const Image& image) {
    if (image.format != ImageFormat::jpeg) return image;
    WriteOptions w;
    w.format = ImageFormat::jpeg;
    w.jpeg_quality = 95;
    auto decoded = decode_image(encode_image(image, w, "bench"), "bench");
    return with_color(image, color_to_tensor(decoded));
}

std::vector<PgdResult> plain_pgd_batch(Protector& protector, const std::vector<const Image*>& images,
                                       const torch::Tensor& target, double linf, const std::string& quality,
                                       int steps, uint64_t seed) {
    const auto run = make_settings("poison", "default", float(linf), quality, steps, 0, 0);
    std::vector<PerturbItem> items;
    for (size_t i = 0; i < images.size(); ++i) {
        const Image& image = *images[i];
        PerturbItem item;
        item.image = orient(color_to_tensor(image), image.metadata.orientation);
        item.budget = torch::full({1, item.image.size(1), item.image.size(2)}, float(linf / 255.0));
        if (image.has_alpha())
            item.budget =
                item.budget * (orient(alpha_to_tensor(image), image.metadata.orientation) > 0).to(torch::kFloat);
        item.aims = {EncoderAim{target.to(protector.encoder().device()), {}}};
        item.seed = seed + uint64_t(i) * 7919;
        items.push_back(std::move(item));
    }
    PerturbStats stats;
    const auto outs = perturb(protector.encoder(), items, run, {}, &stats);
    std::vector<PgdResult> results;
    for (size_t i = 0; i < images.size(); ++i) {
        const Image& image = *images[i];
        const int orientation = image.metadata.orientation;
        const auto stored = unorient(outs[i].to(torch::kCPU), orientation);
        const auto budget = unorient(items[i].budget, orientation);
        const auto q = quantize_within_budget(color_to_tensor(image), stored, budget, int(image.max_value()));
        results.push_back({as_written(with_color(image, q)), stats.steps[i]});
    }
    return results;
}

PgdResult plain_pgd(Protector& protector, const Image& image, const torch::Tensor& target, double linf,
                    const std::string& quality, int steps, uint64_t seed) {
    return plain_pgd_batch(protector, {&image}, target, linf, quality, steps, seed)[0];
}

Between between(const std::vector<double>& ascending, double x) {
    Between b;
    if (ascending.empty()) return b;
    b.hi = ascending.size() - 1;
    for (size_t k = 0; k + 1 < ascending.size(); ++k)
        if (ascending[k] <= x && x <= ascending[k + 1]) b.lo = k, b.hi = k + 1;
    const double span = ascending[b.hi] - ascending[b.lo];
    b.t = span > 0 ? std::clamp((x - ascending[b.lo]) / span, 0.0, 1.0) : 0.0;
    b.outside = x < ascending.front() || x > ascending.back();
    return b;
}

}  // namespace bd::bench
