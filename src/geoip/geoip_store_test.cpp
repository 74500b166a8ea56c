#include "geoip/geoip_store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "core/config_error.hpp"
#include "geoip/test_databases.hpp"

namespace lxcdn::geoip {
namespace {

using testing::test_mmdb;
namespace fs = std::filesystem;

// A database file the test can replace: starts as a copy of `initial`.
struct live_file {
  fs::path path;
  explicit live_file(const char* initial) {
    path = testing::test_mmdb_dir() /
           (std::string("live-") + ::testing::UnitTest::GetInstance()->current_test_info()->name() +
            ".mmdb");
    replace_with(initial);
  }
  // Replaces the file the way geoipupdate does: write aside, then rename over it.
  void replace_with(const char* name) {
    fs::copy_file(test_mmdb(name), path.string() + ".tmp", fs::copy_options::overwrite_existing);
    fs::rename(path.string() + ".tmp", path);
  }
};

std::string country_of(const geoip_store& store, const char* address) {
  return store.current()->lookup(*parse_ip_address(address)).country;
}

geoip_settings settings_for(const fs::path& p) {
  geoip_settings s;
  s.database = p;
  return s;
}

TEST(GeoipStore, StartUpWithABrokenDatabaseFails) {
  EXPECT_THROW(geoip_store(settings_for(test_mmdb("truncated.mmdb"))), config_error);
}

TEST(GeoipStore, ReloadSwapsTheSnapshotAndReadersKeepTheirs) {
  live_file f("geoip2-city.mmdb");
  geoip_store store(settings_for(f.path));
  auto before = store.current();
  EXPECT_EQ(country_of(store, "81.2.69.1"), "GB");
  f.replace_with("country-flat.mmdb");
  EXPECT_EQ(store.reload(), "");
  EXPECT_EQ(country_of(store, "81.2.69.1"), "FR");
  // A request that started before the reload still sees the old data.
  EXPECT_EQ(before->lookup(*parse_ip_address("81.2.69.1")).country, "GB");
  EXPECT_EQ(store.failed_reloads(), 0u);
}

TEST(GeoipStore, BrokenReloadKeepsTheOldSnapshotAndSaysWhy) {
  live_file f("geoip2-city.mmdb");
  geoip_store store(settings_for(f.path));
  auto before = store.current();
  f.replace_with("garbage.mmdb");
  auto error = store.reload();
  EXPECT_EQ(error,
            f.path.string() +
                ": cannot open GeoIP database: The MaxMind DB file contains invalid metadata");
  EXPECT_EQ(store.current(), before);
  EXPECT_EQ(country_of(store, "81.2.69.1"), "GB");
  EXPECT_EQ(store.failed_reloads(), 1u);
}

TEST(GeoipStore, ReloadsOnlyWhenTheFileChanged) {
  live_file f("geoip2-city.mmdb");
  geoip_store store(settings_for(f.path));
  auto first = store.current();
  EXPECT_EQ(store.maybe_reload_if_changed().result, geoip_store::check_result::unchanged);
  EXPECT_EQ(store.current(), first);

  f.replace_with("country-v4.mmdb");
  auto r = store.maybe_reload_if_changed();
  EXPECT_EQ(r.result, geoip_store::check_result::reloaded);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(country_of(store, "81.2.69.1"), "NL");
  EXPECT_EQ(store.maybe_reload_if_changed().result, geoip_store::check_result::unchanged);

  // A broken version fails once, is not retried (nor logged again) while it stays the same...
  f.replace_with("truncated.mmdb");
  r = store.maybe_reload_if_changed();
  EXPECT_EQ(r.result, geoip_store::check_result::failed);
  EXPECT_NE(r.error.find("invalid metadata"), std::string::npos) << r.error;
  EXPECT_EQ(store.maybe_reload_if_changed().result, geoip_store::check_result::unchanged);
  EXPECT_EQ(country_of(store, "81.2.69.1"), "NL");
  EXPECT_EQ(store.failed_reloads(), 1u);

  // ...a missing file (mid-replacement) changes nothing, and the next good one is picked up.
  fs::remove(f.path);
  EXPECT_EQ(store.maybe_reload_if_changed().result, geoip_store::check_result::unchanged);
  f.replace_with("geoip2-city.mmdb");
  EXPECT_EQ(store.maybe_reload_if_changed().result, geoip_store::check_result::reloaded);
  EXPECT_EQ(country_of(store, "81.2.69.1"), "GB");
}

TEST(GeoipStore, ReloadWithNewSettings) {
  geoip_store store(settings_for(test_mmdb("geoip2-city.mmdb")));
  auto s = settings_for(test_mmdb("country-flat.mmdb"));
  s.overrides.push_back({*parse_ip_network("81.2.69.0/28"), "JP", "AS", geo_point{35, 139}});
  EXPECT_EQ(store.reload(s), "");
  EXPECT_EQ(country_of(store, "81.2.69.1"), "JP");
  EXPECT_EQ(country_of(store, "81.2.69.100"), "FR");
  // New settings naming a broken file: the old settings and data stay.
  EXPECT_NE(store.reload(settings_for(test_mmdb("empty.mmdb"))), "");
  EXPECT_EQ(country_of(store, "81.2.69.1"), "JP");
  // Without a database there is nothing to watch.
  geoip_store bare{geoip_settings{}};
  EXPECT_EQ(bare.maybe_reload_if_changed().result, geoip_store::check_result::unchanged);
}

}  // namespace
}  // namespace lxcdn::geoip
