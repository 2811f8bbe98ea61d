// The optimizer on a tiny random CLIP: it must move embeddings the way each mode says,
// reproducibly, the same in a batch as alone, and stop when asked.
#include <gtest/gtest.h>

#include "encoders/encoder.h"
#include "perturb/cancelled.h"
#include "perturb/visibility/mask.h"
#include "perturb/optimizer.h"
#include "perturb/visibility/butteraugli.h"
#include "perturb/views/views.h"
#include "util/seeded_weights.h"
#include "util/test_images.h"
#include "util/tiny_clip.h"
#include "util/fused_kernels_off.h"
#include "src/io/tensor_image.h"

namespace bd {
namespace {

class Optimizer : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        clip_ = new test::LoadedTinyClip();
        encoder_ = clip_->encoder.get();
    }
    static void TearDownTestSuite() { delete clip_; }

    static torch::Tensor embed(const torch::Tensor& chw) {
        torch::NoGradGuard no_grad;
        auto e = encoder_->encode_images(resize_center_crop(chw.unsqueeze(0), encoder_->input_size()));
        return (e / e.norm(2, -1, true)).squeeze(0);
    }

    static PerturbItem item(const torch::Tensor& image, uint64_t seed) {
        PerturbItem it;
        it.image = image;
        it.budget = (8.0 / 255) * perceptual_mask(image);
        it.seed = seed;
        it.aims = {EncoderAim{}};  // cloak; poison tests set a target
        return it;
    }

    static torch::Tensor picture(uint32_t w, uint32_t h) {
        return color_to_tensor(test::make_gradient(w, h, 3, 8));
    }

    static test::LoadedTinyClip* clip_;
    static Encoder* encoder_;
};
test::LoadedTinyClip* Optimizer::clip_ = nullptr;
Encoder* Optimizer::encoder_ = nullptr;

TEST_F(Optimizer, PoisonMovesTowardTargetAndAwayFromSource) {
    const auto x = picture(80, 64);
    const auto target = test::seeded_direction(encoder_->embed_dim(), 1);
    auto it = item(x, 1);
    it.aims = {EncoderAim{target, {}}};
    PerturbSettings s;
    s.steps = 40;
    s.views = 2;
    const auto out = perturb(*encoder_, {it}, s)[0];
    const auto before = embed(x), after = embed(out);
    EXPECT_GT(torch::dot(after, target).item<float>() - torch::dot(before, target).item<float>(), 0.1f);
    EXPECT_LT(torch::dot(after, before).item<float>(), 0.99f);  // moved away from itself
    // Within budget, in range.
    EXPECT_TRUE(((out - x).abs() <= it.budget + 1e-6).all().item<bool>());
    EXPECT_GE(out.min().item<float>(), 0.0f);
    EXPECT_LE(out.max().item<float>(), 1.0f);
}

TEST_F(Optimizer, CloakMovesAwayFromTheCleanEmbedding) {
    const auto x = picture(64, 64);
    PerturbSettings s;
    s.mode = Mode::cloak;
    s.steps = 40;
    s.views = 2;
    const auto out = perturb(*encoder_, {item(x, 2)}, s)[0];
    EXPECT_LT(torch::dot(embed(out), embed(x)).item<float>(), 0.95f);
}

TEST_F(Optimizer, SameSeedSameResultAndBatchEqualsSingle) {
    const auto a = picture(64, 48), b = picture(40, 72);
    auto target = torch::ones({encoder_->embed_dim()}) / std::sqrt(double(encoder_->embed_dim()));
    auto ia = item(a, 11), ib = item(b, 12);
    ia.aims = ib.aims = {EncoderAim{target, {}}};
    PerturbSettings s;
    s.steps = 8;
    s.views = 3;
    const auto single_a = perturb(*encoder_, {ia}, s)[0];
    const auto again_a = perturb(*encoder_, {ia}, s)[0];
    EXPECT_TRUE(torch::equal(single_a, again_a));
    const auto single_b = perturb(*encoder_, {ib}, s)[0];
    const auto batch = perturb(*encoder_, {ia, ib}, s);
    // Sign steps amplify tiny float differences between batched and single matmuls into a
    // few flipped pixels; the images must agree almost everywhere.
    EXPECT_LT((batch[0] - single_a).abs().gt(1e-5).to(torch::kFloat).mean().item<float>(), 0.01f);
    EXPECT_LT((batch[1] - single_b).abs().gt(1e-5).to(torch::kFloat).mean().item<float>(), 0.01f);
    // A different seed gives a different result (the views differ).
    ia.seed = 99;
    EXPECT_FALSE(torch::equal(perturb(*encoder_, {ia}, s)[0], single_a));
}

