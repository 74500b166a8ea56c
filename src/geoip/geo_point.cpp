#include "geoip/geo_point.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace lxcdn::geoip {

bool is_valid(geo_point p) {
  return std::isfinite(p.latitude) && std::isfinite(p.longitude) && p.latitude >= -90 &&
         p.latitude <= 90 && p.longitude >= -180 && p.longitude <= 180;
}

namespace {
constexpr double earth_radius_km = 6371.0088;
constexpr double rad = std::numbers::pi / 180;
}  // namespace

unit_vector to_unit_vector(geo_point p) {
  const double lat = p.latitude * rad;
  const double lon = p.longitude * rad;
  return {std::cos(lat) * std::cos(lon), std::cos(lat) * std::sin(lon), std::sin(lat)};
}

double distance_km(const unit_vector& a, const unit_vector& b) {
  const double dx = a.x - b.x, dy = a.y - b.y, dz = a.z - b.z;
  const double half_chord = std::sqrt(dx * dx + dy * dy + dz * dz) / 2;
  // The chord of antipodes is 2 (half 1) up to rounding; asin past 1 would be NaN.
  return 2 * earth_radius_km * std::asin(std::min(half_chord, 1.0));
}

double great_circle_km(geo_point a, geo_point b) {
  return distance_km(to_unit_vector(a), to_unit_vector(b));
}

}  // namespace lxcdn::geoip
