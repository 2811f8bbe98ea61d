// Constants are placed on a device once per value, and only off the CPU.
#include <gtest/gtest.h>

#include "perturb/device_constant.h"

namespace bd {
namespace {

TEST(DeviceConstant, OnTheCpuAPlainConversionKeptNowhere) {
    const auto kept = device_constants_kept();
    const auto v = torch::tensor({1.0f, 2.0f, 3.0f});
    const auto d = device_constant(v, torch::TensorOptions().dtype(torch::kDouble));
    EXPECT_EQ(d.scalar_type(), torch::kDouble);
    EXPECT_TRUE(torch::equal(d, v.to(torch::kDouble)));
    EXPECT_EQ(device_constants_kept(), kept);
}

// The meta device stands in for a GPU here: a tensor there has a shape and a type but no data.
TEST(DeviceConstant, OffTheCpuOneCopyPerValue) {
    const auto meta = torch::TensorOptions().device(torch::kMeta);
    const auto kept = device_constants_kept();
    const auto first = device_constant(torch::tensor({0.5f, 0.25f}), meta);
    EXPECT_TRUE(first.device().is_meta());
    EXPECT_EQ(first.sizes(), (std::vector<int64_t>{2}));
    EXPECT_EQ(device_constants_kept(), kept + 1);
    // The same value, made afresh: the same copy.
    EXPECT_TRUE(device_constant(torch::tensor({0.5f, 0.25f}), meta).is_same(first));
    EXPECT_EQ(device_constants_kept(), kept + 1);
    // Another value, shape or type: another copy.
    EXPECT_FALSE(device_constant(torch::tensor({0.5f, 0.125f}), meta).is_same(first));
    EXPECT_FALSE(device_constant(torch::tensor({0.5f, 0.25f}).view({1, 2}), meta).is_same(first));
    const auto as_double = device_constant(torch::tensor({0.5f, 0.25f}), meta.dtype(torch::kDouble));
    EXPECT_EQ(as_double.scalar_type(), torch::kDouble);
    EXPECT_EQ(device_constants_kept(), kept + 4);
}

}  // namespace
}  // namespace bd
