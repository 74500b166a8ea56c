#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "mirror/cache_store.hpp"
#include "mirror/mirror_config.hpp"

namespace lxcdn::mirror {

// Runs the mirror until SIGTERM/SIGINT (graceful, like the origin). Prints one
// "lxcdn mirror listening on URL" line per listener on stdout. `clock` gives unix seconds
// (the system clock in production; tests inject one). Returns the exit code; throws
// config_error for start-up problems.
int run_mirror(const mirror_config& config, clock_fn clock);

// `lxcdn mirror purge`: removes the cache entries of the given request paths (normalised like
// requests). Works on the cache directory directly, with or without a running mirror.
// Returns the number of entries removed; unknown paths are reported on stderr.
std::size_t purge(const mirror_config& config, const std::vector<std::string>& paths);

// The system clock as unix seconds.
std::int64_t system_clock_seconds();

}  // namespace lxcdn::mirror
