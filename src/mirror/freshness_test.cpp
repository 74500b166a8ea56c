#include "mirror/freshness.hpp"

#include <gtest/gtest.h>

namespace lxcdn::mirror {
namespace {

TEST(Freshness, ValidityPerStatus) {
  validity_config v;  // 200: 3d, 301/302: 1m, 404: 5m
  auto at = [](unsigned status) { return cache_meta{"/images/a", status, 0, 1000, "", ""}; };
  EXPECT_TRUE(is_fresh(at(200), 1000, v));
  EXPECT_TRUE(is_fresh(at(200), 1000 + 3 * 86400 - 1, v));
  EXPECT_FALSE(is_fresh(at(200), 1000 + 3 * 86400, v));
  EXPECT_TRUE(is_fresh(at(302), 1059, v));
  EXPECT_FALSE(is_fresh(at(301), 1060, v));
  EXPECT_TRUE(is_fresh(at(404), 1299, v));
  EXPECT_FALSE(is_fresh(at(404), 1300, v));
  EXPECT_FALSE(is_fresh(at(500), 1000, v));
  EXPECT_FALSE(is_fresh(at(200), 999, v));  // clock went backwards: refetch, never trust
}

TEST(Freshness, ListedPathsAreNeverNegativelyCached) {
  EXPECT_TRUE(is_cacheable(404, false));
  EXPECT_FALSE(is_cacheable(404, true));
  EXPECT_TRUE(is_cacheable(200, true));
  EXPECT_TRUE(is_cacheable(302, false));
  EXPECT_FALSE(is_cacheable(503, false));
}

}  // namespace
}  // namespace lxcdn::mirror
