#include "publish/retention.hpp"

#include <gtest/gtest.h>

namespace lxcdn::publish {
namespace {

build_id deb(const std::string& serial, const std::string& arch = "amd64") {
  return {"debian", "bookworm", arch, "default", serial};
}

std::vector<std::string> serials(const std::vector<build_id>& ids) {
  std::vector<std::string> out;
  for (const auto& id : ids) {
    out.push_back(id.arch + ":" + id.serial);
  }
  return out;
}

using previous_map = std::map<std::string, std::optional<std::int64_t>>;
constexpr std::chrono::seconds day{86400};

TEST(PlanRetention, KeepsTheNewestNAndRetiresTheRest) {
  previous_map prev{{deb("20240101").path(), std::nullopt},
                    {deb("20240102").path(), std::nullopt},
                    {deb("20240103").path(), std::nullopt}};
  auto plan = plan_retention(prev, {deb("20240104")}, 3, day, 1000);
  EXPECT_EQ(serials(plan.listed),
            (std::vector<std::string>{"amd64:20240102", "amd64:20240103", "amd64:20240104"}));
  EXPECT_EQ(serials(plan.taken), (std::vector<std::string>{"amd64:20240104"}));
  EXPECT_EQ(serials(plan.retired_now), (std::vector<std::string>{"amd64:20240101"}));
  ASSERT_EQ(plan.in_grace.size(), 1u);
  EXPECT_EQ(plan.in_grace.begin()->second, 1000);
  EXPECT_TRUE(plan.expired.empty());
}

TEST(PlanRetention, GraceEndsAfterTheConfiguredTime) {
  previous_map prev{{deb("20240101").path(), 1000}, {deb("20240102").path(), std::nullopt}};
  struct {
    std::int64_t now;
    bool in_grace;
  } cases[] = {{1000, true}, {1000 + 86399, true}, {1000 + 86400, false}, {999999, false}};
  for (const auto& c : cases) {
    auto plan = plan_retention(prev, {}, 3, day, c.now);
    EXPECT_EQ(plan.in_grace.size(), c.in_grace ? 1u : 0u) << c.now;
    EXPECT_EQ(plan.expired.size(), c.in_grace ? 0u : 1u) << c.now;
    EXPECT_EQ(serials(plan.listed), (std::vector<std::string>{"amd64:20240102"}));
  }
}

TEST(PlanRetention, RefusesACandidateOlderThanTheNewestN) {
  previous_map prev{{deb("20240105").path(), std::nullopt},
                    {deb("20240106").path(), std::nullopt}};
  auto plan = plan_retention(prev, {deb("20240101"), deb("20240107")}, 2, day, 0);
  EXPECT_EQ(serials(plan.listed),
            (std::vector<std::string>{"amd64:20240106", "amd64:20240107"}));
  ASSERT_EQ(plan.refused.size(), 1u);
  EXPECT_EQ(plan.refused[0].first.serial, "20240101");
  EXPECT_NE(plan.refused[0].second.find("older than the newest 2"), std::string::npos);
  EXPECT_EQ(serials(plan.retired_now), (std::vector<std::string>{"amd64:20240105"}));
}

TEST(PlanRetention, ProductsAreIndependentAndSerialsSortAsBytes) {
  previous_map prev{{deb("20240101_05:24", "arm64").path(), std::nullopt}};
  auto plan = plan_retention(prev, {deb("20240101_05:24"), deb("20240101_17:00")}, 1, day, 0);
  EXPECT_EQ(serials(plan.listed),
            (std::vector<std::string>{"amd64:20240101_17:00", "arm64:20240101_05:24"}));
  EXPECT_EQ(plan.refused.size(), 1u);
}

}  // namespace
}  // namespace lxcdn::publish
