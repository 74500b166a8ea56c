#pragma once

#include <filesystem>
#include <string_view>

namespace lxcdn {

// Writes `contents` to `path` so that a concurrent reader sees either the old file or the complete
// new one, never a prefix: the bytes go to a hidden temp file in the same directory, are fsynced,
// and the temp file is renamed over `path`; the directory is fsynced after. Throws
// std::system_error naming the file on failure, and removes the temp file.
void write_file_atomically(const std::filesystem::path& path, std::string_view contents);

}  // namespace lxcdn
