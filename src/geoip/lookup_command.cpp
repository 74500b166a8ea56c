#include "geoip/lookup_command.hpp"

#include <fmt/format.h>

#include "core/config_error.hpp"
#include "core/yaml_reader.hpp"
#include "geoip/geo_snapshot.hpp"
#include "geoip/lookup_report.hpp"

namespace lxcdn::geoip {

std::string lookup_command(const lookup_options& options) {
  auto address = parse_ip_address(options.address);
  if (!address) {
    throw config_error(fmt::format("'{}' is not an IPv4 or IPv6 address", options.address));
  }
  geoip_settings settings;
  if (!options.config.empty()) {
    yaml_map top(load_yaml_file(options.config), "", options.config);
    auto section = top.child("geoip");
    settings = parse_geoip_config(section, options.config);
  }
  settings.database = options.database;
  geo_snapshot snapshot(std::move(settings));
  auto loc = snapshot.lookup(*address);
  if (!loc.error.empty()) {
    // The origin treats this as "location unknown" and goes on; a person checking a database
    // wants to hear about it.
    throw config_error(fmt::format("{}: lookup of {} failed: {}", options.database.string(),
                                   options.address, loc.error));
  }
  return options.json ? render_lookup_json(*address, loc, snapshot)
                      : render_lookup_text(*address, loc, snapshot);
}

}  // namespace lxcdn::geoip
