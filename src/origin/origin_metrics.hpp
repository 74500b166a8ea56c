#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/sharded_counters.hpp"
#include "health/prober.hpp"
#include "selection/mirror.hpp"
#include "selection/select_mirror.hpp"

namespace lxcdn::origin {

// Why the origin answered a request itself instead of redirecting it (lxcdn_origin_served_total).
enum class local_reason : std::uint8_t {
  not_image,         // not under /images/: the index and everything else is always served here
  no_geoip,          // X-LXC-No-GeoIP: on (a mirror's own fill)
  no_mirrors,        // no mirror configured
  no_candidate,      // every mirror excluded (down, draining, disabled, wrong region, ...)
  unknown_location,  // the client's location is unknown and no rule applies
  too_far,           // the nearest mirror is beyond selection.max_distance
  count,
};
std::string_view to_string(local_reason r);
// The local reason for a decision that did not redirect.
local_reason local_reason_of(selection::decision d);

// The redirect rules counted per mirror and country (lxcdn_origin_redirects_total{reason}).
enum class redirect_reason : std::uint8_t { country_rule, continent_rule, nearest, count };
std::string_view to_string(redirect_reason r);

// Redirect counters of one mirror: a cell per (client country, rule). Request path: lock-free.
class mirror_redirects {
 public:
  mirror_redirects();
  // `country_index` from country_index(); bumps one cell.
  void add(std::size_t country_index, redirect_reason r) noexcept {
    cells_.add(country_index * static_cast<std::size_t>(redirect_reason::count) +
               static_cast<std::size_t>(r));
  }
  std::uint64_t total() const noexcept { return cells_.total(); }
  std::uint64_t count(std::size_t country_index, redirect_reason r) const noexcept;

 private:
  sharded_counters cells_;
};

// Index of a client country in geoip::all_countries(), or the last index (one past the table)
// for "unknown" (empty or unlisted). Pure, O(log n).
std::size_t country_index(std::string_view country);
// The label for an index: "DE", or "unknown".
std::string_view country_label(std::size_t index);

// Everything the origin exports on /metrics and uses for "redirects per minute". Request-path
// members are lock-free (sharded counters); the rest is guarded by a mutex taken only by reloads,
// the admin API, the probe round, the rate sampler and scrapes.
class origin_metrics {
 public:
  origin_metrics();

  // The redirect counters of a mirror, created on first use; kept for the process's life so a
  // mirror removed and re-added by reloads keeps counting from where it was.
  std::shared_ptr<mirror_redirects> redirects_of(const std::string& name);

  // Request path.
  void served_locally(local_reason r) noexcept { local_.add(static_cast<std::size_t>(r)); }
  void explained() noexcept { explains_.add(0); }

  // Off the request path.
  void count_reload(bool ok);
  void count_operator_change(const std::string& name, selection::operator_state to);

  // Records every mirror's redirect total at `now` (called every few seconds); the per-minute
  // rate is taken over the samples of the last minute.
  void sample(std::chrono::steady_clock::time_point now);
  // Redirects per minute to `name` over the last minute (fewer seconds right after start-up,
  // scaled to a minute); 0 for an unknown name or before two samples.
  double redirects_per_minute(const std::string& name) const;

  // One mirror as the exposition needs it.
  struct mirror_sample {
    std::string name;
    selection::operator_state state = selection::operator_state::active;
    health::mirror_health_report health;
  };
  // Prometheus text exposition (version 0.0.4).
  std::string render(const std::vector<mirror_sample>& mirrors,
                     std::uint64_t geoip_failed_reloads) const;

 private:
  struct rate_point {
    std::chrono::steady_clock::time_point at;
    std::uint64_t total;
  };
  sharded_counters local_;
  sharded_counters explains_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<mirror_redirects>> redirects_;  // guarded by mutex_
  std::map<std::string, std::deque<rate_point>> rates_;                 // guarded by mutex_
  std::map<std::pair<std::string, selection::operator_state>, std::uint64_t>
      operator_changes_;              // guarded by mutex_
  std::uint64_t reloads_ok_ = 0;      // guarded by mutex_
  std::uint64_t reloads_failed_ = 0;  // guarded by mutex_
};

}  // namespace lxcdn::origin
