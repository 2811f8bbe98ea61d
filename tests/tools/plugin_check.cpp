// Helper of the editor plug-in tests (GIMP, Krita): makes the input PNG, then checks the
// editor's output is protected (same size, every sample within epsilon, some samples
// changed, embedding moved).
//   bd-plugin-check make OUT.png
//   bd-plugin-check check ORIGINAL.png PROTECTED.png MODEL EPSILON255 [TARGET]
// Exit status 0 when it holds; otherwise a one-line reason on stderr and 1.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "src/io/image_io.h"
#include "src/protector.h"

namespace {

int fail(const std::string& why) {
    std::fprintf(stderr, "bd-plugin-check: %s\n", why.c_str());
    return 1;
}

// A textured RGB picture: CLIP needs structure to see, and the plug-in must keep the size.
int make(const std::string& path) {
    bd::Image img;
    img.width = 96;
    img.height = 64;
    img.channels = 3;
    img.bits = 8;
    img.format = bd::ImageFormat::png;
    img.data.resize(img.row_bytes() * img.height);
    for (uint32_t y = 0; y < img.height; ++y)
        for (uint32_t x = 0; x < img.width; ++x)
            for (uint32_t c = 0; c < 3; ++c) {
                double v = 0.5 + 0.35 * std::sin(x * (0.19 + 0.05 * c)) * std::cos(y * 0.23) +
                           0.1 * (((x / 12) + (y / 12)) % 2);
                img.data[(size_t(y) * img.width + x) * 3 + c] =
                    uint8_t(std::lround(std::fmin(1.0, std::fmax(0.0, v)) * 255));
            }
    bd::write_image(path, img);
    return 0;
}

int check(const std::string& original, const std::string& protected_path,
          const std::string& model, double epsilon, const std::string& target) {
    bd::Image a = bd::read_image(original), b = bd::read_image(protected_path);
    if (a.width != b.width || a.height != b.height)
        return fail("size changed: " + std::to_string(a.width) + "x" + std::to_string(a.height) +
                    " -> " + std::to_string(b.width) + "x" + std::to_string(b.height));
    if (a.bits != 8 || b.bits != 8 || a.color_channels() != 3 || b.color_channels() != 3)
        return fail("expected 8-bit RGB input and output");
    int max_diff = 0;
    size_t changed = 0;
    for (uint32_t y = 0; y < a.height; ++y)
        for (uint32_t x = 0; x < a.width; ++x)
            for (uint32_t c = 0; c < 3; ++c) {
                int va = a.data[(size_t(y) * a.width + x) * a.channels + c];
                int vb = b.data[(size_t(y) * b.width + x) * b.channels + c];
                int d = std::abs(va - vb);
                max_diff = std::max(max_diff, d);
                changed += d != 0;
            }
    std::printf("max abs diff %d/255 (bound %.1f), %zu of %zu samples changed\n", max_diff,
                epsilon, changed, size_t(a.width) * a.height * 3);
    if (max_diff > epsilon + 1e-9) return fail("bound exceeded");
    if (changed == 0) return fail("the image was not changed");

    // The embedding must have moved the way the mode asks.
    auto protector = bd::Protector::open(model, "cpu");
    bd::ProtectSettings settings;
    settings.mode = target.empty() ? bd::Mode::cloak : bd::Mode::poison;
    settings.target = target;
    bd::ProtectMetrics m = protector->compare(a, b, settings);
    if (!target.empty()) {
        std::printf("cos to \"%s\": %.6f -> %.6f\n", target.c_str(), m.target_sim_before,
                    m.target_sim_after);
        if (!(m.target_sim_after > m.target_sim_before))
            return fail("the embedding did not move toward the target");
    } else {
        std::printf("cos to the original's embedding: %.6f -> %.6f\n", m.source_sim_before,
                    m.source_sim_after);
        if (!(m.source_sim_after < m.source_sim_before))
            return fail("the embedding did not move away from the original");
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        std::string cmd = argc > 1 ? argv[1] : "";
        if (cmd == "make" && argc == 3) return make(argv[2]);
        if (cmd == "check" && (argc == 6 || argc == 7))
            return check(argv[2], argv[3], argv[4], std::atof(argv[5]), argc == 7 ? argv[6] : "");
        std::fprintf(stderr,
                     "usage: bd-plugin-check make OUT.png | check ORIG PROT MODEL EPS [TARGET]\n");
        return 2;
    } catch (const std::exception& e) {
        return fail(e.what());
    }
}
