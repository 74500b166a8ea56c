#pragma once

#include <cstdint>
#include <functional>
#include <ostream>

#include "publish/publish_config.hpp"

namespace lxcdn::publish {

struct publish_options {
  bool dry_run = false;                 // decide and print, write nothing
  std::function<std::int64_t()> now;    // unix seconds (tests inject a clock)
  bool progress = false;                // progress lines on `err` (a terminal)
};

// One publication run (docs/publish.md):
//   1. take work/.lock; open the signing key (an unusable key fails here, before any write);
//   2. convert a work tree of the old layout once (pool_layout.hpp), read the generation
//      work/current/.generation names and its state, remove what a killed run left;
//   3. ingest: decide every incoming build (ingest.hpp), hash the new ones, refuse duplicate
//      fingerprints; plan retention (retention.hpp);
//   4. unless nothing changed: stage each new build in work/current/.staging (links from
//      incoming, squashfs delta, SHA256SUMS, fsync) and rename it into the pool
//      (work/current/images); assemble work/current/.generations/<id>.partial (the index with
//      aliases and requirements, its signatures, the legacy index, the state), verify it
//      (verify_generation.hpp), rename it to <id> and switch work/current/.generation; then
//      delete the builds whose grace ended and remove the published builds from incoming;
//   5. push the current generation to every target (push_target.hpp): only the builds a node
//      lacks travel;
//   6. print the summary on `out`: added, retired, deleted, skipped (and why), hashing counts,
//      each target's outcome.
// Returns 0 when everything succeeded, 1 when anything failed (a target, verification, a tool);
// a failure before step 5 leaves work/current/.generation and every target as they were.
// Throws config_error never (the config is already parsed); reports publish_error on `err`.
int run_publish(const publish_config& config, const publish_options& options, std::ostream& out,
                std::ostream& err);

}  // namespace lxcdn::publish
