#include "demo/sample_images.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <set>

namespace lxcdn::demo {
namespace {

const std::vector<std::string> host_applets{
    "linuxrc", "bin/busybox", "bin/sh",    "bin/ash",    "bin/cat",
    "bin/vi",  "sbin/init",   "sbin/halt", "usr/bin/id", "usr/sbin/chroot"};

std::map<std::string, rootfs_entry> by_path(const std::vector<rootfs_entry>& entries) {
  std::map<std::string, rootfs_entry> m;
  for (const auto& e : entries) {
    EXPECT_TRUE(m.emplace(e.path, e).second) << "duplicate " << e.path;
  }
  return m;
}

TEST(SampleImages, SerialIsLxcCiStyleUtc) {
  EXPECT_EQ(format_serial(1795780800), "20261127_12:00");
  EXPECT_EQ(format_serial(0), "19700101_00:00");
  EXPECT_EQ(format_serial(1795780800 + 59), "20261127_12:00");
}

TEST(SampleImages, KernelArchitectureNames) {
  EXPECT_EQ(kernel_architecture("amd64"), "x86_64");
  EXPECT_EQ(kernel_architecture("arm64"), "aarch64");
  EXPECT_EQ(kernel_architecture("armhf"), "armv7l");
  EXPECT_THROW(kernel_architecture("x86_64"), std::invalid_argument);
  EXPECT_THROW(kernel_architecture(""), std::invalid_argument);
}

TEST(SampleImages, TwoArchitecturesTwoVariantsOneSerial) {
  auto images = demo_images(1795780800);
  ASSERT_EQ(images.size(), 3u);
  std::set<std::string> products;
  std::set<std::string> metadata;
  std::set<std::string> archs;
  std::set<std::string> variants;
  for (const auto& i : images) {
    EXPECT_EQ(i.os, "busybox");
    EXPECT_EQ(i.serial, "20261127_12:00");
    EXPECT_EQ(i.creation_date, 1795780800);
    products.insert(i.arch + "/" + i.variant);
    metadata.insert(render_metadata_yaml(i));
    archs.insert(i.arch);
    variants.insert(i.variant);
  }
  EXPECT_EQ(products.size(), 3u);
  // Distinct metadata bytes => distinct sha256(meta || root) whatever the root filesystems are.
  EXPECT_EQ(metadata.size(), 3u);
  EXPECT_EQ(archs, (std::set<std::string>{"amd64", "arm64"}));
  EXPECT_EQ(variants, (std::set<std::string>{"default", "tiny"}));
}

TEST(SampleImages, ImageDirectoryFollowsLxcCiLayout) {
  auto i = demo_images(1795780800).front();
  EXPECT_EQ(image_directory("/srv/www", i),
            std::filesystem::path("/srv/www/images/busybox/1.35/amd64/default/20261127_12:00"));
}

TEST(SampleImages, MetadataYamlHasWhatLxdAndDistrobuilderWrite) {
  auto images = demo_images(1795780800);
  auto arm = *std::find_if(images.begin(), images.end(), [](auto& i) { return i.arch == "arm64"; });
  YAML::Node y = YAML::Load(render_metadata_yaml(arm));
  EXPECT_EQ(y["architecture"].as<std::string>(), "aarch64");
  EXPECT_EQ(y["creation_date"].as<std::int64_t>(), 1795780800);
  EXPECT_GT(y["expiry_date"].as<std::int64_t>(), 1795780800 + 365 * 86400);
  auto p = y["properties"];
  EXPECT_EQ(p["os"].as<std::string>(), "busybox");
  EXPECT_EQ(p["release"].as<std::string>(), "1.35");  // a string, not the float 1.35
  EXPECT_EQ(p["variant"].as<std::string>(), "default");
  EXPECT_EQ(p["architecture"].as<std::string>(), "arm64");
  EXPECT_EQ(p["serial"].as<std::string>(), "20261127_12:00");
  EXPECT_EQ(p["name"].as<std::string>(), "busybox-1.35-arm64-default-20261127_12:00");
  EXPECT_NE(p["description"].as<std::string>().find("BusyBox 1.35 arm64"), std::string::npos);
  auto hostname = y["templates"]["/etc/hostname"];
  ASSERT_TRUE(hostname.IsMap());
  EXPECT_EQ(hostname["template"].as<std::string>(), "hostname.tpl");
  EXPECT_EQ(hostname["when"].as<std::vector<std::string>>(),
            (std::vector<std::string>{"create", "copy"}));
  EXPECT_EQ(y["templates"]["/etc/hosts"]["template"].as<std::string>(), "hosts.tpl");
}

TEST(SampleImages, EveryReferencedTemplateIsShipped) {
  YAML::Node y = YAML::Load(render_metadata_yaml(demo_images(1795780800).front()));
  std::map<std::string, std::string> shipped;
  for (const auto& t : metadata_templates()) {
    shipped[t.path] = t.content;
  }
  for (const auto& kv : y["templates"]) {
    EXPECT_EQ(shipped.count("templates/" + kv.second["template"].as<std::string>()), 1u);
  }
  EXPECT_EQ(shipped["templates/hostname.tpl"], "{{ container.name }}\n");
}

TEST(SampleImages, RootfsBootsWithBusyboxInit) {
  auto image = demo_images(1795780800).front();
  auto entries = rootfs_entries(image, host_applets, "/bin/busybox");
  auto m = by_path(entries);
  using kind = rootfs_entry::kind;

  ASSERT_EQ(m.count("bin/busybox"), 1u);
  EXPECT_EQ(m["bin/busybox"].type, kind::host_file);
  EXPECT_EQ(m["bin/busybox"].data, "/bin/busybox");
  EXPECT_EQ(m["bin/busybox"].mode, 0755u);
  for (const char* link : {"sbin/init", "bin/sh", "bin/vi", "usr/sbin/chroot"}) {
    ASSERT_EQ(m.count(link), 1u) << link;
    EXPECT_EQ(m[link].type, kind::symlink);
    EXPECT_EQ(m[link].data, "/bin/busybox");
  }
  EXPECT_EQ(m.count("linuxrc"), 0u);
  for (const char* d : {"dev", "proc", "sys", "tmp", "root", "run", "etc", "usr/sbin"}) {
    ASSERT_EQ(m.count(d), 1u) << d;
    EXPECT_EQ(m[d].type, kind::directory) << d;
  }
  EXPECT_EQ(m["tmp"].mode, 01777u);
  EXPECT_EQ(m["root"].mode, 0700u);
  EXPECT_NE(m["etc/inittab"].data.find("::sysinit:"), std::string::npos);
  EXPECT_EQ(m["etc/passwd"].data.rfind("root:x:0:0:root:/root:/bin/sh\n", 0), 0u);
  EXPECT_EQ(m["etc/group"].data.rfind("root:x:0:\n", 0), 0u);
  EXPECT_EQ(m["etc/hostname"].data, "busybox\n");

  // Parents before children, so the list can be created in order.
  std::set<std::string> seen;
  for (const auto& e : entries) {
    auto slash = e.path.rfind('/');
    if (slash != std::string::npos) {
      EXPECT_EQ(seen.count(e.path.substr(0, slash)), 1u) << e.path;
    }
    seen.insert(e.path);
  }
}

TEST(SampleImages, InittabCommandsExistInTheTinySet) {
  auto images = demo_images(1795780800);
  auto tiny =
      *std::find_if(images.begin(), images.end(), [](auto& i) { return i.variant == "tiny"; });
  std::vector<std::string> all_host = tiny_applets();
  all_host.push_back("bin/vi");
  auto m = by_path(rootfs_entries(tiny, all_host, "/bin/busybox"));
  EXPECT_EQ(m.count("bin/vi"), 0u);  // not in the tiny set
  const auto& inittab = m["etc/inittab"].data;
  std::size_t pos = 0;
  while ((pos = inittab.find(":/", pos)) != std::string::npos) {
    auto end = inittab.find_first_of(" \n", pos + 1);
    auto program = inittab.substr(pos + 2, end - pos - 2);
    EXPECT_EQ(m.count(program), 1u) << program;
    pos = end;
  }
}

TEST(SampleImages, TinyAndDefaultRootfsDiffer) {
  auto images = demo_images(1795780800);
  std::set<std::size_t> sizes;
  for (const auto& i : images) {
    sizes.insert(rootfs_entries(i, host_applets, "/bin/busybox").size());
  }
  EXPECT_EQ(sizes.size(), 2u);
}

TEST(SampleImages, RootfsNeedsInitAndShell) {
  auto image = demo_images(1795780800).front();
  EXPECT_THROW(rootfs_entries(image, {"bin/sh"}, "/bin/busybox"), std::invalid_argument);
  EXPECT_THROW(rootfs_entries(image, {"sbin/init"}, "/bin/busybox"), std::invalid_argument);
}

TEST(SampleImages, ParseAppletList) {
  EXPECT_EQ(parse_applet_list("bin/sh\r\nsbin/init\n\nusr/bin/id"),
            (std::vector<std::string>{"bin/sh", "sbin/init", "usr/bin/id"}));
  EXPECT_TRUE(parse_applet_list("").empty());
}

}  // namespace
}  // namespace lxcdn::demo
