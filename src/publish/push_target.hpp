#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>

#include "publish/generation_state.hpp"

namespace lxcdn::publish {

// The outcome of pushing one generation to one origin node.
struct push_result {
  std::string target;
  bool ok = false;
  bool transferred = false;     // false: the node already served the generation
  std::size_t builds_sent = 0;  // build directories the node lacked and got
  std::size_t files_sent = 0;   // regular files rsync transferred for them (its --stats)
  std::string message;          // "switched to 00000042", or what failed and what it still serves
};

// A target is "host:path" (rsync over ssh, commands over ssh) when a ':' comes before any '/';
// otherwise a local directory.
bool is_remote_target(const std::string& target);

// What one push needs to know about the publisher's side. A value holding references to the
// run's state; valid during push_generation.
struct push_source {
  std::filesystem::path root;  // the publisher's served root (work/current, pool_layout::root)
  std::string id;              // the generation every node should serve
  const generation_state* state = nullptr;  // its state: the builds it needs on disk
  // The state of an older generation the publisher still holds (valid during the push), or
  // nullptr.
  std::function<const generation_state*(const std::string& id)> state_of;
  std::set<std::string> dropped;  // builds the kept generations dropped (build paths)
  std::filesystem::path rsync;
  unsigned keep = 3;  // generations kept on the node
};

// Makes `target` (a base directory holding pool_layout) serve generation `src.id`:
//   1. the layout is prepared (pool_layout.hpp: a local node of the old layout is converted once;
//      a remote one is refused with a message); leftovers of a killed push (.staging/,
//      .generations/*.partial, an unswitched .generations/<id>) are removed;
//   2. the builds the node lacks (the generation's builds minus those of the generation the node
//      serves, whose state the publisher holds) travel with `rsync -a -r --files-from` into
//      current/.staging/; a new node, or one serving a generation the publisher no longer
//      holds, gets the whole pool with one `rsync -a images/` instead (nothing deleted);
//   3. .generations/<id> travels whole (index, signatures, legacy index; not the state) into
//      .generations/<id>.partial, renamed after the transfer;
//   4. each staged build is renamed to its final name (a directory there that the served
//      generation does not list, a killed push's leftover, is removed first);
//   5. `.generation` is switched with one rename(2);
//   6. builds the node serves no more (the previous generation's minus this one's, and
//      `src.dropped` minus this one's) are removed; after a whole-pool push, whatever the
//      publisher's pool lacks; then .generations beyond the newest `keep`.
// A node never switches to an incomplete generation: a failure in 1-4 leaves `.generation` as it
// was (reported in `message`); 6 failing is only reported. Never throws.
push_result push_generation(const std::string& target, const push_source& src);

}  // namespace lxcdn::publish
