#include "health/health_tracker.hpp"

#include <gtest/gtest.h>

namespace lxcdn::health {
namespace {

TEST(HealthTracker, StartsDownAndComesUpOnFirstSuccess) {
  health_tracker t;
  EXPECT_EQ(t.state(), health_state::down);
  EXPECT_EQ(t.share(0), 0.0);
  EXPECT_FALSE(t.record(false, 1, "refused"));
  auto up = t.record(true, 2, "ok");
  ASSERT_TRUE(up);
  EXPECT_EQ(up->to, health_state::up);
  EXPECT_EQ(t.state(), health_state::up);
}

TEST(HealthTracker, KOfNFailuresTakeItDownAndMConsecutiveBringItBack) {
  health_tracker t({.window = 5, .fail_after = 3, .recover_after = 3, .slow_start = std::chrono::seconds(0)});
  t.record(true, 0, "ok");
  EXPECT_FALSE(t.record(false, 1, "timeout"));
  EXPECT_FALSE(t.record(true, 2, "ok"));
  EXPECT_FALSE(t.record(false, 3, "timeout"));
  auto down = t.record(false, 4, "sha256 mismatch");
  ASSERT_TRUE(down);
  EXPECT_EQ(down->to, health_state::down);
  EXPECT_NE(down->reason.find("3 of the last 5"), std::string::npos);
  EXPECT_NE(down->reason.find("sha256 mismatch"), std::string::npos);
  EXPECT_FALSE(t.record(true, 5, "ok"));
  EXPECT_FALSE(t.record(true, 6, "ok"));
  EXPECT_FALSE(t.record(false, 7, "refused"));  // the run of successes starts over
  EXPECT_FALSE(t.record(true, 8, "ok"));
  EXPECT_FALSE(t.record(true, 9, "ok"));
  auto up = t.record(true, 10, "ok");
  ASSERT_TRUE(up);
  EXPECT_EQ(t.state(), health_state::up);
}

TEST(HealthTracker, OldFailuresLeaveTheWindow) {
  health_tracker t({.window = 3, .fail_after = 2, .recover_after = 1, .slow_start = std::chrono::seconds(0)});
  t.record(true, 0, "ok");
  t.record(false, 1, "x");
  t.record(true, 2, "ok");
  t.record(true, 3, "ok");
  EXPECT_FALSE(t.record(false, 4, "x"));  // window is [ok, ok, x]: one failure
  EXPECT_EQ(t.state(), health_state::up);
}

TEST(HealthTracker, SlowStartRampsTheShare) {
  health_tracker t({.window = 5, .fail_after = 3, .recover_after = 1, .slow_start = std::chrono::seconds(100)});
  t.record(true, 1000, "ok");
  EXPECT_DOUBLE_EQ(t.share(1000), 0.1);
  EXPECT_DOUBLE_EQ(t.share(1050), 0.55);
  EXPECT_DOUBLE_EQ(t.share(1100), 1.0);
  EXPECT_DOUBLE_EQ(t.share(5000), 1.0);
}

}  // namespace
}  // namespace lxcdn::health
