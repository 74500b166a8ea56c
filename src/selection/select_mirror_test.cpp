#include "selection/select_mirror.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>

namespace lxcdn::selection {
namespace {

using geoip::geo_location;
using geoip::geo_point;
using geoip::location_source;

mirror make(const char* name, const char* country, const char* continent, geo_point at) {
  mirror m;
  m.name = name;
  m.country = country;
  m.continent = continent;
  m.location = at;
  m.http_url = std::string("http://") + name + ".mirror.example";
  m.https_url = std::string("https://") + name + ".mirror.example";
  return m;
}

// The world every case starts from. Distances: Frankfurt-Amsterdam 365 km, Paris-Frankfurt
// 480 km, Paris-Amsterdam 430 km, New York-Frankfurt 6200 km.
std::vector<mirror> world() {
  std::vector<mirror> w{
      make("eu-fra", "DE", "EU", {50.11, 8.68}),    make("eu-ams", "NL", "EU", {52.37, 4.90}),
      make("us-nyc", "US", "NA", {40.71, -74.0}),   make("jp-tyo", "JP", "AS", {35.68, 139.69}),
      make("asia-sgp", "SG", "AS", {1.35, 103.82}), make("br-sao", "BR", "SA", {-23.55, -46.63}),
  };
  w[3].countries = {"JP", "KR"};
  w[4].continents = {"AS", "OC"};
  w[5].http_url.clear();
  return w;
}

geo_location at(const char* country, const char* continent, std::optional<geo_point> p) {
  return {country, continent, p, location_source::database, std::nullopt, ""};
}
const geo_location frankfurt = at("DE", "EU", geo_point{50.0, 8.3});
const geo_location paris = at("FR", "EU", geo_point{48.86, 2.35});
const geo_location new_york = at("US", "NA", geo_point{40.7, -74.0});
const geo_location tokyo = at("JP", "AS", geo_point{35.7, 139.7});
const geo_location seoul = at("KR", "AS", geo_point{37.57, 126.98});
const geo_location delhi = at("IN", "AS", geo_point{28.6, 77.2});
const geo_location sydney = at("AU", "OC", geo_point{-33.87, 151.21});
const geo_location sao_paulo = at("BR", "SA", geo_point{-23.5, -46.6});
const geo_location cape_town = at("ZA", "AF", geo_point{-33.9, 18.4});
const geo_location japan_no_point = at("JP", "AS", std::nullopt);
const geo_location unknown{};

struct sel_case {
  const char* name;
  geo_location client;
  double random;
  const char* expect;  // chosen mirror, or nullptr when the origin serves
  decision reason;
  std::vector<std::pair<const char*, exclusion>> excluded = {};  // spot checks of the trace
  std::function<void(std::vector<mirror>&, std::vector<mirror_status>&, selection_settings&)>
      setup = nullptr;
  std::string scheme = "https";
};

void PrintTo(const sel_case& c, std::ostream* os) {
  *os << c.name;
}

std::size_t index_of(const std::vector<mirror>& w, const char* name) {
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (w[i].name == name) {
      return i;
    }
  }
  ADD_FAILURE() << "no mirror " << name;
  return 0;
}

class Selection : public ::testing::TestWithParam<sel_case> {};

TEST_P(Selection, Decides) {
  const auto& c = GetParam();
  auto mirrors = world();
  std::vector<mirror_status> status(mirrors.size());
  selection_settings settings;
  if (c.setup) {
    c.setup(mirrors, status, settings);
  }
  selection_request req{c.client, c.scheme, {"images.example.org"}, c.random};
  auto s = select_mirror(req, mirrors, status, settings);
  // Explaining fills in more distances but never changes the decision.
  req.explain = true;
  auto explained = select_mirror(req, mirrors, status, settings);
  EXPECT_EQ(explained.chosen, s.chosen);
  EXPECT_EQ(explained.reason, s.reason);
  for (std::size_t i = 0; i < s.candidates.size(); ++i) {
    EXPECT_EQ(explained.candidates[i].excluded, s.candidates[i].excluded);
    EXPECT_EQ(explained.candidates[i].distance_km.has_value(), c.client.point.has_value());
  }
  EXPECT_EQ(to_string(s.reason), to_string(c.reason));
  if (c.expect) {
    ASSERT_TRUE(s.chosen);
    EXPECT_EQ(mirrors[*s.chosen].name, c.expect);
    EXPECT_EQ(s.candidates[*s.chosen].excluded, exclusion::none);
    EXPECT_GT(s.candidates[*s.chosen].probability, 0);
  } else {
    EXPECT_FALSE(s.chosen) << "chose " << mirrors[s.chosen.value_or(0)].name;
  }
  ASSERT_EQ(s.candidates.size(), mirrors.size());
  for (const auto& [name, why] : c.excluded) {
    EXPECT_EQ(to_string(s.candidates[index_of(mirrors, name)].excluded), to_string(why)) << name;
  }
  double total = 0;
  for (const auto& m : s.candidates) {
    total += m.probability;
    EXPECT_EQ(m.probability > 0, m.excluded == exclusion::none) << m.name;
  }
  EXPECT_NEAR(total, s.chosen ? 1.0 : 0.0, 1e-9);
}

void set_status(std::vector<mirror>& w, std::vector<mirror_status>& st, const char* name,
                mirror_status s) {
  st[index_of(w, name)] = s;
}

using enum exclusion;
const std::vector<sel_case> cases = {
    // Distance.
    {"nearest_wins",
     frankfurt,
     0.99,
     "eu-fra",
     decision::nearest,
     {{"us-nyc", outside_band}, {"jp-tyo", not_its_region}, {"asia-sgp", not_its_region}},
     [](auto&, auto&, auto& s) { s.band_km = 100; }},
    {"band_shares_load_low_draw",
     paris,
     0.10,
     "eu-fra",
     decision::nearest,
     {{"us-nyc", outside_band}}},
    {"band_shares_load_high_draw", paris, 0.90, "eu-ams", decision::nearest},
    {"narrow_band_keeps_only_nearest",
     paris,
     0.0,
     "eu-ams",
     decision::nearest,
     {{"eu-fra", outside_band}},
     [](auto&, auto&, auto& s) { s.band_km = 30; }},
    {"other_continent_by_distance",
     new_york,
     0.5,
     "us-nyc",
     decision::nearest,
     {{"eu-fra", outside_band}, {"br-sao", outside_band}}},
    // Rules come before distance.
    {"country_rule",
     tokyo,
     0.5,
     "jp-tyo",
     decision::country_rule,
     {{"asia-sgp", other_rule}, {"eu-fra", other_rule}}},
    {"country_rule_beats_continent_rule",
     seoul,
     0.5,
     "jp-tyo",
     decision::country_rule,
     {{"asia-sgp", other_rule}}},
    {"continent_rule",
     delhi,
     0.5,
     "asia-sgp",
     decision::continent_rule,
     {{"jp-tyo", not_its_region}, {"eu-fra", other_rule}}},
    {"continent_rule_oceania", sydney, 0.5, "asia-sgp", decision::continent_rule},
    {"rule_without_coordinates", japan_no_point, 0.5, "jp-tyo", decision::country_rule},
    {"rule_ignores_max_distance",
     sydney,
     0.5,
     "asia-sgp",
     decision::continent_rule,
     {},
     [](auto&, auto&, auto& s) { s.max_distance_km = 100; }},
    {"rule_mirror_down_falls_back_to_distance",
     tokyo,
     0.5,
     "asia-sgp",
     decision::continent_rule,
     {{"jp-tyo", down}},
     [](auto& w, auto& st, auto&) {
       set_status(w, st, "jp-tyo", {false, 1, 1});
     }},
    // Exclusions.
    {"draining",
     frankfurt,
     0.0,
     "eu-ams",
     decision::nearest,
     {{"eu-fra", draining}},
     [](auto& w, auto&, auto&) { w[0].state = operator_state::draining; }},
    {"disabled",
     frankfurt,
     0.0,
     "eu-ams",
     decision::nearest,
     {{"eu-fra", disabled}},
     [](auto& w, auto&, auto&) { w[0].state = operator_state::disabled; }},
    {"down",
     frankfurt,
     0.0,
     "eu-ams",
     decision::nearest,
     {{"eu-fra", down}},
     [](auto& w, auto& st, auto&) {
       set_status(w, st, "eu-fra", {false, 1, 1});
     }},
    {"full_mirror_has_no_share",
     frankfurt,
     0.0,
     "eu-ams",
     decision::nearest,
     {{"eu-fra", no_share}},
     [](auto& w, auto& st, auto&) {
       set_status(w, st, "eu-fra", {true, 1, 0});
     }},
    {"zero_weight",
     frankfurt,
     0.0,
     "eu-ams",
     decision::nearest,
     {{"eu-fra", no_share}},
     [](auto& w, auto&, auto&) { w[0].weight = 0; }},
    {"excluded_country",
     paris,
     0.99,
     "eu-fra",
     decision::nearest,
     {{"eu-ams", excluded_country}},
     [](auto& w, auto&, auto&) { w[1].exclude_countries = {"FR"}; }},
    {"keeps_scheme_http_only_mirrors",
     sao_paulo,
     0.5,
     "us-nyc",
     decision::nearest,
     {{"br-sao", no_url_for_scheme}},
     nullptr,
     "http"},
    {"https_mirror_for_https", sao_paulo, 0.5, "br-sao", decision::nearest},
    {"never_itself",
     frankfurt,
     0.0,
     "eu-ams",
     decision::nearest,
     {{"eu-fra", points_at_self}},
     [](auto& w, auto&, auto&) { w[0].https_url = "https://images.example.org"; }},
    // The origin serves.
    {"unknown_location",
     unknown,
     0.5,
     nullptr,
     decision::unknown_location,
     {{"eu-fra", unknown_location}, {"jp-tyo", not_its_region}}},
    {"too_far",
     cape_town,
     0.5,
     nullptr,
     decision::too_far,
     {{"eu-fra", too_far}, {"eu-ams", too_far}},
     [](auto&, auto&, auto& s) { s.max_distance_km = 5000; }},
    {"within_max_distance",
     cape_town,
     0.5,
     "br-sao",
     decision::nearest,
     {{"eu-fra", outside_band}},
     [](auto&, auto&, auto& s) { s.max_distance_km = 10000; }},
    {"all_down",
     frankfurt,
     0.5,
     nullptr,
     decision::no_candidate,
     {{"eu-fra", down}, {"br-sao", down}},
     [](auto&, auto& st, auto&) {
       for (auto& s : st) {
         s.up = false;
       }
     }},
    {"no_mirrors",
     frankfurt,
     0.5,
     nullptr,
     decision::no_mirrors,
     {},
     [](auto& w, auto& st, auto&) {
       w.clear();
       st.clear();
     }},
};

INSTANTIATE_TEST_SUITE_P(Table, Selection, ::testing::ValuesIn(cases),
                         [](const auto& info) { return std::string(info.param.name); });

// The draw follows weight x headroom x slow-start: sweep the random number over [0,1) and count.
TEST(SelectionWeights, DrawFollowsShares) {
  auto w = world();
  w.resize(2);  // eu-fra, eu-ams: both within the band for a Paris client
  w[0].weight = 100;
  w[1].weight = 300;
  std::vector<mirror_status> st(2);
  st[1].slow_start = 0.5;  // eu-ams ramping up: share 150
  st[0].headroom = 0.5;    // eu-fra half busy: share 50
  std::map<std::string, int> hits;
  const int n = 1000;
  for (int i = 0; i < n; ++i) {
    selection_request req{paris, "https", {}, (i + 0.5) / n};
    auto s = select_mirror(req, w, st, {});
    ASSERT_TRUE(s.chosen);
    ++hits[w[*s.chosen].name];
    EXPECT_DOUBLE_EQ(s.candidates[0].share, 50);
    EXPECT_DOUBLE_EQ(s.candidates[1].share, 150);
    EXPECT_DOUBLE_EQ(s.candidates[0].probability, 0.25);
  }
  EXPECT_EQ(hits["eu-fra"], 250);
  EXPECT_EQ(hits["eu-ams"], 750);
}

TEST(SelectionWeights, OutOfRangeInputsAreClamped) {
  auto w = world();
  w.resize(2);
  std::vector<mirror_status> st{{true, 7, -1}, {true, NAN, 2}};
  selection_request req{paris, "https", {}, 1.0};
  auto s = select_mirror(req, w, st, {});
  EXPECT_EQ(s.candidates[0].excluded, exclusion::no_share);  // headroom -1 -> 0
  EXPECT_EQ(s.candidates[1].excluded, exclusion::no_share);  // slow-start NaN -> 0
  EXPECT_EQ(s.reason, decision::no_candidate);
  st = {{true, 1, 1}, {true, 1, 1}};
  s = select_mirror(req, w, st, {});  // random 1.0 still picks a candidate (the last)
  ASSERT_TRUE(s.chosen);
  EXPECT_EQ(w[*s.chosen].name, "eu-ams");
}

TEST(SelectionTrace, DistancesAndNearest) {
  auto w = world();
  std::vector<mirror_status> st(w.size());
  auto s = select_mirror({paris, "https", {}, 0, true}, w, st, {});
  ASSERT_TRUE(s.candidates[0].distance_km);
  EXPECT_NEAR(*s.candidates[3].distance_km, 9700, 100);  // jp-tyo, not a candidate
  EXPECT_NEAR(*s.candidates[0].distance_km, 480, 10);
  EXPECT_NEAR(*s.candidates[1].distance_km, 430, 10);
  EXPECT_NEAR(*s.nearest_km, 430, 10);
  EXPECT_EQ(s.candidates[0].rule, "distance");
  EXPECT_EQ(s.candidates[3].rule, "");
  // Without explain, only the mirrors the decision weighed get a distance.
  auto quick = select_mirror({paris, "https", {}, 0}, w, st, {});
  EXPECT_TRUE(quick.candidates[0].distance_km);
  EXPECT_FALSE(quick.candidates[3].distance_km);
  auto u = select_mirror({unknown, "https", {}, 0, true}, w, st, {});
  EXPECT_FALSE(u.candidates[0].distance_km);
  EXPECT_FALSE(u.nearest_km);
}

// Each thread keeps the mirrors' positions by list index: a list whose mirror moved (a reload),
// or another list of the same length, must be measured where its mirrors are now.
TEST(SelectionTrace, AMovedMirrorIsMeasuredWhereItIsNow) {
  auto w = world();
  std::vector<mirror_status> st(w.size());
  const selection_request req{paris, "https", {}, 0, true};
  selection_settings nearest_only;
  nearest_only.band_km = 1;  // the nearest mirror alone, so the choice shows the distances
  auto before = select_mirror(req, w, st, nearest_only);
  EXPECT_NEAR(*before.candidates[1].distance_km, 430, 10);  // eu-ams in Amsterdam
  EXPECT_EQ(w[*before.chosen].name, "eu-ams");
  w[1].location = {40.71, -74.0};                            // now in New York
  auto after = select_mirror(req, w, st, nearest_only);
  EXPECT_NEAR(*after.candidates[1].distance_km, 5840, 60);
  EXPECT_EQ(w[*after.chosen].name, "eu-fra");
  auto again = select_mirror(req, world(), st, nearest_only);  // the first list, another caller's
  EXPECT_NEAR(*again.candidates[1].distance_km, 430, 10);
}

}  // namespace
}  // namespace lxcdn::selection
