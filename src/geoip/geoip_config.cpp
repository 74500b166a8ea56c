#include "geoip/geoip_config.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "geoip/country_table.hpp"

namespace lxcdn::geoip {
namespace {

// A code of the country table, upper-cased; config_error otherwise.
std::string read_country(yaml_map& m, const char* key) {
  std::string text;
  m.get(key, text);
  auto code = canonical_country(text);
  if (!text.empty() && code.empty()) {
    m.fail(key, unknown_country_message(text));
  }
  return code;
}

ip_network read_network(yaml_map& m, const std::string& key, const std::string& text) {
  auto n = parse_ip_network(text);
  if (!n) {
    m.fail(key,
           fmt::format(
               "expected an address or CIDR network like 10.0.0.0/8 or 2001:db8::/32, got '{}'",
               text));
  }
  return *n;
}

geo_override read_override(yaml_map& m) {
  geo_override o;
  m.require("network");
  std::string network;
  m.get("network", network);
  o.network = read_network(m, "network", network);
  o.country = read_country(m, "country");
  m.get("continent", o.continent);
  if (!o.continent.empty() && !is_continent_code(o.continent)) {
    m.fail("continent",
           fmt::format("unknown continent code '{}' (AF AN AS EU NA OC SA)", o.continent));
  }
  if (m.has("latitude") != m.has("longitude")) {
    m.fail(m.has("latitude") ? "latitude" : "longitude", "latitude and longitude go together");
  }
  if (m.has("latitude")) {
    geo_point p;
    m.get("latitude", p.latitude);
    m.get("longitude", p.longitude);
    if (!is_valid(p)) {
      m.fail("latitude", "latitude must be within -90..90 and longitude within -180..180");
    }
    o.point = p;
  }
  if (o.country.empty() && !o.point) {
    m.fail("network", "an override needs a country, or latitude and longitude, or both");
  }
  if (const auto* c = find_country(o.country)) {
    if (o.continent.empty()) {
      o.continent = c->continent;
    }
    if (!o.point) {
      o.point = c->centre;
    }
  }
  m.finish();
  return o;
}

}  // namespace

geoip_settings parse_geoip_config(yaml_map& geoip, const std::filesystem::path& config_file) {
  geoip_settings s;
  geoip.get("database", s.database);
  if (!s.database.empty() && s.database.is_relative()) {
    s.database = config_file.parent_path() / s.database;
  }
  geoip.get_duration("check_interval", s.check_interval);
  for (auto& entry : geoip.children("overrides")) {
    auto o = read_override(entry);
    auto same = std::find_if(s.overrides.begin(), s.overrides.end(),
                             [&](const geo_override& x) { return x.network == o.network; });
    if (same != s.overrides.end()) {
      entry.fail("network", fmt::format("network {} is listed twice", to_string(o.network)));
    }
    s.overrides.push_back(std::move(o));
  }
  std::vector<std::string> proxies;
  geoip.get("trusted_proxies", proxies);
  for (const auto& p : proxies) {
    s.trusted_proxies.push_back(read_network(geoip, "trusted_proxies", p));
  }
  geoip.finish();
  return s;
}

}  // namespace lxcdn::geoip
