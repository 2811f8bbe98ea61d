// The safetensors reader: round trips and every kind of tampered header.
#include "encoders/encoder.h"
#include "encoders/formats/safetensors.h"
#include "util/test_images.h"
#include "util/tiny_clip.h"

#include <gtest/gtest.h>

#include <fstream>

namespace {

void write_raw(const std::string& path, const std::string& header, size_t data_bytes, bool pad_len = false) {
    std::string out(8, '\0');
    const uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) out[i] = char((n >> (8 * i)) & 0xFF);
    out += header;
    out += std::string(data_bytes, '\x01');
    std::ofstream(path, std::ios::binary) << out;
}

// The error must name the file and, where there is one, the tensor.
void expect_error(const std::string& path, const std::string& must_contain) {
    try {
        bd::read_safetensors(path);
        FAIL() << "expected ModelError for " << must_contain;
    } catch (const bd::ModelError& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find(path), std::string::npos) << msg;
        EXPECT_NE(msg.find(must_contain), std::string::npos) << msg << " (wanted: " << must_contain << ")";
    }
}

TEST(Safetensors, RoundTripsEveryFloatDtype) {
    bd::test::TempDir dir;
    auto a = torch::randn({3, 5});
    auto b = torch::arange(7, torch::kFloat);
    for (auto dtype : {torch::kFloat, torch::kHalf, torch::kBFloat16}) {
        const std::string path = dir.path() + "/t.safetensors";
        bd::test::write_safetensors(path, {{"a", a}, {"b.c", b}}, dtype);
        auto sd = bd::read_safetensors(path);
        ASSERT_EQ(sd.size(), 2u);
        EXPECT_EQ(sd["a"].scalar_type(), torch::kFloat);
        EXPECT_TRUE(torch::equal(sd["a"], a.to(dtype).to(torch::kFloat))) << dtype;
        EXPECT_TRUE(torch::equal(sd["b.c"], b)) << dtype;  // small integers are exact in all three
    }
}

TEST(Safetensors, RejectsTamperedHeaders) {
    bd::test::TempDir dir;
    const std::string p = dir.path() + "/bad.safetensors";
    write_raw(p, R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8);
    expect_error(p, "'w'");  // offset past the end of the data
    write_raw(p, R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"v":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 16);
    expect_error(p, "overlaps");
    write_raw(p, R"({"w":{"dtype":"F32","shape":[4611686018427387904,4611686018427387904],"data_offsets":[0,16]}})", 16);
    expect_error(p, "'w'");  // huge shape
    write_raw(p, R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 16);
    expect_error(p, "does not match");  // size vs shape
    write_raw(p, R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 16);
    expect_error(p, "reversed");
    write_raw(p, R"({"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", 16);
    expect_error(p, "dtype");
    write_raw(p, R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 16);
    expect_error(p, "shape");
    write_raw(p, R"({"w":{"dtype":"F32","shape":[2],"data_offs)", 16);
    expect_error(p, "bad JSON");
    write_raw(p, R"([1,2,3])", 0);
    expect_error(p, "not an object");
    // A header length larger than the file.
    std::string huge(8, '\xff');
    std::ofstream(p, std::ios::binary) << huge << "{}";
    expect_error(p, "header length");
    std::ofstream(p, std::ios::binary) << "abc";
    expect_error(p, "too short");
    expect_error(dir.path() + "/missing.safetensors", "cannot open");
}

TEST(Safetensors, EmptyTensorsAndMetadataAreFine) {
    bd::test::TempDir dir;
    const std::string p = dir.path() + "/ok.safetensors";
    write_raw(p, R"({"__metadata__":{"format":"pt"},"e":{"dtype":"F16","shape":[0,3],"data_offsets":[0,0]},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8);
    auto sd = bd::read_safetensors(p);
    EXPECT_EQ(sd.size(), 2u);
    EXPECT_EQ(sd["e"].sizes(), (std::vector<int64_t>{0, 3}));
    EXPECT_EQ(sd["w"].numel(), 2);
}

}  // namespace
