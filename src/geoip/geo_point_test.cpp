#include "geoip/geo_point.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace lxcdn::geoip {
namespace {

// The textbook haversine, as an independent reference for the chord formula.
double haversine_km(geo_point a, geo_point b) {
  constexpr double rad = M_PI / 180;
  const double dlat = (b.latitude - a.latitude) * rad;
  const double dlon = (b.longitude - a.longitude) * rad;
  const double h = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(a.latitude * rad) * std::cos(b.latitude * rad) * std::sin(dlon / 2) *
                       std::sin(dlon / 2);
  return 2 * 6371.0088 * std::asin(std::sqrt(std::min(h, 1.0)));
}

TEST(GreatCircle, KnownDistances) {
  const geo_point london{51.5074, -0.1278}, paris{48.8566, 2.3522}, frankfurt{50.1109, 8.6821},
      new_york{40.7128, -74.0060}, sydney{-33.8688, 151.2093};
  EXPECT_NEAR(great_circle_km(london, paris), 343.6, 2);
  EXPECT_NEAR(great_circle_km(frankfurt, new_york), 6205, 20);
  EXPECT_NEAR(great_circle_km(london, sydney), 16990, 50);
  EXPECT_DOUBLE_EQ(great_circle_km(paris, paris), 0);
  EXPECT_DOUBLE_EQ(great_circle_km(london, paris), great_circle_km(paris, london));
}

TEST(GreatCircle, AntipodesAndTheDateLine) {
  EXPECT_NEAR(great_circle_km({0, 0}, {0, 180}), 20015, 5);
  EXPECT_NEAR(great_circle_km({90, 0}, {-90, 0}), 20015, 5);
  // Fiji to Samoa across 180°: about 1150 km, not the long way round.
  EXPECT_NEAR(great_circle_km({-17.7, 178.0}, {-13.8, -172.1}), 1140, 30);
}

TEST(GreatCircle, UnitVectorsGiveTheSameDistances) {
  const geo_point points[] = {{51.5074, -0.1278}, {48.8566, 2.3522},  {-33.8688, 151.2093},
                              {0, 0},             {0, 180},           {90, 0},
                              {-90, 0},           {-17.7, 178.0},     {-13.8, -172.1},
                              {45.0, 7.0},        {45.0001, 7.0001},  {-0.5, -179.999}};
  for (const auto& a : points) {
    for (const auto& b : points) {
      const double expected = haversine_km(a, b);
      const double got = distance_km(to_unit_vector(a), to_unit_vector(b));
      // Within a metre: the two formulas round differently, nothing more.
      EXPECT_NEAR(got, expected, 1e-3) << a.latitude << "," << a.longitude << " -> " << b.latitude
                                       << "," << b.longitude;
    }
  }
  EXPECT_NEAR(distance_km(to_unit_vector({0, 0}), to_unit_vector({0, 180})), 20015, 5);
  EXPECT_DOUBLE_EQ(distance_km(to_unit_vector({48.8566, 2.3522}), to_unit_vector({48.8566, 2.3522})), 0);
}

TEST(GeoPoint, Validity) {
  EXPECT_TRUE(is_valid({0, 0}));
  EXPECT_TRUE(is_valid({-90, 180}));
  EXPECT_FALSE(is_valid({91, 0}));
  EXPECT_FALSE(is_valid({0, -180.5}));
  EXPECT_FALSE(is_valid({NAN, 0}));
}

}  // namespace
}  // namespace lxcdn::geoip
