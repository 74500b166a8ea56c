#include "geoip/ip_network.hpp"

#include <gtest/gtest.h>

namespace lxcdn::geoip {
namespace {

ip_address addr(const char* s) {
  auto a = parse_ip_address(s);
  EXPECT_TRUE(a) << s;
  return a.value_or(ip_address{});
}

TEST(IpAddress, ParsesBothFamiliesAndMapsIpv4) {
  EXPECT_EQ(to_string(addr("192.0.2.1")), "192.0.2.1");
  EXPECT_TRUE(addr("192.0.2.1").is_v4());
  EXPECT_EQ(addr("::ffff:192.0.2.1"), addr("192.0.2.1"));
  EXPECT_EQ(to_string(addr("::ffff:192.0.2.1")), "192.0.2.1");
  EXPECT_EQ(to_string(addr("2001:DB8:0:0::1")), "2001:db8::1");
  EXPECT_FALSE(addr("2001:db8::1").is_v4());
  EXPECT_EQ(ip_address::v4({127, 0, 0, 2}), addr("127.0.0.2"));
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "[::1]", "::1%lo", "1.2.3.4:80",
                          "example.org", " 1.2.3.4"}) {
    EXPECT_FALSE(parse_ip_address(bad)) << bad;
  }
}

TEST(IpNetwork, ParsesMasksAndPrints) {
  auto n = parse_ip_network("10.1.2.3/8");
  ASSERT_TRUE(n);
  EXPECT_EQ(to_string(*n), "10.0.0.0/8");
  EXPECT_EQ(n->prefix, 104u);
  EXPECT_EQ(to_string(*parse_ip_network("2001:db8:1:2::/32")), "2001:db8::/32");
  EXPECT_EQ(to_string(*parse_ip_network("127.0.0.2")), "127.0.0.2/32");
  EXPECT_EQ(to_string(*parse_ip_network("::1")), "::1/128");
  EXPECT_EQ(to_string(*parse_ip_network("0.0.0.0/0")), "0.0.0.0/0");
  EXPECT_EQ(to_string(*parse_ip_network("10.0.0.0/13")), "10.0.0.0/13");
  for (const char* bad : {"10.0.0.0/33", "2001:db8::/129", "10.0.0.0/", "10.0.0.0/x",
                          "10.0.0.0/8/8", "/8", "10.0.0.0/-1", "10.0.0.0/ 8"}) {
    EXPECT_FALSE(parse_ip_network(bad)) << bad;
  }
}

TEST(IpNetwork, Contains) {
  auto ten = *parse_ip_network("10.0.0.0/8");
  EXPECT_TRUE(ten.contains(addr("10.255.1.2")));
  EXPECT_TRUE(ten.contains(addr("::ffff:10.0.0.1")));
  EXPECT_FALSE(ten.contains(addr("11.0.0.1")));
  EXPECT_FALSE(ten.contains(addr("2001:db8::1")));
  auto odd = *parse_ip_network("192.0.2.64/27");
  EXPECT_TRUE(odd.contains(addr("192.0.2.95")));
  EXPECT_FALSE(odd.contains(addr("192.0.2.96")));
  EXPECT_FALSE(odd.contains(addr("192.0.2.63")));
  auto v6 = *parse_ip_network("2001:db8:100::/40");
  EXPECT_TRUE(v6.contains(addr("2001:db8:1ff::1")));
  EXPECT_FALSE(v6.contains(addr("2001:db8:200::1")));
  EXPECT_TRUE(parse_ip_network("::/0")->contains(addr("1.2.3.4")));
  EXPECT_TRUE(parse_ip_network("0.0.0.0/0")->contains(addr("1.2.3.4")));
  EXPECT_FALSE(parse_ip_network("0.0.0.0/0")->contains(addr("2001:db8::1")));
  EXPECT_EQ(network_of(addr("81.2.69.160"), 120), *parse_ip_network("81.2.69.0/24"));
}

}  // namespace
}  // namespace lxcdn::geoip
