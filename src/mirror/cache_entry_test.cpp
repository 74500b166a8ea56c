#include "mirror/cache_entry.hpp"

#include <gtest/gtest.h>

namespace lxcdn::mirror {
namespace {

TEST(CacheEntry, HeaderRoundTrip) {
  cache_meta m{"/images/a/20240101_05:24/rootfs.squashfs", 200, 12345, 1700000000,
               std::string(64, 'a'), ""};
  auto h = encode_cache_header(m);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->size(), cache_header_size);
  auto d = decode_cache_header(*h);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->key, m.key);
  EXPECT_EQ(d->status, 200u);
  EXPECT_EQ(d->size, 12345u);
  EXPECT_EQ(d->stored_at, 1700000000);
  EXPECT_EQ(d->sha256, m.sha256);
  cache_meta r{"/images/x", 302, 0, 5, "", "https://origin/images/x"};
  EXPECT_EQ(decode_cache_header(*encode_cache_header(r))->location, r.location);
}

TEST(CacheEntry, RefusesWhatCannotRoundTrip) {
  EXPECT_FALSE(encode_cache_header({"/a\nb", 200, 0, 0, "", ""}));
  EXPECT_FALSE(encode_cache_header({"/" + std::string(5000, 'a'), 200, 0, 0, "", ""}));
}

TEST(CacheEntry, RejectsCorruptHeaders) {
  auto good = *encode_cache_header({"/images/a", 200, 1, 2, "x", ""});
  EXPECT_FALSE(decode_cache_header(good.substr(0, 100)));
  auto bad_magic = good;
  bad_magic[0] = 'X';
  EXPECT_FALSE(decode_cache_header(bad_magic));
  auto bad_size = good;
  bad_size.replace(bad_size.find("size: 1"), 7, "size: z");
  EXPECT_FALSE(decode_cache_header(bad_size));
  EXPECT_FALSE(decode_cache_header(std::string(cache_header_size, '\0')));
  auto unknown = good;
  unknown.replace(unknown.find("location: "), 10, "locatioX: ");
  EXPECT_FALSE(decode_cache_header(unknown));
}

TEST(CacheEntry, FileNameIsSha256OfKey) {
  EXPECT_EQ(cache_file_name(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace lxcdn::mirror
