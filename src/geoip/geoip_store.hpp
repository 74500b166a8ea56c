#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/snapshot_cell.hpp"
#include "geoip/geo_snapshot.hpp"

namespace lxcdn::geoip {

// The current geo_snapshot, replaced whole on reload. Internally synchronized: any thread may call
// any member. Readers take current() once per request and keep that snapshot, so a reload never
// changes an answer half-way. A reload that fails keeps the old snapshot and returns why; the
// caller logs it (docs/errors.md: a failed reload keeps the old state).
class geoip_store {
 public:
  // Loads the first snapshot. Throws config_error naming the file when the database cannot be
  // opened: at start-up a broken database is fatal.
  explicit geoip_store(geoip_settings settings);

  std::shared_ptr<const geo_snapshot> current() const;
  // The same without a lock or a reference count (the request path): valid until this thread's
  // next local(); never hold it across a co_await (core/snapshot_cell.hpp).
  const geo_snapshot& local() const { return current_.local(); }

  // Re-opens the database with the current settings (SIGHUP). Returns "" on success, else the
  // reason, e.g. "/var/lib/GeoIP/x.mmdb: cannot open GeoIP database: ..."; the old snapshot stays.
  std::string reload();
  // The same with new settings (a config reload); on failure the old settings stay too.
  std::string reload(geoip_settings settings);

  enum class check_result {
    unchanged,  // same file as loaded (or as last failed: a broken file is tried once per version)
    reloaded,   // the file changed and the new one is in use
    failed,     // the file changed and could not be loaded; `error` says why, old data stays
  };
  struct check_outcome {
    check_result result = check_result::unchanged;
    std::string error;
  };
  // Compares the database file's device/inode/size/mtime with the version last tried and reloads
  // when they differ (call every settings.check_interval). A file that cannot be stat'ed (being
  // replaced) counts as unchanged until it reappears. Without a database: always unchanged.
  check_outcome maybe_reload_if_changed();

  // Reloads that failed since construction (for /metrics).
  std::uint64_t failed_reloads() const { return failed_reloads_.load(); }

 private:
  std::string install(geoip_settings settings);

  std::mutex reload_mutex_;  // serializes reloads (opening a database is slow; readers never wait)
  std::optional<file_identity> last_tried_;  // guarded by reload_mutex_
  snapshot_cell<geo_snapshot> current_;
  std::atomic<std::uint64_t> failed_reloads_{0};
};

}  // namespace lxcdn::geoip
