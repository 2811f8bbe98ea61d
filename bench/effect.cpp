// Effect per unit of visibility: a frontier table. For a set of images, an
// encoder and anchor images of a target, it protects every image with belladonna at each
// intensity and with a plain sign-PGD at uniform L-inf budgets (same steps, views and
// objective, no mask, no visibility steering), then prints per row the mean target cosine
// directly / after a real JPEG q75 re-encode / after a 50 % downscale, butteraugli (max-norm
// and 3-norm), the largest area colour shift (delta E), PSNR, the largest change and seconds
// per image; then, for each intensity,
// the plain PGD interpolated to the same mean butteraugli max-norm.
//
//   bench_effect --model PATH --target-image A.png [--target-image B.png ...]
//                [--steps N] [--quality fast|default|slow] [--intensities low,default,high]
//                [--linf 1,2,4,8] [--visibility D] [--visibility-loss W] [--visibility-every K]
//                [--denoise-views P] [--file-jpeg-view 0|1] [--file-jpeg-weight W]
//                [--lagging-extra-steps N] [--seed N] [--out DIR] [--per-image] IMAGE...
//
// --visibility-loss W sets the weight of the optimizer's visibility term (0: off, steering
// alone; default: the optimizer's own); --visibility-every K takes that term's gradient on
// every K-th step and reuses it between (default: the preset's). --denoise-views P: the
// share of the optimizer's random views without JPEG that are noised and median-filtered
// first (default: its own).
// --file-jpeg-view 0|1: the optimizer's view of the whole file after a JPEG re-save off or on
// (default: its own); --file-jpeg-weight W: each such view's share of the loss against
// another view's; --lagging-extra-steps N: the steps an image whose file views lag may add
// (0: none; default: the preset's).
// --visibility D overrides the intensities' visibility targets (0: the L-inf budget alone,
// as belladonna's first optimizer did); --linf '' leaves out the plain PGD. --seed N changes every run's views
// (and random start), to see how much a figure moves with them.
//
// Every figure is measured on the file as it would be written (JPEG inputs as JPEG q95).
// --out DIR writes each result as DIR/<row>/<name>.png to look at. --per-image adds, under
// each row, every image's figures and the share of its direct gain that each clean-up keeps
// (JPEG q75 and the purifiers of src/purifiers.h).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "bench/common/arguments.h"
#include "bench/common/plain_pgd.h"
#include "perturb/settings.h"
#include "src/io/image_io.h"
#include "src/protector.h"
#include "src/purifiers.h"
#include "src/runtime/runtime_env.h"
#include "src/runtime/threads.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
    std::string model;
    std::vector<std::string> anchors, images;
    std::vector<std::string> intensities{"low", "default", "high"};
    std::vector<double> linf{1, 2, 4, 8};
    std::string quality = "default";
    int steps = 0;
    float visibility = -1;  // < 0: from the intensity
    float visibility_loss = -1;  // < 0: the optimizer's default
    int visibility_loss_every = 0;  // 0: the preset's
    float denoise_views = -1;    // < 0: the optimizer's default
    int file_jpeg_view = -1;     // < 0: the optimizer's default
    float file_jpeg_weight = 0;  // <= 0: the optimizer's default
    int lagging_extra_steps = -1;  // < 0: the preset's
    uint64_t seed = 0;
    std::string out;
    bool per_image = false;
};

struct Row {
    std::string name;
    double cos = 0, jpeg = 0, half = 0, before = 0;  // means over images
    double ba_max = 0, ba_3 = 0, shift = 0, psnr = 0, linf = 0, seconds = 0, steps = 0;
    int met = 0, targeted = 0, images = 0;  // images that met / had a visibility target
    std::vector<std::string> image_lines;   // --per-image
};

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
            return argv[++i];
        };
        if (a == "--model") o.model = value();
        else if (a == "--target-image") o.anchors.push_back(value());
        else if (a == "--steps") o.steps = std::stoi(value());
        else if (a == "--quality") o.quality = value();
        else if (a == "--intensities") o.intensities = bd::bench::comma_list(value());
        else if (a == "--out") o.out = value();
        else if (a == "--seed") o.seed = std::stoull(value());
        else if (a == "--visibility-loss") o.visibility_loss = std::stof(value());
        else if (a == "--visibility-every") o.visibility_loss_every = std::stoi(value());
        else if (a == "--denoise-views") o.denoise_views = std::stof(value());
        else if (a == "--file-jpeg-view") o.file_jpeg_view = std::stoi(value());
        else if (a == "--file-jpeg-weight") o.file_jpeg_weight = std::stof(value());
        else if (a == "--lagging-extra-steps") o.lagging_extra_steps = std::stoi(value());
        else if (a == "--visibility") o.visibility = std::stof(value());
        else if (a == "--linf") o.linf = bd::bench::comma_numbers(value());
        else if (a == "--per-image") o.per_image = true;
        else if (!a.empty() && a[0] == '-') throw std::invalid_argument("unknown option " + a);
        else o.images.push_back(a);
    }
    if (o.model.empty() || o.anchors.empty() || o.images.empty())
        throw std::invalid_argument("usage: bench_effect --model PATH --target-image A [...] IMAGE...");
    return o;
}

