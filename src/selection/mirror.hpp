#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "geoip/geo_point.hpp"

namespace lxcdn::selection {

// What the operator says about a mirror (config `state`, or the admin API).
enum class operator_state {
  active,    // takes new redirects
  draining,  // no new redirects; transfers in progress finish (maintenance)
  disabled,  // out of rotation
};
std::string_view to_string(operator_state s);
std::optional<operator_state> parse_operator_state(std::string_view s);

// One regional mirror, as configured (docs/geoip.md, "The mirror list"). A value; immutable
// once parsed.
struct mirror {
  std::string name;      // `name`: unique; in logs, metrics, explain output. Required.
  std::string http_url;  // `http`: base URL for plain-HTTP clients, no trailing '/'; "" = none
  std::string
      https_url;        // `https`: base URL for HTTPS clients; "" = none. One of the two required.
  std::string country;  // `country`: where it is, ISO 3166-1 alpha-2. Required.
  std::string continent;      // `continent`: default the country's
  geoip::geo_point location;  // `latitude` + `longitude`: default the country's centre
  // `countries` / `continents`: when either is set, the mirror serves only clients from there and
  // is preferred for them over any mirror chosen by distance. Default: none (serves anyone).
  std::vector<std::string> countries;
  std::vector<std::string> continents;
  std::vector<std::string> exclude_countries;  // `exclude_countries`: never sent these clients
  unsigned weight = 100;  // `weight`: share of the load relative to the others in the band
  // `capacity`: uplink in Mbit/s, for the health checker's headroom estimate; 0 = unknown.
  std::uint64_t capacity_mbps = 0;
  operator_state state = operator_state::active;  // `state`: active, draining or disabled
  // For people only (the status page): `place` ("London, UK"; default: the country code),
  // `operator` (who runs it) and `notes`. Default: empty.
  std::string place;
  std::string operated_by;
  std::string notes;

  // The base URL for a request scheme ("http" or "https"); "" when the mirror has none.
  const std::string& base_url(std::string_view scheme) const {
    return scheme == "https" ? https_url : http_url;
  }
};

// What the health checker knows about a mirror right now (issue 4, "Health checks").
struct mirror_status {
  bool up = true;         // false: k of the last n probes failed
  double slow_start = 1;  // share while ramping up after coming back, in [0,1]
  double headroom = 1;    // spare capacity, in [0,1]: 1 idle, 0 full
};

}  // namespace lxcdn::selection
