#include "geoip/geo_point.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace lxcdn::geoip {

bool is_valid(geo_point p) {
  return std::isfinite(p.latitude) && std::isfinite(p.longitude) && p.latitude >= -90 &&
         p.latitude <= 90 && p.longitude >= -180 && p.longitude <= 180;
}

double great_circle_km(geo_point a, geo_point b) {
  constexpr double earth_radius_km = 6371.0088;
  constexpr double rad = std::numbers::pi / 180;
  const double dlat = (b.latitude - a.latitude) * rad;
  const double dlon = (b.longitude - a.longitude) * rad;
  const double h = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(a.latitude * rad) * std::cos(b.latitude * rad) * std::sin(dlon / 2) *
                       std::sin(dlon / 2);
  // Rounding can push h a hair past 1 for antipodal points; asin would then return NaN.
  return 2 * earth_radius_km * std::asin(std::sqrt(std::clamp(h, 0.0, 1.0)));
}

}  // namespace lxcdn::geoip
