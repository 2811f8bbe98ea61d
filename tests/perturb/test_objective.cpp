// The per-encoder losses, without a model: which way each aim pulls.
#include <gtest/gtest.h>

#include "perturb/objective.h"

namespace bd {
namespace {

torch::Tensor unit(torch::Tensor v) { return v / v.norm(2, -1, true); }

TEST(Objective, LatentTargetLossIsTheMeanSquaredDistance) {
    const auto target = torch::randn({12});
    const auto views = torch::randn({3, 12});
    EXPECT_NEAR(aim_loss(true, views, {target, {}}, {}, 0.5f).item<double>(),
                (views - target).pow(2).mean().item<double>(), 1e-6);
    EXPECT_NEAR(aim_loss(true, target.unsqueeze(0).expand({2, 12}), {target, {}}, {}, 0.5f).item<double>(), 0.0, 1e-9);
}

TEST(Objective, LatentWithoutTargetRewardsDistanceFromTheCleanViews) {
    const auto clean = torch::randn({2, 12});
    const auto near = clean + 0.01, far = clean + 1.0;
    EXPECT_LT(aim_loss(true, far, {}, clean, 0.5f).item<double>(), aim_loss(true, near, {}, clean, 0.5f).item<double>());
    EXPECT_THROW(aim_loss(true, far, {}, {}, 0.5f), c10::Error) << "no clean views to compare with";
}

TEST(Objective, EmbeddingPoisonPullsTowardTargetAndAwayFromSource) {
    const auto target = unit(torch::randn({8})), away = unit(torch::randn({8}));
    const auto toward = unit(target + 0.1 * torch::randn({8})).unsqueeze(0);
    const auto source_like = away.unsqueeze(0);
    const EncoderAim aim{target, away};
    EXPECT_LT(aim_loss(false, toward * 3.0, aim, {}, 0.5f).item<double>(),
              aim_loss(false, source_like, aim, {}, 0.5f).item<double>());
    // Scale-free: the encoder's raw output is normalised first.
    EXPECT_NEAR(aim_loss(false, toward * 3.0, aim, {}, 0.5f).item<double>(),
                aim_loss(false, toward, aim, {}, 0.5f).item<double>(), 1e-6);
    const double expected = -torch::dot(toward[0], target).item<double>() + 0.5 * torch::dot(toward[0], away).item<double>();
    EXPECT_NEAR(aim_loss(false, toward, aim, {}, 0.5f).item<double>(), expected, 1e-6);
}

TEST(Objective, EmbeddingCloakIsTheSimilarityToLeave) {
    const auto away = unit(torch::randn({8}));
    const auto views = unit(torch::randn({4, 8}));
    EXPECT_NEAR(aim_loss(false, views, {{}, away}, {}, 0.5f).item<double>(),
                torch::matmul(views, away).mean().item<double>(), 1e-6);
}

// Each view's term counts by its weight; without weights the views count alike; a latent's
// loss stays the mean whatever the weights.
TEST(Objective, ViewWeightsShareTheEmbeddingLoss) {
    const auto target = unit(torch::randn({8})), away = unit(torch::randn({8}));
    const auto views = unit(torch::randn({4, 8}));
    const auto weights = torch::tensor({0.1f, 0.4f, 0.3f, 0.2f});
    const auto per_view = -torch::matmul(views, target) + 0.5 * torch::matmul(views, away);
    EXPECT_NEAR(aim_loss(false, views, {target, away}, {}, 0.5f, weights).item<double>(),
                (per_view * weights).sum().item<double>(), 1e-6);
    EXPECT_TRUE(torch::allclose(view_losses(views, {target, away}, 0.5f), per_view));
    EXPECT_NEAR(aim_loss(false, views, {target, away}, {}, 0.5f, torch::full({4}, 0.25f)).item<double>(),
                aim_loss(false, views, {target, away}, {}, 0.5f).item<double>(), 1e-6);
    EXPECT_NEAR(aim_loss(false, views, {{}, away}, {}, 0.5f, weights).item<double>(),
                (torch::matmul(views, away) * weights).sum().item<double>(), 1e-6);
    const auto latent_target = torch::randn({8});
    EXPECT_NEAR(aim_loss(true, views, {latent_target, {}}, {}, 0.5f, weights).item<double>(),
                aim_loss(true, views, {latent_target, {}}, {}, 0.5f).item<double>(), 1e-9);
    EXPECT_THROW(aim_loss(false, views, {target, away}, {}, 0.5f, torch::full({3}, 1.0f / 3)), c10::Error);
}

// Several images' losses at once are each image's aim_loss() with its own aim, poison and
// cloak, with and without view weights, and their views' losses view_losses(); gradients too.
TEST(Objective, EmbeddingLossesOfSeveralImagesAreEachImagesOwn) {
    torch::manual_seed(8);
    const int64_t n = 3, k = 4, d = 8;
    const auto outputs = (torch::randn({n * k, d}) * 2).requires_grad_(true);
    const auto targets = unit(torch::randn({n, d})), aways = unit(torch::randn({n, d}));
    const auto weights = torch::tensor({0.1f, 0.4f, 0.3f, 0.2f});
    for (bool poison : {true, false}) {
        for (const auto& w : {torch::Tensor(), weights}) {
            SCOPED_TRACE(testing::Message() << (poison ? "poison" : "cloak") << (w.defined() ? ", weighted" : ""));
            torch::Tensor per_view;
            const auto losses = embedding_losses(outputs, k, poison ? targets : torch::Tensor(), aways, 0.5f, w, &per_view);
            ASSERT_EQ(losses.sizes(), (std::vector<int64_t>{n}));
            ASSERT_EQ(per_view.sizes(), (std::vector<int64_t>{n * k}));
            const float scales[] = {1.0f, -2.0f, 3.0f};  // so each image's part of the gradient is told apart
            const auto g = torch::autograd::grad({(losses * torch::tensor({scales[0], scales[1], scales[2]})).sum()}, {outputs},
                                                 {}, /*retain_graph=*/true)[0];
            for (int64_t i = 0; i < n; ++i) {
                const auto mine = outputs.narrow(0, i * k, k);
                const EncoderAim aim{poison ? targets[i] : torch::Tensor(), aways[i]};
                const auto own = aim_loss(false, mine, aim, {}, 0.5f, w);
                EXPECT_NEAR(losses[i].item<double>(), own.item<double>(), 1e-6) << "image " << i;
                EXPECT_TRUE(torch::allclose(per_view.narrow(0, i * k, k), view_losses(mine, aim, 0.5f), 1e-5, 1e-6));
                const auto g_own = torch::autograd::grad({own * scales[i]}, {outputs})[0];
                EXPECT_TRUE(torch::allclose(g.narrow(0, i * k, k), g_own.narrow(0, i * k, k), 1e-5, 1e-6)) << "image " << i;
            }
        }
    }
    EXPECT_THROW(embedding_losses(outputs.narrow(0, 0, 11), k, targets, aways, 0.5f), c10::Error);
    EXPECT_THROW(embedding_losses(outputs, k, targets.narrow(0, 0, 2), aways, 0.5f), c10::Error);
    EXPECT_THROW(embedding_losses(outputs, k, targets, aways, 0.5f, torch::full({3}, 1.0f / 3)), c10::Error);
}

}  // namespace
}  // namespace bd
