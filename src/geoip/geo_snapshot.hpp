#pragma once

#include <sys/types.h>

#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "geoip/geo_location.hpp"
#include "geoip/geoip_config.hpp"
#include "geoip/mmdb_database.hpp"

namespace lxcdn::geoip {

// What identifies one version of the database file: when any of these change, it is reloaded.
struct file_identity {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  timespec mtime{};

  friend bool operator==(const file_identity& a, const file_identity& b) {
    return a.device == b.device && a.inode == b.inode && a.size == b.size &&
           a.mtime.tv_sec == b.mtime.tv_sec && a.mtime.tv_nsec == b.mtime.tv_nsec;
  }
};

// The file's identity now, or nullopt when it cannot be stat'ed.
std::optional<file_identity> identify_file(const std::filesystem::path& path);

// One immutable view of the GeoIP data: the open database (if configured) and the overrides.
// Shared as shared_ptr<const geo_snapshot>; a reload builds a new one and swaps it in whole, while
// requests in progress keep the one they started with. lookup() is safe from any thread.
class geo_snapshot {
 public:
  // Opens settings.database (when set) and indexes the overrides. Throws config_error naming the
  // file when the database cannot be opened.
  explicit geo_snapshot(geoip_settings settings);

  // Where `address` is, in this order: the longest matching override; the database record (its
  // coordinates, or the centre of its country from country_table.hpp); otherwise unknown
  // (source none). Never throws; a database read error is reported in geo_location::error.
  geo_location lookup(const ip_address& address) const;

  const geoip_settings& settings() const { return settings_; }
  bool has_database() const { return database_ != nullptr; }
  std::string database_type() const;  // "" without a database
  // The database file as it was just before it was opened (nullopt without a database).
  const std::optional<file_identity>& database_file() const { return file_; }

 private:
  geoip_settings settings_;  // overrides sorted longest prefix first
  std::optional<file_identity> file_;
  std::unique_ptr<const mmdb_database> database_;
};

}  // namespace lxcdn::geoip
