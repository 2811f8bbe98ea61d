// Listing, sharding and output naming of `belladonna protect`, without a model: files are
// only sniffed by their magic bytes here, so a few bytes stand in for an image.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "src/batch/batch.h"
#include "src/batch/input_listing.h"
#include "src/batch/output_naming.h"

namespace fs = std::filesystem;
using namespace bd;

namespace {

const std::string kPng("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
const std::string kJpeg("\xff\xd8\xff\xe0\0\x10JFIF\0", 11);

class Listing : public ::testing::Test {
protected:
    void SetUp() override {
        root = fs::temp_directory_path() / ("bd-listing-" + std::to_string(::getpid()) + "-" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(root);
        fs::create_directories(root);
    }
    void TearDown() override {
        std::error_code ec;
        fs::permissions(root / "art" / "locked.png", fs::perms::owner_all, ec);
        fs::remove_all(root, ec);
    }
    void put(const std::string& rel, const std::string& bytes) {
        fs::path p = root / rel;
        fs::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << bytes;
    }
    std::string p(const std::string& rel) const { return (root / rel).string(); }
    fs::path root;
};

std::vector<std::string> relatives(const std::vector<ListedInput>& v, bool errors) {
    std::vector<std::string> out;
    for (const auto& e : v)
        if (e.error.empty() != errors) out.push_back(e.relative);
    return out;
}

const ListedInput* find(const std::vector<ListedInput>& v, const std::string& rel) {
    for (const auto& e : v)
        if (e.relative == rel) return &e;
    return nullptr;
}

}  // namespace

TEST_F(Listing, RecursesSortedSkipsHiddenAndNonImages) {
    put("art/b.png", kPng);
    put("art/a.jpg", kJpeg);
    put("art/sub/deep/c.PNG", kPng);
    put("art/sub/noext", kPng);          // an image without an extension is still an image
    put("art/.hidden.png", kPng);        // hidden
    put("art/.git/x.png", kPng);         // hidden folder
    put("art/notes.txt", "hello");       // clutter, silently skipped
    auto v = list_input_files({p("art")});
    EXPECT_EQ(relatives(v, false),
              (std::vector<std::string>{"a.jpg", "b.png", "sub/deep/c.PNG", "sub/noext"}));
    EXPECT_TRUE(relatives(v, true).empty());
    EXPECT_EQ(find(v, "a.jpg")->format, ImageFormat::jpeg);
    EXPECT_EQ(find(v, "sub/noext")->format, ImageFormat::png);
    EXPECT_EQ(find(v, "b.png")->path, p("art/b.png"));
}

TEST_F(Listing, BadFilesNamedLikeImagesAreErrors) {
    put("art/empty.png", "");
    put("art/text.jpg", "this is not a jpeg at all");
    put("art/ok.png", kPng);
    fs::create_symlink("loop.png", root / "art" / "loop.png");  // ELOOP
    fs::create_symlink("nowhere", root / "art" / "dangling");   // clutter: skipped
    auto v = list_input_files({p("art")});
    EXPECT_EQ(relatives(v, false), std::vector<std::string>{"ok.png"});
    ASSERT_NE(find(v, "empty.png"), nullptr);
    EXPECT_NE(find(v, "empty.png")->error.find("empty"), std::string::npos);
    ASSERT_NE(find(v, "text.jpg"), nullptr);
    EXPECT_NE(find(v, "text.jpg")->error.find("not a PNG or JPEG"), std::string::npos);
    ASSERT_NE(find(v, "loop.png"), nullptr);
    EXPECT_NE(find(v, "loop.png")->error.find("symbolic links"), std::string::npos)
        << find(v, "loop.png")->error;
    EXPECT_EQ(find(v, "dangling"), nullptr);
}

TEST_F(Listing, UnreadableFileIsAnError) {
    put("art/locked.png", kPng);
    fs::permissions(root / "art" / "locked.png", fs::perms::none);
    if (::geteuid() == 0) GTEST_SKIP() << "running as root: permissions do not stop reading";
    auto v = list_input_files({p("art")});
    ASSERT_NE(find(v, "locked.png"), nullptr);
    EXPECT_NE(find(v, "locked.png")->error.find("Permission denied"), std::string::npos);
}

TEST_F(Listing, DirectorySymlinkLoopTerminatesAndListsOnce) {
    put("art/a/x.png", kPng);
    fs::create_directory_symlink("..", root / "art" / "a" / "up");  // art/a/up -> art
    fs::create_directory_symlink("a", root / "art" / "b");          // same folder twice
    auto v = list_input_files({p("art")});
    EXPECT_EQ(relatives(v, false), std::vector<std::string>{"a/x.png"});
}

TEST_F(Listing, ExplicitArgumentsKeepOrderAndDeduplicate) {
    put("z.png", kPng);
    put("art/a.png", kPng);
    put("readme.md", "# not an image");
    auto v = list_input_files({p("z.png"), p("art"), p("z.png"), p("readme.md"), p("missing.png")});
    EXPECT_EQ(relatives(v, false), (std::vector<std::string>{"z.png", "a.png"}));
    ASSERT_NE(find(v, "readme.md"), nullptr);  // named explicitly: reported, not skipped
    EXPECT_FALSE(find(v, "readme.md")->error.empty());
    ASSERT_NE(find(v, "missing.png"), nullptr);
    EXPECT_NE(find(v, "missing.png")->error.find("No such file"), std::string::npos);
}

TEST_F(Listing, OutputFolderInsideInputIsNotListed) {
    put("art/a.png", kPng);
    put("art/protected/a-protected.png", kPng);
    auto v = list_input_files({p("art")}, p("art/protected"));
    EXPECT_EQ(relatives(v, false), std::vector<std::string>{"a.png"});
}

TEST(Shard, PartitionsCoverTheListExactlyOnce) {
    std::vector<int> all(23);
    for (int i = 0; i < 23; ++i) all[size_t(i)] = i;
    for (int n = 1; n <= 6; ++n) {
        std::multiset<int> seen;
        size_t smallest = all.size(), largest = 0;
        for (int i = 0; i < n; ++i) {
            auto part = take_shard(all, i, n);
            smallest = std::min(smallest, part.size());
            largest = std::max(largest, part.size());
            seen.insert(part.begin(), part.end());
        }
        EXPECT_EQ(seen, std::multiset<int>(all.begin(), all.end())) << n;
        EXPECT_LE(largest - smallest, 1u) << "shards should be balanced";
    }
}

TEST(Shard, ParsesExplicitAndAutomaticIndices) {
    ::unsetenv("JOB_COMPLETION_INDEX");
    ::unsetenv("SLURM_ARRAY_TASK_ID");
    ::unsetenv("SLURM_ARRAY_TASK_MIN");
    auto s = parse_shard("2/5");
    EXPECT_EQ(s.index, 2);
    EXPECT_EQ(s.count, 5);
    EXPECT_THROW(parse_shard("5/5"), std::invalid_argument);
    EXPECT_THROW(parse_shard("1/0"), std::invalid_argument);
    EXPECT_THROW(parse_shard("-1/3"), std::invalid_argument);
    EXPECT_THROW(parse_shard("a/3"), std::invalid_argument);
    EXPECT_THROW(parse_shard("3"), std::invalid_argument);
    EXPECT_THROW(parse_shard("auto/3"), std::invalid_argument);  // no index in the environment
    ::setenv("SLURM_ARRAY_TASK_ID", "3", 1);
    ::setenv("SLURM_ARRAY_TASK_MIN", "1", 1);
    EXPECT_EQ(parse_shard("auto/3").index, 2);
    ::setenv("JOB_COMPLETION_INDEX", "0", 1);  // Kubernetes wins when both are set
    EXPECT_EQ(parse_shard("auto/3").index, 0);
    ::setenv("JOB_COMPLETION_INDEX", "7", 1);
    EXPECT_THROW(parse_shard("auto/3"), std::invalid_argument);
    ::unsetenv("JOB_COMPLETION_INDEX");
    ::unsetenv("SLURM_ARRAY_TASK_ID");
    ::unsetenv("SLURM_ARRAY_TASK_MIN");
}

TEST_F(Listing, ListInputsShardsTheWholeList) {
    for (int i = 0; i < 10; ++i) put("art/f" + std::to_string(i) + ".png", kPng);
    put("art/bad.png", "");
    BatchOptions o;
    o.inputs = {p("art")};
    o.output_dir = p("out");
    std::multiset<std::string> seen;
    size_t errors = 0;
    for (int i = 0; i < 3; ++i) {
        o.shard_index = i;
        o.shard_count = 3;
        for (const auto& f : plan_inputs(o, OutputFormat::same).images) {
            if (f.error.empty()) seen.insert(f.input);
            else ++errors;
        }
    }
    EXPECT_EQ(seen.size(), 10u);
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 10u);
    EXPECT_EQ(errors, 1u) << "a bad file belongs to exactly one shard";
}

TEST(Naming, OutputPathKeepsFoldersSpellingAndConverts) {
    ListedInput in;
    in.relative = "sub/deep/Photo.JPG";
    in.format = ImageFormat::jpeg;
    EXPECT_EQ(output_path(in, "out", "-protected", ImageFormat::jpeg), "out/sub/deep/Photo-protected.JPG");
    EXPECT_EQ(output_path(in, "out/", "", ImageFormat::png), "out/sub/deep/Photo.png");
    in.relative = "noext";
    EXPECT_EQ(output_path(in, "o", "-p", ImageFormat::png), "o/noext-p.png");
    in.relative = "fake.jpg";  // a PNG named .jpg keeps the truth in the output's name
    EXPECT_EQ(output_path(in, "o", "-p", ImageFormat::png), "o/fake-p.png");
    EXPECT_EQ(output_format(ImageFormat::png, parse_output_format("same")), ImageFormat::png);
    EXPECT_EQ(output_format(ImageFormat::png, parse_output_format("jpeg")), ImageFormat::jpeg);
    EXPECT_THROW(output_format(ImageFormat::png, parse_output_format("gif")), std::invalid_argument);
}

TEST_F(Listing, NeverPlansAnOutputOnAnInput) {
    put("art/a.png", kPng);
    put("art/a-protected.png", kPng);  // written by an earlier run into the same folder
    put("art/b.jpg", kJpeg);
    auto v = list_input_files({p("art")});
    ASSERT_EQ(v.size(), 3u);
    // OUTDIR is the input folder, default suffix: earlier outputs are not inputs.
    auto plan = plan_outputs(v, p("art"), "-protected", OutputFormat::same);
    for (size_t i = 0; i < v.size(); ++i) {
        if (v[i].relative == "a-protected.png") EXPECT_TRUE(plan[i].earlier_output);
        else EXPECT_TRUE(plan[i].error.empty()) << plan[i].error;
    }
    // No suffix into the input folder: every output would be an input.
    plan = plan_outputs(v, p("art"), "", OutputFormat::same);
    for (size_t i = 0; i < v.size(); ++i) {
        EXPECT_FALSE(plan[i].earlier_output);
        EXPECT_NE(plan[i].error.find("overwrite"), std::string::npos) << v[i].relative;
    }
    // Converting without a suffix: b.jpg -> b.png is fine, a.png -> a.png is not.
    plan = plan_outputs(v, p("art"), "", OutputFormat::png);
    for (size_t i = 0; i < v.size(); ++i) {
        if (v[i].relative == "b.jpg") EXPECT_TRUE(plan[i].error.empty()) << plan[i].error;
        if (v[i].relative == "a.png") EXPECT_FALSE(plan[i].error.empty());
    }
}

TEST_F(Listing, CollisionsAndHardLinksAreRefused) {
    put("one/a.png", kPng);
    put("two/a.png", kPng);
    put("src/c.png", kPng);
    fs::create_directories(root / "out");
    fs::create_hard_link(root / "src" / "c.png", root / "out" / "c-protected.png");
    auto v = list_input_files({p("one/a.png"), p("two/a.png"), p("src")});
    auto plan = plan_outputs(v, p("out"), "-protected", OutputFormat::same);
    ASSERT_EQ(plan.size(), 3u);
    EXPECT_TRUE(plan[0].error.empty());
    EXPECT_NE(plan[1].error.find("already written for"), std::string::npos) << plan[1].error;
    EXPECT_NE(plan[2].error.find("is an input"), std::string::npos) << plan[2].error;
}

TEST(BatchSize, GivenIsKeptAutomaticIsOneOnTheCpuAndEightOnAGpu) {
    BatchOptions o;
    o.output_dir = "out";
    EXPECT_EQ(o.batch_size, 0);  // automatic unless given
    EXPECT_NO_THROW(validate(o));
    EXPECT_EQ(resolved_batch_size(o, "cpu"), 1);
    EXPECT_EQ(resolved_batch_size(o, "cuda:0"), 8);
    o.batch_size = 3;
    EXPECT_EQ(resolved_batch_size(o, "cpu"), 3);
    EXPECT_EQ(resolved_batch_size(o, "cuda:1"), 3);
    o.batch_size = -1;
    EXPECT_THROW(validate(o), std::invalid_argument);
}
