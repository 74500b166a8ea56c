#include "publish/generation_state.hpp"

#include <gtest/gtest.h>

namespace lxcdn::publish {
namespace {

TEST(GenerationState, RoundTrips) {
  generation_state s;
  s.generation = "00000007";
  s.builds["debian/bookworm/amd64/default/20240101_05:24"] = std::nullopt;
  s.builds["debian/bookworm/amd64/default/20231231_05:24"] = 1704000000;
  s.files["images/debian/bookworm/amd64/default/20240101_05:24/incus.tar.xz"] = {
      {42, 1024, 1704086640123456789}, std::string(64, 'a')};
  s.combined[{"images/x/incus.tar.xz", "images/x/rootfs.squashfs"}] = std::string(64, 'b');
  std::string error;
  auto back = parse_state(render_state(s), error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->generation, s.generation);
  EXPECT_EQ(back->builds, s.builds);
  ASSERT_EQ(back->files.size(), 1u);
  EXPECT_EQ(back->files.begin()->second.key, s.files.begin()->second.key);
  EXPECT_EQ(back->files.begin()->second.sha256, s.files.begin()->second.sha256);
  EXPECT_EQ(back->combined, s.combined);
}

TEST(GenerationState, RejectsDamage) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "empty"},
      {"lxcdn-publish-state 2\n", "line 1"},
      {"lxcdn-publish-state 1\nbuild listed a/b/c/d/e", "truncated"},
      {"lxcdn-publish-state 1\nbuild retired soon a/b/c/d/e\n", "line 2"},
      {"lxcdn-publish-state 1\nfile 1 2 3 short path\n", "line 2"},
      {"lxcdn-publish-state 1\nwhatever\n", "line 2"},
  };
  for (const auto& [text, problem] : cases) {
    std::string error;
    EXPECT_FALSE(parse_state(text, error)) << text;
    EXPECT_NE(error.find(problem), std::string::npos) << text << ": " << error;
  }
}

}  // namespace
}  // namespace lxcdn::publish
