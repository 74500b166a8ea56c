#include "core/sha256.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace lxcdn {
namespace {

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, CopyResumesFromPrefix) {
  sha256 a;
  a.update("ab");
  sha256 b = a;
  b.update("c");
  EXPECT_EQ(b.hex_digest(), sha256_hex("abc"));
  a.update("x");
  EXPECT_EQ(a.hex_digest(), sha256_hex("abx"));
}

TEST(Sha256, FileMatchesString) {
  auto p = std::filesystem::temp_directory_path() / "lxcdn_sha256_test";
  std::ofstream(p) << "abc";
  EXPECT_EQ(sha256_file(p), sha256_hex("abc"));
  std::filesystem::remove(p);
  EXPECT_THROW(sha256_file(p), std::system_error);
}

}  // namespace
}  // namespace lxcdn
