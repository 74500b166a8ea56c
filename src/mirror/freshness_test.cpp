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

TEST(Freshness, ClientErrorsAndRedirectsArePassedOnServerErrorsAreNot) {
  for (unsigned s : {301u, 302u, 303u, 307u, 308u, 400u, 403u, 404u, 410u, 451u, 499u}) {
    EXPECT_TRUE(is_passed_on(s)) << s;
  }
  for (unsigned s : {100u, 200u, 204u, 300u, 304u, 305u, 500u, 502u, 503u, 599u, 600u, 999u}) {
    EXPECT_FALSE(is_passed_on(s)) << s;
  }
  // Passed on, but only 301, 302 and an unlisted 404 are kept.
  EXPECT_FALSE(is_cacheable(403, false));
  EXPECT_FALSE(is_cacheable(410, false));
  EXPECT_FALSE(is_cacheable(307, false));
}

}  // namespace
}  // namespace lxcdn::mirror
