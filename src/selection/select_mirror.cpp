#include "selection/select_mirror.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "selection/redirect_url.hpp"

namespace lxcdn::selection {
namespace {

bool listed(const std::vector<std::string>& list, const std::string& code) {
  return !code.empty() && std::find(list.begin(), list.end(), code) != list.end();
}

// The rules, in the order they decide. string_views (not char pointers), so that comparing a
// candidate's rule with one costs a length check, not a strlen per mirror and rule.
constexpr std::string_view rule_country = "country";
constexpr std::string_view rule_continent = "continent";
constexpr std::string_view rule_distance = "distance";

double unit(double v) {
  return std::isfinite(v) ? std::clamp(v, 0.0, 1.0) : 0.0;
}

// Steps 1 and 2 for one mirror: its trace line with its rule, or the reason it is out.
candidate assess(const selection_request& req, const self_matcher& self, const mirror& m,
                 const mirror_status& st) {
  candidate c;
  c.name = m.name;
  c.weight = m.weight;
  c.headroom = unit(st.headroom);
  c.slow_start = unit(st.slow_start);
  c.share = m.weight * c.headroom * c.slow_start;
  const auto& client = req.client;
  if (listed(m.countries, client.country)) {
    c.rule = rule_country;
  } else if (listed(m.continents, client.continent)) {
    c.rule = rule_continent;
  } else if (m.countries.empty() && m.continents.empty()) {
    c.rule = rule_distance;
  }
  if (m.state == operator_state::disabled) {
    c.excluded = exclusion::disabled;
  } else if (m.state == operator_state::draining) {
    c.excluded = exclusion::draining;
  } else if (!st.up) {
    c.excluded = exclusion::down;
  } else if (m.base_url(req.scheme).empty()) {
    c.excluded = exclusion::no_url_for_scheme;
  } else if (self.matches(m.base_url(req.scheme))) {
    c.excluded = exclusion::points_at_self;
  } else if (listed(m.exclude_countries, client.country)) {
    c.excluded = exclusion::excluded_country;
  } else if (c.rule.empty()) {
    c.excluded = exclusion::not_its_region;
  } else if (!(c.share > 0)) {
    c.excluded = exclusion::no_share;
  }
  return c;
}

// The unit vector of the mirror at `index` in the list, at `location`. Computed once per
// thread and list position, and again whenever the location found there differs from the one it
// was computed from (a reloaded list, another caller's list): the check compares the coordinates
// themselves, so a stale vector is never used, whatever list is passed.
const geoip::unit_vector& mirror_position(std::size_t index, geoip::geo_point location) {
  struct entry {
    geoip::geo_point from{std::nan(""), std::nan("")};  // NaN equals nothing: computed on first use
    geoip::unit_vector position;
  };
  thread_local std::vector<entry> cache;
  if (cache.size() <= index) {
    cache.resize(index + 1);
  }
  entry& e = cache[index];
  if (!(e.from == location)) {
    e.from = location;
    e.position = geoip::to_unit_vector(location);
  }
  return e.position;
}

}  // namespace

selection select_mirror(const selection_request& request, std::span<const mirror> mirrors,
                        std::span<const mirror_status> status, const selection_settings& settings) {
  selection out;
  const self_matcher self(request.self, request.scheme);
  out.candidates.reserve(mirrors.size());
  for (std::size_t i = 0; i < mirrors.size(); ++i) {
    out.candidates.push_back(
        assess(request, self, mirrors[i], i < status.size() ? status[i] : mirror_status{}));
  }
  auto in_play = [&](const candidate& c) { return c.excluded == exclusion::none; };
  // Distances: for every mirror when explaining, else only for those still in play after the
  // rules (a great-circle distance is most of the cost of a decision). The client becomes a
  // unit vector once; each mirror's comes from this thread's cache (mirror_position).
  auto measure = [&](bool all) {
    if (!request.client.point) {
      return;
    }
    const geoip::unit_vector client = geoip::to_unit_vector(*request.client.point);
    for (std::size_t i = 0; i < mirrors.size(); ++i) {
      if (all || in_play(out.candidates[i])) {
        out.candidates[i].distance_km =
            geoip::distance_km(client, mirror_position(i, mirrors[i].location));
      }
    }
  };
  if (request.explain) {
    measure(true);
  }
  if (mirrors.empty()) {
    out.reason = decision::no_mirrors;
    return out;
  }

  // Step 2: the first rule with a candidate decides; candidates of later rules step aside.
  std::string_view rule;
  for (std::string_view r : {rule_country, rule_continent, rule_distance}) {
    if (std::any_of(out.candidates.begin(), out.candidates.end(),
                    [&](const candidate& c) { return in_play(c) && c.rule == r; })) {
      rule = r;
      break;
    }
  }
  if (rule.empty()) {
    out.reason = decision::no_candidate;
    return out;
  }
  for (auto& c : out.candidates) {
    if (in_play(c) && c.rule != rule) {
      c.excluded = exclusion::other_rule;
    }
  }
  if (!request.explain) {
    measure(false);
  }
  const bool by_distance = rule == rule_distance;
  out.reason = by_distance               ? decision::nearest
               : rule == rule_country ? decision::country_rule
                                         : decision::continent_rule;

  if (by_distance && !request.client.point) {
    for (auto& c : out.candidates) {
      if (in_play(c)) {
        c.excluded = exclusion::unknown_location;
      }
    }
    out.reason = decision::unknown_location;
    return out;
  }

  // Step 3: distances. max_distance applies to distance choices only.
  if (request.client.point) {
    if (by_distance && settings.max_distance_km > 0) {
      for (auto& c : out.candidates) {
        if (in_play(c) && *c.distance_km > settings.max_distance_km) {
          c.excluded = exclusion::too_far;
        }
      }
    }
    std::optional<double> nearest;
    for (const auto& c : out.candidates) {
      if (in_play(c) && (!nearest || *c.distance_km < *nearest)) {
        nearest = c.distance_km;
      }
    }
    if (!nearest) {
      for (const auto& c : out.candidates) {
        if (c.excluded == exclusion::too_far &&
            (!out.nearest_km || *c.distance_km < *out.nearest_km)) {
          out.nearest_km = c.distance_km;
        }
      }
      out.reason = decision::too_far;
      return out;
    }
    out.nearest_km = nearest;
    for (auto& c : out.candidates) {
      if (in_play(c) && *c.distance_km > *nearest + settings.band_km) {
        c.excluded = exclusion::outside_band;
      }
    }
  }

  // Step 4: a weighted draw, in list order so the same random number gives the same mirror.
  double total = 0;
  for (const auto& c : out.candidates) {
    total += in_play(c) ? c.share : 0;
  }
  const double target = unit(request.random) * total;
  double cumulative = 0;
  for (std::size_t i = 0; i < out.candidates.size(); ++i) {
    auto& c = out.candidates[i];
    if (!in_play(c)) {
      continue;
    }
    c.probability = c.share / total;
    cumulative += c.share;
    if (!out.chosen && target < cumulative) {
      out.chosen = i;
    }
  }
  if (!out.chosen) {  // random == 1 after clamping, or rounding at the very top
    for (std::size_t i = out.candidates.size(); i-- > 0;) {
      if (in_play(out.candidates[i])) {
        out.chosen = i;
        break;
      }
    }
  }
  return out;
}

std::string_view to_string(exclusion e) {
  switch (e) {
    case exclusion::none:
      return "none";
    case exclusion::disabled:
      return "disabled";
    case exclusion::draining:
      return "draining";
    case exclusion::down:
      return "down";
    case exclusion::no_url_for_scheme:
      return "no_url_for_scheme";
    case exclusion::points_at_self:
      return "points_at_self";
    case exclusion::excluded_country:
      return "excluded_country";
    case exclusion::not_its_region:
      return "not_its_region";
    case exclusion::no_share:
      return "no_share";
    case exclusion::other_rule:
      return "other_rule";
    case exclusion::unknown_location:
      return "unknown_location";
    case exclusion::too_far:
      return "too_far";
    case exclusion::outside_band:
      return "outside_band";
  }
  return "none";
}

std::string_view to_string(decision d) {
  switch (d) {
    case decision::country_rule:
      return "country_rule";
    case decision::continent_rule:
      return "continent_rule";
    case decision::nearest:
      return "nearest";
    case decision::no_mirrors:
      return "no_mirrors";
    case decision::no_candidate:
      return "no_candidate";
    case decision::unknown_location:
      return "unknown_location";
    case decision::too_far:
      return "too_far";
  }
  return "no_candidate";
}

bool is_redirect(decision d) {
  return d == decision::country_rule || d == decision::continent_rule || d == decision::nearest;
}

}  // namespace lxcdn::selection
