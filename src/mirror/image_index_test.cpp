#include "mirror/image_index.hpp"

#include <gtest/gtest.h>

namespace lxcdn::mirror {
namespace {

TEST(ImageIndex, ReadsProductsAndIndex) {
  std::string error;
  auto paths = products_paths(
      R"({"format":"index:1.0","index":{"images":{"datatype":"image-downloads",
      "path":"streams/v1/images.json","products":["a"]},"other":{"datatype":"x","path":"p"}}})",
      error);
  EXPECT_EQ(error, "");
  ASSERT_EQ(paths.size(), 1u);
  EXPECT_EQ(paths[0], "streams/v1/images.json");

  image_index idx;
  ASSERT_TRUE(add_products(R"({"products":{"d:1:amd64:default":{"versions":{"20240101_05:24":
      {"items":{"root":{"ftype":"squashfs","path":"images/d/1/amd64/default/20240101_05:24/rootfs.squashfs",
      "size":42,"sha256":"abc"},"bad":{"path":"images/x","size":"42","sha256":"x"}}}}}}})",
                           idx, error));
  auto* f = idx.find("/images/d/1/amd64/default/20240101_05:24/rootfs.squashfs");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->size, 42u);
  EXPECT_EQ(f->sha256, "abc");
  EXPECT_EQ(idx.find("/images/x"), nullptr);  // string size: not an item a client could use
}

TEST(ImageIndex, MalformedDocuments) {
  std::string error;
  image_index idx;
  EXPECT_FALSE(add_products("{", idx, error));
  EXPECT_FALSE(error.empty());
  EXPECT_TRUE(products_paths("[]", error).empty());
}

}  // namespace
}  // namespace lxcdn::mirror
