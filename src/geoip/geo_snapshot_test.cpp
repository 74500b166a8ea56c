#include "geoip/geo_snapshot.hpp"

#include <gtest/gtest.h>

#include "core/config_error.hpp"
#include "geoip/lookup_report.hpp"
#include "geoip/test_databases.hpp"

namespace lxcdn::geoip {
namespace {

using testing::test_mmdb;

geo_location look(const geo_snapshot& s, const char* address) {
  auto a = parse_ip_address(address);
  EXPECT_TRUE(a) << address;
  return s.lookup(a.value_or(ip_address{}));
}

geoip_settings with_database(const char* name) {
  geoip_settings s;
  s.database = test_mmdb(name);
  return s;
}

struct lookup_case {
  const char* database;
  const char* address;
  const char* country;
  const char* continent;
  std::optional<geo_point> point;
  location_source source;
  const char* network;
};

void PrintTo(const lookup_case& c, std::ostream* os) {
  *os << c.database << " " << c.address;
}

class DatabaseLookup : public ::testing::TestWithParam<lookup_case> {};

TEST_P(DatabaseLookup, ReadsTheRecord) {
  const auto& c = GetParam();
  geo_snapshot snap(with_database(c.database));
  // The second lookup is answered from the thread's record cache: it must say the same.
  for (int pass = 0; pass < 2; ++pass) {
    SCOPED_TRACE(pass);
    auto loc = look(snap, c.address);
    EXPECT_EQ(loc.country, c.country);
    EXPECT_EQ(loc.continent, c.continent);
    EXPECT_EQ(loc.source, c.source);
    EXPECT_EQ(loc.network ? to_string(*loc.network) : "", c.network);
    EXPECT_EQ(loc.error, "");
    ASSERT_EQ(loc.point.has_value(), c.point.has_value());
    if (c.point) {
      EXPECT_NEAR(loc.point->latitude, c.point->latitude, 1e-6);
      EXPECT_NEAR(loc.point->longitude, c.point->longitude, 1e-6);
    }
  }
}

// Two databases open at once (a reload: requests still on the old snapshot) place the same
// address differently; the per-thread record cache must never answer for one with the other's.
TEST(DatabaseLookupCache, KeepsDatabasesApart) {
  geo_snapshot city(with_database("geoip2-city.mmdb"));
  geo_snapshot flat(with_database("country-flat.mmdb"));
  for (int pass = 0; pass < 3; ++pass) {
    EXPECT_EQ(look(city, "81.2.69.1").country, "GB");
    EXPECT_EQ(look(flat, "81.2.69.1").country, "FR");
  }
}

const geo_point china_centre{32.0, 112.0}, brazil_centre{-17.0, -46.0}, canada_centre{46.0, -80.0},
    australia_centre{-32.0, 146.0}, sweden_centre{60.1, 18.6};
using enum location_source;

INSTANTIATE_TEST_SUITE_P(
    Layouts, DatabaseLookup,
    ::testing::Values(
        // GeoIP2 / GeoLite2 City layout.
        lookup_case{"geoip2-city.mmdb", "81.2.69.160", "GB", "EU", geo_point{51.5142, -0.0931},
                    database, "81.2.69.0/24"},
        lookup_case{"geoip2-city.mmdb", "::ffff:81.2.69.160", "GB", "EU",
                    geo_point{51.5142, -0.0931}, database, "81.2.69.0/24"},
        lookup_case{"geoip2-city.mmdb", "2001:db8:100::1", "DE", "EU", geo_point{50.1109, 8.6821},
                    database, "2001:db8:100::/48"},
        lookup_case{"geoip2-city.mmdb", "175.16.199.1", "CN", "AS", china_centre, centroid,
                    "175.16.199.0/24"},
        lookup_case{"geoip2-city.mmdb", "192.0.2.1", "BR", "SA", brazil_centre, centroid,
                    "192.0.2.0/24"},
        lookup_case{"geoip2-city.mmdb", "198.51.100.1", "", "", std::nullopt, none, ""},
        lookup_case{"geoip2-city.mmdb", "81.2.70.1", "", "", std::nullopt, none, ""},
        lookup_case{"geoip2-city.mmdb", "2001:db8:101::1", "", "", std::nullopt, none, ""},
        // Flat country layouts (ipinfo lite, ip-location-db, ipinfo's older country.mmdb).
        lookup_case{"country-flat.mmdb", "81.2.69.160", "FR", "EU", geo_point{46.2, 2.2}, centroid,
                    "81.2.69.0/24"},
        lookup_case{"country-flat.mmdb", "2001:db8:100::1", "AU", "OC", australia_centre, centroid,
                    "2001:db8:100::/48"},
        lookup_case{"country-flat.mmdb", "203.0.113.200", "CA", "NA", canada_centre, centroid,
                    "203.0.113.0/24"},
        lookup_case{"country-flat.mmdb", "2001:db8:300::1", "JP", "AS",
                    geo_point{35.6895, 139.6917}, database, "2001:db8:300::/48"},
        lookup_case{"country-flat.mmdb", "2001:db8:400::1", "SE", "EU", sweden_centre, centroid,
                    "2001:db8:400::/48"},
        // DB-IP lite layout in an IPv4-only tree: IPv6 is simply not there.
        lookup_case{"country-v4.mmdb", "81.2.69.1", "NL", "EU", geo_point{52.1, 5.3}, centroid,
                    "81.2.69.0/24"},
        lookup_case{"country-v4.mmdb", "::ffff:81.2.69.1", "NL", "EU", geo_point{52.1, 5.3},
                    centroid, "81.2.69.0/24"},
        lookup_case{"country-v4.mmdb", "2001:db8:100::1", "", "", std::nullopt, none, ""},
        // Fields of the wrong type are ignored, not trusted and not fatal.
        lookup_case{"wrong-types.mmdb", "81.2.69.1", "", "", std::nullopt, none, ""}));

TEST(GeoSnapshot, CorruptFilesAreRefusedWithTheirNameAndReason) {
  struct bad {
    const char* name;
    const char* reason;
  };
  for (const auto& b :
       {bad{"truncated.mmdb", "invalid metadata"}, bad{"garbage.mmdb", "invalid metadata"},
        bad{"empty.mmdb", ""}, bad{"does-not-exist.mmdb", "No such file or directory"}}) {
    SCOPED_TRACE(b.name);
    try {
      geo_snapshot snap(with_database(b.name));
      ADD_FAILURE() << "opened a broken database";
    } catch (const config_error& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.find(test_mmdb(b.name).string() + ": cannot open GeoIP database: "), 0u) << msg;
      EXPECT_NE(msg.find(b.reason), std::string::npos) << msg;
    }
  }
}

TEST(GeoSnapshot, CorruptSearchTreeIsAnErrorValueNotACrash) {
  geo_snapshot snap(with_database("bad-tree.mmdb"));
  auto loc = look(snap, "81.2.69.160");
  EXPECT_EQ(loc.source, none);
  EXPECT_EQ(loc.error, "The MaxMind DB file's search tree is corrupt");
  EXPECT_NE(render_lookup_text(*parse_ip_address("81.2.69.160"), loc, snap)
                .find("error:     The MaxMind DB file's search tree is corrupt\n"),
            std::string::npos);
}

geo_override override_of(const char* network, const char* country,
                         std::optional<geo_point> p = {}) {
  geo_override o{*parse_ip_network(network), country, "", p};
  if (*country) {
    o.continent = country == std::string("JP") ? "AS" : "EU";
  }
  return o;
}

TEST(GeoSnapshot, LongestPrefixOverrideWinsOverEverything) {
  auto s = with_database("geoip2-city.mmdb");
  // Deliberately out of order: the longest prefix wins, not the first listed.
  s.overrides = {
      override_of("81.0.0.0/8", "FR"),        override_of("81.2.69.128/25", "JP", geo_point{1, 2}),
      override_of("81.2.69.0/24", "NL"),      override_of("2001:db8::/32", "DE"),
      override_of("2001:db8:100::/48", "IT"), override_of("0.0.0.0/0", "PL")};
  geo_snapshot snap(s);
  auto loc = look(snap, "81.2.69.200");
  EXPECT_EQ(loc.country, "JP");
  EXPECT_EQ(loc.source, override);
  EXPECT_EQ(to_string(loc.network.value()), "81.2.69.128/25");
  EXPECT_EQ(*loc.point, (geo_point{1, 2}));
  EXPECT_EQ(look(snap, "81.2.69.1").country, "NL");
  EXPECT_EQ(look(snap, "::ffff:81.2.69.1").country, "NL");
  EXPECT_EQ(look(snap, "81.9.9.9").country, "FR");
  EXPECT_EQ(look(snap, "82.1.1.1").country, "PL");
  EXPECT_EQ(to_string(look(snap, "82.1.1.1").network.value()), "0.0.0.0/0");
  EXPECT_EQ(look(snap, "2001:db8:100::7").country, "IT");
  EXPECT_EQ(look(snap, "2001:db8:5::7").country, "DE");
  // IPv6 outside every override falls through to the database.
  EXPECT_EQ(look(snap, "2001:db9::1").source, none);
}

TEST(GeoSnapshot, OverridesWithoutADatabase) {
  geoip_settings s;
  s.overrides = {override_of("127.0.0.2/32", "DE", geo_point{50.1, 8.7})};
  geo_snapshot snap(s);
  EXPECT_FALSE(snap.has_database());
  EXPECT_EQ(look(snap, "127.0.0.2").country, "DE");
  EXPECT_EQ(look(snap, "127.0.0.3").source, none);
  EXPECT_EQ(look(snap, "127.0.0.3").error, "");
}

TEST(LookupReport, TextAndJson) {
  geo_snapshot snap(with_database("geoip2-city.mmdb"));
  auto a = *parse_ip_address("175.16.199.9");
  auto loc = snap.lookup(a);
  EXPECT_EQ(render_lookup_text(a, loc, snap),
            "address:   175.16.199.9\n"
            "network:   175.16.199.0/24\n"
            "country:   CN\n"
            "continent: AS\n"
            "location:  32.0000, 112.0000\n"
            "source:    centroid (the database has only the country; this is its centre)\n"
            "database:  " +
                test_mmdb("geoip2-city.mmdb").string() + " (Test-GeoIP2-City)\n");
  EXPECT_EQ(render_lookup_json(a, loc, snap),
            "{\"address\":\"175.16.199.9\",\"network\":\"175.16.199.0/24\",\"country\":\"CN\","
            "\"continent\":\"AS\",\"latitude\":32,\"longitude\":112,\"source\":\"centroid\","
            "\"database\":\"" +
                test_mmdb("geoip2-city.mmdb").string() +
                "\",\"database_type\":\"Test-GeoIP2-City\",\"error\":null}\n");
  auto b = *parse_ip_address("2001:db8:ffff::1");
  EXPECT_EQ(
      render_lookup_json(b, snap.lookup(b), snap),
      "{\"address\":\"2001:db8:ffff::1\",\"network\":null,\"country\":null,\"continent\":null,"
      "\"latitude\":null,\"longitude\":null,\"source\":\"none\",\"database\":\"" +
          test_mmdb("geoip2-city.mmdb").string() +
          "\",\"database_type\":\"Test-GeoIP2-City\",\"error\":null}\n");
}

}  // namespace
}  // namespace lxcdn::geoip
