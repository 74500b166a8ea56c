#include "simplestreams/catalog.hpp"

#include <gtest/gtest.h>

namespace lxcdn::simplestreams {
namespace {

build make_build(const std::string& dir, std::vector<std::pair<root_kind, std::string>> roots) {
  build b;
  b.dir = dir;
  b.metadata = {dir + "/incus.tar.xz", 1, "m"};
  for (auto& [kind, fingerprint] : roots) {
    b.roots.push_back(
        {kind, {dir + "/" + std::string(format_of(kind).file_name), 1, "r"}, fingerprint});
  }
  return b;
}

TEST(Catalog, FormatTable) {
  EXPECT_EQ(format_of(root_kind::squashfs).combined_field, "combined_squashfs_sha256");
  EXPECT_EQ(format_of(root_kind::disk_kvm).ftype, "disk-kvm.img");
  EXPECT_EQ(format_of(root_kind::disk_kvm).file_name, "disk.qcow2");
  EXPECT_EQ(format_of(root_kind::root_tar_xz).combined_field, "combined_rootxz_sha256");
}

TEST(Catalog, UniqueFingerprintsPass) {
  catalog c;
  c.products["a"].versions["20240101"] =
      make_build("images/a/1/amd64/default/20240101",
                 {{root_kind::squashfs, "f1"}, {root_kind::disk_kvm, "f2"}});
  c.products["b"].versions["20240101"] =
      make_build("images/b/1/amd64/default/20240101", {{root_kind::squashfs, "f3"}});
  EXPECT_EQ(find_duplicate_fingerprint(c), std::nullopt);
  EXPECT_EQ(find_duplicate_fingerprint(catalog{}), std::nullopt);
}

TEST(Catalog, DuplicateAcrossProductsNamesBothBuilds) {
  catalog c;
  c.products["a"].versions["20240101"] =
      make_build("images/a/1/amd64/default/20240101", {{root_kind::squashfs, "f1"}});
  c.products["b"].versions["20240102"] =
      make_build("images/b/1/amd64/default/20240102", {{root_kind::root_tar_xz, "f1"}});
  EXPECT_EQ(find_duplicate_fingerprint(c),
            "duplicate image fingerprint f1 in images/a/1/amd64/default/20240101 "
            "(rootfs.squashfs) and images/b/1/amd64/default/20240102 (rootfs.tar.xz): clients "
            "would fail with \"More than one match\"; remove one of the builds");
}

}  // namespace
}  // namespace lxcdn::simplestreams
