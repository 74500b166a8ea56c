#include "publish/legacy_index.hpp"

#include <gtest/gtest.h>

namespace lxcdn::publish {
namespace {

TEST(RenderLegacyIndex, OneLinePerProductNewestSerial) {
  std::vector<build_id> builds{
      {"debian", "bookworm", "amd64", "default", "20240102_05:24"},
      {"debian", "bookworm", "amd64", "default", "20240103_05:24"},
      {"debian", "bookworm", "amd64", "default", "20240101_05:24"},
      {"alpine", "3.19", "arm64", "default", "20240101_05:24"},
  };
  EXPECT_EQ(render_legacy_index(builds),
            "alpine;3.19;arm64;default;20240101_05:24;/images/alpine/3.19/arm64/default/20240101_05:24/\n"
            "debian;bookworm;amd64;default;20240103_05:24;/images/debian/bookworm/amd64/default/20240103_05:24/\n");
  EXPECT_EQ(render_legacy_index({}), "");
}

}  // namespace
}  // namespace lxcdn::publish
