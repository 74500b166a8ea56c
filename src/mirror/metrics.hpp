#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace lxcdn::mirror {

// Counters exported on /metrics. Lock-free; any thread may bump them.
struct mirror_metrics {
  std::atomic<std::uint64_t> hits{0};           // served from a complete cache entry
  std::atomic<std::uint64_t> misses{0};         // started a fill
  std::atomic<std::uint64_t> coalesced{0};      // joined a fill already in progress
  std::atomic<std::uint64_t> redirects{0};      // non-image paths sent to the origin
  std::atomic<std::uint64_t> fill_bytes{0};     // body bytes received from upstream
  std::atomic<std::uint64_t> fills_started{0};
  std::atomic<std::uint64_t> fills_committed{0};
  std::atomic<std::uint64_t> fills_failed{0};
  std::atomic<std::int64_t> fills_in_progress{0};
  std::atomic<std::uint64_t> integrity_failures{0};  // fills whose size/sha256 did not match
  std::atomic<std::uint64_t> upstream_errors{0};
  std::atomic<std::int64_t> last_fill_ok{0};    // unix seconds of the last committed fill
  std::atomic<std::uint64_t> cache_write_errors{0};    // fills the cache could not hold
  std::atomic<std::int64_t> last_cache_error_at{0};    // unix seconds of the last one (0: never)
  std::atomic<bool> cache_writable{true};  // false from a cache write failure to the next commit
  std::atomic<std::uint64_t> passthrough_requests{0};  // image requests served past the cache

  // Time to first byte (response head written) of image requests, as a histogram.
  static constexpr std::array<double, 8> ttfb_bounds{0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30};
  std::array<std::atomic<std::uint64_t>, 9> ttfb_buckets{};  // last = +Inf
  std::atomic<std::uint64_t> ttfb_count{0};
  std::atomic<std::uint64_t> ttfb_sum_us{0};
  void observe_ttfb(double seconds);

  // Prometheus text exposition; `cache_*` and `evictions` come from the cache store.
  std::string render(std::uint64_t cache_bytes, std::uint64_t cache_entries,
                     std::uint64_t evictions, std::uint64_t store_integrity_failures) const;
};

}  // namespace lxcdn::mirror
