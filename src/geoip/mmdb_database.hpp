#pragma once

#include <maxminddb.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "geoip/geo_point.hpp"
#include "geoip/ip_network.hpp"

namespace lxcdn::geoip {

// What one database record says about an address, whatever the database's layout.
struct mmdb_record {
  bool found = false;                 // the address is in a network the database covers
  std::string country;                // upper-case alpha-2, or empty
  std::string continent;              // continent code, or empty
  std::optional<geo_point> point;     // the record's own coordinates, if it has valid ones
  std::optional<ip_network> network;  // the database network that matched, when found
  std::string error;  // set when the record could not be read (corrupt data); found is then false
};

// An open MaxMind DB file: a tiny RAII owner of libmaxminddb's MMDB_s (the file is mmap'ed).
// Immutable after construction: lookup() is const and safe from any number of threads at once
// (libmaxminddb only reads the mapping). Neither copyable nor movable.
class mmdb_database {
 public:
  // Opens and validates `path`. Throws config_error "PATH: cannot open GeoIP database: REASON"
  // (missing file, not a MaxMind DB, corrupt metadata or search tree).
  explicit mmdb_database(const std::filesystem::path& path);
  ~mmdb_database();
  mmdb_database(const mmdb_database&) = delete;
  mmdb_database& operator=(const mmdb_database&) = delete;

  // Reads the record for `address`. Understands the GeoIP2/GeoLite2/DB-IP layout
  // (country.iso_code, continent.code, location.latitude/longitude, falling back to
  // registered_country.iso_code) and the flat layout of free country databases (country_code,
  // continent_code as ipinfo writes them; country/continent as 2-letter strings; top-level
  // latitude/longitude). Fields of an unexpected type are ignored. An IPv6 address in an
  // IPv4-only database is simply not found. Never throws.
  // What a record says is decoded once per thread and kept in a small per-thread cache (by this
  // database and the record's place in it: many networks share one record), so a busy origin
  // walks the record's maps only on a miss; the search tree is walked every time.
  mmdb_record lookup(const ip_address& address) const;

  std::string database_type() const;  // metadata, e.g. "GeoLite2-City"
  std::uint64_t build_epoch() const;  // metadata: when the file was built, Unix seconds

 private:
  MMDB_s mmdb_{};
  std::uint64_t id_;  // unique to this instance, for the per-thread record cache
};

}  // namespace lxcdn::geoip
