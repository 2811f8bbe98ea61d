// bd-make-tiny-vae OUTDIR [--format diffusers|model|sd|ldm] [--size small|sd1] [--sample N]
// Writes a random Stable Diffusion VAE (fixed seed) and prints the path to pass as --model.
// --size sd1 has SD 1.x's encoder shapes (the file holds ~140 MB of fp32 weights).
#include "util/tiny_vae.h"

#include <iostream>
#include <string>

int main(int argc, char** argv) {
    using bd::test::TinyVaeFormat;
    std::string out, format = "diffusers", size = "small", sample;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if ((a == "--format" || a == "--size" || a == "--sample") && i + 1 < argc)
            (a == "--format" ? format : a == "--size" ? size : sample) = argv[++i];
        else if (out.empty() && !a.empty() && a[0] != '-') out = a;
        else { std::cerr << "bd-make-tiny-vae: unexpected argument '" << a << "'\n"; return 2; }
    }
    if (out.empty()) {
        std::cerr << "usage: bd-make-tiny-vae OUTDIR [--format diffusers|model|sd|ldm] [--size small|sd1] [--sample N]\n";
        return 2;
    }
    TinyVaeFormat f;
    if (format == "diffusers") f = TinyVaeFormat::diffusers;
    else if (format == "model") f = TinyVaeFormat::model_folder;
    else if (format == "sd") f = TinyVaeFormat::sd_checkpoint;
    else if (format == "ldm") f = TinyVaeFormat::ldm_vae;
    else { std::cerr << "bd-make-tiny-vae: unknown format '" << format << "'\n"; return 2; }
    bd::test::TinyVaeOptions options;
    if (size == "sd1") options = bd::test::sd1_vae_options();
    else if (size != "small") { std::cerr << "bd-make-tiny-vae: unknown size '" << size << "'\n"; return 2; }
    try {
        if (!sample.empty()) options.sample_size = std::stoll(sample);
        std::cout << bd::test::write_tiny_vae(out, f, options) << "\n";
    } catch (const std::exception& e) {
        std::cerr << "bd-make-tiny-vae: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
