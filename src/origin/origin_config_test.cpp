#include "origin/origin_config.hpp"

#include <gtest/gtest.h>

#include "core/config_error.hpp"

namespace lxcdn::origin {
namespace {

std::string error_of(const std::string& yaml) {
  try {
    parse_origin_config(yaml, "/etc/lxcdn/origin.yaml");
  } catch (const config_error& e) {
    return e.what();
  }
  return "no error";
}

TEST(OriginConfig, FullExample) {
  auto c = parse_origin_config(R"(root: /srv/www
listen:
  - address: "::"
    port: 443
    tls: true
  - address: 0.0.0.0
    port: 80
tls:
  certificate: certs/chain.pem
  key: /etc/key.pem
threads: 2
limits:
  max_connections: 50
  header_timeout: 2s
  shutdown_grace: 500ms
cache_control:
  streams: "no-cache"
access_log: true
)",
                               "/etc/lxcdn/origin.yaml");
  EXPECT_EQ(c.root, "/srv/www");
  ASSERT_EQ(c.server.listeners.size(), 2u);
  EXPECT_TRUE(c.server.listeners[0].tls);
  EXPECT_EQ(c.server.listeners[0].port, 443);
  EXPECT_EQ(c.server.listeners[1].address, "0.0.0.0");
  EXPECT_EQ(c.server.tls.certificate, "/etc/lxcdn/certs/chain.pem");
  EXPECT_EQ(c.server.threads, 2u);
  EXPECT_EQ(c.server.limits.max_connections, 50u);
  EXPECT_EQ(c.server.limits.header_timeout, std::chrono::seconds(2));
  EXPECT_EQ(c.server.limits.shutdown_grace, std::chrono::milliseconds(500));
  EXPECT_EQ(c.server.limits.idle_timeout, std::chrono::seconds(60));  // default kept
  EXPECT_EQ(c.cache_control.streams, "no-cache");
  EXPECT_EQ(c.cache_control.images, "public, max-age=31536000, immutable");
  EXPECT_TRUE(c.access_log);
}

TEST(OriginConfig, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(error_of("listen:\n  - address: 127.0.0.1\n    port: 80\n"),
            "/etc/lxcdn/origin.yaml: root: missing required key");
  EXPECT_EQ(error_of("root: /x\nlisten: []\n"),
            "/etc/lxcdn/origin.yaml:2: listen: needs at least one listener");
  EXPECT_EQ(error_of("root: /x\nlisten:\n  - address: localhost\n    port: 80\n"),
            "/etc/lxcdn/origin.yaml:3: listen[0].address: not an IPv4 or IPv6 address: "
            "'localhost'");
  EXPECT_EQ(error_of("root: /x\nlisten:\n  - address: ::1\n    port: 99999\n"),
            "/etc/lxcdn/origin.yaml:4: listen[0].port: expected a port number 0-65535, got "
            "'99999'");
  EXPECT_EQ(error_of("root: /x\nlisten:\n  - address: ::1\n    port: 443\n    tls: true\n"),
            "/etc/lxcdn/origin.yaml:2: listen: a listener has tls: true but there is no tls: "
            "section");
  EXPECT_EQ(error_of("root: /x\nlisten:\n  - address: ::1\n    port: 80\nlimits:\n  "
                     "idle_timeout: forever\n"),
            "/etc/lxcdn/origin.yaml:6: limits.idle_timeout: expected a duration like 10s, 500ms, "
            "2m, 1h or 3d, got 'forever'");
  EXPECT_EQ(error_of("root: /x\nlisten:\n  - address: ::1\n    port: 80\n    tsl: true\n"),
            "/etc/lxcdn/origin.yaml:5: listen[0].tsl: unknown key");
  EXPECT_EQ(error_of("root: /x\nlisten:\n  - address: ::1\n    port: 80\naccess_log: maybe\n"),
            "/etc/lxcdn/origin.yaml:5: access_log: expected true or false, got 'maybe'");
}

}  // namespace
}  // namespace lxcdn::origin
