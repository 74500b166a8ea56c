#include "core/atomic_file.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace lxcdn {
namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(AtomicFile, ReplacesAndLeavesNoTemp) {
  auto dir = std::filesystem::temp_directory_path() / "lxcdn_atomic_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  write_file_atomically(dir / "f.json", "one");
  write_file_atomically(dir / "f.json", "two");
  EXPECT_EQ(slurp(dir / "f.json"), "two");
  int entries = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir)) {
    ++entries;
  }
  EXPECT_EQ(entries, 1);
  EXPECT_THROW(write_file_atomically(dir / "missing" / "f", "x"), std::system_error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lxcdn
