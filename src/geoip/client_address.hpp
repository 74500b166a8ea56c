#pragma once

#include <span>
#include <string_view>

#include "geoip/ip_network.hpp"

namespace lxcdn::geoip {

// The address to locate for a request. It is the socket peer, unless the peer is in `trusted`
// (settings.trusted_proxies): then X-Forwarded-For is read from the right, skipping addresses
// that are themselves trusted proxies, and the first untrusted one is the client. Entries the
// client wrote itself (to the left of it) are never believed. An entry that is not an address
// stops the walk at the last proxy that is trusted. `forwarded_for` holds the values of every
// X-Forwarded-For header in order (each may list several comma-separated addresses; "1.2.3.4:80"
// and "[2001:db8::1]:80" are accepted). Pure.
ip_address client_address(const ip_address& peer, std::span<const std::string_view> forwarded_for,
                          std::span<const ip_network> trusted);

}  // namespace lxcdn::geoip