// Share of the direct gain over `before` that `after` keeps, in per cent.
double kept(double before, double direct, double after) {
    return direct > before ? 100.0 * (after - before) / (direct - before) : NAN;
}

std::string image_line(const std::string& path, const bd::ProtectMetrics& m) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "|   %-20s | %.3f -> %.3f / %.3f | %5.2f | %4.0f %%", fs::path(path).filename().c_str(),
                  m.target_sim_before, m.target_sim_after, m.target_sim_after_jpeg75, m.butteraugli,
                  kept(m.target_sim_before, m.target_sim_after, m.target_sim_after_jpeg75));
    std::string line = buf;
    for (double k : m.kept_after_purifiers) {
        std::snprintf(buf, sizeof buf, " | %4.0f %%", 100.0 * k);
        line += buf;
    }
    return line + " |";
}

void add(Row& row, const bd::ProtectMetrics& m, double seconds, int steps, const std::string& path) {
    row.image_lines.push_back(image_line(path, m));
    row.cos += m.target_sim_after;
    row.jpeg += m.target_sim_after_jpeg75;
    row.half += m.target_sim_after_half;
    row.before += m.target_sim_before;
    row.ba_max += m.butteraugli;
    row.ba_3 += m.butteraugli_3norm;
    row.shift += m.colour_shift;
    row.psnr += m.psnr;
    row.linf = std::max(row.linf, m.linf);
    row.seconds += seconds;
    row.steps += steps;
    row.met += std::isfinite(m.visibility_target) && m.visibility_met;
    row.targeted += std::isfinite(m.visibility_target);
    ++row.images;
}

void finish(Row& r) {
    const double n = std::max(1, r.images);
    for (double* v : {&r.cos, &r.jpeg, &r.half, &r.before, &r.ba_max, &r.ba_3, &r.shift, &r.psnr, &r.seconds, &r.steps}) *v /= n;
}

void save(const Options& o, const std::string& row, const std::string& input, const bd::Image& image) {
    if (o.out.empty()) return;
    const fs::path dir = fs::path(o.out) / row;
    fs::create_directories(dir);
    bd::WriteOptions w;
    w.format = bd::ImageFormat::png;
    bd::write_image((dir / fs::path(input).stem()).string() + ".png", image, w);
}

// Plain sign-PGD at `linf` over every image, measured as belladonna's rows are.
Row plain_pgd(bd::Protector& protector, const Options& o, const std::vector<bd::Image>& images,
              const bd::ProtectSettings& settings, const torch::Tensor& target, double linf) {
    Row row;
    char name[32];
    std::snprintf(name, sizeof name, "plain PGD %g/255", linf);
    row.name = name;
    for (size_t i = 0; i < images.size(); ++i) {
        const auto t0 = Clock::now();
        const auto r = bd::bench::plain_pgd(protector, images[i], target, linf, o.quality, o.steps,
                                            settings.seed + uint64_t(i) * 7919);
        const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
        add(row, protector.compare(images[i], r.image, settings), seconds, r.steps, o.images[i]);
        save(o, "pgd-" + std::to_string(int(std::lround(linf))), o.images[i], r.image);
    }
    finish(row);
    return row;
}

void print(const Row& r) {
    std::printf("| %-22s | %.3f -> %.3f / %.3f / %.3f | %5.2f / %5.2f | %4.1f | %5.1f | %4.0f | %6.1f | %5.0f |",
                r.name.c_str(), r.before, r.cos, r.jpeg, r.half, r.ba_max, r.ba_3, r.shift, r.psnr, r.linf, r.seconds,
                r.steps);
    if (r.targeted) std::printf(" %d/%d", r.met, r.targeted);
    std::printf("\n");
}

// Every image of a row: target cosine before -> direct / JPEG q75, butteraugli, and the
// share of the direct gain kept after JPEG q75 and after each purifier.
void print_images(const Row& r) {
    std::printf("\n%s, per image:\n\n|   image | cos before -> direct / JPEG q75 | butteraugli | kept JPEG q75", r.name.c_str());
    for (const auto& p : bd::purifiers()) std::printf(" | kept %s", p.key);
    std::printf(" |\n");
    for (const auto& line : r.image_lines) std::printf("%s\n", line.c_str());
    std::printf("\n");
}

