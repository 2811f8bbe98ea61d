// Atomic whole-file writes: a unique temporary in the destination folder, fsync, rename.
// Pending temporaries are kept in a fixed, lock-free registry so that a SIGINT handler can
// unlink them with nothing but atomic loads and unlink(2) (both async-signal-safe).
#include "src/io/atomic_file.h"

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bd {
namespace {

// Slot states: free -> claimed (path being copied in) -> armed (visible to the handler).
enum : int { kFree = 0, kClaimed = 1, kArmed = 2 };
constexpr int kSlots = 256;

struct Slot {
    std::atomic<int> state{kFree};
    char path[PATH_MAX];
};
Slot g_slots[kSlots];
static_assert(std::atomic<int>::is_always_lock_free, "the signal path needs lock-free atomics");

// Returns the slot index, or -1 when the registry is full (the write still proceeds; only
// the Ctrl-C clean-up of that one file is lost).
int register_temporary(const std::string& path) {
    if (path.size() >= PATH_MAX) return -1;
    for (int i = 0; i < kSlots; ++i) {
        int expected = kFree;
        if (g_slots[i].state.compare_exchange_strong(expected, kClaimed)) {
            std::memcpy(g_slots[i].path, path.c_str(), path.size() + 1);
            g_slots[i].state.store(kArmed, std::memory_order_release);
            return i;
        }
    }
    return -1;
}

void unregister_temporary(int slot) {
    if (slot >= 0) g_slots[slot].state.store(kFree, std::memory_order_release);
}

std::string errno_text() { return std::strerror(errno); }

std::string parent_dir(const std::string& path) {
    size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

bool write_all(int fd, const uint8_t* p, size_t n) {
    while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        p += w;
        n -= size_t(w);
    }
    return true;
}

}  // namespace

void remove_pending_temporaries() noexcept {
    for (int i = 0; i < kSlots; ++i) {
        int expected = kArmed;
        // Claim it so that a racing unregister/normal path does not reuse the slot mid-unlink.
        if (g_slots[i].state.compare_exchange_strong(expected, kClaimed)) {
            ::unlink(g_slots[i].path);
            g_slots[i].state.store(kFree, std::memory_order_release);
        }
    }
}

void write_file_atomically(const std::string& path, const std::vector<uint8_t>& bytes) {
    if (path.empty()) throw std::runtime_error("(empty path): cannot write to an empty path");
    std::string dir = parent_dir(path);
    size_t slash = path.find_last_of('/');
    std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    // Hidden name in the same folder (same filesystem, so rename is atomic); mkstemp makes it unique.
    std::string tmpl = (dir == "/" ? std::string() : dir) + "/." + base + ".tmp-XXXXXX";
    if (slash == std::string::npos) tmpl = "." + base + ".tmp-XXXXXX";
    std::vector<char> name(tmpl.begin(), tmpl.end());
    name.push_back('\0');

    int fd = ::mkstemp(name.data());
    if (fd < 0) throw std::runtime_error(path + ": cannot create a temporary file: " + errno_text());
    std::string tmp(name.data());
    int slot = register_temporary(tmp);
    auto fail = [&](const std::string& what) {
        int saved = errno;
        if (fd >= 0) ::close(fd);
        ::unlink(tmp.c_str());
        unregister_temporary(slot);
        errno = saved;
        throw std::runtime_error(path + ": " + what + ": " + errno_text());
    };
    // mkstemp creates 0600; give the output the usual permissions (respecting the umask).
    mode_t mask = ::umask(0);
    ::umask(mask);
    if (::fchmod(fd, 0666 & ~mask) != 0) fail("cannot set permissions");
    if (!write_all(fd, bytes.data(), bytes.size())) fail("write failed");
    if (::fsync(fd) != 0) fail("fsync failed");
    int rc = ::close(fd);
    fd = -1;
    if (rc != 0) fail("close failed");
    if (::rename(tmp.c_str(), path.c_str()) != 0) fail("cannot rename the temporary into place");
    unregister_temporary(slot);
    // Make the rename itself durable; failure here does not undo the write, so it is ignored.
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

std::vector<uint8_t> read_file(const std::string& path, uint64_t max_bytes) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error(path + ": cannot open: " + errno_text());
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw std::runtime_error(path + ": not a regular file");
    }
    if (uint64_t(st.st_size) > max_bytes) {
        ::close(fd);
        throw std::runtime_error(path + ": file is larger than the limit of " +
                                 std::to_string(max_bytes) + " bytes");
    }
    std::vector<uint8_t> bytes;
    try {
        bytes.resize(size_t(st.st_size));
    } catch (...) {
        ::close(fd);
        throw std::runtime_error(path + ": out of memory reading the file");
    }
    size_t got = 0;
    while (got < bytes.size()) {
        ssize_t r = ::read(fd, bytes.data() + got, bytes.size() - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            std::string why = errno_text();
            ::close(fd);
            throw std::runtime_error(path + ": read failed: " + why);
        }
        if (r == 0) break;  // file shrank while reading
        got += size_t(r);
    }
    bytes.resize(got);
    ::close(fd);
    return bytes;
}

}  // namespace bd
