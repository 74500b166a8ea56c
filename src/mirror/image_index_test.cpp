#include "mirror/image_index.hpp"

#include <gtest/gtest.h>

#include "http/target.hpp"

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

// An item's path is a URL path below the root, so its escapes are decoded in the key: the key is
// what the HTTP layer makes of the client's request for that item, and the mirror's upstream
// client sends it back encoded ('?' as %3F). Fuzzer input simplestreams_json-crash-e7294500 (its
// property had fed the decoded key back to normalize_target raw, where '?' starts a query).
TEST(ImageIndex, KeyIsTheDecodedRequestPath) {
  std::string error;
  image_index idx;
  ASSERT_TRUE(add_products(
      R"({"products":{"":{"versions":{"":{"items":{"":{"path":"%3f","size":0,"sha256":""}}}}}}})",
      idx, error));
  ASSERT_EQ(idx.files.size(), 1u);
  ASSERT_NE(idx.find("/?"), nullptr);
  EXPECT_EQ(idx.find("/?")->size, 0u);
  EXPECT_EQ(http::normalize_target("/%3f").path, "/?");  // the client's request finds it
  EXPECT_EQ(http::normalize_target("/%3F").path, "/?");  // so does the encoded key
  EXPECT_EQ(idx.find("/"), nullptr);                     // the raw key would be "/" + a query
}

}  // namespace
}  // namespace lxcdn::mirror
