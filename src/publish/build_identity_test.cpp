#include "publish/build_identity.hpp"

#include <gtest/gtest.h>

namespace lxcdn::publish {
namespace {

TEST(IdentityFromPath, TakesTheLastFiveComponents) {
  auto r = identity_from_path("/srv/incoming/debian/bookworm/amd64/default/20240101_05:24/");
  ASSERT_TRUE(r.id) << r.problem;
  EXPECT_EQ(r.id->path(), "debian/bookworm/amd64/default/20240101_05:24");
  EXPECT_EQ(r.id->product(), "debian:bookworm:amd64:default");
}

TEST(IdentityFromPath, Problems) {
  const std::pair<const char*, const char*> cases[] = {
      {"a/b/c", "not an <os>"},
      {"x/debian/bookworm/sparc/default/20240101", "arch 'sparc'"},
      {"x/debian/bookworm/amd64/default/2024", "serial '2024'"},
      {"x/debian/book,worm/amd64/default/20240101", "release 'book,worm'"},
      {"x/debian/bookworm/amd64/default/20241301", "serial"},
  };
  for (const auto& [path, problem] : cases) {
    auto r = identity_from_path(path);
    EXPECT_FALSE(r.id) << path;
    EXPECT_NE(r.problem.find(problem), std::string::npos) << path << ": " << r.problem;
  }
}

TEST(SameArchitecture, DebianAndKernelNames) {
  EXPECT_TRUE(same_architecture("amd64", "x86_64"));
  EXPECT_TRUE(same_architecture("aarch64", "arm64"));
  EXPECT_TRUE(same_architecture("s390x", "s390x"));
  EXPECT_FALSE(same_architecture("amd64", "aarch64"));
  EXPECT_FALSE(same_architecture("i386", "x86_64"));
}

}  // namespace
}  // namespace lxcdn::publish
