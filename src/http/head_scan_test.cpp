#include "http/head_scan.hpp"

#include <gtest/gtest.h>

namespace lxcdn::http {
namespace {

head_scan scan(std::string_view bytes) {
  head_scan s;
  scan_head(bytes, s);
  return s;
}

TEST(HeadScan, CountsFieldLines) {
  EXPECT_EQ(field_lines(scan("GET / HTTP/1.1\r\nHost: x\r\n\r\n")), 1u);
  EXPECT_EQ(field_lines(scan("GET / HTTP/1.1\r\nHost: x\r\nA: b\r\nC: d\r\n\r\n")), 3u);
  EXPECT_EQ(field_lines(scan("GET / HTTP/1.0\r\n\r\n")), 0u);
  EXPECT_EQ(field_lines(scan("")), 0u);
  EXPECT_FALSE(scan("GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: a b\tc\r\n\r\n").obs_fold);
}

TEST(HeadScan, FindsObsFold) {
  EXPECT_TRUE(scan("GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n").obs_fold);
  EXPECT_TRUE(scan("GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n\tb\r\n\r\n").obs_fold);
  EXPECT_TRUE(scan("GET / HTTP/1.1\r\nTransfer-Encoding:\r\n chunked\r\n\r\n").obs_fold);
}

TEST(HeadScan, AddsConsecutivePieces) {
  // The parser may consume the request line first and the fields later.
  head_scan s;
  scan_head("GET / HTTP/1.1\r\n", s);
  scan_head("Host: x\r\nA: b\r\n\r\n", s);
  EXPECT_EQ(field_lines(s), 2u);
  EXPECT_FALSE(s.obs_fold);
  scan_head("X: a\r\n b\r\n", s);
  EXPECT_TRUE(s.obs_fold);
}

}  // namespace
}  // namespace lxcdn::http
