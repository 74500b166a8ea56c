#include "mirror/metrics.hpp"

#include <fmt/format.h>

namespace lxcdn::mirror {

void mirror_metrics::observe_ttfb(double seconds) {
  std::size_t i = 0;
  while (i < ttfb_bounds.size() && seconds > ttfb_bounds[i]) {
    ++i;
  }
  ++ttfb_buckets[i];
  ++ttfb_count;
  ttfb_sum_us += static_cast<std::uint64_t>(seconds * 1e6);
}

std::string mirror_metrics::render(std::uint64_t cache_bytes, std::uint64_t cache_entries,
                                   std::uint64_t evictions,
                                   std::uint64_t store_integrity_failures) const {
  std::string out;
  auto counter = [&out](const char* name, const char* help, std::uint64_t v) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} counter\n{0} {2}\n", name, help, v);
  };
  auto gauge = [&out](const char* name, const char* help, std::int64_t v) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} gauge\n{0} {2}\n", name, help, v);
  };
  counter("lxcdn_mirror_hits_total", "Image requests served from a complete cache entry.", hits);
  counter("lxcdn_mirror_misses_total", "Image requests that started an upstream fill.", misses);
  counter("lxcdn_mirror_coalesced_total", "Image requests that joined a fill in progress.",
          coalesced);
  counter("lxcdn_mirror_redirects_total", "Non-image requests redirected to the origin.",
          redirects);
  counter("lxcdn_mirror_fill_bytes_total", "Body bytes received from the upstream.", fill_bytes);
  counter("lxcdn_mirror_fills_started_total", "Upstream fills started.", fills_started);
  counter("lxcdn_mirror_fills_committed_total", "Fills committed to the cache.", fills_committed);
  counter("lxcdn_mirror_fills_failed_total", "Fills abandoned (upstream error, short body, "
          "integrity failure).", fills_failed);
  counter("lxcdn_mirror_integrity_failures_total",
          "Fills or cache entries whose size or sha256 did not match.",
          integrity_failures + store_integrity_failures);
  counter("lxcdn_mirror_upstream_errors_total", "Upstream requests that failed.", upstream_errors);
  counter("lxcdn_mirror_cache_write_errors_total",
          "Fills the cache could not hold (disk full, read-only, no permission).",
          cache_write_errors);
  counter("lxcdn_mirror_passthrough_total",
          "Image requests served from the upstream without the cache (it could not be written).",
          passthrough_requests);
  counter("lxcdn_mirror_evictions_total", "Cache entries removed for size or inactivity.",
          evictions);
  gauge("lxcdn_mirror_fills_in_progress", "Fills in progress.", fills_in_progress);
  gauge("lxcdn_mirror_cache_bytes", "Bytes on disk in the cache.",
        static_cast<std::int64_t>(cache_bytes));
  gauge("lxcdn_mirror_cache_entries", "Entries in the cache.",
        static_cast<std::int64_t>(cache_entries));
  out += "# HELP lxcdn_mirror_ttfb_seconds Time to the response head of image requests.\n"
         "# TYPE lxcdn_mirror_ttfb_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < ttfb_bounds.size(); ++i) {
    cumulative += ttfb_buckets[i];
    out += fmt::format("lxcdn_mirror_ttfb_seconds_bucket{{le=\"{}\"}} {}\n", ttfb_bounds[i],
                       cumulative);
  }
  cumulative += ttfb_buckets[ttfb_bounds.size()];
  out += fmt::format("lxcdn_mirror_ttfb_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
  out += fmt::format("lxcdn_mirror_ttfb_seconds_sum {}\n",
                     static_cast<double>(ttfb_sum_us.load()) / 1e6);
  out += fmt::format("lxcdn_mirror_ttfb_seconds_count {}\n", ttfb_count.load());
  return out;
}

}  // namespace lxcdn::mirror
