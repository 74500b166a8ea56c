#pragma once

#include <cstdint>

#include "mirror/cache_entry.hpp"
#include "mirror/mirror_config.hpp"

namespace lxcdn::mirror {

// True while a cached answer may be served without asking the upstream (nginx
// proxy_cache_valid): 200 for valid.ok, 301/302 for valid.redirect, 404 for valid.not_found,
// counted from stored_at. Other statuses are never cached. Pure.
bool is_fresh(const cache_meta& meta, std::int64_t now, const validity_config& valid);

// True if an upstream answer with this status may be cached at all. A 404 for a path that the
// current index lists is not: the origin must be asked again (a mirror must never keep 404ing a
// listed file, simplestreams-spec §4.4).
bool is_cacheable(unsigned status, bool listed_in_index);

}  // namespace lxcdn::mirror
