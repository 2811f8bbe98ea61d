// The README's determinism claims, checked as stated, on images of realistic size (a 768 px
// PNG, a 1600x1200 JPEG, a 1024x768 PNG with alpha) optimised together in one batch through
// a model of ViT-B/32's size:
// - byte-identical outputs whatever --jobs is, for the same seed and --batch-size;
// - across --batch-size values the encoder batches differ, so float rounding differs and
//   outputs may differ: each still within the budget of the original (the intensity's
//   levels, before a JPEG output's own compression), so never more than twice it apart.
// The measured spread is printed for the README's figure.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "src/io/image_io.h"
#include "util/run_cli.h"
#include "util/test_images.h"
#include "util/tiny_clip.h"

namespace fs = std::filesystem;

namespace {

constexpr int kBudget = 8;  // --intensity default: 8 levels of 255

std::map<std::string, std::vector<uint8_t>> files_below(const std::string& dir) {
    std::map<std::string, std::vector<uint8_t>> out;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file()) out[fs::relative(e.path(), dir).string()] = bd::test::read_bytes(e.path().string());
    return out;
}

class Determinism : public ::testing::Test {
protected:
    void SetUp() override {
        // ViT-B/32's shapes (random weights): the batch-size effect comes from how the BLAS
        // blocks matrices of these sizes; the tiny test model's are too small to show it.
        model_ = bd::test::write_tiny_clip(d_.file("model"), bd::test::TinyFormat::open_clip,
                                           bd::test::vit_b32_options());
        fs::create_directories(d_.file("in"));
        bd::write_image(d_.file("in/square.png"), bd::test::make_gradient(768, 768, 3));
        bd::write_image(d_.file("in/photo.jpg"), bd::test::make_gradient(1600, 1200, 3, 8, bd::ImageFormat::jpeg));
        bd::write_image(d_.file("in/layer.png"), bd::test::make_gradient(1024, 768, 4));
    }
    // Protects in/ into `out`; returns the written files by name.
    std::map<std::string, std::vector<uint8_t>> run(const std::string& out, int batch, int jobs,
                                                    const std::string& format) {
        const auto r = bd::test::run_belladonna(
            {"protect", d_.file("in"), "-o", d_.file(out), "--model", model_, "--device", "cpu", "--target", "cat",
             "--quality", "fast", "--steps", "6", "--seed", "7", "--no-metrics", "--format", format,
             "--batch-size", std::to_string(batch), "--jobs", std::to_string(jobs)});
        EXPECT_EQ(r.status, 0) << r.err;
        return files_below(d_.file(out));
    }
    bd::test::TempDir d_;
    std::string model_;
};

TEST_F(Determinism, IdenticalAcrossJobsWithinBudgetAcrossBatchSizes) {
    // Byte-identical whatever --jobs is, at each batch size, in the inputs' own formats.
    const auto same1 = run("same-b1-j1", 1, 1, "same");
    ASSERT_EQ(same1.size(), 3u);
    EXPECT_EQ(run("same-b1-j2", 1, 2, "same"), same1) << "--jobs changed an output at --batch-size 1";
    const auto same3 = run("same-b3-j1", 3, 1, "same");
    EXPECT_EQ(run("same-b3-j2", 3, 2, "same"), same3) << "--jobs changed an output at --batch-size 3";

    // Across batch sizes: PNG outputs (no JPEG loss) are each within the budget of the
    // original, and alpha is untouched.
    run("png-b1", 1, 2, "png");
    run("png-b3", 3, 2, "png");
    size_t samples = 0, differing = 0;
    int widest = 0;
    for (const char* name : {"square", "photo", "layer"}) {
        const auto in = fs::exists(d_.file(std::string("in/") + name + ".png"))
                            ? bd::read_image(d_.file(std::string("in/") + name + ".png"))
                            : bd::read_image(d_.file(std::string("in/") + name + ".jpg"));
        const auto a = bd::read_image(d_.file(std::string("png-b1/") + name + "-protected.png"));
        const auto b = bd::read_image(d_.file(std::string("png-b3/") + name + "-protected.png"));
        ASSERT_EQ(a.data.size(), in.data.size()) << name;
        ASSERT_EQ(b.data.size(), in.data.size()) << name;
        for (size_t i = 0; i < in.data.size(); ++i) {
            const bool alpha = in.has_alpha() && i % in.channels == in.channels - 1;
            const int da = std::abs(int(a.data[i]) - int(in.data[i])), db = std::abs(int(b.data[i]) - int(in.data[i]));
            ASSERT_LE(da, alpha ? 0 : kBudget) << name << " sample " << i << " (batch size 1)";
            ASSERT_LE(db, alpha ? 0 : kBudget) << name << " sample " << i << " (batch size 3)";
            const int d = std::abs(int(a.data[i]) - int(b.data[i]));
            ++samples;
            differing += d != 0;
            widest = std::max(widest, d);
        }
    }
    std::printf("--batch-size 1 vs 3: %zu of %zu samples (%.4f%%) differ, by at most %d levels\n", differing,
                samples, 100.0 * double(differing) / double(samples), widest);
}

}  // namespace
