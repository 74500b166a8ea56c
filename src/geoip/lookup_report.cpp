#include "geoip/lookup_report.hpp"

#include <fmt/format.h>

#include "geoip/json_text.hpp"

namespace lxcdn::geoip {
namespace {

std::string or_unknown(const std::string& s) {
  return s.empty() ? "unknown" : s;
}

std::string source_text(const geo_location& loc) {
  switch (loc.source) {
    case location_source::database:
      return "database";
    case location_source::centroid:
      return "centroid (the database has only the country; this is its centre)";
    case location_source::override:
      return "override (geoip.overrides)";
    case location_source::none:
      break;
  }
  return loc.error.empty() ? "none (not in the database)" : "none (database error)";
}

}  // namespace

std::string render_lookup_text(const ip_address& address, const geo_location& loc,
                               const geo_snapshot& snapshot) {
  std::string out;
  out += fmt::format("address:   {}\n", to_string(address));
  out += fmt::format("network:   {}\n", loc.network ? to_string(*loc.network) : "unknown");
  out += fmt::format("country:   {}\n", or_unknown(loc.country));
  out += fmt::format("continent: {}\n", or_unknown(loc.continent));
  out += loc.point
             ? fmt::format("location:  {:.4f}, {:.4f}\n", loc.point->latitude, loc.point->longitude)
             : std::string("location:  unknown\n");
  out += fmt::format("source:    {}\n", source_text(loc));
  if (snapshot.has_database()) {
    out += fmt::format("database:  {} ({})\n", snapshot.settings().database.string(),
                       snapshot.database_type());
  }
  if (!loc.error.empty()) {
    out += fmt::format("error:     {}\n", loc.error);
  }
  return out;
}

std::string render_lookup_json(const ip_address& address, const geo_location& loc,
                               const geo_snapshot& snapshot) {
  std::string out = "{\"address\":";
  append_json_string(out, to_string(address));
  out += ",\"network\":";
  append_json_string_or_null(out, loc.network ? to_string(*loc.network) : "");
  out += ",\"country\":";
  append_json_string_or_null(out, loc.country);
  out += ",\"continent\":";
  append_json_string_or_null(out, loc.continent);
  out += ",\"latitude\":";
  append_json_number(out, loc.point ? loc.point->latitude : NAN);
  out += ",\"longitude\":";
  append_json_number(out, loc.point ? loc.point->longitude : NAN);
  out += ",\"source\":";
  append_json_string(out, to_string(loc.source));
  out += ",\"database\":";
  append_json_string_or_null(out,
                             snapshot.has_database() ? snapshot.settings().database.string() : "");
  out += ",\"database_type\":";
  append_json_string_or_null(out, snapshot.database_type());
  out += ",\"error\":";
  append_json_string_or_null(out, loc.error);
  out += "}\n";
  return out;
}

}  // namespace lxcdn::geoip
