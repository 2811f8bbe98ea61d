// joined_along: slices of one tensor joined in order are that tensor again, with no copy;
// anything else is joined by a copy.
#include <gtest/gtest.h>

#include "perturb/joined_along.h"

namespace bd {
namespace {

TEST(JoinedAlong, ConsecutiveSlicesAreAViewOfTheirTensor) {
    const auto whole = torch::rand({5, 4, 3, 6});
    for (const int64_t dim : {0, 1}) {
        SCOPED_TRACE(dim);
        std::vector<torch::Tensor> parts;
        for (int64_t k = 0; k < whole.size(dim); ++k) parts.push_back(whole.narrow(dim, k, 1));
        const auto joined = joined_along(parts, dim);
        EXPECT_TRUE(torch::equal(joined, whole));
        EXPECT_EQ(joined.data_ptr(), whole.data_ptr());  // no copy
        // A run of them from the middle, of unequal lengths.
        const auto middle = joined_along({whole.narrow(dim, 1, 1), whole.narrow(dim, 2, 2)}, dim);
        EXPECT_TRUE(torch::equal(middle, whole.narrow(dim, 1, 3)));
        EXPECT_EQ(middle.data_ptr(), whole.narrow(dim, 1, 3).data_ptr());
    }
}

TEST(JoinedAlong, AnythingElseIsCopied) {
    const auto whole = torch::rand({4, 3, 5});
    const auto expect_copy = [](const std::vector<torch::Tensor>& parts, const char* what) {
        SCOPED_TRACE(what);
        const auto joined = joined_along(parts, 0);
        EXPECT_TRUE(torch::equal(joined, torch::cat(parts, 0)));
        for (const auto& p : parts) EXPECT_FALSE(joined.is_alias_of(p));
    };
    expect_copy({whole.narrow(0, 2, 1), whole.narrow(0, 0, 1)}, "out of order");
    expect_copy({whole.narrow(0, 0, 1), whole.narrow(0, 2, 1)}, "with a gap");
    expect_copy({whole.narrow(0, 0, 1), whole.narrow(0, 1, 1).clone()}, "from two tensors");
    // A view of the first part would take no gradient to the others.
    const auto grad = torch::rand({2, 3}).requires_grad_(true);
    const auto joined = joined_along({grad.narrow(0, 0, 1), grad.narrow(0, 1, 1)}, 0);
    torch::autograd::backward({(joined * torch::tensor({{1.0f}, {2.0f}})).sum()});
    EXPECT_TRUE(torch::equal(grad.grad(), torch::tensor({{1.0f, 1.0f, 1.0f}, {2.0f, 2.0f, 2.0f}})));
}

}  // namespace
}  // namespace bd
