// Listing uses POSIX calls rather than std::filesystem so that every failure (permission,
// symlink loop, vanished file) becomes a precise per-file error instead of an exception that
// would abort the whole listing.
#include "src/batch/input_listing.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <utility>

#include "src/io/image_io.h"

namespace bd {
namespace {

using FileId = std::pair<dev_t, ino_t>;

std::string lower(std::string s) {
    for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string join(const std::string& a, const std::string& b) {
    if (a.empty()) return b;
    if (b.empty()) return a;
    return a.back() == '/' ? a + b : a + "/" + b;
}

std::string base_name(std::string p) {
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    auto slash = p.rfind('/');
    return slash == std::string::npos ? p : p.substr(slash + 1);
}

struct Walker {
    std::set<FileId> seen_dirs, seen_files;
    bool has_exclude = false;
    FileId exclude{};
    std::vector<ListedInput> out;

    void error(const std::string& path, const std::string& rel, const std::string& why) {
        ListedInput e;
        e.path = path;
        e.relative = rel;
        e.error = why;
        out.push_back(std::move(e));
    }

    // A regular file: sniff its first bytes. `named` says the user asked for it (an argument,
    // or a name with an image extension), so failures are reported rather than skipped.
    void file(const std::string& path, const std::string& rel, const struct stat& st, bool named) {
        if (!seen_files.insert({st.st_dev, st.st_ino}).second) return;
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            if (named) error(path, rel, std::string("cannot open: ") + std::strerror(errno));
            return;
        }
        std::vector<uint8_t> head(16);
        ssize_t n = ::read(fd, head.data(), head.size());
        int read_errno = errno;
        ::close(fd);
        if (n < 0) {
            if (named) error(path, rel, std::string("cannot read: ") + std::strerror(read_errno));
            return;
        }
        head.resize(size_t(n));
        if (n == 0) {
            if (named) error(path, rel, "empty file (0 bytes)");
            return;
        }
        ImageFormat f = detect_format(head);
        if (f == ImageFormat::unknown) {
            if (named) error(path, rel, "not a PNG or JPEG image (unrecognised content)");
            return;
        }
        ListedInput e;
        e.path = path;
        e.relative = rel;
        e.format = f;
        out.push_back(std::move(e));
    }

    void dir(const std::string& path, const std::string& rel, const struct stat& st) {
        // A folder reached twice (a symlink back up the tree) is listed once: cuts loops.
        if (!seen_dirs.insert({st.st_dev, st.st_ino}).second) return;
        if (has_exclude && FileId{st.st_dev, st.st_ino} == exclude) return;
        DIR* d = ::opendir(path.c_str());
        if (!d) {
            error(path, rel, std::string("cannot open folder: ") + std::strerror(errno));
            return;
        }
        std::vector<std::string> names;
        while (dirent* ent = ::readdir(d)) {
            std::string name = ent->d_name;
            if (name.empty() || name[0] == '.') continue;  // hidden, "." and ".."
            names.push_back(std::move(name));
        }
        ::closedir(d);
        std::sort(names.begin(), names.end());
        for (const auto& name : names) {
            std::string child = join(path, name), child_rel = join(rel, name);
            bool named = has_image_extension(name);
            struct stat cst;
            if (::stat(child.c_str(), &cst) != 0) {
                int err = errno;
                // A dangling link is clutter unless it pretends to be an image; a symlink loop
                // is always worth naming.
                if (named || err == ELOOP)
                    error(child, child_rel, std::string("cannot open: ") + std::strerror(err));
                continue;
            }
            if (S_ISDIR(cst.st_mode))
                dir(child, child_rel, cst);
            else if (S_ISREG(cst.st_mode))
                file(child, child_rel, cst, named);
        }
    }
};

}  // namespace

bool has_image_extension(const std::string& name) {
    auto dot = name.rfind('.');
    if (dot == std::string::npos) return false;
    std::string ext = lower(name.substr(dot + 1));
    return ext == "png" || ext == "jpg" || ext == "jpeg" || ext == "jpe" || ext == "jfif";
}

std::vector<ListedInput> list_input_files(const std::vector<std::string>& inputs,
                                          const std::string& exclude_dir) {
    Walker w;
    struct stat xst;
    if (!exclude_dir.empty() && ::stat(exclude_dir.c_str(), &xst) == 0 && S_ISDIR(xst.st_mode)) {
        w.has_exclude = true;
        w.exclude = {xst.st_dev, xst.st_ino};
    }
    std::vector<ListedInput> all;
    for (const auto& arg : inputs) {
        w.out.clear();
        struct stat st;
        if (::stat(arg.c_str(), &st) != 0) {
            w.error(arg, base_name(arg), std::string("cannot open: ") + std::strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            // The output folder given as an input is still listed (its earlier outputs are
            // recognised later by name); only a nested output folder is cut out.
            bool excluded = w.has_exclude && FileId{st.st_dev, st.st_ino} == w.exclude;
            bool had = w.has_exclude;
            if (excluded) w.has_exclude = false;
            w.dir(arg, "", st);
            w.has_exclude = had;
        } else if (S_ISREG(st.st_mode)) {
            w.file(arg, base_name(arg), st, true);
        } else {
            w.error(arg, base_name(arg), "not a regular file or folder");
        }
        std::stable_sort(w.out.begin(), w.out.end(),
                         [](const ListedInput& a, const ListedInput& b) { return a.relative < b.relative; });
        all.insert(all.end(), w.out.begin(), w.out.end());
    }
    return all;
}

}  // namespace bd
