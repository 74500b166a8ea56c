#include "core/sha256_pair.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <string>

namespace lxcdn {
namespace {

// Sizes around the thread threshold and the chunk boundaries (128 KiB chunks; 1 MiB is eight):
// both states must equal plain hashes of the same bytes, with `b` continuing from a prefix (the
// metadata).
TEST(Sha256Pair, BothStatesMatchPlainHashes) {
  auto p = std::filesystem::temp_directory_path() / "lxcdn_sha256_pair_test";
  std::mt19937 rng(42);
  constexpr std::uint64_t mib = 1 << 20;
  for (std::uint64_t size : {std::uint64_t{0}, std::uint64_t{1}, mib - 1, mib, mib + 1, 2 * mib,
                             4 * mib, 5 * mib + 17, 9 * mib}) {
    std::string data(size, '\0');
    for (auto& c : data) {
      c = static_cast<char>(rng());
    }
    std::ofstream(p, std::ios::binary) << data;
    sha256 a;
    sha256 b;
    b.update("meta");
    std::uint64_t read = 0;
    ASSERT_FALSE(hash_file_into_both(p, a, b, &read)) << size;
    EXPECT_EQ(read, size);
    EXPECT_EQ(a.hex_digest(), sha256_hex(data)) << size;
    EXPECT_EQ(b.hex_digest(), sha256_hex("meta" + data)) << size;
  }
  std::filesystem::remove(p);
  sha256 a;
  sha256 b;
  EXPECT_EQ(hash_file_into_both(p, a, b), std::errc::no_such_file_or_directory);
}

}  // namespace
}  // namespace lxcdn
