#include "mirror/cache_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "core/sha256.hpp"

namespace lxcdn::mirror {
namespace {

namespace fs = std::filesystem;

class CacheStore : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lxcdn_cache_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    config_.dir = dir_;
    config_.max_size = 3 * (cache_header_size + 100);
    config_.inactive = std::chrono::hours(1);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void put(cache_store& s, const std::string& key, const std::string& body) {
    auto [fd, temp] = s.create_temp();
    ASSERT_TRUE(fd);
    ASSERT_EQ(::pwrite(fd.get(), body.data(), body.size(), cache_header_size),
              static_cast<ssize_t>(body.size()));
    ASSERT_FALSE(s.commit(temp, fd.get(), {key, 200, body.size(), now_, sha256_hex(body), ""}));
  }

  fs::path dir_;
  cache_config config_;
  std::int64_t now_ = 1000;
  clock_fn clock_ = [this] { return now_; };
};

TEST_F(CacheStore, CommitThenLookupSurvivesRestart) {
  {
    cache_store s(config_, clock_);
    s.open();
    put(s, "/images/a", std::string(100, 'a'));
    auto hit = s.lookup("/images/a");
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->meta.size, 100u);
    EXPECT_EQ(hit->file.base, cache_header_size);
  }
  std::ofstream(dir_ / "tmp" / "leftover") << "half a fill";
  cache_store s(config_, clock_);
  s.open();
  EXPECT_FALSE(fs::exists(dir_ / "tmp" / "leftover"));
  EXPECT_TRUE(s.lookup("/images/a"));
  EXPECT_FALSE(s.lookup("/images/b"));
}

TEST_F(CacheStore, CorruptBodyIsDroppedNotServed) {
  {
    cache_store s(config_, clock_);
    s.open();
    put(s, "/images/a", std::string(100, 'a'));
  }
  auto path = dir_ / "objects" / cache_file_name("/images/a").substr(0, 2) /
              cache_file_name("/images/a");
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(cache_header_size + 50);
    f.put('X');
  }
  cache_store s(config_, clock_);
  s.open();
  EXPECT_FALSE(s.lookup("/images/a"));
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(s.stats().integrity_failures, 1u);
}

TEST_F(CacheStore, EvictsLeastRecentlyUsedPastMaxSize) {
  cache_store s(config_, clock_);
  s.open();
  put(s, "/images/1", std::string(100, '1'));
  put(s, "/images/2", std::string(100, '2'));
  put(s, "/images/3", std::string(100, '3'));
  ASSERT_TRUE(s.lookup("/images/1"));  // 2 is now the least recently used
  put(s, "/images/4", std::string(100, '4'));
  EXPECT_TRUE(s.lookup("/images/1"));
  EXPECT_FALSE(s.lookup("/images/2"));
  EXPECT_TRUE(s.lookup("/images/3"));
  EXPECT_TRUE(s.lookup("/images/4"));
  EXPECT_EQ(s.stats().evictions, 1u);
  EXPECT_LE(s.stats().bytes, config_.max_size);
}

TEST_F(CacheStore, InactiveEntriesExpire) {
  cache_store s(config_, clock_);
  s.open();
  put(s, "/images/old", "x");
  now_ += 1800;
  put(s, "/images/new", "y");
  now_ += 1800;  // old: idle 1 h; new: idle 30 min
  EXPECT_EQ(s.sweep(), 1u);
  EXPECT_FALSE(s.lookup("/images/old"));
  EXPECT_TRUE(s.lookup("/images/new"));
}

TEST_F(CacheStore, PurgeRemoves) {
  cache_store s(config_, clock_);
  s.open();
  put(s, "/images/a", "x");
  EXPECT_TRUE(s.remove("/images/a"));
  EXPECT_FALSE(s.remove("/images/a"));
  EXPECT_FALSE(s.lookup("/images/a"));
}

}  // namespace
}  // namespace lxcdn::mirror
