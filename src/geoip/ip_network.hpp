#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lxcdn::geoip {

// An IPv4 or IPv6 address. IPv4 is held as IPv4-mapped IPv6 (::ffff:a.b.c.d, RFC 4291 §2.5.5.2),
// so "192.0.2.1" and "::ffff:192.0.2.1" are the same address, as a dual-stack socket reports
// IPv4 peers either way. A value.
struct ip_address {
  std::array<std::uint8_t, 16> bytes{};

  bool is_v4() const;  // IPv4 or IPv4-mapped
  static ip_address v4(const std::array<std::uint8_t, 4>& b);
  static ip_address v6(const std::array<std::uint8_t, 16>& b) { return ip_address{b}; }

  friend bool operator==(const ip_address&, const ip_address&) = default;
};

// Parses "192.0.2.1", "2001:db8::1" or "::ffff:192.0.2.1" (no brackets, ports or zone ids).
// Returns nullopt for anything else. Pure.
std::optional<ip_address> parse_ip_address(std::string_view text);

// "192.0.2.1" for IPv4 (mapped or not), RFC 5952 text for IPv6.
std::string to_string(const ip_address& a);

// A network in CIDR notation. `prefix` counts bits of the 128-bit form, so IPv4 /24 is 120;
// `base` has every bit past the prefix cleared. A value.
struct ip_network {
  ip_address base;
  unsigned prefix = 128;

  bool contains(const ip_address& a) const;
  friend bool operator==(const ip_network&, const ip_network&) = default;
};

// The network of `prefix` bits (128-bit terms, at most 128) that holds `a`.
ip_network network_of(const ip_address& a, unsigned prefix);

// Parses "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128). Bits past the prefix
// are cleared ("10.1.2.3/8" is 10.0.0.0/8). Returns nullopt for a malformed address or a prefix
// longer than the family allows. Pure.
std::optional<ip_network> parse_ip_network(std::string_view text);

// "10.0.0.0/8" or "2001:db8::/32": IPv4 networks in IPv4 notation.
std::string to_string(const ip_network& n);

}  // namespace lxcdn::geoip
