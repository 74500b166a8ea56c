#include "origin/root_dir.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace lxcdn::origin {
namespace {

namespace fs = std::filesystem;

// Reads `name` beneath the directory descriptor `dir`, as a request would.
std::string read_below(int dir, const char* name) {
  int fd = ::openat(dir, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return "<missing>";
  }
  char buf[64];
  auto n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
}

class RootDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lxcdn_root_dir_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    for (const char* gen : {"gen1", "gen2"}) {
      fs::create_directories(dir_ / gen);
      std::ofstream(dir_ / gen / "index.json") << gen;
    }
    fs::create_directory_symlink("gen1", dir_ / "current");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Switches `current` the way a publisher does: a new link renamed over the old one.
  void switch_to(const char* gen) {
    fs::create_directory_symlink(gen, dir_ / "current.new");
    fs::rename(dir_ / "current.new", dir_ / "current");
  }

  fs::path dir_;
};

TEST_F(RootDir, FollowsASymlinkSwitchOnTheNextCall) {
  root_dir root(dir_ / "current");
  EXPECT_EQ(read_below(root.current(), "index.json"), "gen1");
  EXPECT_EQ(read_below(root.current(), "index.json"), "gen1");
  switch_to("gen2");
  EXPECT_EQ(read_below(root.current(), "index.json"), "gen2");
  switch_to("gen1");
  EXPECT_EQ(read_below(root.current(), "index.json"), "gen1");
}

TEST_F(RootDir, ReusesItsDescriptorWhileThePathIsUnchanged) {
  root_dir root(dir_ / "current");
  int first = root.current();
  ASSERT_GE(first, 0);
  EXPECT_EQ(root.current(), first);
}

TEST_F(RootDir, TwoRootsOnOneThreadDoNotShareADescriptor) {
  root_dir a(dir_ / "gen1");
  root_dir b(dir_ / "gen2");
  EXPECT_EQ(read_below(a.current(), "index.json"), "gen1");
  EXPECT_EQ(read_below(b.current(), "index.json"), "gen2");
  EXPECT_EQ(read_below(a.current(), "index.json"), "gen1");
}

TEST_F(RootDir, MissingOrNonDirectoryPathIsAnError) {
  root_dir missing(dir_ / "nowhere");
  EXPECT_LT(missing.current(), 0);
  root_dir file(dir_ / "gen1" / "index.json");
  EXPECT_LT(file.current(), 0);
  // A root that disappears is reported, not served from a stale descriptor.
  root_dir root(dir_ / "current");
  ASSERT_GE(root.current(), 0);
  fs::remove(dir_ / "current");
  EXPECT_LT(root.current(), 0);
}

}  // namespace
}  // namespace lxcdn::origin
