#pragma once

#include <filesystem>
#include <string>

namespace lxcdn::geoip {

// `lxcdn geoip lookup DB ADDR [--json] [--config ORIGIN_YAML]`.
struct lookup_options {
  std::filesystem::path database;  // the .mmdb file
  std::string address;             // IPv4 or IPv6 literal
  bool json = false;               // one JSON object instead of text
  // An origin config whose `geoip.overrides` apply too, as in the origin. Default: none.
  std::filesystem::path config;
};

// What the origin would see for the address: render_lookup_text/json of the lookup. Throws
// config_error for an address that does not parse, a database that cannot be opened
// ("PATH: cannot open GeoIP database: REASON"), a lookup the database cannot answer
// ("PATH: lookup of ADDR failed: REASON", e.g. a corrupt search tree) or a broken config.
std::string lookup_command(const lookup_options& options);

}  // namespace lxcdn::geoip
