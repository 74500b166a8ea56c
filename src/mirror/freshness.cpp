#include "mirror/freshness.hpp"

#include <chrono>

namespace lxcdn::mirror {

bool is_fresh(const cache_meta& meta, std::int64_t now, const validity_config& valid) {
  std::chrono::milliseconds ttl{0};
  switch (meta.status) {
    case 200:
      ttl = valid.ok;
      break;
    case 301:
    case 302:
      ttl = valid.redirect;
      break;
    case 404:
      ttl = valid.not_found;
      break;
    default:
      return false;
  }
  auto age = now - meta.stored_at;
  return age >= 0 && age < std::chrono::duration_cast<std::chrono::seconds>(ttl).count();
}

bool is_cacheable(unsigned status, bool listed_in_index) {
  switch (status) {
    case 200:
    case 301:
    case 302:
      return true;
    case 404:
      return !listed_in_index;
    default:
      return false;
  }
}

bool is_passed_on(unsigned status) {
  switch (status) {
    case 301:
    case 302:
    case 303:
    case 307:
    case 308:
      return true;
    default:
      return status >= 400 && status <= 499;
  }
}

}  // namespace lxcdn::mirror
