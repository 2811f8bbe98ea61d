// bench_poison's experiment is only as good as its mechanics: these check them on synthetic
// features where the right answer is known.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "bench/common/arguments.h"
#include "bench/common/plain_pgd.h"
#include "bench/poison/detect.h"
#include "bench/poison/learners.h"
#include "bench/poison/split.h"
#include "encoders/encoder.h"

namespace bd::poison {
namespace {

std::vector<std::string> names(int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) out.push_back("/art/a/img" + std::to_string(i) + ".png");
    return out;
}

TEST(PoisonSplit, TestImagesNeverReachTraining) {
    const auto split = split_paths("a", names(150), 1.0 / 3.0, 7);
    EXPECT_EQ(split.test.size(), 50u);
    EXPECT_EQ(split.train.size(), 100u);
    std::set<std::string> test(split.test.begin(), split.test.end());
    for (const auto& p : split.train) EXPECT_EQ(test.count(p), 0u) << p;
    std::set<std::string> all(split.train.begin(), split.train.end());
    all.insert(test.begin(), test.end());
    EXPECT_EQ(all.size(), 150u);
}

TEST(PoisonSplit, TheFileNamesDecideNotTheListingOrderOrFolder) {
    auto shuffled = names(40);
    std::reverse(shuffled.begin(), shuffled.end());
    const auto a = split_paths("a", names(40), 0.25, 3);
    const auto b = split_paths("a", shuffled, 0.25, 3);
    EXPECT_EQ(a.train, b.train);
    EXPECT_EQ(a.test, b.test);
    auto moved = names(40);
    for (auto& p : moved) p.replace(0, 6, "/elsewhere/");
    const auto c = split_paths("a", moved, 0.25, 3);
    for (size_t i = 0; i < c.test.size(); ++i)
        EXPECT_EQ(c.test[i].substr(c.test[i].rfind('/')), a.test[i].substr(a.test[i].rfind('/')));
    // Another seed holds out other images.
    EXPECT_NE(split_paths("a", names(40), 0.25, 4).test, a.test);
}

TEST(PoisonSplit, EveryConceptKeepsBothSidesAndTooFewImagesIsAnError) {
    const auto two = split_paths("a", names(2), 0.9, 0);
    EXPECT_EQ(two.train.size(), 1u);
    EXPECT_EQ(two.test.size(), 1u);
    EXPECT_THROW(split_paths("a", names(1), 0.3, 0), std::invalid_argument);
    EXPECT_EQ(poisoned_count(0.25, 100), 25u);
    EXPECT_EQ(poisoned_count(1.0, 7), 7u);
    EXPECT_EQ(poisoned_count(0.0, 7), 0u);
}

// Two well-separated concepts (and a bystander) in 16 dimensions, unit length as the
// encoders' features are.
struct World {
    torch::Tensor a, b, c;  // concept centres
    std::vector<ConceptFeatures> clean;
};

torch::Tensor cloud(const torch::Tensor& centre, int64_t n, double spread, uint64_t seed) {
    auto gen = at::detail::createCPUGenerator(seed);
    return unit_length(centre + spread * at::normal(0.0, 1.0, {n, centre.size(0)}, gen));
}

World world() {
    World w;
    auto gen = at::detail::createCPUGenerator(11);
    const auto centres = at::normal(0.0, 1.0, {3, 16}, gen);
    w.a = centres[0];
    w.b = centres[1];
    w.c = centres[2];
    int seed = 100;
    for (const auto& centre : {w.a, w.b, w.c})
        w.clean.push_back({cloud(centre, 100, 0.3, seed++), cloud(centre, 50, 0.3, seed++)});
    return w;
}

Probe clean_probe(const World& w) {
    const auto [x, y] = training_set(w.clean);
    return train_probe(x, y, 3);
}

std::vector<ConceptFeatures> poisoned(const World& w, const torch::Tensor& poisons, double rate) {
    auto out = w.clean;
    const int64_t k = int64_t(poisoned_count(rate, size_t(out[0].train.size(0))));
    out[0].train = torch::cat({poisons.slice(0, 0, k), w.clean[0].train.slice(0, k)});
    return out;
}

TEST(PoisonLearners, CleanTrainingLearnsTheConcepts) {
    const auto w = world();
    const auto r = evaluate(w.clean, w.clean, clean_probe(w), 1);
    EXPECT_LT(r.corruption, 0.05);
    EXPECT_LT(r.hijack, 0.05);
    EXPECT_GT(r.bystanders, 0.95);
    EXPECT_LT(r.generated_as_target, 0.05);
    EXPECT_NEAR(r.mean_shift, 0.0, 1e-9);
}

TEST(PoisonLearners, FeatureCollisionPoisonsHijackTheProbe) {
    const auto w = world();
    const auto probe = clean_probe(w);
    // Poisons whose features sit among the target's, labelled as the source: the target's
    // region is then claimed by both labels.
    const auto collided = cloud(w.b, 100, 0.3, 77);
    const auto all = evaluate(poisoned(w, collided, 1.0), w.clean, probe, 1);
    EXPECT_GT(all.hijack, 0.3);
    EXPECT_NEAR(all.mean_shift, 1.0, 0.15);
    EXPECT_GT(all.generated_as_target, 0.5);
    const auto half = evaluate(poisoned(w, collided, 0.5), w.clean, probe, 1);
    EXPECT_GT(half.hijack, 0.15);
    EXPECT_NEAR(half.mean_shift, 0.5, 0.1);
    EXPECT_GT(half.bystanders, 0.95);  // the other concept is untouched
}

TEST(PoisonLearners, PoisonsBeyondTheTargetTakeTheSourceConceptAway) {
    const auto w = world();
    // Past the target, away from the source: the probe learns "the source lies beyond the
    // target", and the clean source images fall on the target's side.
    const auto beyond = cloud(w.b + 0.6 * (w.b - w.a), 100, 0.3, 78);
    const auto all = evaluate(poisoned(w, beyond, 1.0), w.clean, clean_probe(w), 1);
    EXPECT_GT(all.corruption, 0.9);
    EXPECT_GT(all.mean_shift, 1.0);
}

TEST(PoisonLearners, UnprotectedCopiesChangeNothing) {
    const auto w = world();
    // "Poisons" that are the source's own images with a little noise: what an unprotected
    // (or fully purified) scrape looks like.
    const auto copies = unit_length(w.clean[0].train + 0.01 * torch::randn_like(w.clean[0].train));
    const auto r = evaluate(poisoned(w, copies, 1.0), w.clean, clean_probe(w), 1);
    EXPECT_LT(r.corruption, 0.05);
    EXPECT_LT(r.hijack, 0.05);
    EXPECT_LT(r.generated_as_target, 0.05);
    EXPECT_NEAR(r.mean_shift, 0.0, 0.05);
}

TEST(PoisonLearners, MeanShiftIsTheFractionOfTheWay) {
    const auto clean = torch::tensor({0.0, 0.0});
    const auto toward = torch::tensor({2.0, 0.0});
    EXPECT_NEAR(mean_shift(torch::tensor({1.0, 5.0}), clean, toward), 0.5, 1e-12);
    EXPECT_NEAR(mean_shift(torch::tensor({3.0, 0.0}), clean, toward), 1.5, 1e-12);
    EXPECT_NEAR(mean_shift(torch::tensor({-1.0, 0.0}), clean, toward), -0.5, 1e-12);
}

TEST(PoisonLearners, ASampledConceptHasItsMeanAndSpread) {
    ConceptModel m{torch::tensor({1.0f, -2.0f}), torch::tensor({0.5f, 0.1f})};
    const auto s = sample(m, 20000, 5);
    EXPECT_TRUE(torch::allclose(s.mean(0), m.mean, 0, 0.02));
    EXPECT_TRUE(torch::allclose(s.std(0), m.stddev, 0, 0.02));
    EXPECT_TRUE(torch::equal(s, sample(m, 20000, 5)));  // seeded
}

// Smooth images (upsampled noise), quantised to 8 bits as files are.
std::vector<torch::Tensor> smooth_images(int count, uint64_t seed) {
    auto gen = at::detail::createCPUGenerator(seed);
    std::vector<torch::Tensor> out;
    for (int i = 0; i < count; ++i) {
        const auto coarse = at::rand({1, 3, 8, 8}, gen);
        const auto x = torch::upsample_bilinear2d(coarse, {64, 64}, false).squeeze(0);
        out.push_back(torch::round(x * 255) / 255);
    }
    return out;
}

TEST(PoisonDetection, AddedNoiseIsFoundAndCleanCopiesAreChance) {
    const auto clean = smooth_images(40, 1);
    auto gen = at::detail::createCPUGenerator(2);
    std::vector<torch::Tensor> noisy, copies;
    for (const auto& x : clean)
        noisy.push_back(torch::round((x + (at::rand(x.sizes(), gen) - 0.5) * 4.0 / 255).clamp(0, 1) * 255) / 255);
    for (const auto& x : smooth_images(40, 3)) copies.push_back(x);
    EXPECT_GT(detection_accuracy(clean, noisy, 0), 0.9);
    // Other clean images of the same kind: nothing to find.
    EXPECT_LT(detection_accuracy(clean, copies, 0), 0.75);
    EXPECT_TRUE(std::isnan(detection_accuracy({clean[0]}, {noisy[0]}, 0)));
}

// The plain PGD is compared at belladonna's butteraugli, between the PGD rows around it.
TEST(BenchCommon, BetweenFindsTheRowsAroundAValueAndTheWayBetween) {
    const std::vector<double> visibility{1.0, 2.0, 4.0};
    const auto mid = bench::between(visibility, 3.0);
    EXPECT_EQ(mid.lo, 1u);
    EXPECT_EQ(mid.hi, 2u);
    EXPECT_DOUBLE_EQ(mid.t, 0.5);
    EXPECT_FALSE(mid.outside);
    const auto below = bench::between(visibility, 0.5);
    EXPECT_TRUE(below.outside);
    EXPECT_DOUBLE_EQ(below.t, 0.0);
    EXPECT_EQ(below.lo, 0u);
    const auto above = bench::between(visibility, 9.0);
    EXPECT_TRUE(above.outside);
    EXPECT_DOUBLE_EQ(above.t, 1.0);
    EXPECT_EQ(above.hi, 2u);
    EXPECT_EQ(bench::comma_list(",low,,default,"), (std::vector<std::string>{"low", "default"}));
    EXPECT_EQ(bench::comma_numbers("1,2.5"), (std::vector<double>{1.0, 2.5}));
    EXPECT_THROW(bench::comma_numbers("1,x"), std::invalid_argument);
}

}  // namespace
}  // namespace bd::poison