// The way a GPU runs it, images of one shape have their views sampled, their losses taken,
// their visibility terms judged and their steering compared together: each image's result
// is still its own, its file views' share (which may lengthen its run) included.
TEST_F(Optimizer, ImagesTakenTogetherLeaveEachImageItsOwnResult) {
    if (!butteraugli_available()) GTEST_SKIP() << "built without libjxl's butteraugli";
    test::FusedKernelsOff off;
    set_butteraugli_backend(ButteraugliBackend::torch);  // the steering compares them together too
    auto target = torch::ones({encoder_->embed_dim()}) / std::sqrt(double(encoder_->embed_dim()));
    // Two of one shape (different pictures, so a mix-up shows), one of another.
    std::vector<PerturbItem> items{item(picture(48, 40), 21), item(picture(48, 40).flip({2}).contiguous(), 22),
                                   item(picture(40, 56), 23)};
    for (auto& it : items) it.aims = {EncoderAim{target, {}}};
    PerturbSettings s;
    s.steps = 6;
    s.views = 3;
    s.visibility = 1.0f;
    s.visibility_loss = 4.0f;
    s.lagging_extra_steps = 3;
    s.early_stop = false;
    PerturbStats batch_stats;
    const auto batch = perturb(*encoder_, items, s, {}, &batch_stats);
    for (size_t k = 0; k < items.size(); ++k) {
        PerturbStats stats;
        const auto single = perturb(*encoder_, {items[k]}, s, {}, &stats)[0];
        EXPECT_LT((batch[k] - single).abs().gt(1e-5).to(torch::kFloat).mean().item<float>(), 0.01f) << k;
        EXPECT_EQ(batch_stats.steps[k], stats.steps[0]) << k;
        ASSERT_TRUE(std::isfinite(stats.file_view_shares[0])) << k;
        EXPECT_NEAR(batch_stats.file_view_shares[k], stats.file_view_shares[0], 1e-4) << k;
    }
    set_butteraugli_backend(ButteraugliBackend::automatic);
}

TEST_F(Optimizer, ZeroBudgetChangesNothing) {
    const auto x = picture(48, 48);
    auto it = item(x, 3);
    it.budget = torch::zeros({1, 48, 48});
    it.aims = {EncoderAim{torch::ones({encoder_->embed_dim()}), {}}};
    PerturbSettings s;
    s.steps = 5;
    EXPECT_TRUE(torch::equal(perturb(*encoder_, {it}, s)[0], x));
}

// An image whose file views keep less of the gain than the settings' share at half the run
// takes the extra steps; one that keeps more, or has no file views, takes its steps.
TEST_F(Optimizer, LaggingFileViewsGetTheExtraSteps) {
    auto it = item(picture(48, 48), 5);
    it.aims = {EncoderAim{test::seeded_direction(encoder_->embed_dim(), 2), {}}};
    PerturbSettings s;
    s.steps = 16;
    s.views = 4;
    s.early_stop = false;
    s.lagging_extra_steps = 8;
    auto steps_taken = [&](float share, int views) {
        s.lagging_file_share = share;
        s.views = views;
        PerturbStats stats;
        perturb(*encoder_, {it}, s, {}, &stats);
        return stats.steps.at(0);
    };
    EXPECT_EQ(steps_taken(1e9f, 4), 24);   // any share is under this
    EXPECT_EQ(steps_taken(-1e9f, 4), 16);  // and over this
    EXPECT_EQ(steps_taken(1e9f, 2), 16);   // two views leave no room for the file's
}

TEST_F(Optimizer, CancellationStopsPromptly) {
    auto it = item(picture(48, 48), 4);
    it.aims = {EncoderAim{torch::ones({encoder_->embed_dim()}), {}}};
    PerturbSettings s;
    s.steps = 1000;
    int calls = 0;
    EXPECT_THROW(perturb(*encoder_, {it}, s, [&](float) { return ++calls < 3; }), Cancelled);
    EXPECT_EQ(calls, 3);
}

}  // namespace
}  // namespace bd
