#include "geoip/country_table.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>

namespace lxcdn::geoip {
namespace {

TEST(CountryTable, SortedUniqueWithValidFields) {
  auto all = all_countries();
  ASSERT_GE(all.size(), 249u);
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto& c = all[i];
    SCOPED_TRACE(std::string(c.code));
    EXPECT_EQ(c.code.size(), 2u);
    EXPECT_TRUE(c.code[0] >= 'A' && c.code[0] <= 'Z' && c.code[1] >= 'A' && c.code[1] <= 'Z');
    EXPECT_TRUE(is_continent_code(c.continent));
    EXPECT_TRUE(is_valid(c.centre));
    if (i > 0) {
      EXPECT_LT(all[i - 1].code, c.code) << "table not sorted: find_country() would miss entries";
    }
    EXPECT_EQ(find_country(c.code), &c);
  }
}

// Every code the system's ISO 3166 list (tzdata) knows is in the table.
TEST(CountryTable, CoversIso3166) {
  std::ifstream in("/usr/share/zoneinfo/iso3166.tab");
  if (!in) {
    FAIL() << "no /usr/share/zoneinfo/iso3166.tab (tzdata)";
  }
  std::string line;
  int checked = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    auto code = line.substr(0, line.find('\t'));
    EXPECT_NE(find_country(code), nullptr) << code << " (" << line << ") is missing";
    ++checked;
  }
  EXPECT_GE(checked, 249);
}

// Spot checks: the continent and roughly where the country is (a wrong sign or swapped
// latitude/longitude lands thousands of km off).
TEST(CountryTable, SpotChecks) {
  struct expect {
    const char* code;
    const char* continent;
    geo_point near;
  };
  const expect cases[] = {
      {"DE", "EU", {51.2, 10.4}},   {"GB", "EU", {53.0, -2.0}},   {"FR", "EU", {46.6, 2.4}},
      {"US", "NA", {39.0, -95.0}},  {"BR", "SA", {-15.0, -48.0}}, {"JP", "AS", {36.0, 138.0}},
      {"AU", "OC", {-28.0, 140.0}}, {"ZA", "AF", {-29.0, 24.0}},  {"NZ", "OC", {-41.0, 174.0}},
      {"RU", "EU", {56.0, 45.0}},   {"TR", "AS", {39.0, 35.0}},   {"MX", "NA", {23.0, -102.0}},
      {"AQ", "AN", {-80.0, 0.0}},   {"XK", "EU", {42.6, 20.9}},   {"SG", "AS", {1.35, 103.8}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.code);
    const auto* info = find_country(c.code);
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->continent, c.continent);
    EXPECT_LT(great_circle_km(info->centre, c.near), 800);
  }
}

TEST(CountryTable, LookupIsExact) {
  EXPECT_EQ(find_country("de"), nullptr);
  EXPECT_EQ(find_country("UK"), nullptr);
  EXPECT_EQ(find_country(""), nullptr);
  EXPECT_EQ(find_country("DEU"), nullptr);
  EXPECT_FALSE(is_continent_code("EUR"));
  EXPECT_FALSE(is_continent_code("eu"));
}

}  // namespace
}  // namespace lxcdn::geoip
