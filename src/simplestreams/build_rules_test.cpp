#include "simplestreams/build_rules.hpp"

#include <gtest/gtest.h>

namespace lxcdn::simplestreams {
namespace {

TEST(BuildRules, AcceptsLxdArchitectureNamesAndAliases) {
  for (auto arch :
       {"amd64", "x86_64", "i386", "i686", "arm64", "aarch64", "armhf", "armv7l", "armel",
        "ppc64el", "ppc64le", "s390x", "riscv64", "loongarch64", "loong64", "mips64el"}) {
    EXPECT_TRUE(is_lxd_architecture(arch)) << arch;
  }
}

TEST(BuildRules, RejectsUnknownArchitectures) {
  for (auto arch : {"", "sparc", "AMD64", "x86_64_v2", "amd64 ", "all"}) {
    EXPECT_FALSE(is_lxd_architecture(arch)) << arch;
  }
}

TEST(BuildRules, NameProblem) {
  EXPECT_EQ(name_problem("debian"), std::nullopt);
  EXPECT_EQ(name_problem("24.04"), std::nullopt);
  EXPECT_EQ(name_problem("9-Stream"), std::nullopt);
  EXPECT_EQ(name_problem("x86_64"), std::nullopt);
  EXPECT_EQ(name_problem(""), "empty name");
  EXPECT_EQ(name_problem(".tmp"), "name starts with '.'");
  for (auto bad : {"a:b", "a,b", "a b", "a\"b", "caf\xc3\xa9"}) {
    EXPECT_EQ(name_problem(bad), "name has characters outside [A-Za-z0-9._+-]") << bad;
  }
}

TEST(BuildRules, SerialsStartWithAValidDate) {
  for (auto ok : {"20240101", "20240101_05:24", "20240101_0524", "20240229", "20000229_x",
                  "20241231.1", "20240131+2"}) {
    EXPECT_EQ(serial_problem(ok), std::nullopt) << ok;
  }
  const std::string not_a_date =
      "serial does not start with a valid YYYYMMDD date (clients would drop it)";
  for (auto bad : {"", "2024010", "2024bad1", "20241301", "20240001", "20240100", "20240230",
                   "20230229", "19000229", "20240431", "v20240101", "2024-01-01"}) {
    EXPECT_EQ(serial_problem(bad), not_a_date) << bad;
  }
  EXPECT_EQ(serial_problem("20240101 05:24"), "serial has characters outside [A-Za-z0-9._:+-]");
  EXPECT_EQ(serial_problem("20240101,1"), "serial has characters outside [A-Za-z0-9._:+-]");
}

using entries = std::map<std::string, entry_type>;
constexpr auto reg = entry_type::regular;

TEST(BuildRules, SelectsIncusMetadataAndEveryRootInFormatOrder) {
  auto s = select_build_files({{"rootfs.tar.xz", reg},
                               {"incus.tar.xz", reg},
                               {"lxd.tar.xz", reg},
                               {"disk.qcow2", reg},
                               {"rootfs.squashfs", reg},
                               {"meta.tar.xz", reg},
                               {"build.log", reg},
                               {"SHA256SUMS", reg}});
  EXPECT_EQ(s.skip_reason, "");
  EXPECT_EQ(s.metadata, "incus.tar.xz");
  EXPECT_EQ(s.roots,
            (std::vector{root_kind::squashfs, root_kind::disk_kvm, root_kind::root_tar_xz}));
}

TEST(BuildRules, AcceptsLxdTarXzAsTheMetadataFileName) {
  auto s = select_build_files({{"lxd.tar.xz", reg}, {"disk.qcow2", reg}});
  EXPECT_EQ(s.skip_reason, "");
  EXPECT_EQ(s.metadata, "lxd.tar.xz");
  EXPECT_EQ(s.roots, std::vector{root_kind::disk_kvm});
}

TEST(BuildRules, IncompleteBuildsAreSkipped) {
  auto no_meta = select_build_files({{"meta.tar.xz", reg}, {"rootfs.tar.xz", reg}});
  EXPECT_EQ(no_meta.skip_reason, "incomplete build: no metadata (incus.tar.xz or lxd.tar.xz)");
  EXPECT_EQ(no_meta.metadata, "");
  EXPECT_TRUE(no_meta.roots.empty());

  auto no_root = select_build_files({{"incus.tar.xz", reg}, {"delta-20240101.vcdiff", reg}});
  EXPECT_EQ(no_root.skip_reason,
            "incomplete build: no rootfs.squashfs, disk.qcow2 or rootfs.tar.xz");
  EXPECT_EQ(no_root.metadata, "");

  EXPECT_EQ(select_build_files({}).skip_reason,
            "incomplete build: no metadata (incus.tar.xz or lxd.tar.xz)");
}

TEST(BuildRules, SymlinksAndOddFilesSkipTheBuild) {
  EXPECT_EQ(select_build_files({{"incus.tar.xz", reg}, {"rootfs.squashfs", entry_type::symlink}})
                .skip_reason,
            "rootfs.squashfs is a symbolic link");
  EXPECT_EQ(
      select_build_files({{"incus.tar.xz", entry_type::other}, {"disk.qcow2", reg}}).skip_reason,
      "incus.tar.xz is not a regular file");
  // Names that are not published may be anything.
  EXPECT_EQ(select_build_files(
                {{"incus.tar.xz", reg}, {"disk.qcow2", reg}, {"extra", entry_type::symlink}})
                .skip_reason,
            "");
}

}  // namespace
}  // namespace lxcdn::simplestreams
