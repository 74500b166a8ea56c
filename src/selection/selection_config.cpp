#include "selection/selection_config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "geoip/country_table.hpp"
#include "selection/redirect_url.hpp"

namespace lxcdn::selection {
namespace {

std::string checked_country(yaml_map& m, const char* key, const std::string& text) {
  auto code = geoip::canonical_country(text);
  if (code.empty()) {
    m.fail(key, geoip::unknown_country_message(text));
  }
  return code;
}

std::string checked_continent(yaml_map& m, const char* key, const std::string& text) {
  auto code = geoip::canonical_continent(text);
  if (code.empty()) {
    m.fail(key, geoip::unknown_continent_message(text));
  }
  return code;
}

std::vector<std::string> country_list(yaml_map& m, const char* key) {
  std::vector<std::string> list;
  m.get(key, list);
  for (auto& c : list) {
    c = checked_country(m, key, c);
  }
  return list;
}

std::string read_base_url(yaml_map& m, const char* scheme) {
  std::string text;
  m.get(scheme, text);
  if (text.empty()) {
    return text;
  }
  auto base = parse_base_url(text, scheme);
  if (!base) {
    m.fail(scheme, fmt::format("expected an {}:// base URL like {}://mirror.example.org/, got '{}'",
                               scheme, scheme, text));
  }
  return base->text();
}

mirror read_mirror(yaml_map& m) {
  mirror r;
  m.require("name");
  m.get("name", r.name);
  r.http_url = read_base_url(m, "http");
  r.https_url = read_base_url(m, "https");
  if (r.http_url.empty() && r.https_url.empty()) {
    m.fail("name", fmt::format("mirror '{}' needs an http or https base URL (or both)", r.name));
  }
  m.require("country");
  std::string country;
  m.get("country", country);
  r.country = checked_country(m, "country", country);
  const auto* info = geoip::find_country(r.country);
  std::string continent;
  m.get("continent", continent);
  r.continent = continent.empty() ? std::string(info->continent)
                                  : checked_continent(m, "continent", continent);
  r.location = info->centre;
  if (m.has("latitude") != m.has("longitude")) {
    m.fail(m.has("latitude") ? "latitude" : "longitude", "latitude and longitude go together");
  }
  m.get("latitude", r.location.latitude);
  m.get("longitude", r.location.longitude);
  if (!geoip::is_valid(r.location)) {
    m.fail("latitude", "latitude must be within -90..90 and longitude within -180..180");
  }
  r.countries = country_list(m, "countries");
  m.get("continents", r.continents);
  for (auto& c : r.continents) {
    c = checked_continent(m, "continents", c);
  }
  r.exclude_countries = country_list(m, "exclude_countries");
  m.get("weight", r.weight);
  std::size_t capacity = 0;
  m.get("capacity", capacity);
  r.capacity_mbps = capacity;
  std::string state = "active";
  m.get("state", state);
  auto s = parse_operator_state(state);
  if (!s) {
    m.fail("state", fmt::format("expected active, draining or disabled, got '{}'", state));
  }
  r.state = *s;
  m.get("place", r.place);
  m.get("operator", r.operated_by);
  m.get("notes", r.notes);
  m.finish();
  return r;
}

void read_km(yaml_map& m, const char* key, double& out) {
  std::string text;
  m.get(key, text);
  if (text.empty()) {
    return;
  }
  std::string_view digits = text;
  if (digits.ends_with("km")) {
    digits.remove_suffix(2);
  }
  double v = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size() ||
      !std::isfinite(v) || v < 0) {
    m.fail(key, fmt::format("expected a distance in km like 1000 or 1000km, got '{}'", text));
  }
  out = v;
}

}  // namespace

std::vector<mirror> parse_mirror_list(yaml_map& parent) {
  std::vector<mirror> mirrors;
  for (auto& entry : parent.children("mirrors")) {
    auto m = read_mirror(entry);
    if (std::any_of(mirrors.begin(), mirrors.end(),
                    [&](const mirror& x) { return x.name == m.name; })) {
      entry.fail("name", fmt::format("mirror name '{}' is used twice", m.name));
    }
    mirrors.push_back(std::move(m));
  }
  return mirrors;
}

selection_settings parse_selection_settings(yaml_map& selection) {
  selection_settings s;
  read_km(selection, "band", s.band_km);
  read_km(selection, "max_distance", s.max_distance_km);
  selection.get("origin_names", s.origin_names);
  selection.finish();
  return s;
}

}  // namespace lxcdn::selection
