#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace lxcdn::publish {

// What a generation records about itself, in <generation>/.lxcdn-publish/state (a hidden path:
// the origin never serves it, rsync pushes leave it out). It travels with the generation, so the
// state and the tree it describes are switched together.
//
// Format (text, one record per line, fields separated by one space, the path last; the names
// under images/ hold no spaces by build_rules):
//   lxcdn-publish-state 1
//   generation <id>
//   build listed <path below images/>
//   build retired <unix time it left the index> <path below images/>
//   file <inode> <size> <mtime ns> <sha256> <path below the generation root>
//   combined <sha256> <metadata path> <root path>
struct file_key {
  std::uint64_t inode = 0;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  auto operator<=>(const file_key&) const = default;
};

struct cached_hash {
  file_key key;
  std::string sha256;
};

struct generation_state {
  std::string generation;  // its id, "00000042"
  // Build path below images/ ("debian/bookworm/amd64/default/S") -> retired_at (unix seconds),
  // or nullopt for a build the index lists.
  std::map<std::string, std::optional<std::int64_t>> builds;
  // The hash cache: a file's sha256, valid while (inode, size, mtime) are unchanged. Hard links
  // carry the inode from one generation to the next, so only new files are hashed again.
  std::map<std::string, cached_hash> files;
  // sha256(metadata ‖ root), valid while both files' entries are.
  std::map<std::pair<std::string, std::string>, std::string> combined;
};

std::string render_state(const generation_state& s);
// Parses render_state's output. Returns nullopt with `error` set (naming the line) on anything
// else; a run then starts from an empty state rather than trust a damaged one.
std::optional<generation_state> parse_state(std::string_view text, std::string& error);

}  // namespace lxcdn::publish
