#include "origin/origin_metrics.hpp"

#include <gtest/gtest.h>

namespace lxcdn::origin {
namespace {

TEST(OriginMetrics, CountryIndexRoundTrips) {
  EXPECT_EQ(country_label(country_index("DE")), "DE");
  EXPECT_EQ(country_label(country_index("")), "unknown");
  EXPECT_EQ(country_label(country_index("ZZ")), "unknown");
}

TEST(OriginMetrics, RendersCountersThatMoved) {
  origin_metrics m;
  m.redirects_of("eu")->add(country_index("DE"), redirect_reason::nearest);
  m.redirects_of("eu")->add(country_index("DE"), redirect_reason::nearest);
  m.served_locally(local_reason::no_geoip);
  m.count_reload(false);
  m.count_operator_change("eu", selection::operator_state::draining);
  origin_metrics::mirror_sample s{"eu", selection::operator_state::draining, {"eu"}};
  s.health.probes_ok = 7;
  s.health.transitions_up = 1;
  auto text = m.render({s}, 3);
  for (const char* line : {
           "lxcdn_origin_redirects_total{mirror=\"eu\",country=\"DE\",reason=\"nearest\"} 2\n",
           "lxcdn_origin_served_total{reason=\"no_geoip\"} 1\n",
           "lxcdn_origin_served_total{reason=\"not_image\"} 0\n",
           "lxcdn_origin_mirror_state{mirror=\"eu\",state=\"draining\"} 1\n",
           "lxcdn_origin_mirror_up{mirror=\"eu\"} 0\n",
           "lxcdn_origin_probes_total{mirror=\"eu\",result=\"ok\"} 7\n",
           "lxcdn_origin_health_transitions_total{mirror=\"eu\",to=\"up\"} 1\n",
           "lxcdn_origin_operator_transitions_total{mirror=\"eu\",to=\"draining\"} 1\n",
           "lxcdn_origin_config_reloads_total{result=\"failed\"} 1\n",
           "lxcdn_origin_geoip_reload_failures_total 3\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line;
  }
  EXPECT_EQ(text.find("country=\"FR\""), std::string::npos);  // zero cells are left out
}

TEST(OriginMetrics, RedirectsPerMinuteOverTheSamples) {
  origin_metrics m;
  auto r = m.redirects_of("eu");
  std::chrono::steady_clock::time_point t0{};
  m.sample(t0);
  EXPECT_EQ(m.redirects_per_minute("eu"), 0);
  for (int i = 0; i < 30; ++i) {
    r->add(0, redirect_reason::nearest);
  }
  m.sample(t0 + std::chrono::seconds(30));
  EXPECT_DOUBLE_EQ(m.redirects_per_minute("eu"), 60);
  m.sample(t0 + std::chrono::seconds(120));  // idle since: the old points age out
  m.sample(t0 + std::chrono::seconds(185));
  EXPECT_DOUBLE_EQ(m.redirects_per_minute("eu"), 0);
  EXPECT_EQ(m.redirects_per_minute("nobody"), 0);
}

}  // namespace
}  // namespace lxcdn::origin
