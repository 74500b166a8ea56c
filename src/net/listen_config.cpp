#include "net/listen_config.hpp"

#include <fmt/format.h>

#include <boost/asio/ip/address.hpp>

namespace lxcdn::net {

void parse_listen_config(yaml_map& top, server_config& out) {
  top.require("listen");
  auto listeners = top.children("listen");
  if (listeners.empty()) {
    top.fail("listen", "needs at least one listener");
  }
  bool any_tls = false;
  for (auto& l : listeners) {
    listener_config lc;
    l.require("address");
    l.get("address", lc.address);
    boost::system::error_code ec;
    boost::asio::ip::make_address(lc.address, ec);
    if (ec) {
      l.fail("address", fmt::format("not an IPv4 or IPv6 address: '{}'", lc.address));
    }
    l.require("port");
    l.get("port", lc.port);
    l.get("tls", lc.tls);
    l.finish();
    any_tls = any_tls || lc.tls;
    out.listeners.push_back(lc);
  }

  auto tls = top.child("tls");
  if (any_tls) {
    if (!top.has("tls")) {
      top.fail("listen", "a listener has tls: true but there is no tls: section");
    }
    tls.require("certificate");
    tls.require("key");
  }
  tls.get_path("certificate", out.tls.certificate);
  tls.get_path("key", out.tls.key);
  tls.get("session_tickets", out.tls.session_tickets);
  if (out.tls.session_tickets > 8) {
    tls.fail("session_tickets", "must be between 0 and 8");
  }
  tls.finish();

  top.get("threads", out.threads);

  auto limits = top.child("limits");
  auto& L = out.limits;
  limits.get("max_connections", L.max_connections);
  limits.get("max_header_bytes", L.max_header_bytes);
  limits.get("max_header_fields", L.max_header_fields);
  limits.get_duration("header_timeout", L.header_timeout);
  limits.get_duration("idle_timeout", L.idle_timeout);
  limits.get_duration("send_timeout", L.send_timeout);
  limits.get_duration("tls_handshake_timeout", L.tls_handshake_timeout);
  limits.get_duration("shutdown_grace", L.shutdown_grace);
  if (L.max_connections == 0) {
    limits.fail("max_connections", "must be at least 1");
  }
  if (L.max_header_bytes < 1024) {
    limits.fail("max_header_bytes", "must be at least 1024");
  }
  if (L.max_header_fields < 8) {
    limits.fail("max_header_fields", "must be at least 8");
  }
  limits.finish();
}

}  // namespace lxcdn::net
