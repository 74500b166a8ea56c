#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/yaml_reader.hpp"
#include "geoip/geo_point.hpp"
#include "geoip/ip_network.hpp"

namespace lxcdn::geoip {

// One `overrides:` entry: clients in `network` are placed at this country and/or point.
struct geo_override {
  ip_network network;
  std::string country;             // `country`: alpha-2; empty = none. Sets continent and centre.
  std::string continent;           // `continent`: default the country's, else empty
  std::optional<geo_point> point;  // `latitude` + `longitude`; default the country's centre
};

// The `geoip:` section of the origin config (docs/geoip.md). Immutable once parsed.
struct geoip_settings {
  // `database`: a MaxMind DB file (GeoIP2/GeoLite2 City or Country, DB-IP, ipinfo, ...). Relative
  // to the config file's directory. Default: none (only overrides place clients).
  std::filesystem::path database;
  // `check_interval`: how often the origin compares the file's mtime/size/inode with the loaded
  // one and reloads it when they differ; 0 = only on SIGHUP. Default 60s.
  std::chrono::milliseconds check_interval{std::chrono::seconds(60)};
  // `overrides`: networks placed by hand (internal networks, tests); longest prefix wins, and an
  // override wins over the database. Default: none.
  std::vector<geo_override> overrides;
  // `trusted_proxies`: addresses/networks whose X-Forwarded-For is believed (client_address.hpp).
  // Default: none (the socket peer is the client).
  std::vector<ip_network> trusted_proxies;
};

// Reads a `geoip:` mapping (pass `top.child("geoip")`); calls finish() on it and on each entry.
// `config_file` resolves a relative `database`. Throws config_error "FILE:LINE: KEY: reason", e.g.
// "origin.yaml:12: geoip.overrides[1].country: unknown country code 'UK' (ISO 3166-1: GB)".
geoip_settings parse_geoip_config(yaml_map& geoip, const std::filesystem::path& config_file);

}  // namespace lxcdn::geoip
