#pragma once

#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace lxcdn::simplestreams {

// A tree that cannot be indexed (duplicate fingerprint, unreadable file, ...). The message names
// the offending paths and is shown to the operator as is.
class index_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct index_summary {
  std::size_t products = 0;
  std::size_t versions = 0;
  std::size_t images = 0;  // (metadata, rootfs) pairs, i.e. fingerprints
  // Directories left out, each as "<path relative to ROOT>: <reason>": a build directory, or a
  // whole os/release/arch/variant directory when its name is the problem (see scan_tree.hpp).
  std::vector<std::string> skipped;
};

// Scans ROOT/images/<os>/<release>/<arch>/<variant>/<serial>/ and writes
// ROOT/streams/v1/index.json and images.json (and .json.gz siblings for gzip-accepting clients),
// each atomically (temp file + rename). Deterministic: the same tree gives the same bytes.
// Throws index_error on a tree that must not be published (ROOT not a directory, a duplicate
// fingerprint) or that cannot be read or written. Nothing is written before the whole tree has
// been read and checked; on a write error each file is still either its old or its new version.
index_summary write_index(const std::filesystem::path& root);

}  // namespace lxcdn::simplestreams
