#include "bench/poison/poisons.h"

#include <chrono>
#include <filesystem>
#include <fstream>

#include "bench/common/plain_pgd.h"
#include "src/io/image_io.h"
#include "src/io/tensor_image.h"
#include "perturb/visibility/butteraugli.h"
#include "src/purifiers.h"

namespace bd::poison {
namespace {

namespace fs = std::filesystem;

// The figures of a cached poison, beside its PNG.
struct Figures {
    double butteraugli = 0, butteraugli_3norm = 0;
};

bool read_cached(const fs::path& png, Figures& figures) {
    std::ifstream in(fs::path(png).replace_extension(".txt"));
    return fs::exists(png) && (in >> figures.butteraugli >> figures.butteraugli_3norm);
}

void write_cached(const fs::path& png, const Image& image, const Figures& figures) {
    fs::create_directories(png.parent_path());
    WriteOptions w;
    w.format = ImageFormat::png;
    write_image(png.string(), image, w);
    std::ofstream(fs::path(png).replace_extension(".txt")) << figures.butteraugli << ' ' << figures.butteraugli_3norm
                                                           << '\n';
}

}  // namespace

torch::Tensor load_upright(const std::string& path) {
    const auto image = read_image(path);
    return orient(color_to_tensor(image), image.metadata.orientation);
}

PoisonSet make_poisons(Protector& protector, const Protection& protection, const std::vector<std::string>& sources,
                       const PoisonRun& run) {
    ProtectSettings settings;
    settings.target_images = run.anchors;
    settings.intensity = parse_intensity(protection.intensity);
    settings.overshoot = protection.overshoot;
    settings.quality = parse_quality(run.quality);
    settings.steps = run.steps;
    settings.visibility = run.visibility;
    settings.seed = run.seed;
    settings.output_format = OutputFormat::png;  // the poison as a lossless file; JPEG is a variant
    settings.metrics = false;                    // butteraugli alone is measured below
    auto png = [&](size_t i) {
        return fs::path(run.cache) / protection.folder / (fs::path(sources[i]).stem().string() + ".png");
    };
    PoisonSet set;
    set.protection = protection;
    if (protection.unprotected) {
        for (const auto& path : sources) set.images.push_back(load_upright(path));
        return set;
    }
    std::vector<Figures> figures(sources.size());
    std::vector<size_t> missing;
    for (size_t i = 0; i < sources.size(); ++i)
        if (!read_cached(png(i), figures[i])) missing.push_back(i);
    torch::Tensor target;
    if (protection.plain_pgd && !missing.empty()) target = bench::anchor_direction(protector, run.anchors);
    const auto t0 = std::chrono::steady_clock::now();
    // The images optimised together: each batch shares one aim, so with an anchor each the
    // images of one anchor go together.
    std::vector<std::vector<size_t>> groups;
    const bool each = run.anchor_each && !protection.plain_pgd && !run.anchors.empty();
    for (size_t a = 0; a < (each ? run.anchors.size() : 1); ++a) {
        std::vector<size_t> group;
        for (size_t i : missing)
            if (!each || i % run.anchors.size() == a) group.push_back(i);
        for (size_t start = 0; start < group.size(); start += run.batch)
            groups.emplace_back(group.begin() + start, group.begin() + std::min(group.size(), start + run.batch));
    }
    for (const auto& group : groups) {
        std::vector<Image> images;
        std::vector<const Image*> batch;
        for (size_t i : group) {
            images.push_back(read_image(sources[i]));
            images.back().format = ImageFormat::png;
        }
        for (const auto& image : images) batch.push_back(&image);
        std::vector<Image> poisons;
        if (protection.plain_pgd) {
            for (auto& r : bench::plain_pgd_batch(protector, batch, target, protection.linf, run.quality, run.steps,
                                                  run.seed + group.front() * 7919))
                poisons.push_back(std::move(r.image));
        } else {
            if (each) settings.target_images = {run.anchors[group.front() % run.anchors.size()]};
            for (auto& r : protector.protect_batch(batch, settings)) poisons.push_back(std::move(r.image));
        }
        for (size_t k = 0; k < poisons.size(); ++k) {
            const auto v = butteraugli(color_to_tensor(images[k]), color_to_tensor(poisons[k]));
            const size_t i = group[k];
            figures[i] = {v.max_norm, v.norm3};
            write_cached(png(i), poisons[k], figures[i]);
        }
    }
    if (!missing.empty())
        set.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / missing.size();
    for (size_t i = 0; i < sources.size(); ++i) {
        set.images.push_back(load_upright(png(i).string()));
        set.butteraugli += figures[i].butteraugli;
        set.butteraugli_3norm += figures[i].butteraugli_3norm;
    }
    const double n = std::max<size_t>(1, sources.size());
    set.butteraugli /= n;
    set.butteraugli_3norm /= n;
    return set;
}

size_t variant_count() { return 2 + kPurifierCount; }

std::string variant_name(size_t variant) {
    if (variant == 0) return "as written";
    if (variant == 1) return "JPEG q75";
    return purifiers()[variant - 2].words;
}

torch::Tensor variant(const torch::Tensor& upright, size_t variant, uint64_t seed) {
    if (variant == 0) return upright;
    if (variant == 1) return jpeg_round_trip(upright, 75);
    return purify(upright, variant - 2, seed);
}

}  // namespace bd::poison
