#pragma once

namespace lxcdn::geoip {

// A place on Earth in decimal degrees (WGS 84), as GeoIP databases report it. A value.
struct geo_point {
  double latitude = 0;   // -90 (south pole) .. 90
  double longitude = 0;  // -180 .. 180, east positive

  friend bool operator==(const geo_point&, const geo_point&) = default;
};

// True when both coordinates are finite and in range.
bool is_valid(geo_point p);

// Great-circle distance in km between two points (haversine on a sphere of the mean Earth radius,
// 6371.0088 km). Good to about 0.5%, plenty for choosing a mirror. Pure.
double great_circle_km(geo_point a, geo_point b);

}  // namespace lxcdn::geoip
