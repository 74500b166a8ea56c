#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "geoip/geo_point.hpp"
#include "geoip/ip_network.hpp"

namespace lxcdn::geoip {

// Where a location came from.
enum class location_source {
  none,      // the address is in no override and not in the database: location unknown
  database,  // the database's own record (with its coordinates when it has them)
  centroid,  // the database gave only a country; coordinates are that country's centre
  override,  // an `overrides:` entry of the config matched (longest prefix)
};

std::string_view to_string(location_source s);

// What the origin knows about a client's whereabouts. A value.
struct geo_location {
  std::string country;             // ISO 3166-1 alpha-2, upper case; empty when unknown
  std::string continent;           // AF AN AS EU NA OC SA; empty when unknown
  std::optional<geo_point> point;  // absent when neither the data nor the country table has one
  location_source source = location_source::none;
  std::optional<ip_network> network;  // the override or database network that matched
  std::string error;  // set when the database could not answer (corrupt data section)
};

}  // namespace lxcdn::geoip
