#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "geoip/geo_location.hpp"
#include "selection/mirror.hpp"

namespace lxcdn::selection {

// The `selection:` section of the origin config. Immutable once parsed.
struct selection_settings {
  // `band`: km. Every candidate within this distance of the nearest one shares the load (a
  // weighted random choice), so neighbouring mirrors split a region. Default 1000.
  double band_km = 1000;
  // `max_distance`: km. When the nearest mirror chosen by distance is farther, the origin serves
  // the client itself. 0 = no limit. Default 0. Country and continent rules ignore it.
  double max_distance_km = 0;
  // `origin_names`: host names (optionally host:port) of this origin, besides the request's Host.
  // A mirror whose URL names one of them is never chosen, so a redirect cannot loop.
  std::vector<std::string> origin_names;
};

// Everything a decision depends on besides the mirror list. A value.
struct selection_request {
  geoip::geo_location client;     // from geoip (source none: unknown)
  std::string scheme = "https";   // of the request: "http" or "https"; the redirect keeps it
  // Request Host + settings.origin_names (redirect_url.hpp). Views: whatever they name must
  // outlive the decision (the request and the settings do).
  boost::container::small_vector<std::string_view, 4> self;
  double random = 0;              // uniform in [0,1): the weighted choice (injected for tests)
  // Fill in the distance of every mirror for the trace (X-LXC-Explain); otherwise only the
  // mirrors the decision needs get one. The choice is the same either way.
  bool explain = false;
};

// Why a mirror is not a candidate. Checked in this order; the first that applies is reported.
enum class exclusion {
  none,               // a candidate (it has a probability)
  disabled,           // operator state
  draining,           // operator state: no new redirects
  down,               // health checks failed
  no_url_for_scheme,  // no base URL for the request's scheme (never switch http <-> https)
  points_at_self,     // its URL is this origin
  excluded_country,   // exclude_countries lists the client's country
  not_its_region,     // it serves only its countries/continents, and the client is not from there
  no_share,           // weight x headroom x slow-start is 0
  other_rule,         // a country (or continent) rule matched other mirrors, which come first
  unknown_location,   // choosing by distance, and the client's location is unknown
  too_far,            // farther than max_distance
  outside_band,       // farther than the nearest candidate + band
};
std::string_view to_string(exclusion e);

// The rule that decided, or why the origin serves the client itself.
enum class decision {
  country_rule,      // redirected: a mirror listing the client's country in `countries`
  continent_rule,    // redirected: a mirror listing the client's continent in `continents`
  nearest,           // redirected: by great-circle distance
  no_mirrors,        // local: no mirror configured
  no_candidate,      // local: every mirror is excluded (down, draining, wrong region, ...)
  unknown_location,  // local: the client's location is unknown and no rule applies
  too_far,           // local: the nearest mirror is beyond max_distance
};
std::string_view to_string(decision d);
bool is_redirect(decision d);

// One line of the explain trace: a mirror and what the decision made of it. `name` points into
// the mirror list passed to select_mirror(), which must outlive the trace.
struct candidate {
  std::string_view name;
  std::string_view rule;  // "country", "continent", "distance" or "" (what it could be chosen by)
  // Absent when the client's location is unknown, and (unless request.explain) for mirrors
  // excluded before distances mattered.
  std::optional<double> distance_km;
  unsigned weight = 0;
  double headroom = 0;
  double slow_start = 0;
  double share = 0;        // weight x headroom x slow-start
  double probability = 0;  // of being chosen in this decision
  exclusion excluded = exclusion::none;
};

// The outcome: the chosen mirror (index into the mirror list) or none, and the whole trace.
struct selection {
  std::optional<std::size_t> chosen;
  decision reason = decision::no_mirrors;
  // One per mirror, in list order. Inline up to 8 mirrors: no allocation per decision.
  boost::container::small_vector<candidate, 8> candidates;
  std::optional<double> nearest_km;   // distance to the nearest candidate considered, if known
};

// Chooses the mirror for one request (DESIGN.md "Origin", issue 4 "Selection"):
//  1. each mirror is excluded or kept (see `exclusion`; only `active`, healthy mirrors with a
//     base URL for the request's scheme and a non-zero share remain);
//  2. the first non-empty group decides: mirrors listing the client's country in `countries`,
//     then those listing its continent in `continents`, then every mirror without such lists,
//     by distance (within max_distance; the client's location must be known);
//  3. within the group, when the client's location is known, only mirrors within band_km of
//     the nearest remain;
//  4. one of them is drawn with probability proportional to weight x headroom x slow-start,
//     using request.random.
// `status` is parallel to `mirrors` (same size). Pure and deterministic: same inputs, same result.
selection select_mirror(const selection_request& request, std::span<const mirror> mirrors,
                        std::span<const mirror_status> status, const selection_settings& settings);

}  // namespace lxcdn::selection
