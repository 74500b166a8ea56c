#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "simplestreams/catalog.hpp"

namespace lxcdn::simplestreams {

struct scan_result {
  catalog found;
  std::vector<std::string> skipped;  // "<path relative to ROOT>: <reason>", sorted
};

// Walks ROOT/images/<os>/<release>/<arch>/<variant>/<serial>/ in byte order of names and hashes
// every build directory that passes the rules of build_rules.hpp. A directory that fails them is
// left out with its reason in `skipped` (at the level where the rule applies: a bad arch skips the
// whole arch directory, once). Entries whose name starts with '.' are ignored silently (work in
// progress by convention), and so are plain files above the build level. Symbolic links anywhere
// in the walk are skipped with a reason: the index must only name paths the origin serves.
// A missing ROOT/images gives an empty catalog.
// Throws index_error if a directory cannot be listed or a build file cannot be read. Does not
// check fingerprint uniqueness (see find_duplicate_fingerprint).
scan_result scan_tree(const std::filesystem::path& root);

}  // namespace lxcdn::simplestreams
