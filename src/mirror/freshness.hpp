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

// True if an upstream answer other than 200 is passed on to the waiting clients as it is (as
// nginx's proxy_pass does): a redirect (301, 302, 303, 307, 308) or a client error (4xx: the
// origin refusing the file, 403 or 410, is the origin's answer to give). False for everything
// else (5xx, 1xx, 304 and unknown codes): that is an upstream failure, and clients get 502.
// Whether a passed-on answer is also cached is is_cacheable's decision. Pure.
bool is_passed_on(unsigned status);

}  // namespace lxcdn::mirror
