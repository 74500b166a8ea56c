#include "simplestreams/render_json.hpp"

#include <gtest/gtest.h>

#include "simplestreams/test_support.hpp"

namespace lxcdn::simplestreams {
namespace {

using testing::without_layout;

TEST(RenderJson, EmptyCatalog) {
  EXPECT_EQ(render_index_json(catalog{}),
            R"({"format":"index:1.0","index":{"images":{"datatype":"image-downloads",)"
            R"("format":"products:1.0","path":"streams/v1/images.json","products":[]}}})"
            "\n");
  EXPECT_EQ(render_images_json(catalog{}),
            R"({"content_id":"images","datatype":"image-downloads","format":"products:1.0",)"
            R"("products":{}})"
            "\n");
}

// One version holding all three roots, plus a second product to check ordering. The hashes are
// placeholders: rendering does not look at them.
catalog sample_catalog() {
  catalog c;
  const std::string dir = "images/alpine/3.19/arm64/cloud/20240101_05:24";
  build b;
  b.dir = dir;
  b.metadata = {dir + "/incus.tar.xz", 100, "m0"};
  b.roots = {{root_kind::squashfs, {dir + "/rootfs.squashfs", 200, "s0"}, "ms"},
             {root_kind::disk_kvm, {dir + "/disk.qcow2", 300, "d0"}, "md"},
             {root_kind::root_tar_xz, {dir + "/rootfs.tar.xz", 400, "t0"}, "mt"}};
  auto& p = c.products["alpine:3.19:arm64:cloud"];
  p = {"alpine", "3.19", "arm64", "cloud", {}};
  p.versions["20240101_05:24"] = b;

  const std::string dir2 = "images/alpine/3.19/amd64/default/20231231";
  build b2;
  b2.dir = dir2;
  b2.metadata = {dir2 + "/lxd.tar.xz", 1, "m1"};
  b2.roots = {{root_kind::squashfs, {dir2 + "/rootfs.squashfs", 2, "s1"}, "ms1"}};
  auto& p2 = c.products["alpine:3.19:amd64:default"];
  p2 = {"alpine", "3.19", "amd64", "default", {}};
  p2.versions["20231231"] = b2;
  return c;
}

TEST(RenderJson, IndexListsProductsInByteOrder) {
  EXPECT_EQ(render_index_json(sample_catalog()),
            R"({"format":"index:1.0","index":{"images":{"datatype":"image-downloads",)"
            R"("format":"products:1.0","path":"streams/v1/images.json",)"
            R"("products":["alpine:3.19:amd64:default","alpine:3.19:arm64:cloud"]}}})"
            "\n");
}

TEST(RenderJson, ImagesCarriesEveryItemAndCombinedField) {
  const std::string expected = without_layout(R"(
    {"content_id":"images","datatype":"image-downloads","format":"products:1.0","products":{
     "alpine:3.19:amd64:default":{
      "aliases":"alpine/3.19/default,alpine/3.19","arch":"amd64","os":"Alpine","release":"3.19",
      "release_title":"3.19","requirements":{},"variant":"default","versions":{
       "20231231":{"items":{
        "incus.tar.xz":{"combined_squashfs_sha256":"ms1","ftype":"incus.tar.xz",
         "path":"images/alpine/3.19/amd64/default/20231231/lxd.tar.xz","sha256":"m1","size":1},
        "lxd.tar.xz":{"combined_squashfs_sha256":"ms1","ftype":"lxd.tar.xz",
         "path":"images/alpine/3.19/amd64/default/20231231/lxd.tar.xz","sha256":"m1","size":1},
        "root.squashfs":{"ftype":"squashfs",
         "path":"images/alpine/3.19/amd64/default/20231231/rootfs.squashfs","sha256":"s1",
         "size":2}}}}},
     "alpine:3.19:arm64:cloud":{
      "aliases":"alpine/3.19/cloud","arch":"arm64","os":"Alpine","release":"3.19",
      "release_title":"3.19","requirements":{},"variant":"cloud","versions":{
       "20240101_05:24":{"items":{
        "disk.qcow2":{"ftype":"disk-kvm.img",
         "path":"images/alpine/3.19/arm64/cloud/20240101_05:24/disk.qcow2","sha256":"d0",
         "size":300},
        "incus.tar.xz":{"combined_disk-kvm-img_sha256":"md","combined_rootxz_sha256":"mt",
         "combined_sha256":"mt","combined_squashfs_sha256":"ms","ftype":"incus.tar.xz",
         "path":"images/alpine/3.19/arm64/cloud/20240101_05:24/incus.tar.xz","sha256":"m0",
         "size":100},
        "lxd.tar.xz":{"combined_disk-kvm-img_sha256":"md","combined_rootxz_sha256":"mt",
         "combined_sha256":"mt","combined_squashfs_sha256":"ms","ftype":"lxd.tar.xz",
         "path":"images/alpine/3.19/arm64/cloud/20240101_05:24/incus.tar.xz","sha256":"m0",
         "size":100},
        "root.squashfs":{"ftype":"squashfs",
         "path":"images/alpine/3.19/arm64/cloud/20240101_05:24/rootfs.squashfs","sha256":"s0",
         "size":200},
        "root.tar.xz":{"ftype":"root.tar.xz",
         "path":"images/alpine/3.19/arm64/cloud/20240101_05:24/rootfs.tar.xz","sha256":"t0",
         "size":400}}}}}}}
  )") + "\n";
  EXPECT_EQ(render_images_json(sample_catalog()), expected);
}

}  // namespace
}  // namespace lxcdn::simplestreams

namespace lxcdn::simplestreams {
namespace {

// `lxcdn publish` sets aliases and requirements from its policy and adds squashfs deltas.
TEST(RenderJson, PublisherAliasesRequirementsAndDeltas) {
  catalog c;
  const std::string dir = "images/debian/bookworm/amd64/default/20240102";
  build b;
  b.metadata = {dir + "/incus.tar.xz", 1, "m"};
  b.roots = {{root_kind::squashfs, {dir + "/rootfs.squashfs", 2, "s"}, "f"}};
  b.deltas = {{"20240101", {dir + "/delta-20240101.vcdiff", 3, "d"}}};
  auto& p = c.products["debian:bookworm:amd64:default"];
  p = {"debian", "bookworm", "amd64", "default", {}};
  p.aliases = "debian/bookworm/default,debian/12";
  p.requirements = {{"secureboot", "false"}, {"cgroup", "v2"}};
  p.versions["20240102"] = b;
  auto json = render_images_json(c);
  EXPECT_NE(json.find(R"("aliases":"debian/bookworm/default,debian/12")"), std::string::npos);
  EXPECT_NE(json.find(R"("requirements":{"cgroup":"v2","secureboot":"false"})"), std::string::npos);
  EXPECT_NE(json.find(R"("items":{"delta-20240101.vcdiff":{"delta_base":"20240101",)"
                      R"("ftype":"squashfs.vcdiff","path":")" + dir +
                      R"(/delta-20240101.vcdiff","sha256":"d","size":3},"incus.tar.xz":)"),
            std::string::npos)
      << json;
}

}  // namespace
}  // namespace lxcdn::simplestreams
