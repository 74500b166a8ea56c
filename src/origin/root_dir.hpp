#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>

namespace lxcdn::origin {

// The published tree's root, as a directory descriptor that requests resolve beneath.
//
// The configured path may be a symlink a publisher switches (`current -> generations/N`). Each
// I/O thread keeps its own descriptor and checks, with one stat(2) per call, that the path still
// names the same directory (device, inode and change time); otherwise it opens the new one. So a
// switch takes effect for the very next request, each request sees one consistent generation, and
// the common case costs one system call instead of an open and a close.
class root_dir {
 public:
  explicit root_dir(std::filesystem::path path);

  // An O_PATH descriptor of the directory the path names now, owned by this thread's cache (valid
  // until this thread's next call), or -1 with errno set if it cannot be opened.
  int current() const;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::uint64_t id_;  // tells this thread's cache which root_dir it belongs to
  static std::atomic<std::uint64_t> next_id_;
};

}  // namespace lxcdn::origin
