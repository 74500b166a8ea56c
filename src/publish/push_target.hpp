#pragma once

#include <filesystem>
#include <string>

namespace lxcdn::publish {

// The outcome of pushing one generation to one origin node.
struct push_result {
  std::string target;
  bool ok = false;
  bool transferred = false;  // false: the node already had the generation
  std::string message;       // "switched to 00000042", or what failed and what it still serves
};

// A target is "host:path" (rsync over ssh, commands over ssh) when a ':' comes before any '/';
// otherwise a local directory.
bool is_remote_target(const std::string& target);

// Makes `target` serve generation `id` (the directory `generation` on this host):
//   1. rsync -a --delete `generation`/ to <target>/generations/<id>.partial/ (hidden
//      .lxcdn-publish/ left out): images/ hard-linking unchanged files to the node's current
//      generation (--link-dest), so only new files cross the network; streams/ and meta/ (the
//      index, rewritten every run, often with the same size within the same second, which
//      rsync's quick check would take for unchanged) always copied whole;
//   2. rename .partial to <id> once the whole transfer has ended;
//   3. point <target>/current at generations/<id> with one rename(2) (replace_symlink);
//   4. remove the node's generations beyond the newest `keep` (never the current one) and
//      leftover .partial directories.
// A node never switches to an incomplete generation: a failure in 1 or 2 leaves `current` as it
// was (reported in `message`); 4 failing is only reported. Never throws.
push_result push_generation(const std::string& target, const std::filesystem::path& generation,
                            const std::string& id, const std::filesystem::path& rsync,
                            unsigned keep);

}  // namespace lxcdn::publish
