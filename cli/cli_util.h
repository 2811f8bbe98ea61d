// Helpers shared by the subcommands: one error line per failure with the right exit
// status, comma lists, JSON on stdout, a download progress bar, opening a model.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <cxxopts.hpp>
#include <nlohmann/json_fwd.hpp>

namespace bd {
class Encoder;
}

namespace bd::cli {

// A bad option or argument: run_command() prints it with a --help hint and returns 2.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Runs a subcommand body and maps what escapes it to one stderr line and an exit status:
// UsageError / cxxopts parse errors -> 2 ("belladonna CMD: msg (try 'belladonna CMD
// --help')"), ModelError -> 3, Cancelled -> 130, any other exception -> 1.
int run_command(const char* command, const std::function<int()>& body);

// "cat, dog ,,bird" -> {"cat", "dog", "bird"}: trimmed, empty items dropped.
std::vector<std::string> split_list(const std::string& text, char sep = ',');

// "338.0 MiB", "12.0 KiB", "17 bytes".
std::string format_bytes(uint64_t bytes);

// Prints `j` and a newline on stdout; indent < 0 prints it on one line.
void print_json(const nlohmann::json& j, int indent = 2);

// Draws "  42% [=======>     ] 142.0 MiB / 338.0 MiB  11.2 MiB/s" on stderr, redrawn at
// most ten times a second, only when stderr is a terminal and not quiet. Use as a
// DownloadProgress; finish() ends the line.
class DownloadBar {
public:
    explicit DownloadBar(bool quiet = false, FILE* out = stderr);
    ~DownloadBar();
    void operator()(uint64_t done, uint64_t total);
    void finish();

private:
    FILE* out_;
    bool enabled_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point start_, last_;
};

// resolve_model() (pulling a known name on first use, with a DownloadBar) then
// load_encoder(), moved to `device` ("auto", "cpu", "cuda", "cuda:N"). Throws ModelError
// (-> exit 3) or UsageError for a bad device string.
std::unique_ptr<Encoder> open_encoder(const std::string& model, const std::string& device = "cpu",
                                      bool quiet = false);

// --model, --device, --batch-size, --quiet and --help, shared by the commands that
// encode images (embed, classify).
void add_encoder_options(cxxopts::Options& options, const std::string& model_help);

// Prints the help and returns true when --help was given.
bool print_help_if_asked(const cxxopts::Options& options, const cxxopts::ParseResult& args);

// `options.parse` with every argument after `--target-image` up to the next option taken as
// one more anchor (`--target-image A B C` is `--target-image A --target-image B
// --target-image C`), rather than the extra anchors silently joining the positional
// arguments. So positional arguments go before it or after another option.
cxxopts::ParseResult parse_with_anchor_lists(cxxopts::Options& options, int argc, char** argv);

}  // namespace bd::cli
