#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "publish/build_identity.hpp"

namespace lxcdn::publish {

// What one run does to the set of builds, decided from values only (no file system).
struct retention_plan {
  std::vector<build_id> listed;   // in the new index: the newest `keep` per product
  std::vector<build_id> taken;    // candidates that are among `listed`
  std::vector<std::pair<build_id, std::string>> refused;  // candidates not taken, and why
  std::vector<build_id> retired_now;  // listed before, not any more: they start their grace
  // Left the index earlier or now and still within the grace period: kept on disk, not listed.
  std::map<build_id, std::int64_t> in_grace;  // -> the time it left the index
  std::vector<build_id> expired;      // grace over: left out of the new generation (deleted)
};

// `previous`: every build of the previous generation, path below images/ -> nullopt if listed,
// else the unix time it left the index (generation_state::builds). `candidates`: new builds
// accepted by ingest, none of which is in `previous`. Per product ("os:release:arch:variant"),
// serials are ordered as bytes (LANG=C; spec 5) and the newest `keep` of previous-listed ∪
// candidates are listed. A candidate that is not among them is refused ("older than the newest
// N"), as lxc-ci does. A retired build whose grace has ended at `now` (retired_at + grace <= now)
// expires. Output vectors are sorted. Paths in `previous` that are not build paths are ignored.
retention_plan plan_retention(const std::map<std::string, std::optional<std::int64_t>>& previous,
                              const std::vector<build_id>& candidates, unsigned keep,
                              std::chrono::seconds grace, std::int64_t now);

}  // namespace lxcdn::publish
