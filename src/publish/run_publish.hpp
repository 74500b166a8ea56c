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
//   2. read the current generation (work/current) and its state;
//   3. ingest: decide every incoming build (ingest.hpp), hash the new ones, refuse duplicate
//      fingerprints; plan retention (retention.hpp);
//   4. unless nothing changed: assemble work/generations/<id>.partial (hard links to the previous
//      generation's files, new builds linked from incoming, squashfs deltas, SHA256SUMS, the
//      index with aliases and requirements, its signatures, the state), verify it
//      (verify_generation.hpp), rename it to <id> and switch work/current; remove the published
//      builds from incoming;
//   5. push the current generation to every target (push_target.hpp);
//   6. print the summary on `out`: added, retired, deleted, skipped (and why), hashing counts,
//      each target's outcome.
// Returns 0 when everything succeeded, 1 when anything failed (a target, verification, a tool);
// a failure before step 5 leaves work/current and every target as they were. Throws
// config_error never (the config is already parsed); reports publish_error on `err`.
int run_publish(const publish_config& config, const publish_options& options, std::ostream& out,
                std::ostream& err);

}  // namespace lxcdn::publish
