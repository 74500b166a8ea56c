#include "http/conditional.hpp"

#include <gtest/gtest.h>

#include "http/http_date.hpp"

namespace lxcdn::http {
namespace {

const validators v{make_etag(1000, 1700000000), 1700000000};

TEST(Conditional, EtagShape) { EXPECT_EQ(make_etag(0x1f400, 0x65a1b2c3), "\"65a1b2c3-1f400\""); }

TEST(Conditional, IfNoneMatch) {
  EXPECT_TRUE(is_not_modified({.if_none_match = v.etag}, v));
  EXPECT_TRUE(is_not_modified({.if_none_match = "*"}, v));
  EXPECT_TRUE(is_not_modified({.if_none_match = "\"x\", W/" + v.etag}, v));
  EXPECT_FALSE(is_not_modified({.if_none_match = "\"other\""}, v));
  // If-None-Match wins over If-Modified-Since.
  EXPECT_FALSE(is_not_modified({.if_none_match = "\"other\"",
                                .if_modified_since = format_http_date(1800000000)}, v));
}

TEST(Conditional, IfModifiedSince) {
  EXPECT_TRUE(is_not_modified({.if_modified_since = format_http_date(1700000000)}, v));
  EXPECT_TRUE(is_not_modified({.if_modified_since = format_http_date(1700000001)}, v));
  EXPECT_FALSE(is_not_modified({.if_modified_since = format_http_date(1699999999)}, v));
  EXPECT_FALSE(is_not_modified({.if_modified_since = "yesterday"}, v));
  EXPECT_FALSE(is_not_modified({}, v));
}

TEST(Conditional, IfRange) {
  EXPECT_TRUE(if_range_allows({}, v));
  EXPECT_TRUE(if_range_allows({.if_range = v.etag}, v));
  EXPECT_FALSE(if_range_allows({.if_range = "W/" + v.etag}, v));
  EXPECT_FALSE(if_range_allows({.if_range = "\"other\""}, v));
  EXPECT_TRUE(if_range_allows({.if_range = format_http_date(1700000000)}, v));
  EXPECT_FALSE(if_range_allows({.if_range = format_http_date(1700000001)}, v));
}

TEST(HttpDate, RoundTripAndLegacyFormats) {
  EXPECT_EQ(format_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), 784111777);
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT junk"), std::nullopt);
  EXPECT_EQ(parse_http_date(""), std::nullopt);
}

}  // namespace
}  // namespace lxcdn::http
