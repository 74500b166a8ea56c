#include "publish/product_policy.hpp"

#include <gtest/gtest.h>

namespace lxcdn::publish {
namespace {

TEST(ProductAliases, Table) {
  alias_settings a;
  a.os_default_variant = {{"alpine", "cloud"}};
  a.release_names = {{"debian/bookworm", "12"}, {"ubuntu/noble", "24.04"}};
  struct {
    const char *os, *release, *variant, *aliases;
  } cases[] = {
      {"debian", "bookworm", "default", "debian/bookworm/default,debian/bookworm,debian/12/default,debian/12"},
      {"debian", "bookworm", "cloud", "debian/bookworm/cloud,debian/12/cloud"},
      {"debian", "trixie", "default", "debian/trixie/default,debian/trixie"},
      {"alpine", "3.19", "cloud", "alpine/3.19/cloud,alpine/3.19"},
      {"alpine", "3.19", "default", "alpine/3.19/default"},
      {"alpine", "current", "cloud", "alpine/current/cloud,alpine/current,alpine/cloud,alpine"},
      {"archlinux", "current", "desktop", "archlinux/current/desktop,archlinux/desktop"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(product_aliases(a, c.os, c.release, c.variant), c.aliases) << c.os << "/" << c.release;
  }
}

TEST(ProductRequirements, WholeSegmentPrefixesLaterRulesWin) {
  std::vector<requirement_rule> rules{
      {"centos/7", {{"cgroup", "v1"}}},
      {"centos", {{"secureboot", "false"}}},
      {"centos/7/cloud", {{"cgroup", "v2"}}},
  };
  using m = std::map<std::string, std::string>;
  EXPECT_EQ(product_requirements(rules, "centos", "7", "default"),
            (m{{"cgroup", "v1"}, {"secureboot", "false"}}));
  EXPECT_EQ(product_requirements(rules, "centos", "7", "cloud"),
            (m{{"cgroup", "v2"}, {"secureboot", "false"}}));
  EXPECT_EQ(product_requirements(rules, "centos", "70", "default"), (m{{"secureboot", "false"}}));
  EXPECT_EQ(product_requirements(rules, "centosx", "7", "default"), m{});
}

}  // namespace
}  // namespace lxcdn::publish
