#include "geoip/ip_network.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace lxcdn::geoip {
namespace {

constexpr std::array<std::uint8_t, 12> v4_mapped_prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// The netmask's byte `i` for a prefix of `prefix` bits (of 128).
std::uint8_t mask_byte(unsigned prefix, unsigned i) {
  const unsigned bits = prefix > i * 8 ? std::min(8u, prefix - i * 8) : 0;
  return static_cast<std::uint8_t>(bits == 0 ? 0 : 0xff << (8 - bits));
}

}  // namespace

bool ip_address::is_v4() const {
  return std::equal(v4_mapped_prefix.begin(), v4_mapped_prefix.end(), bytes.begin());
}

ip_address ip_address::v4(const std::array<std::uint8_t, 4>& b) {
  ip_address a;
  std::copy(v4_mapped_prefix.begin(), v4_mapped_prefix.end(), a.bytes.begin());
  std::copy(b.begin(), b.end(), a.bytes.begin() + 12);
  return a;
}

std::optional<ip_address> parse_ip_address(std::string_view text) {
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) {
    return std::nullopt;
  }
  std::string s(text);  // inet_pton wants a NUL-terminated string
  std::array<std::uint8_t, 4> v4{};
  if (inet_pton(AF_INET, s.c_str(), v4.data()) == 1) {
    return ip_address::v4(v4);
  }
  ip_address a;
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
    return a;
  }
  return std::nullopt;
}

std::string to_string(const ip_address& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.is_v4()) {
    inet_ntop(AF_INET, a.bytes.data() + 12, buf, sizeof buf);
  } else {
    inet_ntop(AF_INET6, a.bytes.data(), buf, sizeof buf);
  }
  return buf;
}

bool ip_network::contains(const ip_address& a) const {
  for (unsigned i = 0; i < 16; ++i) {
    if ((a.bytes[i] & mask_byte(prefix, i)) != base.bytes[i]) {
      return false;
    }
  }
  return true;
}

ip_network network_of(const ip_address& a, unsigned prefix) {
  ip_network n{a, std::min(prefix, 128u)};
  for (unsigned i = 0; i < 16; ++i) {
    n.base.bytes[i] &= mask_byte(n.prefix, i);
  }
  return n;
}

std::optional<ip_network> parse_ip_network(std::string_view text) {
  auto slash = text.find('/');
  auto addr = parse_ip_address(text.substr(0, slash));
  if (!addr) {
    return std::nullopt;
  }
  const unsigned width = addr->is_v4() ? 32 : 128;
  unsigned len = width;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), len);
    if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size() || len > width) {
      return std::nullopt;
    }
  }
  return network_of(*addr, len + (128 - width));
}

std::string to_string(const ip_network& n) {
  const unsigned shown = n.base.is_v4() && n.prefix >= 96 ? n.prefix - 96 : n.prefix;
  return to_string(n.base) + "/" + std::to_string(shown);
}

}  // namespace lxcdn::geoip
