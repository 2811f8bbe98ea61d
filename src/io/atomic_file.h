// Whole-file writes that appear at once or not at all.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bd {

// Writes `bytes` to a unique temporary file in the destination folder, fsyncs, then
// renames it onto `path`. On any failure the temporary is removed and an
// std::runtime_error naming `path` is thrown.
void write_file_atomically(const std::string& path, const std::vector<uint8_t>& bytes);

// Reads a whole file; throws std::runtime_error naming the file on failure.
std::vector<uint8_t> read_file(const std::string& path, uint64_t max_bytes = UINT64_MAX);

// Temporary files created by this process that are not yet renamed; removed on SIGINT.
void remove_pending_temporaries() noexcept;

}  // namespace bd
