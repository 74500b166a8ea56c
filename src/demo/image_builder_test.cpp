#include "demo/image_builder.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "core/sha256.hpp"
#include "demo/tool_runner.hpp"

namespace lxcdn::demo {
namespace {

namespace fs = std::filesystem;

// The message of the std::runtime_error `f` throws ("" if it throws none).
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(ToolRunner, ReturnsStdoutAndNamesFailingTools) {
  auto echo = require_tool("echo", "coreutils");
  EXPECT_EQ(run_tool(echo, {"a b", "c"}), "a b c\n");
  auto sh = require_tool("sh", "dash");
  auto what = error_of([&] { run_tool(sh, {"-c", "echo oops >&2; exit 3"}); });
  EXPECT_NE(what.find("`sh` exited with status 3"), std::string::npos) << what;
  EXPECT_NE(what.find("oops"), std::string::npos) << what;
}

TEST(ToolRunner, MissingToolNamesToolAndPackage) {
  EXPECT_FALSE(find_tool("lxcdn-no-such-tool"));
  auto what = error_of([] { require_tool("lxcdn-no-such-tool", "some-package"); });
  EXPECT_NE(what.find("`lxcdn-no-such-tool` not found"), std::string::npos) << what;
  EXPECT_NE(what.find("some-package"), std::string::npos) << what;
}

// A PATH with tar, xz and busybox but no mksquashfs: the error names the tool and its package.
TEST(ImageBuilder, MissingToolIsNamed) {
  auto dir = fs::temp_directory_path() / ("lxcdn_missing_tool_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const char* tool : {"tar", "xz", "busybox"}) {
    if (auto found = find_tool(tool)) {
      fs::create_symlink(fs::canonical(*found), dir / tool);
    }
  }
  std::string saved_path = std::getenv("PATH") ? std::getenv("PATH") : "";
  ::setenv("PATH", dir.c_str(), 1);
  auto what = error_of([] { find_build_tools(); });
  ::setenv("PATH", saved_path.c_str(), 1);
  fs::remove_all(dir);
  if (what.find("`mksquashfs` not found") == std::string::npos) {
    EXPECT_NE(what.find("not found in PATH"), std::string::npos) << what;  // tar/xz/busybox absent
  } else {
    EXPECT_NE(what.find("squashfs-tools"), std::string::npos) << what;
  }
}

TEST(ImageBuilder, TellsStaticFromDynamicElf) {
  EXPECT_FALSE(is_static_elf("/proc/self/exe"));  // this test binary links libstdc++
  auto busybox = find_tool("busybox");
  if (busybox) {
    EXPECT_TRUE(is_static_elf(*busybox)) << *busybox << " (needs busybox-static)";
  }
  EXPECT_THROW(is_static_elf("/etc/passwd"), std::runtime_error);
}

// Builds the tiny image twice into separate trees: same bytes both times (reproducible), and the
// finished files are where the tree layout says.
TEST(ImageBuilder, BuildIsReproducible) {
  build_tools tools;
  try {
    tools = find_build_tools();
  } catch (const std::runtime_error& e) {
    FAIL() << e.what();
  }
  auto base = fs::temp_directory_path() / ("lxcdn_image_builder_" + std::to_string(::getpid()));
  fs::remove_all(base);
  auto images = demo_images(1795780800);
  auto tiny = images.back();
  ASSERT_EQ(tiny.variant, "tiny");
  auto applets = parse_applet_list(run_tool(tools.busybox, {"--list-full"}));
  auto entries = rootfs_entries(tiny, applets, tools.busybox);

  std::vector<std::string> hashes;
  for (const char* run : {"a", "b"}) {
    auto built = build_image(tiny, entries, base / run / "www", base / run / "build", tools);
    EXPECT_EQ(built.metadata, image_directory(base / run / "www", tiny) / "incus.tar.xz");
    EXPECT_EQ(built.rootfs, image_directory(base / run / "www", tiny) / "rootfs.squashfs");
    EXPECT_FALSE(fs::exists(base / run / "build" / "busybox-1.35-amd64-tiny"));
    hashes.push_back(sha256_file(built.metadata) + sha256_file(built.rootfs));
  }
  EXPECT_EQ(hashes[0], hashes[1]);

  auto listing = run_tool(
      tools.tar, {"-tvJf", (image_directory(base / "a" / "www", tiny) / "incus.tar.xz").string()});
  EXPECT_NE(listing.find("metadata.yaml"), std::string::npos) << listing;
  EXPECT_NE(listing.find("templates/hostname.tpl"), std::string::npos) << listing;
  EXPECT_NE(listing.find("0/0"), std::string::npos) << listing;
  fs::remove_all(base);
}

}  // namespace
}  // namespace lxcdn::demo
