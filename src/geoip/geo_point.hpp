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

// A point as a unit vector from the Earth's centre: the form in which one distance costs a square
// root and an arcsine instead of five trigonometric calls (the selection measures the client
// against every mirror on each request).
struct unit_vector {
  double x = 0, y = 0, z = 0;
};
unit_vector to_unit_vector(geo_point p);

// Great-circle distance in km on a sphere of the mean Earth radius (6371.0088 km), from the chord
// between the two vectors (haversine's h is (chord / 2)^2). Good to about 0.5% on the real Earth,
// plenty for choosing a mirror. Pure.
double distance_km(const unit_vector& a, const unit_vector& b);

// distance_km of two points.
double great_circle_km(geo_point a, geo_point b);

}  // namespace lxcdn::geoip