// The plain PGD's row at a given mean butteraugli max-norm, linear between the two PGD
// rows that bracket it (or the nearest end).
Row pgd_at(const std::vector<Row>& pgd, double ba) {
    std::vector<Row> sorted = pgd;
    std::sort(sorted.begin(), sorted.end(), [](const Row& a, const Row& b) { return a.ba_max < b.ba_max; });
    std::vector<double> visibility;
    for (const auto& r : sorted) visibility.push_back(r.ba_max);
    const auto at = bd::bench::between(visibility, ba);
    const Row& lo = sorted[at.lo];
    const Row& hi = sorted[at.hi];
    Row r;
    auto mix = [t = at.t](double a, double b) { return a + t * (b - a); };
    r.cos = mix(lo.cos, hi.cos);
    r.jpeg = mix(lo.jpeg, hi.jpeg);
    r.half = mix(lo.half, hi.half);
    r.ba_max = mix(lo.ba_max, hi.ba_max);
    r.psnr = mix(lo.psnr, hi.psnr);
    r.before = lo.before;
    r.name = at.outside ? "(outside PGD range)" : "";
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    bd::restart_with_tuned_runtime(argv);  // as the CLI runs
    Options o;
    try {
        o = parse(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_effect: %s\n", e.what());
        return 2;
    }
    bd::configure_threads(0);
    auto protector = bd::Protector::open(o.model, "cpu");
    std::vector<bd::Image> images;
    for (const auto& path : o.images) images.push_back(bd::read_image(path));

    bd::ProtectSettings settings;
    settings.target_images = o.anchors;
    settings.quality = bd::parse_quality(o.quality);
    settings.steps = o.steps;
    settings.seed = o.seed;
    // The anchors' mean direction, as the Protector computes it, for the plain PGD.
    const torch::Tensor target = bd::bench::anchor_direction(*protector, o.anchors);

    const auto run = bd::make_settings("poison", "default", 0, o.quality, o.steps, 0);
    std::printf("bench_effect: %s, %zu images, %d steps x %d views, %zu anchors\n\n", protector->model_name().c_str(),
                images.size(), run.steps, run.views, o.anchors.size());
    std::printf("| %-22s | target cos before -> direct / JPEG q75 / half | butteraugli max / 3-norm | colour shift dE | PSNR | Linf | s/img | steps | met\n",
                "row");
    std::printf("|---|---|---|---|---|---|---|---|---|\n");

    std::vector<Row> ours;
    for (const auto& intensity : o.intensities) {
        Row row;
        row.name = "belladonna " + intensity;
        if (o.visibility >= 0) row.name += " (vis " + std::to_string(o.visibility).substr(0, 3) + ")";
        bd::ProtectSettings s = settings;
        s.intensity = bd::parse_intensity(intensity);
        s.visibility = o.visibility;
        s.visibility_loss = o.visibility_loss;
        s.visibility_loss_every = o.visibility_loss_every;
        s.denoise_views = o.denoise_views;
        s.file_jpeg_view = o.file_jpeg_view;
        s.file_jpeg_weight = o.file_jpeg_weight;
        s.lagging_extra_steps = o.lagging_extra_steps;
        for (size_t i = 0; i < images.size(); ++i) {
            const auto t0 = Clock::now();
            const auto r = protector->protect(images[i], s);
            add(row, r.metrics, std::chrono::duration<double>(Clock::now() - t0).count(), r.steps, o.images[i]);
            save(o, "belladonna-" + intensity, o.images[i], bd::bench::as_written(r.image));
        }
        finish(row);
        print(row);
        if (o.per_image) print_images(row);
        ours.push_back(row);
    }
    std::vector<Row> pgd;
    for (double linf : o.linf) {
        pgd.push_back(plain_pgd(*protector, o, images, settings, target, linf));
        print(pgd.back());
        if (o.per_image) print_images(pgd.back());
    }
    if (pgd.empty()) return 0;
    std::printf("\nAt equal mean butteraugli max-norm (plain PGD interpolated between its rows):\n\n");
    std::printf("| intensity | butteraugli | belladonna direct / JPEG q75 / half | plain PGD direct / JPEG q75 / half | PSNR ours / PGD |\n");
    std::printf("|---|---|---|---|---|\n");
    for (const auto& r : ours) {
        const Row p = pgd_at(pgd, r.ba_max);
        std::printf("| %s | %.2f | %.3f / %.3f / %.3f | %.3f / %.3f / %.3f %s | %.1f / %.1f |\n", r.name.c_str(),
                    r.ba_max, r.cos, r.jpeg, r.half, p.cos, p.jpeg, p.half, p.name.c_str(), r.psnr, p.psnr);
    }
    return 0;
}
