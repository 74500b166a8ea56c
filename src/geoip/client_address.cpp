#include "geoip/client_address.hpp"

#include <algorithm>
#include <optional>
#include <vector>

#include "core/text.hpp"

namespace lxcdn::geoip {
namespace {

// One X-Forwarded-For element: an address, optionally "[v6]:port" or "v4:port".
std::optional<ip_address> parse_hop(std::string_view s) {
  s = lxcdn::trim_ows(s);
  if (auto a = parse_ip_address(s)) {
    return a;
  }
  if (s.starts_with('[')) {
    auto close = s.find(']');
    return close == std::string_view::npos ? std::nullopt
                                           : parse_ip_address(s.substr(1, close - 1));
  }
  auto colon = s.find(':');
  if (colon != std::string_view::npos && s.find(':', colon + 1) == std::string_view::npos) {
    auto a = parse_ip_address(s.substr(0, colon));
    return (a && a->is_v4()) ? a : std::nullopt;
  }
  return std::nullopt;
}

bool is_trusted(const ip_address& a, std::span<const ip_network> trusted) {
  return std::any_of(trusted.begin(), trusted.end(),
                     [&](const ip_network& n) { return n.contains(a); });
}

}  // namespace

ip_address client_address(const ip_address& peer, std::span<const std::string_view> forwarded_for,
                          std::span<const ip_network> trusted) {
  std::vector<std::string_view> hops;
  for (auto value : forwarded_for) {
    while (true) {
      auto comma = value.find(',');
      hops.push_back(value.substr(0, comma));
      if (comma == std::string_view::npos) {
        break;
      }
      value.remove_prefix(comma + 1);
    }
  }
  ip_address client = peer;
  for (auto it = hops.rbegin(); it != hops.rend() && is_trusted(client, trusted); ++it) {
    auto hop = parse_hop(*it);
    if (!hop) {
      break;
    }
    client = *hop;
  }
  return client;
}

}  // namespace lxcdn::geoip
