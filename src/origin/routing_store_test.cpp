#include "origin/routing_store.hpp"

#include <gtest/gtest.h>

namespace lxcdn::origin {
namespace {

using selection::operator_state;

selection::mirror make(const std::string& name, const std::string& url,
                       operator_state s = operator_state::active) {
  selection::mirror m;
  m.name = name;
  m.http_url = url;
  m.country = "DE";
  m.state = s;
  return m;
}

health::mirror_health_report up(const std::string& name) {
  health::mirror_health_report r{name};
  r.state = health::health_state::up;
  r.share = 1;
  r.last_probe = 100;
  r.last_ok = true;
  return r;
}

TEST(RoutingStore, StartsDownAndFollowsHealth) {
  origin_metrics metrics;
  routing_store s({make("a", "http://a"), make("b", "http://b")}, {}, metrics);
  ASSERT_EQ(s.table().mirrors.size(), 2u);
  EXPECT_FALSE(s.table().status[0].up);
  s.publish_health({up("a")});
  EXPECT_TRUE(s.table().status[0].up);
  EXPECT_FALSE(s.table().status[1].up);
}

TEST(RoutingStore, OperatorStateChangesAndUnknownMirrors) {
  origin_metrics metrics;
  routing_store s({make("a", "http://a")}, {}, metrics);
  EXPECT_EQ(s.set_state("a", operator_state::draining), routing_store::set_result::changed);
  EXPECT_EQ(s.set_state("a", operator_state::draining), routing_store::set_result::unchanged);
  EXPECT_EQ(s.set_state("zz", operator_state::draining),
            routing_store::set_result::unknown_mirror);
  EXPECT_EQ(s.table().mirrors[0].state, operator_state::draining);
  auto e = s.entries();
  EXPECT_TRUE(e[0].set_by_admin);
  EXPECT_EQ(e[0].configured_state, operator_state::active);
}

TEST(RoutingStore, ReloadKeepsHealthAndAdminStateOfMirrorsThatStay) {
  origin_metrics metrics;
  routing_store s({make("a", "http://a"), make("b", "http://b"), make("c", "http://c")}, {},
                  metrics);
  s.publish_health({up("a"), up("b"), up("c")});
  s.set_state("a", operator_state::draining);
  s.set_state("c", operator_state::disabled);
  // a: unchanged; b: new URL; c: the config now says draining; d: new.
  s.replace({make("a", "http://a"), make("b", "http://b2"),
             make("c", "http://c", operator_state::draining), make("d", "http://d")},
            {});
  const auto& t = s.table();
  ASSERT_EQ(t.mirrors.size(), 4u);
  EXPECT_TRUE(t.status[0].up);
  EXPECT_EQ(t.mirrors[0].state, operator_state::draining);  // admin state kept
  EXPECT_FALSE(t.status[1].up);                            // new URL: not probed there yet
  EXPECT_TRUE(t.status[2].up);
  EXPECT_EQ(t.mirrors[2].state, operator_state::draining);  // the config's change wins
  EXPECT_FALSE(t.status[3].up);                            // new mirror starts down
  // Counters survive by name.
  t.redirects[0]->add(country_index("DE"), redirect_reason::nearest);
  s.replace({make("a", "http://a")}, {});
  EXPECT_EQ(s.table().redirects[0]->total(), 1u);
}

TEST(RoutingStore, HealthOfRemovedMirrorsIsIgnored) {
  origin_metrics metrics;
  routing_store s({make("a", "http://a")}, {}, metrics);
  s.publish_health({up("a"), up("gone")});
  ASSERT_EQ(s.entries().size(), 1u);
  EXPECT_EQ(s.entries()[0].health.state, health::health_state::up);
}

}  // namespace
}  // namespace lxcdn::origin
