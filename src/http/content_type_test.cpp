#include "http/content_type.hpp"

#include <gtest/gtest.h>

namespace lxcdn::http {
namespace {

TEST(ContentType, ByName) {
  EXPECT_EQ(content_type_for("/streams/v1/index.json"), "application/json");
  EXPECT_EQ(content_type_for("/images/a/incus.tar.xz"), "application/x-xz");
  EXPECT_EQ(content_type_for("/images/a/rootfs.squashfs"), "application/octet-stream");
  EXPECT_EQ(content_type_for("/images/a/SHA256SUMS"), "text/plain; charset=utf-8");
  EXPECT_EQ(content_type_for("/streams/v1/index.sjson"), "text/plain; charset=utf-8");
  EXPECT_EQ(content_type_for("/whatever"), "application/octet-stream");
  EXPECT_TRUE(is_json("/streams/v1/images.json"));
  EXPECT_FALSE(is_json("/streams/v1/images.json.gpg"));
}

}  // namespace
}  // namespace lxcdn::http
