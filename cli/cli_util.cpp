#include "cli/cli_util.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cxxopts.hpp>
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "encoders/encoder.h"
#include "src/runtime/device.h"
#include "perturb/cancelled.h"
#include "src/models/download.h"
#include "src/models/registry.h"

namespace bd::cli {

int run_command(const char* command, const std::function<int()>& body) {
    try {
        return body();
    } catch (const UsageError& e) {
        std::fprintf(stderr, "belladonna %s: %s (try 'belladonna %s --help')\n", command, e.what(), command);
        return usage;
    } catch (const cxxopts::exceptions::exception& e) {
        std::fprintf(stderr, "belladonna %s: %s (try 'belladonna %s --help')\n", command, e.what(), command);
        return usage;
    } catch (const ModelError& e) {
        std::fprintf(stderr, "belladonna %s: %s\n", command, e.what());
        return model_failed;
    } catch (const Cancelled&) {
        std::fprintf(stderr, "belladonna %s: interrupted\n", command);
        return interrupted;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "belladonna %s: %s\n", command, e.what());
        return some_failed;
    }
}

std::vector<std::string> split_list(const std::string& text, char sep) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find(sep, start);
        if (end == std::string::npos) end = text.size();
        std::string item = text.substr(start, end - start);
        const auto first = item.find_first_not_of(" \t");
        const auto last = item.find_last_not_of(" \t");
        if (first != std::string::npos) out.push_back(item.substr(first, last - first + 1));
        start = end + 1;
    }
    return out;
}

std::string format_bytes(uint64_t n) {
    char buf[32];
    if (n >= (1ull << 30)) std::snprintf(buf, sizeof buf, "%.1f GiB", double(n) / (1ull << 30));
    else if (n >= (1u << 20)) std::snprintf(buf, sizeof buf, "%.1f MiB", double(n) / (1u << 20));
    else if (n >= 1024) std::snprintf(buf, sizeof buf, "%.1f KiB", double(n) / 1024);
    else std::snprintf(buf, sizeof buf, "%llu bytes", (unsigned long long)n);
    return buf;
}

void print_json(const nlohmann::json& j, int indent) {
    // Replace invalid UTF-8 (a file name in another encoding) instead of throwing.
    std::cout << j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    std::cout.flush();
}

DownloadBar::DownloadBar(bool quiet, FILE* out)
    : out_(out), enabled_(!quiet && isatty(fileno(out))), start_(std::chrono::steady_clock::now()) {}

DownloadBar::~DownloadBar() { finish(); }

void DownloadBar::operator()(uint64_t done, uint64_t total) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    const bool complete = total && done >= total;
    if (drawn_ && !complete && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const double secs = std::chrono::duration<double>(now - start_).count();
    const std::string rate = secs > 0.5 ? "  " + format_bytes(uint64_t(done / secs)) + "/s" : "";
    if (total) {
        const int width = 30;
        const double f = std::min(1.0, double(done) / double(total));
        std::string bar(width, ' ');
        const int filled = int(f * width);
        for (int i = 0; i < filled; ++i) bar[i] = '=';
        if (filled < width) bar[filled] = '>';
        std::fprintf(out_, "\r%4d%% [%s] %s / %s%s\033[K", int(f * 100), bar.c_str(),
                     format_bytes(done).c_str(), format_bytes(total).c_str(), rate.c_str());
    } else {
        std::fprintf(out_, "\r%s%s\033[K", format_bytes(done).c_str(), rate.c_str());
    }
    std::fflush(out_);
    drawn_ = true;
}

void DownloadBar::finish() {
    if (drawn_) {
        std::fputc('\n', out_);
        std::fflush(out_);
    }
    drawn_ = false;
}

namespace {

// Bad spelling is a usage error; a GPU this machine lacks means the model cannot be
// loaded where asked (exit 3).
torch::Device encoder_device(const std::string& text) {
    if (!is_device_name(text)) throw UsageError("--device: '" + text + "' is not auto, cpu, cuda or cuda:N");
    try {
        return parse_device(text);
    } catch (const std::invalid_argument& e) {
        throw ModelError(std::string("--device: ") + e.what());
    }
}

}  // namespace

std::unique_ptr<Encoder> open_encoder(const std::string& model, const std::string& device, bool quiet) {
    const torch::Device dev = encoder_device(device);
    ModelInfo info;
    std::error_code ec;
    if (!std::filesystem::exists(model, ec) && find_model(model, &info) && !is_cached(info) && !quiet)
        std::fprintf(stderr, "belladonna: downloading %s (about %s) into %s\n", info.name.c_str(),
                     format_bytes(info.approx_bytes).c_str(), model_folder(info).c_str());
    std::string path;
    {
        DownloadBar bar(quiet);
        path = resolve_model(model, [&bar](uint64_t d, uint64_t t) { bar(d, t); });
    }
    auto encoder = load_encoder(path);
    encoder->to(dev);
    return encoder;
}

void add_encoder_options(cxxopts::Options& options, const std::string& model_help) {
    options.add_options()
        ("m,model", model_help, cxxopts::value<std::string>()->default_value(default_model_name()))
        ("device", "auto | cpu | cuda | cuda:N", cxxopts::value<std::string>()->default_value("auto"))
        ("batch-size", "images encoded together", cxxopts::value<int>()->default_value("16"))
        ("q,quiet", "no download progress")
        ("h,help", "show this help");
}

bool print_help_if_asked(const cxxopts::Options& options, const cxxopts::ParseResult& args) {
    if (!args.count("help")) return false;
    std::printf("%s\n", options.help().c_str());
    return true;
}

cxxopts::ParseResult parse_with_anchor_lists(cxxopts::Options& options, int argc, char** argv) {
    std::vector<std::string> spread;
    bool in_list = false;
    for (int i = 0; i < argc; ++i) {
        const std::string a = argv[i];
        if (a.size() > 1 && a[0] == '-') in_list = false;
        else if (in_list && spread.back() != "--target-image") spread.push_back("--target-image");
        spread.push_back(a);
        if (a == "--target-image") in_list = true;
    }
    std::vector<char*> spread_argv;
    for (auto& a : spread) spread_argv.push_back(a.data());
    return options.parse(int(spread_argv.size()), spread_argv.data());
}

}  // namespace bd::cli
