// The optimizer against a VAE (latent-space aims) and against an ensemble: each member
// moves the way its aim says, and a member's weight is its share of the one loss.
#include <gtest/gtest.h>

#include "encoders/encoder.h"
#include "perturb/visibility/mask.h"
#include "perturb/objective.h"
#include "perturb/optimizer.h"
#include "perturb/views/views.h"
#include "src/io/tensor_image.h"
#include "util/seeded_weights.h"
#include "util/test_images.h"
#include "util/tiny_clip.h"
#include "util/tiny_vae.h"

namespace bd {
namespace {

class Ensemble : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new test::TempDir();
        clip_ = load_encoder(test::write_tiny_clip(dir_->file("clip"), test::TinyFormat::open_clip)).release();
        vae_ = load_encoder(test::write_tiny_vae(dir_->file("vae"), test::TinyVaeFormat::diffusers)).release();
    }
    static void TearDownTestSuite() {
        delete clip_;
        delete vae_;
        delete dir_;
    }

    // What `encoder` makes of the whole image: a unit embedding or a latent.
    static torch::Tensor output(Encoder& encoder, const torch::Tensor& chw) {
        torch::NoGradGuard no_grad;
        const auto out = encoder.encode_images(resize_center_crop(chw.unsqueeze(0), encoder.input_size())).squeeze(0);
        return is_latent(encoder) ? out : unit_length(out);
    }

    static PerturbItem item(const torch::Tensor& image, std::vector<EncoderAim> aims) {
        PerturbItem it;
        it.image = image;
        it.budget = (8.0 / 255) * perceptual_mask(image);
        it.aims = std::move(aims);
        it.seed = 5;
        return it;
    }

    static PerturbSettings quick(Mode mode = Mode::poison) {
        PerturbSettings s;
        s.mode = mode;
        s.steps = 30;
        s.views = 2;
        return s;
    }

    static double distance(const torch::Tensor& a, const torch::Tensor& b) { return latent_distance(a, b).item<double>(); }

    static test::TempDir* dir_;
    static Encoder* clip_;
    static Encoder* vae_;
};
test::TempDir* Ensemble::dir_ = nullptr;
Encoder* Ensemble::clip_ = nullptr;
Encoder* Ensemble::vae_ = nullptr;

torch::Tensor picture(uint32_t w, uint32_t h) { return color_to_tensor(test::make_gradient(w, h, 3, 8)); }

TEST_F(Ensemble, LatentPoisonMovesTheLatentTowardTheAnchors) {
    const auto x = picture(80, 64), anchor = picture(64, 64).flip({2}).roll(20, 1);
    const auto target = output(*vae_, anchor);
    const auto out = perturb(*vae_, {item(x, {{target, {}}})}, quick())[0];
    const double before = distance(output(*vae_, x), target), after = distance(output(*vae_, out), target);
    EXPECT_LT(after, 0.8 * before) << before << " -> " << after;
    EXPECT_TRUE(((out - x).abs() <= (8.0 / 255) + 1e-6).all().item<bool>());
}

TEST_F(Ensemble, LatentCloakMovesTheLatentAwayFromItsOwn) {
    const auto x = picture(64, 64);
    const auto clean = output(*vae_, x);
    auto moved = [&](int steps) {
        auto s = quick(Mode::cloak);
        s.steps = steps;
        return distance(output(*vae_, perturb(*vae_, {item(x, {EncoderAim{}})}, s)[0]), clean);
    };
    // Far beyond where the random start alone puts it.
    const double start = moved(1), optimised = moved(30);
    EXPECT_GT(optimised, 3 * start) << start << " -> " << optimised;
}

TEST_F(Ensemble, EachMemberMovesTowardItsOwnAim) {
    const auto x = picture(72, 64);
    const auto text_target = test::seeded_direction(clip_->embed_dim(), 1);
    // A CLIP poisoned toward a direction, a VAE beside it moving away from its clean latent.
    const std::vector<EnsembleMember> both{{clip_, 1.0f, 0}, {vae_, 1.0f, 0}};
    const auto out = perturb(both, {item(x, {{text_target, {}}, EncoderAim{}})}, quick())[0];
    const double gain = torch::dot(output(*clip_, out), text_target).item<double>() -
                        torch::dot(output(*clip_, x), text_target).item<double>();
    EXPECT_GT(gain, 0.05);
    EXPECT_GT(distance(output(*vae_, out), output(*vae_, x)), 0.0);
}

TEST_F(Ensemble, AMembersWeightIsItsShareOfTheLoss) {
    const auto x = picture(64, 64), anchor = picture(64, 64).flip({1});
    const auto target = output(*vae_, anchor);
    const auto text_target = test::seeded_direction(clip_->embed_dim(), 1);
    const auto aims = std::vector<EncoderAim>{{text_target, {}}, {target, {}}};
    auto run = [&](float clip_weight, float vae_weight) {
        return perturb({{clip_, clip_weight, 0}, {vae_, vae_weight, 0}}, {item(x, aims)}, quick())[0];
    };
    const auto clip_heavy = run(1.0f, 1e-4f), vae_heavy = run(1e-4f, 1.0f);
    // Each encoder's own aim is reached better where it carries the loss.
    EXPECT_GT(torch::dot(output(*clip_, clip_heavy), text_target).item<double>(),
              torch::dot(output(*clip_, vae_heavy), text_target).item<double>());
    EXPECT_LT(distance(output(*vae_, vae_heavy), target), distance(output(*vae_, clip_heavy), target));
}

TEST_F(Ensemble, AVaeWorksAtASmallerWorkingSize) {
    const auto x = picture(96, 96), anchor = picture(64, 64).flip({2});
    // Its latent at 32 px (half the sample size) is what the aim is in.
    torch::Tensor target;
    {
        torch::NoGradGuard no_grad;
        target = vae_->encode_images(resize_center_crop(anchor.unsqueeze(0), 32)).squeeze(0);
    }
    const auto out = perturb({{vae_, 1.0f, 32}}, {item(x, {{target, {}}})}, quick())[0];
    auto at32 = [&](const torch::Tensor& img) {
        torch::NoGradGuard no_grad;
        return vae_->encode_images(resize_center_crop(img.unsqueeze(0), 32)).squeeze(0);
    };
    EXPECT_LT(distance(at32(out), target), distance(at32(x), target));
}

TEST_F(Ensemble, AimsMustMatchTheMembers) {
    const auto x = picture(32, 32);
    EXPECT_THROW(perturb({{clip_, 1.0f, 0}, {vae_, 1.0f, 0}}, {item(x, {EncoderAim{}})}, quick(Mode::cloak)),
                 c10::Error);
}

}  // namespace
}  // namespace bd
