#include "encoders/text/data_files.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#ifndef BELLADONNA_LIB_TO_DATA
#define BELLADONNA_LIB_TO_DATA "../share/belladonna"
#endif

namespace bd {
namespace fs = std::filesystem;
namespace {

// The folder of the shared object this function was linked into (libbelladonna).
fs::path library_dir() {
    Dl_info info{};
    if (::dladdr(reinterpret_cast<void*>(&library_dir), &info) == 0 || !info.dli_fname) return {};
    std::error_code ec;
    const auto p = fs::canonical(info.dli_fname, ec);
    return ec ? fs::path() : p.parent_path();
}

fs::path executable_dir() {
    std::error_code ec;
    const auto p = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path() : p.parent_path();
}

}  // namespace

std::vector<std::string> data_dirs() {
    std::vector<fs::path> dirs;
    if (const char* env = std::getenv("BELLADONNA_DATA_DIR"); env && *env) dirs.emplace_back(env);
    if (const auto lib = library_dir(); !lib.empty()) {
        dirs.push_back(lib / BELLADONNA_LIB_TO_DATA);
        dirs.push_back(lib / ".." / "share" / "belladonna");
    }
    if (const auto exe = executable_dir(); !exe.empty()) dirs.push_back(exe / ".." / "share" / "belladonna");
    std::vector<std::string> out;
    for (const auto& d : dirs) {
        const auto s = d.lexically_normal().string();
        if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
    }
    return out;
}

std::string find_data_file(const std::string& relative, std::vector<std::string>* looked) {
    for (const auto& dir : data_dirs()) {
        const auto p = (fs::path(dir) / relative).lexically_normal();
        if (looked) looked->push_back(p.string());
        std::error_code ec;
        if (fs::is_regular_file(p, ec)) return p.string();
    }
    return {};
}

}  // namespace bd
