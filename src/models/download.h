// HTTP(S) downloads with libcurl: progress, resume of a partial `.part` file with an HTTP
// Range request, SHA-256 verification and an atomic move into place. Used by the model
// registry; nothing here knows about models.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

namespace bd {

// One line naming the URL and the cause: "URL: HTTP 404", "URL: checksum mismatch
// (expected X, got Y)", "URL: timed out ...", "URL: transfer interrupted after N of M bytes".
class DownloadError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Bytes written so far (including a resumed prefix) and the expected total (0 if unknown).
// Called often; throttle any drawing on the caller's side. Throwing from it (e.g.
// bd::Cancelled) aborts the transfer and leaves the `.part` file for a later resume.
using DownloadProgress = std::function<void(uint64_t done, uint64_t total)>;

struct DownloadRequest {
    std::string url;
    std::string destination;  // final path; the transfer goes to destination + ".part"
    std::string sha256;       // lower-case hex; empty = not checked
    uint64_t size = 0;        // expected bytes; 0 = unknown (only used for the progress total)
    int max_attempts = 3;     // interrupted transfers are resumed this many times in all
    long connect_timeout_s = 30;
    long stall_timeout_s = 60;  // abort when less than 1 byte/s arrives for this long
};

// Downloads `request.url` to `request.destination`. A `.part` file left by an earlier
// interrupted run is resumed with a Range request (restarted if the server ignores the
// range). The file appears at `destination` only after its checksum matched; a mismatch
// deletes the partial file and throws. Concurrent callers for the same destination are
// serialised with a lock file, and the second one finds the file already in place.
// Throws DownloadError.
void download_file(const DownloadRequest& request, const DownloadProgress& progress = {});

// Lower-case hex SHA-256 of a file (OpenSSL libcrypto). Throws DownloadError naming the
// file if it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace bd
