#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

#include "publish/generation_state.hpp"
#include "simplestreams/build_rules.hpp"
#include "simplestreams/catalog.hpp"

namespace lxcdn::publish {

// The (inode, size, mtime) of `file`, or nullopt if it cannot be stat'ed.
std::optional<file_key> key_of(const std::filesystem::path& file);

// Hashes the files of generations, reusing the previous generation's hashes (generation_state::
// files and ::combined) for files whose (inode, size, mtime) are unchanged, and recording every
// hash it used into `fresh` for the next run. Counts what it actually read. Not thread-safe.
class hash_cache {
 public:
  hash_cache(const generation_state& previous, generation_state& fresh)
      : previous_(previous), fresh_(fresh) {}

  // The build at `root`/`dir` (dir = "images/<path>", the selection's files), as the catalog
  // lists it: from the cache when the metadata, every root and their combined fingerprints are
  // cached, else by hashing the whole build (simplestreams::hash_build). Throws index_error.
  simplestreams::build build(const std::filesystem::path& root, const std::string& dir,
                             const simplestreams::build_selection& files);

  // sha256 of one file `root`/`rel` (a delta), from the cache or read.
  simplestreams::file_digest file(const std::filesystem::path& root, const std::string& rel);

  // Records a digest computed elsewhere (a new build hashed in incoming) for `root`/`rel`.
  void remember(const std::filesystem::path& root, const simplestreams::file_digest& d);
  void remember_combined(const std::string& meta, const std::string& root_file,
                         const std::string& sha);

  std::size_t builds_hashed() const { return builds_hashed_; }
  std::size_t builds_reused() const { return builds_reused_; }
  std::size_t files_hashed() const { return files_hashed_; }
  std::uint64_t bytes_hashed() const { return bytes_hashed_; }

 private:
  std::optional<std::string> lookup(const std::filesystem::path& root, const std::string& rel);

  const generation_state& previous_;
  generation_state& fresh_;
  std::size_t builds_hashed_ = 0;
  std::size_t builds_reused_ = 0;
  std::size_t files_hashed_ = 0;
  std::uint64_t bytes_hashed_ = 0;
};

}  // namespace lxcdn::publish
