#pragma once

#include <filesystem>

#include "health/prober.hpp"

namespace lxcdn::origin {

// The health checks' canary: the smallest non-empty file listed by the published index under
// `root` (streams/v1/index.json and the products files it names), with its size and sha256 from
// the index. Returns an empty canary when there is no readable index. Reads the files each call.
health::canary pick_canary(const std::filesystem::path& root);

}  // namespace lxcdn::origin
