#include "selection/explain.hpp"

#include <cmath>

#include "geoip/json_text.hpp"

namespace lxcdn::selection {
namespace {

using geoip::append_json_number;
using geoip::append_json_string;
using geoip::append_json_string_or_null;

// Distances to 0.1 km: more digits would only suggest a precision GeoIP does not have.
double tenth(double km) {
  return std::round(km * 10) / 10;
}

void key(std::string& out, const char* k) {
  if (out.back() != '{' && out.back() != '[') {
    out += ',';
  }
  append_json_string(out, k);
  out += ':';
}

void km_or_null(std::string& out, const std::optional<double>& km) {
  append_json_number(out, km ? tenth(*km) : NAN);
}

}  // namespace

std::string explain_json(const selection& result, const selection_request& request,
                         const selection_settings& settings, std::string_view client_address,
                         std::string_view location) {
  std::string out = "{";
  key(out, "decision");
  append_json_string(out, to_string(result.reason));
  key(out, "redirect");
  out += is_redirect(result.reason) && !location.empty() ? "true" : "false";
  key(out, "mirror");
  append_json_string_or_null(out, result.chosen ? result.candidates[*result.chosen].name : "");
  key(out, "location");
  append_json_string_or_null(out, location);

  const auto& c = request.client;
  key(out, "client");
  out += '{';
  key(out, "address");
  append_json_string_or_null(out, client_address);
  key(out, "country");
  append_json_string_or_null(out, c.country);
  key(out, "continent");
  append_json_string_or_null(out, c.continent);
  key(out, "latitude");
  append_json_number(out, c.point ? c.point->latitude : NAN);
  key(out, "longitude");
  append_json_number(out, c.point ? c.point->longitude : NAN);
  key(out, "source");
  append_json_string(out, geoip::to_string(c.source));
  key(out, "network");
  append_json_string_or_null(out, c.network ? geoip::to_string(*c.network) : "");
  out += '}';

  key(out, "scheme");
  append_json_string(out, request.scheme);
  key(out, "random");
  append_json_number(out, request.random);
  key(out, "band_km");
  append_json_number(out, settings.band_km);
  key(out, "max_distance_km");
  append_json_number(out, settings.max_distance_km);
  key(out, "nearest_km");
  km_or_null(out, result.nearest_km);

  key(out, "candidates");
  out += '[';
  for (const auto& m : result.candidates) {
    if (out.back() != '[') {
      out += ',';
    }
    out += '{';
    key(out, "name");
    append_json_string(out, m.name);
    key(out, "rule");
    append_json_string_or_null(out, m.rule);
    key(out, "distance_km");
    km_or_null(out, m.distance_km);
    key(out, "weight");
    append_json_number(out, m.weight);
    key(out, "headroom");
    append_json_number(out, m.headroom);
    key(out, "slow_start");
    append_json_number(out, m.slow_start);
    key(out, "share");
    append_json_number(out, m.share);
    key(out, "probability");
    append_json_number(out, m.probability);
    key(out, "excluded");
    append_json_string_or_null(out, m.excluded == exclusion::none ? "" : to_string(m.excluded));
    out += '}';
  }
  out += "]}\n";
  return out;
}

}  // namespace lxcdn::selection
