#include "selection/selection_config.hpp"

#include <gtest/gtest.h>

#include "core/config_error.hpp"

namespace lxcdn::selection {
namespace {

std::vector<mirror> parse_mirrors(const std::string& text) {
  yaml_map top(parse_yaml(text, "origin.yaml"), "", "origin.yaml");
  return parse_mirror_list(top);
}

selection_settings parse_settings(const std::string& text) {
  yaml_map top(parse_yaml(text, "origin.yaml"), "", "origin.yaml");
  auto s = top.child("selection");
  return parse_selection_settings(s);
}

template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const config_error& e) {
    return e.what();
  }
  return "no error";
}

TEST(MirrorConfig, ParsesAFullList) {
  auto list = parse_mirrors(R"(mirrors:
  - name: eu-fra
    http: http://fra.mirror.example/
    https: https://FRA.mirror.example:443/lxc/
    country: de
    latitude: 50.11
    longitude: 8.68
    exclude_countries: [ru, BY]
    weight: 200
    capacity: 10000
    state: draining
  - name: jp-tyo
    https: https://tyo.mirror.example
    country: JP
    countries: [JP, kr]
    continents: [oc]
  - name: us
    http: http://us.mirror.example
    country: US
    continent: NA
    state: disabled
)");
  ASSERT_EQ(list.size(), 3u);
  const auto& fra = list[0];
  EXPECT_EQ(fra.name, "eu-fra");
  EXPECT_EQ(fra.http_url, "http://fra.mirror.example");
  EXPECT_EQ(fra.https_url, "https://fra.mirror.example/lxc");
  EXPECT_EQ(fra.country, "DE");
  EXPECT_EQ(fra.continent, "EU");
  EXPECT_EQ(fra.location, (geoip::geo_point{50.11, 8.68}));
  EXPECT_EQ(fra.exclude_countries, (std::vector<std::string>{"RU", "BY"}));
  EXPECT_EQ(fra.weight, 200u);
  EXPECT_EQ(fra.capacity_mbps, 10000u);
  EXPECT_EQ(fra.state, operator_state::draining);
  const auto& tyo = list[1];
  EXPECT_EQ(tyo.http_url, "");
  EXPECT_EQ(tyo.countries, (std::vector<std::string>{"JP", "KR"}));
  EXPECT_EQ(tyo.continents, (std::vector<std::string>{"OC"}));
  EXPECT_EQ(tyo.continent, "AS");
  EXPECT_NEAR(tyo.location.latitude, 36.2, 0.01);  // Japan's centre
  EXPECT_EQ(tyo.weight, 100u);
  EXPECT_EQ(tyo.state, operator_state::active);
  EXPECT_EQ(list[2].state, operator_state::disabled);
  EXPECT_TRUE(parse_mirrors("root: /x\n").empty());
}

TEST(MirrorConfig, ErrorsNameFileLineAndKey) {
  auto err = [](const std::string& text) { return error_of([&] { parse_mirrors(text); }); };
  const std::string ok = "  - name: a\n    http: http://a.example\n    country: DE\n";
  EXPECT_EQ(err("mirrors:\n  - http: http://a.example\n    country: DE\n"),
            "origin.yaml:2: mirrors[0].name: missing required key");
  EXPECT_EQ(err("mirrors:\n  - name: a\n    country: DE\n"),
            "origin.yaml:2: mirrors[0].name: mirror 'a' needs an http or https base URL (or both)");
  EXPECT_EQ(err("mirrors:\n  - name: a\n    https: http://a.example\n    country: DE\n"),
            "origin.yaml:3: mirrors[0].https: expected an https:// base URL like "
            "https://mirror.example.org/, got 'http://a.example'");
  EXPECT_EQ(err("mirrors:\n  - name: a\n    http: http://a.example/?x=1\n    country: DE\n"),
            "origin.yaml:3: mirrors[0].http: expected an http:// base URL like "
            "http://mirror.example.org/, got 'http://a.example/?x=1'");
  EXPECT_EQ(err("mirrors:\n  - name: a\n    http: http://a.example\n"),
            "origin.yaml:2: mirrors[0].country: missing required key");
  EXPECT_EQ(err("mirrors:\n  - name: a\n    http: http://a.example\n    country: UK\n"),
            "origin.yaml:4: mirrors[0].country: unknown country code 'UK' (ISO 3166-1 alpha-2, "
            "e.g. DE; the United Kingdom is GB)");
  EXPECT_EQ(err("mirrors:\n" + ok + "    countries: [DE, XX]\n"),
            "origin.yaml:5: mirrors[0].countries: unknown country code 'XX' (ISO 3166-1 alpha-2, "
            "e.g. DE)");
  EXPECT_EQ(err("mirrors:\n" + ok + "    continents: [Europe]\n"),
            "origin.yaml:5: mirrors[0].continents: unknown continent code 'Europe' (AF AN AS EU NA "
            "OC SA)");
  EXPECT_EQ(err("mirrors:\n" + ok + "    latitude: 50\n"),
            "origin.yaml:5: mirrors[0].latitude: latitude and longitude go together");
  EXPECT_EQ(err("mirrors:\n" + ok + "    latitude: 50\n    longitude: 200\n"),
            "origin.yaml:5: mirrors[0].latitude: latitude must be within -90..90 and longitude "
            "within -180..180");
  EXPECT_EQ(err("mirrors:\n" + ok + "    state: maintenance\n"),
            "origin.yaml:5: mirrors[0].state: expected active, draining or disabled, got "
            "'maintenance'");
  EXPECT_EQ(err("mirrors:\n" + ok + "    weight: heavy\n"),
            "origin.yaml:5: mirrors[0].weight: expected a non-negative integer, got 'heavy'");
  EXPECT_EQ(err("mirrors:\n" + ok + "    wieght: 5\n"),
            "origin.yaml:5: mirrors[0].wieght: unknown key");
  EXPECT_EQ(err("mirrors:\n" + ok + ok),
            "origin.yaml:5: mirrors[1].name: mirror name 'a' is used twice");
  EXPECT_EQ(err("mirrors: eu-fra\n"), "origin.yaml:1: mirrors: expected a list");
}

TEST(SelectionConfig, ParsesAndChecks) {
  auto s = parse_settings(
      "selection:\n  band: 500km\n  max_distance: 8000\n  origin_names: [images.example.org]\n");
  EXPECT_DOUBLE_EQ(s.band_km, 500);
  EXPECT_DOUBLE_EQ(s.max_distance_km, 8000);
  EXPECT_EQ(s.origin_names, (std::vector<std::string>{"images.example.org"}));
  auto d = parse_settings("root: /x\n");
  EXPECT_DOUBLE_EQ(d.band_km, 1000);
  EXPECT_DOUBLE_EQ(d.max_distance_km, 0);
  EXPECT_EQ(error_of([] { parse_settings("selection:\n  band: 5 miles\n"); }),
            "origin.yaml:2: selection.band: expected a distance in km like 1000 or 1000km, got '5 "
            "miles'");
  EXPECT_EQ(error_of([] { parse_settings("selection:\n  max_distance: -1\n"); }),
            "origin.yaml:2: selection.max_distance: expected a distance in km like 1000 or 1000km, "
            "got '-1'");
  EXPECT_EQ(error_of([] { parse_settings("selection:\n  bands: 5\n"); }),
            "origin.yaml:2: selection.bands: unknown key");
}

}  // namespace
}  // namespace lxcdn::selection
