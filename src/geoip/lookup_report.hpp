#pragma once

#include <string>

#include "geoip/geo_location.hpp"
#include "geoip/geo_snapshot.hpp"

namespace lxcdn::geoip {

// What `lxcdn geoip lookup` prints: the location the origin would use for `address`, one
// "name: value" line per field (unknown fields say "unknown"), ending in a newline. E.g.
//   address:   81.2.69.5
//   network:   81.2.69.0/24
//   country:   GB
//   continent: EU
//   location:  51.5142, -0.0931
//   source:    database
//   database:  /var/lib/GeoIP/GeoLite2-City.mmdb (GeoLite2-City)
std::string render_lookup_text(const ip_address& address, const geo_location& loc,
                               const geo_snapshot& snapshot);

// The same as one JSON object (fields absent from the data are null), ending in a newline:
// {"address":..,"network":..,"country":..,"continent":..,"latitude":..,"longitude":..,
//  "source":"database|centroid|override|none","database":..,"database_type":..,"error":..}
std::string render_lookup_json(const ip_address& address, const geo_location& loc,
                               const geo_snapshot& snapshot);

}  // namespace lxcdn::geoip
