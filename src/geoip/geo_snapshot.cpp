#include "geoip/geo_snapshot.hpp"

#include <sys/stat.h>

#include <algorithm>

#include "geoip/country_table.hpp"

namespace lxcdn::geoip {

std::optional<file_identity> identify_file(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return std::nullopt;
  }
  return file_identity{st.st_dev, st.st_ino, st.st_size, st.st_mtim};
}

geo_snapshot::geo_snapshot(geoip_settings settings) : settings_(std::move(settings)) {
  // Longest prefix first, so the first match in lookup() is the most specific one.
  std::stable_sort(settings_.overrides.begin(), settings_.overrides.end(),
                   [](const geo_override& a, const geo_override& b) {
                     return a.network.prefix > b.network.prefix;
                   });
  if (!settings_.database.empty()) {
    // Identity first: if the file is replaced while we open it, the next check sees a change
    // and loads it again rather than missing the new version.
    file_ = identify_file(settings_.database);
    database_ = std::make_unique<const mmdb_database>(settings_.database);
  }
}

geo_location geo_snapshot::lookup(const ip_address& address) const {
  geo_location loc;
  for (const auto& o : settings_.overrides) {
    if (o.network.contains(address)) {
      loc.country = o.country;
      loc.continent = o.continent;
      loc.point = o.point;
      loc.source = location_source::override;
      loc.network = o.network;
      return loc;
    }
  }
  if (!database_) {
    return loc;
  }
  auto r = database_->lookup(address);
  loc.error = std::move(r.error);
  if (!r.found || (r.country.empty() && !r.point)) {
    return loc;
  }
  loc.country = std::move(r.country);
  loc.continent = std::move(r.continent);
  loc.point = r.point;
  loc.source = location_source::database;
  loc.network = r.network;
  if (const auto* c = find_country(loc.country)) {
    if (loc.continent.empty()) {
      loc.continent = c->continent;
    }
    if (!loc.point) {
      loc.point = c->centre;
      loc.source = location_source::centroid;
    }
  }
  return loc;
}

std::string geo_snapshot::database_type() const {
  return database_ ? database_->database_type() : "";
}

}  // namespace lxcdn::geoip
