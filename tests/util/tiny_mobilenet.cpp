#include "util/tiny_mobilenet.h"

#include <torch/script.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace bd::test {
namespace fs = std::filesystem;
namespace {

// Ref: torchvision/models/mobilenetv2.py (inverted residual settings t, c, n, s).
struct Stage {
    int expand, channels, repeats, stride;
};
constexpr Stage kStages[] = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
                             {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};

// torchvision's _make_divisible: channel counts rounded to multiples of 8.
int divisible(double v) {
    const int r = std::max(8, int(v + 4) / 8 * 8);
    return r < 0.9 * v ? r + 8 : r;
}

// Emits one convolution (batch norm folded into its bias, as in an exported model) and
// registers its random weights: He-scaled so activations stay O(1) through 50 layers.
class Writer {
public:
    Writer(torch::jit::Module& m, uint64_t seed) : m_(m), gen_(at::detail::createCPUGenerator(seed)) {}

    void conv(std::ostringstream& s, const std::string& out, const std::string& in, int cin, int cout,
              int kernel, int stride, int groups, bool relu6) {
        const std::string w = "w" + std::to_string(count_), b = "b" + std::to_string(count_);
        ++count_;
        const double fan_in = double(cin / groups) * kernel * kernel;
        const double gain = relu6 ? 2.0 : 1.0;
        m_.register_parameter(w, at::randn({cout, cin / groups, kernel, kernel}, gen_) * std::sqrt(gain / fan_in), false);
        m_.register_parameter(b, at::randn({cout}, gen_) * 0.01, false);
        const int pad = kernel / 2;
        s << "    " << out << " = torch.conv2d(" << in << ", self." << w << ", self." << b << ", [" << stride << ", "
          << stride << "], [" << pad << ", " << pad << "], [1, 1], " << groups << ")\n";
        if (relu6) s << "    " << out << " = torch.relu6(" << out << ")\n";
    }

private:
    torch::jit::Module& m_;
    at::Generator gen_;
    int count_ = 0;
};

}  // namespace

std::string write_mobilenet_v2(const std::string& dir, const MobileNetOptions& o) {
    fs::create_directories(dir);
    torch::jit::Module m("__torch__.bench.MobileNetV2");
    Writer w(m, o.seed);
    std::ostringstream s;
    s << "def forward(self, x):\n";
    int channels = divisible(32 * o.width);
    w.conv(s, "x", "x", 3, channels, 3, 2, 1, true);
    for (const auto& st : kStages) {
        const int out = divisible(st.channels * o.width);
        for (int i = 0; i < st.repeats; ++i) {
            const int stride = i == 0 ? st.stride : 1, hidden = channels * st.expand;
            std::string h = "x";
            if (st.expand != 1) {
                w.conv(s, "h", "x", channels, hidden, 1, 1, 1, true);
                h = "h";
            }
            w.conv(s, "h", h, hidden, hidden, 3, stride, hidden, true);
            w.conv(s, "h", "h", hidden, out, 1, 1, 1, false);
            s << "    x = " << (stride == 1 && channels == out ? "x + h" : "h") << "\n";
            channels = out;
        }
    }
    const int last = o.width > 1.0 ? divisible(1280 * o.width) : 1280;
    w.conv(s, "x", "x", channels, last, 1, 1, 1, true);
    s << "    return x.mean([2, 3])\n";
    m.define(s.str());
    const auto path = fs::path(dir) / "mobilenet_v2.pt";
    m.save(path.string());
    const nlohmann::json side = {{"name", "mobilenet_v2 (random)"},
                                 {"input_size", o.image_size},
                                 {"mean", {0.485, 0.456, 0.406}},
                                 {"std", {0.229, 0.224, 0.225}},
                                 {"embed_dim", last}};
    std::ofstream out(path.string() + ".json");
    out << side.dump(2);
    if (!out) throw std::runtime_error(path.string() + ".json: cannot write");
    return path.string();
}

}  // namespace bd::test
