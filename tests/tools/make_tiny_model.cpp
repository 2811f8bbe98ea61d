// bd-make-tiny-model OUTDIR [--format openai|open_clip|hf|torchscript] [--size tiny|b32|mobilenet]
// Writes a random CLIP checkpoint (fixed seed) and prints the path to pass as --model.
// --size b32 writes ViT-B/32's architecture (hundreds of MB): for benchmarks only.
// --size mobilenet writes a MobileNetV2-shaped TorchScript image encoder + sidecar (any
// --format): a convolutional encoder for benchmarks.
#include "util/tiny_clip.h"
#include "util/tiny_mobilenet.h"

#include <cstring>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
    using bd::test::TinyFormat;
    std::string out, format = "openai", size = "tiny";
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if ((a == "--format" || a == "--size") && i + 1 < argc) (a == "--format" ? format : size) = argv[++i];
        else if (a == "-h" || a == "--help") out.clear(), i = argc;
        else if (out.empty() && a[0] != '-') out = a;
        else { std::cerr << "bd-make-tiny-model: unexpected argument '" << a << "'\n"; return 2; }
    }
    if (out.empty()) {
        std::cerr << "usage: bd-make-tiny-model OUTDIR [--format openai|open_clip|hf|torchscript] [--size tiny|b32|mobilenet]\n";
        return 2;
    }
    TinyFormat f;
    if (format == "openai") f = TinyFormat::openai_pt;
    else if (format == "open_clip") f = TinyFormat::open_clip;
    else if (format == "hf") f = TinyFormat::hugging_face;
    else if (format == "torchscript") f = TinyFormat::torchscript;
    else { std::cerr << "bd-make-tiny-model: unknown format '" << format << "'\n"; return 2; }
    bd::test::TinyClipOptions options;
    if (size == "b32") options = bd::test::vit_b32_options();
    else if (size != "tiny" && size != "mobilenet") { std::cerr << "bd-make-tiny-model: unknown size '" << size << "'\n"; return 2; }
    try {
        std::cout << (size == "mobilenet" ? bd::test::write_mobilenet_v2(out) : bd::test::write_tiny_clip(out, f, options))
                  << "\n";
    } catch (const std::exception& e) {
        std::cerr << "bd-make-tiny-model: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
