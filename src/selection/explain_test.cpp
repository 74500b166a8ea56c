#include "selection/explain.hpp"

#include <gtest/gtest.h>

namespace lxcdn::selection {
namespace {

TEST(Explain, RendersTheWholeDecision) {
  std::vector<mirror> mirrors(3);
  mirrors[0].name = "eu-fra";
  mirrors[0].https_url = "https://fra.mirror.example";
  mirrors[0].location = {50.11, 8.68};
  mirrors[1].name = "eu-ams";
  mirrors[1].https_url = "https://ams.mirror.example";
  mirrors[1].location = {52.37, 4.90};
  mirrors[1].weight = 50;
  mirrors[2].name = "jp-\"tyo\"";
  mirrors[2].https_url = "https://tyo.mirror.example";
  mirrors[2].location = {35.68, 139.69};
  mirrors[2].countries = {"JP"};
  std::vector<mirror_status> status{{true, 1, 0.5}, {false, 1, 1}, {true, 1, 1}};
  selection_request req{{"DE", "EU", geoip::geo_point{50, 8.3}, geoip::location_source::override,
                         geoip::parse_ip_network("127.0.0.2/32"), ""},
                        "https",
                        {},
                        0.25,
                        true};
  selection_settings settings;
  auto s = select_mirror(req, mirrors, status, settings);
  EXPECT_EQ(
      explain_json(s, req, settings, "127.0.0.2", "https://fra.mirror.example/images/x"),
      R"({"decision":"nearest","redirect":true,"mirror":"eu-fra",)"
      R"("location":"https://fra.mirror.example/images/x",)"
      R"("client":{"address":"127.0.0.2","country":"DE","continent":"EU","latitude":50,)"
      R"("longitude":8.3,"source":"override","network":"127.0.0.2/32"},)"
      R"("scheme":"https","random":0.25,"band_km":1000,"max_distance_km":0,"nearest_km":29.8,)"
      R"("candidates":[)"
      R"({"name":"eu-fra","rule":"distance","distance_km":29.8,"weight":100,"headroom":0.5,)"
      R"("slow_start":1,"share":50,"probability":1,"excluded":null},)"
      R"({"name":"eu-ams","rule":"distance","distance_km":354.3,"weight":50,"headroom":1,)"
      R"("slow_start":1,"share":50,"probability":0,"excluded":"down"},)"
      R"({"name":"jp-\"tyo\"","rule":null,"distance_km":9359.3,"weight":100,"headroom":1,)"
      R"("slow_start":1,"share":100,"probability":0,"excluded":"not_its_region"}]})"
      "\n");
}

TEST(Explain, ServedLocallyWithUnknownClient) {
  std::vector<mirror> mirrors(1);
  mirrors[0].name = "eu-fra";
  mirrors[0].https_url = "https://fra.mirror.example";
  std::vector<mirror_status> status(1);
  selection_request req{{}, "https", {}, 0.5, true};
  selection_settings settings;
  settings.max_distance_km = 5000;
  auto s = select_mirror(req, mirrors, status, settings);
  EXPECT_EQ(
      explain_json(s, req, settings, "10.1.2.3", ""),
      R"({"decision":"unknown_location","redirect":false,"mirror":null,"location":null,)"
      R"("client":{"address":"10.1.2.3","country":null,"continent":null,"latitude":null,)"
      R"("longitude":null,"source":"none","network":null},)"
      R"("scheme":"https","random":0.5,"band_km":1000,"max_distance_km":5000,"nearest_km":null,)"
      R"("candidates":[{"name":"eu-fra","rule":"distance","distance_km":null,"weight":100,)"
      R"("headroom":1,"slow_start":1,"share":100,"probability":0,"excluded":"unknown_location"}]})"
      "\n");
}

}  // namespace
}  // namespace lxcdn::selection
