#include "geoip/client_address.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace lxcdn::geoip {
namespace {

std::string client(const char* peer, std::vector<std::string_view> xff,
                   std::vector<const char*> trusted) {
  std::vector<ip_network> nets;
  for (const char* t : trusted) {
    nets.push_back(*parse_ip_network(t));
  }
  return to_string(client_address(*parse_ip_address(peer), xff, nets));
}

TEST(ClientAddress, PeerUnlessTrusted) {
  EXPECT_EQ(client("198.51.100.7", {}, {}), "198.51.100.7");
  // An untrusted peer cannot choose its location with a header.
  EXPECT_EQ(client("198.51.100.7", {"81.2.69.5"}, {}), "198.51.100.7");
  EXPECT_EQ(client("198.51.100.7", {"81.2.69.5"}, {"10.0.0.0/8"}), "198.51.100.7");
}

TEST(ClientAddress, WalksFromTheRightPastTrustedProxies) {
  EXPECT_EQ(client("10.0.0.1", {"81.2.69.5"}, {"10.0.0.0/8"}), "81.2.69.5");
  // The client wrote "1.1.1.1" itself; our proxies appended the rest.
  EXPECT_EQ(client("10.0.0.1", {"1.1.1.1, 81.2.69.5, 10.0.0.2"}, {"10.0.0.0/8"}), "81.2.69.5");
  EXPECT_EQ(client("10.0.0.1", {"1.1.1.1", "81.2.69.5,10.0.0.2"}, {"10.0.0.0/8"}), "81.2.69.5");
  EXPECT_EQ(client("::1", {"2001:db8::5"}, {"::1"}), "2001:db8::5");
  EXPECT_EQ(client("::ffff:10.0.0.1", {"81.2.69.5"}, {"10.0.0.0/8"}), "81.2.69.5");
  // Every hop trusted: the left-most is as far as we can see.
  EXPECT_EQ(client("10.0.0.1", {"10.0.0.3, 10.0.0.2"}, {"10.0.0.0/8"}), "10.0.0.3");
}

TEST(ClientAddress, PortsAndGarbage) {
  EXPECT_EQ(client("10.0.0.1", {"81.2.69.5:4711"}, {"10.0.0.0/8"}), "81.2.69.5");
  EXPECT_EQ(client("10.0.0.1", {"[2001:db8::5]:443"}, {"10.0.0.0/8"}), "2001:db8::5");
  EXPECT_EQ(client("10.0.0.1", {" 81.2.69.5 "}, {"10.0.0.0/8"}), "81.2.69.5");
  // Garbage where a trusted proxy wrote its client: stop at that proxy.
  EXPECT_EQ(client("10.0.0.1", {"81.2.69.5, unknown"}, {"10.0.0.0/8"}), "10.0.0.1");
  EXPECT_EQ(client("10.0.0.1", {"81.2.69.5, 10.0.0.2, "}, {"10.0.0.0/8"}), "10.0.0.1");
  EXPECT_EQ(client("10.0.0.1", {"81.2.69.5, _hidden, 10.0.0.2"}, {"10.0.0.0/8"}), "10.0.0.2");
}

// Arbitrary header bytes never crash the walk, and the answer is the peer or one of the listed
// addresses. Deterministic pseudo-random inputs; run under ASan/UBSan.
TEST(ClientAddress, ArbitraryHeaders) {
  std::mt19937 rng(7);
  const std::string alphabet = "0123456789abcdef.:,[] \t";
  const std::vector<ip_network> trusted{*parse_ip_network("10.0.0.0/8"), *parse_ip_network("::/0")};
  const auto peer = *parse_ip_address("10.0.0.1");
  for (int i = 0; i < 20000; ++i) {
    std::string h;
    const auto n = rng() % 40;
    for (unsigned k = 0; k < n; ++k) {
      h += alphabet[rng() % alphabet.size()];
    }
    std::vector<std::string_view> values{h};
    auto a = client_address(peer, values, trusted);
    ASSERT_TRUE(a == peer || h.find(to_string(a).substr(0, 1)) != std::string::npos) << h;
    (void)parse_ip_network(h);
  }
}

}  // namespace
}  // namespace lxcdn::geoip
