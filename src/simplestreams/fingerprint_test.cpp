#include "simplestreams/fingerprint.hpp"

#include <gtest/gtest.h>

#include <random>

#include "core/sha256.hpp"
#include "simplestreams/test_support.hpp"

namespace lxcdn::simplestreams {
namespace {

using testing::scratch_dir;
using testing::put_file;

std::string pseudo_random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (auto& c : s) {
    c = static_cast<char>(gen());
  }
  return s;
}

// Root files from empty to several read chunks (and not a multiple of one), so both the
// single-thread path for small chunks and the two-thread path for large ones are covered.
TEST(HashBuild, RootHashAndFingerprintMatchAPlainHashOfTheBytes) {
  for (std::size_t size : {std::size_t{0}, std::size_t{100}, std::size_t{300} << 10,
                           (std::size_t{9} << 20) + 12345}) {
    scratch_dir tmp;
    const std::string dir = "images/debian/12/amd64/default/20240101";
    auto meta = pseudo_random_bytes(5000, 1);
    auto root = pseudo_random_bytes(size, 2);
    put_file(tmp.path() / dir / "incus.tar.xz", meta);
    put_file(tmp.path() / dir / "rootfs.squashfs", root);
    build_selection files;
    files.metadata = "incus.tar.xz";
    files.roots = {root_kind::squashfs};
    auto b = hash_build(tmp.path(), dir, files);
    ASSERT_EQ(b.roots.size(), 1u);
    EXPECT_EQ(b.metadata.sha256, sha256_hex(meta));
    EXPECT_EQ(b.roots[0].file.size, size);
    EXPECT_EQ(b.roots[0].file.sha256, sha256_hex(root)) << size;
    EXPECT_EQ(b.roots[0].combined_sha256, sha256_hex(meta + root)) << size;
  }
}

}  // namespace
}  // namespace lxcdn::simplestreams
