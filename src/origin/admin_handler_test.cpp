#include "origin/admin_handler.hpp"

#include <gtest/gtest.h>

namespace lxcdn::origin {
namespace {

using kind = admin_route::kind;
using selection::operator_state;

TEST(AdminRoute, Table) {
  struct row {
    const char* method;
    const char* target;
    kind what;
    const char* mirror;
    operator_state state;
  };
  const row rows[] = {
      {"GET", "/v1/mirrors", kind::list, "", operator_state::active},
      {"GET", "/v1/mirrors/", kind::list, "", operator_state::active},
      {"HEAD", "/v1/mirrors?x=1", kind::list, "", operator_state::active},
      {"POST", "/v1/mirrors", kind::bad_method, "", operator_state::active},
      {"GET", "/v1/mirrors/eu", kind::show, "eu", operator_state::active},
      {"DELETE", "/v1/mirrors/eu", kind::bad_method, "", operator_state::active},
      {"POST", "/v1/mirrors/eu/drain", kind::set_state, "eu", operator_state::draining},
      {"POST", "/v1/mirrors/eu/enable", kind::set_state, "eu", operator_state::active},
      {"POST", "/v1/mirrors/eu/disable", kind::set_state, "eu", operator_state::disabled},
      {"GET", "/v1/mirrors/eu/drain", kind::bad_method, "", operator_state::active},
      {"POST", "/v1/mirrors/eu/explode", kind::not_found, "", operator_state::active},
      {"POST", "/v1/mirrors//drain", kind::not_found, "", operator_state::active},
      {"GET", "/", kind::not_found, "", operator_state::active},
      {"GET", "/v1/mirrorsx", kind::not_found, "", operator_state::active},
  };
  for (const auto& r : rows) {
    auto got = route_admin_request(r.method, r.target);
    EXPECT_EQ(got.what, r.what) << r.method << " " << r.target;
    EXPECT_EQ(got.mirror, r.mirror) << r.method << " " << r.target;
    if (got.what == kind::set_state) {
      EXPECT_EQ(got.state, r.state) << r.target;
    }
  }
}

TEST(BearerMatches, OnlyTheExactToken) {
  const std::string token = "0123456789abcdef";
  EXPECT_TRUE(bearer_matches("Bearer 0123456789abcdef", token));
  EXPECT_FALSE(bearer_matches("", token));
  EXPECT_FALSE(bearer_matches("Bearer ", token));
  EXPECT_FALSE(bearer_matches("Bearer 0123456789abcdeF", token));
  EXPECT_FALSE(bearer_matches("Bearer 0123456789abcdef0", token));
  EXPECT_FALSE(bearer_matches("Basic 0123456789abcdef", token));
  EXPECT_FALSE(bearer_matches("Bearer x", ""));
}

}  // namespace
}  // namespace lxcdn::origin
