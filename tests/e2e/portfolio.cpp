#include "e2e/portfolio.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "src/io/image_io.h"
#include "util/run_cli.h"
#include "util/test_images.h"
#include "util/tiny_clip.h"

extern char** environ;

namespace bd::test {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string bin() {
    return bd::test::bin_dir() + "/belladonna";
}

}  // namespace

pid_t spawn(const std::vector<std::string>& args, const std::string& log) {
    std::vector<std::string> all{bin()};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw std::runtime_error("cannot start " + all[0]);
    return pid;
}

Outcome wait_for(pid_t pid, const std::string& log) {
    int ws = 0;
    ::waitpid(pid, &ws, 0);
    Outcome r;
    r.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    std::ifstream in(log);
    r.err.assign(std::istreambuf_iterator<char>(in), {});
    return r;
}

Outcome run_bd(const std::vector<std::string>& args, const std::string& log) {
    return wait_for(spawn(args, log), log);
}

std::string checksum(const std::string& path) {
    auto b = test::read_bytes(path);
    uLong c = crc32(0L, Z_NULL, 0);
    c = crc32(c, b.data(), uInt(b.size()));
    return std::to_string(b.size()) + ":" + std::to_string(c);
}

namespace {

void tree_into(const fs::path& dir, const fs::path& rel, std::map<std::string, std::string>& out) {
    for (const auto& entry : fs::directory_iterator(dir)) {
        fs::file_status st = fs::symlink_status(entry.path());
        fs::path r = rel / entry.path().filename();
        if (fs::is_directory(st)) {
            tree_into(entry.path(), r, out);
        } else if (fs::is_regular_file(st)) {
            try {
                out[r.string()] = checksum(entry.path().string());
            } catch (...) {
                out[r.string()] = "?";
            }
        }
    }
}

}  // namespace

std::map<std::string, std::string> tree(const std::string& dir) {
    std::map<std::string, std::string> out;
    tree_into(dir, "", out);
    return out;
}

json read_json(const std::string& path) {
    std::ifstream in(path);
    return json::parse(in);
}

json images_of(const std::string& path) { return read_json(path)["images"]; }


namespace {

// PNG chunks by hand, for the files our own writer would never produce.
void chunk(std::string& png, const char* type, const std::string& data) {
    uint32_t n = uint32_t(data.size());
    png += {char(n >> 24), char(n >> 16), char(n >> 8), char(n)};
    std::string body = std::string(type, 4) + data;
    png += body;
    uLong c = crc32(0L, reinterpret_cast<const Bytef*>(body.data()), uInt(body.size()));
    png += {char(c >> 24), char(c >> 16), char(c >> 8), char(c)};
}

std::string ihdr(uint32_t w, uint32_t h, int depth, int color) {
    return {char(w >> 24), char(w >> 16), char(w >> 8), char(w), char(h >> 24), char(h >> 16),
            char(h >> 8),  char(h),       char(depth),  char(color), 0, 0, 0};
}

const std::string kSig("\x89PNG\r\n\x1a\n", 8);

std::string palette_png(uint32_t w, uint32_t h) {
    std::string png = kSig;
    chunk(png, "IHDR", ihdr(w, h, 8, 3));
    std::string plte;
    for (int i = 0; i < 16; ++i) plte += {char(i * 16), char(255 - i * 16), char((i * 97) & 255)};
    chunk(png, "PLTE", plte);
    std::string raw;
    for (uint32_t y = 0; y < h; ++y) {
        raw += '\0';
        for (uint32_t x = 0; x < w; ++x) raw += char(((x / 3) + (y / 5) * 3 + (x * y) % 7) % 16);
    }
    uLongf len = compressBound(uLong(raw.size()));
    std::string z(len, '\0');
    compress(reinterpret_cast<Bytef*>(z.data()), &len, reinterpret_cast<const Bytef*>(raw.data()), uLong(raw.size()));
    z.resize(len);
    chunk(png, "IDAT", z);
    chunk(png, "IEND", "");
    return png;
}

}  // namespace

void write_text(const std::string& path, const std::string& s) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << s;
}

void put_image(const std::string& path, Image img) {
    fs::create_directories(fs::path(path).parent_path());
    write_image(path, img);
}

Portfolio make_portfolio(const std::string& t) {
    Portfolio pf;
    pf.root = t + "/in";
    pf.model = test::write_tiny_clip(t + "/model", test::TinyFormat::open_clip);

    Image rgba8 = test::make_gradient(64, 48, 4, 8);
    put_image(pf.root + "/png/rgba8.png", rgba8);
    put_image(pf.root + "/png/deep/nested/rgba16.png", test::make_gradient(48, 40, 4, 16));
    put_image(pf.root + "/png/gray.png", test::make_gradient(40, 32, 1, 8));
    write_text(pf.root + "/png/palette.png", palette_png(40, 30));
    Image jpg = test::make_gradient(64, 48, 3, 8, ImageFormat::jpeg);
    jpg.metadata.exif = test::make_exif(1);
    jpg.metadata.icc_profile = test::make_icc_profile();
    put_image(pf.root + "/photos/exif icc.jpg", jpg);
    pf.good = {"png/rgba8.png", "png/deep/nested/rgba16.png", "png/gray.png", "png/palette.png",
               "photos/exif icc.jpg"};
    write_text(pf.root + "/notes.txt", "not an image, skipped quietly");
    put_image(pf.root + "/.hidden.png", test::make_gradient(8, 8, 3));

    write_text(pf.root + "/bad/empty.png", "");
    auto full = test::read_bytes(pf.root + "/png/rgba8.png");
    write_text(pf.root + "/bad/truncated.png",
               std::string(full.begin(), full.begin() + long(full.size() / 2)));
    write_text(pf.root + "/bad/text.jpg", "Dear diary, this is not a JPEG.\n");
    std::string huge = kSig;
    chunk(huge, "IHDR", ihdr(100000, 100000, 8, 2));
    chunk(huge, "IDAT", std::string("\x78\x9c\x03\x00\x00\x00\x00\x01", 8));
    chunk(huge, "IEND", "");
    write_text(pf.root + "/bad/huge.png", huge);
    fs::create_symlink("loop.png", pf.root + "/bad/loop.png");
    fs::create_directory_symlink("..", pf.root + "/bad/cycle");  // a folder loop
    pf.bad = {{"bad/empty.png", "empty"},
              {"bad/truncated.png", "file is truncated"},
              {"bad/text.jpg", "not a PNG or JPEG"},
              {"bad/huge.png", "100000x100000"},
              {"bad/loop.png", "symbolic links"}};
    put_image(pf.root + "/bad/locked.png", test::make_gradient(16, 16, 3));
    ::chmod((pf.root + "/bad/locked.png").c_str(), 0);
    // root reads any file whatever its mode: then locked.png is a good image, and the
    // "unreadable file" case cannot be produced here (it is covered by geteuid checks).
    if (::geteuid() != 0) {
        pf.bad["bad/locked.png"] = "Permission denied";
        pf.unreadable_checked = true;
    } else {
        pf.good.push_back("bad/locked.png");
    }
    return pf;
}

std::string protected_name(const std::string& rel) {
    fs::path p(rel);
    return (p.parent_path() / (p.stem().string() + "-protected" + p.extension().string())).string();
}

}  // namespace bd::test
