#include <gtest/gtest.h>

#include "perturb/settings.h"

namespace bd {
namespace {

TEST(Settings, PresetsAndOverrides) {
    auto s = make_settings("poison", "default", 0, "default", 0, 7);
    EXPECT_EQ(s.mode, Mode::poison);
    EXPECT_FLOAT_EQ(s.epsilon, 8.0f / 255);
    EXPECT_EQ(s.steps, 64);
    EXPECT_EQ(s.views, 4);
    EXPECT_EQ(s.seed, 7u);
    EXPECT_FLOAT_EQ(make_settings("cloak", "low", 0, "fast", 0, 0).epsilon, 4.0f / 255);
    EXPECT_FLOAT_EQ(make_settings("poison", "high", 0, "slow", 0, 0).epsilon, 16.0f / 255);
    EXPECT_EQ(make_settings("poison", "high", 0, "slow", 0, 0).steps, 500);
    EXPECT_EQ(make_settings("poison", "high", 0, "fast", 0, 0).views, 2);
    // The visibility term: off in the fast preset, its gradient every second step in the
    // default, every step in the slow one.
    EXPECT_FLOAT_EQ(make_settings("poison", "default", 0, "fast", 0, 0).visibility_loss, 0.0f);
    EXPECT_FLOAT_EQ(s.visibility_loss, 1.0f);
    EXPECT_EQ(s.visibility_loss_every, 2);
    EXPECT_EQ(make_settings("poison", "default", 0, "slow", 0, 0).visibility_loss_every, 1);
    EXPECT_FLOAT_EQ(make_settings("poison", "high", 3, "fast", 0, 0).epsilon, 3.0f / 255);
    EXPECT_EQ(make_settings("poison", "default", 0, "fast", 17, 0).steps, 17);
    // A preset's steps are a most (it may stop early); a number asked for is run in full.
    EXPECT_TRUE(make_settings("poison", "default", 0, "fast", 0, 0).early_stop);
    EXPECT_FALSE(make_settings("poison", "default", 0, "fast", 17, 0).early_stop);
    EXPECT_EQ(make_settings("cloak", "default", 0, "fast", 0, 0).mode, Mode::cloak);
    // More steps where the file views lag: the default's, not in a number asked for.
    EXPECT_EQ(s.lagging_extra_steps, 64);
    EXPECT_EQ(make_settings("poison", "default", 0, "default", 17, 0).lagging_extra_steps, 0);
    EXPECT_EQ(make_settings("poison", "default", 0, "fast", 0, 0).lagging_extra_steps, 0);
    EXPECT_EQ(make_settings("poison", "default", 0, "slow", 0, 0).lagging_extra_steps, 0);
    // Intensity is a visibility target (butteraugli max-norm) under its L-inf cap.
    EXPECT_FLOAT_EQ(make_settings("poison", "low", 0, "fast", 0, 0).visibility, 1.0f);
    EXPECT_FLOAT_EQ(make_settings("poison", "default", 0, "fast", 0, 0).visibility, 1.5f);
    EXPECT_FLOAT_EQ(make_settings("poison", "high", 0, "fast", 0, 0).visibility, 2.0f);
    EXPECT_FLOAT_EQ(make_settings("poison", "high", 0, "fast", 0, 0, 0).visibility, 0.0f);
    EXPECT_FLOAT_EQ(make_settings("poison", "low", 0, "fast", 0, 0, 3).visibility, 3.0f);
    EXPECT_THROW(make_settings("poison", "low", 0, "fast", 0, 0, 25), std::invalid_argument);
}

TEST(Settings, BadValuesNameThemselves) {
    try {
        make_settings("poisson", "default", 0, "default", 0, 0);
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("poisson"), std::string::npos);
    }
    EXPECT_THROW(make_settings("poison", "extreme", 0, "default", 0, 0), std::invalid_argument);
    EXPECT_THROW(make_settings("poison", "default", 0, "ultra", 0, 0), std::invalid_argument);
    EXPECT_THROW(make_settings("poison", "default", -1, "default", 0, 0), std::invalid_argument);
    EXPECT_THROW(make_settings("poison", "default", 0, "default", -5, 0), std::invalid_argument);
}

}  // namespace
}  // namespace bd
