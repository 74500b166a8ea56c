#include "simplestreams/gzip.hpp"

#include <gtest/gtest.h>

#include "simplestreams/test_support.hpp"

namespace lxcdn::simplestreams {
namespace {

TEST(Gzip, RoundTripsAndIsDeterministic) {
  std::string text;
  for (int i = 0; i < 5000; ++i) {
    text += "{\"debian:12:amd64:default\":" + std::to_string(i) + "},";
  }
  auto gz = gzip_compress(text);
  EXPECT_LT(gz.size(), text.size() / 4);
  EXPECT_EQ(testing::gunzip(gz), text);
  EXPECT_EQ(gzip_compress(text), gz);
}

TEST(Gzip, HeaderHasMagicNoNameAndMtimeZero) {
  auto gz = gzip_compress("x");
  ASSERT_GE(gz.size(), 10u);
  EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(gz[1]), 0x8b);
  EXPECT_EQ(gz[2], 8);                               // deflate
  EXPECT_EQ(gz[3], 0);                               // FLG: no name, no comment, no extra
  EXPECT_EQ(gz.substr(4, 4), std::string(4, '\0'));  // MTIME
}

TEST(Gzip, EmptyInput) {
  EXPECT_EQ(testing::gunzip(gzip_compress("")), "");
}

}  // namespace
}  // namespace lxcdn::simplestreams
