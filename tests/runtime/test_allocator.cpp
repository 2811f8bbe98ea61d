// keep_freed_memory: a block of the size an optimisation step frees and takes again comes
// from the heap, and freeing it leaves it there for the next step.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "src/runtime/allocator.h"

namespace bd {
namespace {

#if defined(__GLIBC__)
TEST(Allocator, StepSizedBlocksStayInTheHeap) {
    bd::keep_freed_memory();
    constexpr size_t kBlock = 16u << 20;  // a 1024 px image's gradient is 12.6 MB
    const auto before = mallinfo2();
    auto* p = static_cast<char*>(std::malloc(kBlock));
    ASSERT_NE(p, nullptr);
    std::memset(p, 1, kBlock);
    const auto held = mallinfo2();
    // Not a fresh mapping: glibc's default would map a first block this large.
    EXPECT_LT(held.hblkhd, before.hblkhd + kBlock);
    EXPECT_GE(held.arena, before.arena + kBlock);
    std::free(p);
    // Freed, it stays with the process (up to the trim threshold) for the next step.
    EXPECT_GE(mallinfo2().arena, before.arena + kBlock);
}

// A step's worth of planes freed at once (more than glibc's default 128 KB threshold, and
// than the 128 MB once kept) stays for the next step, and release_freed_memory() gives it
// back.
TEST(Allocator, AStepsPlanesStayUntilReleased) {
    bd::keep_freed_memory();
    constexpr size_t kBlock = 12u << 20, kBlocks = 16;  // 192 MB, as 1024 px planes
    std::vector<char*> blocks;
    blocks.reserve(kBlocks);  // allocated first, so no small block sits between the large ones
    for (size_t k = 0; k < kBlocks; ++k) {
        blocks.push_back(static_cast<char*>(std::malloc(kBlock)));
        ASSERT_NE(blocks.back(), nullptr);
        std::memset(blocks.back(), 1, kBlock);
    }
    const auto held = mallinfo2().arena;
    for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) std::free(*it);
    EXPECT_GE(mallinfo2().arena, held);
    bd::release_freed_memory();
    EXPECT_LT(mallinfo2().arena, held - (kBlocks - 2) * kBlock);
}

TEST(Allocator, OtherThreadsShareTheOneHeap) {
    bd::keep_freed_memory();
    std::thread([] {
        auto* p = static_cast<char*>(std::malloc(1u << 20));
        std::memset(p, 1, 1u << 20);
        std::free(p);
    }).join();
    // malloc_info lists each arena as a <heap>: a thread of its own would have made a second.
    char* text = nullptr;
    size_t size = 0;
    FILE* out = open_memstream(&text, &size);
    ASSERT_NE(out, nullptr);
    ASSERT_EQ(malloc_info(0, out), 0);
    std::fclose(out);
    const std::string info(text, size);
    std::free(text);
    EXPECT_NE(info.find("<heap nr=\"0\">"), std::string::npos) << info;
    EXPECT_EQ(info.find("<heap nr=\"1\">"), std::string::npos) << info;
}
#endif

}  // namespace
}  // namespace bd
