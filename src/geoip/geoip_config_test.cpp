#include "geoip/geoip_config.hpp"

#include <gtest/gtest.h>

#include "core/config_error.hpp"

namespace lxcdn::geoip {
namespace {

geoip_settings parse(const std::string& text) {
  yaml_map top(parse_yaml(text, "/etc/lxcdn/origin.yaml"), "", "/etc/lxcdn/origin.yaml");
  auto g = top.child("geoip");
  return parse_geoip_config(g, "/etc/lxcdn/origin.yaml");
}

std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const config_error& e) {
    return e.what();
  }
  return "no error";
}

TEST(GeoipConfig, ParsesEveryKey) {
  auto s = parse(R"(geoip:
  database: GeoLite2-City.mmdb
  check_interval: 5m
  overrides:
    - network: 127.0.0.2/32
      country: de
    - network: 2001:db8::/32
      latitude: 35.7
      longitude: 139.7
    - network: 10.0.0.0/8
      country: US
      continent: NA
      latitude: 40.7
      longitude: -74
  trusted_proxies: [127.0.0.1, "10.0.0.0/8"]
)");
  EXPECT_EQ(s.database, "/etc/lxcdn/GeoLite2-City.mmdb");
  EXPECT_EQ(s.check_interval, std::chrono::minutes(5));
  ASSERT_EQ(s.overrides.size(), 3u);
  EXPECT_EQ(to_string(s.overrides[0].network), "127.0.0.2/32");
  EXPECT_EQ(s.overrides[0].country, "DE");
  EXPECT_EQ(s.overrides[0].continent, "EU");
  ASSERT_TRUE(s.overrides[0].point);
  EXPECT_NEAR(s.overrides[0].point->latitude, 51.2, 0.01);  // Germany's centre
  EXPECT_EQ(s.overrides[1].country, "");
  EXPECT_EQ(s.overrides[1].continent, "");
  EXPECT_EQ(*s.overrides[1].point, (geo_point{35.7, 139.7}));
  EXPECT_EQ(*s.overrides[2].point, (geo_point{40.7, -74}));
  ASSERT_EQ(s.trusted_proxies.size(), 2u);
  EXPECT_EQ(to_string(s.trusted_proxies[1]), "10.0.0.0/8");
}

TEST(GeoipConfig, DefaultsWhenAbsent) {
  auto s = parse("root: /x\n");
  EXPECT_TRUE(s.database.empty());
  EXPECT_EQ(s.check_interval, std::chrono::seconds(60));
  EXPECT_TRUE(s.overrides.empty());
  EXPECT_TRUE(s.trusted_proxies.empty());
  EXPECT_EQ(parse("geoip:\n  database: /abs/x.mmdb\n").database, "/abs/x.mmdb");
}

TEST(GeoipConfig, ErrorsNameFileLineAndKey) {
  const std::string f = "/etc/lxcdn/origin.yaml";
  EXPECT_EQ(error_of("geoip:\n  databse: x.mmdb\n"), f + ":2: geoip.databse: unknown key");
  EXPECT_EQ(error_of("geoip:\n  overrides:\n    - network: 10.0.0.0/8\n      country: UK\n"),
            f + ":4: geoip.overrides[0].country: unknown country code 'UK' (ISO 3166-1 alpha-2, "
                "e.g. DE; the United Kingdom is GB)");
  EXPECT_EQ(error_of("geoip:\n  overrides:\n    - network: 10.0.0.0/33\n      country: DE\n"),
            f + ":3: geoip.overrides[0].network: expected an address or CIDR network like "
                "10.0.0.0/8 or 2001:db8::/32, got '10.0.0.0/33'");
  EXPECT_EQ(error_of("geoip:\n  overrides:\n    - country: DE\n"),
            f + ":3: geoip.overrides[0].network: missing required key");
  EXPECT_EQ(error_of("geoip:\n  overrides:\n    - network: 10.0.0.0/8\n"),
            f + ":3: geoip.overrides[0].network: an override needs a country, or latitude and "
                "longitude, or both");
  EXPECT_EQ(error_of("geoip:\n  overrides:\n    - network: 10.0.0.0/8\n      latitude: 50\n"),
            f + ":4: geoip.overrides[0].latitude: latitude and longitude go together");
  EXPECT_EQ(error_of("geoip:\n  overrides:\n    - network: 10.0.0.0/8\n      latitude: 95\n"
                     "      longitude: 8\n"),
            f + ":4: geoip.overrides[0].latitude: latitude must be within -90..90 and longitude "
                "within -180..180");
  EXPECT_EQ(error_of("geoip:\n  overrides:\n    - network: 10.0.0.0/8\n      country: DE\n"
                     "      continent: Europe\n"),
            f + ":5: geoip.overrides[0].continent: unknown continent code 'Europe' (AF AN AS EU NA "
                "OC SA)");
  EXPECT_EQ(error_of("geoip:\n  overrides:\n    - network: 10.0.0.0/8\n      country: DE\n"
                     "      contry: FR\n"),
            f + ":5: geoip.overrides[0].contry: unknown key");
  EXPECT_EQ(error_of("geoip:\n  overrides:\n    - network: 10.0.0.0/8\n      country: DE\n"
                     "    - network: 10.1.0.0/8\n      country: FR\n"),
            f + ":5: geoip.overrides[1].network: network 10.0.0.0/8 is listed twice");
  EXPECT_EQ(error_of("geoip:\n  trusted_proxies: [127.0.0.1, localhost]\n"),
            f + ":2: geoip.trusted_proxies: expected an address or CIDR network like 10.0.0.0/8 "
                "or 2001:db8::/32, got 'localhost'");
  EXPECT_EQ(error_of("geoip:\n  check_interval: often\n"),
            f + ":2: geoip.check_interval: expected a duration like 10s, 500ms, 2m, 1h or 3d, got "
                "'often'");
}

}  // namespace
}  // namespace lxcdn::geoip
