#include "demo/demo_config.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "mirror/mirror_config.hpp"
#include "origin/origin_config.hpp"

namespace lxcdn::demo {
namespace {

TEST(DemoConfig, OriginYamlHasRootListenersAndTls) {
  auto text = render_origin_yaml({.root = "/tmp/d: x/www",
                                  .host = "127.0.0.1",
                                  .https_port = 8443,
                                  .http_port = 8080,
                                  .certificate = "/tmp/d: x/tls/server.crt",
                                  .key = "/tmp/d: x/tls/server.key"});
  YAML::Node y = YAML::Load(text);
  EXPECT_EQ(y["root"].as<std::string>(), "/tmp/d: x/www");
  ASSERT_EQ(y["listen"].size(), 2u);
  EXPECT_EQ(y["listen"][0]["address"].as<std::string>(), "127.0.0.1");
  EXPECT_EQ(y["listen"][0]["port"].as<int>(), 8443);
  EXPECT_TRUE(y["listen"][0]["tls"].as<bool>());
  EXPECT_EQ(y["listen"][1]["port"].as<int>(), 8080);
  EXPECT_FALSE(y["listen"][1]["tls"].IsDefined());
  EXPECT_EQ(y["tls"]["certificate"].as<std::string>(), "/tmp/d: x/tls/server.crt");
  EXPECT_EQ(y["tls"]["key"].as<std::string>(), "/tmp/d: x/tls/server.key");
}

TEST(DemoConfig, OriginYamlListsMirrorsAndOverridesOnlyWhenAsked) {
  demo_origin_settings s{.root = "/d/www",
                         .host = "127.0.0.1",
                         .https_port = 8443,
                         .http_port = 8080,
                         .certificate = "/d/tls/server.crt",
                         .key = "/d/tls/server.key"};
  EXPECT_FALSE(YAML::Load(render_origin_yaml(s))["mirrors"].IsDefined());
  EXPECT_TRUE(origin::parse_origin_config(render_origin_yaml(s), "origin.yaml").mirrors.empty());
  s.mirrors = {{"a", "127.0.0.1:8444", "DE", "Frankfurt"}, {"b", "127.0.0.1:8445", "JP", "Tokyo"}};
  s.overrides = {{"127.0.0.0/8", "DE"}, {"127.0.0.3", "JP"}};
  s.ca_file = "/d/tls/ca.crt";
  auto config = origin::parse_origin_config(render_origin_yaml(s), "origin.yaml");
  EXPECT_EQ(config.root, "/d/www");
  ASSERT_EQ(config.mirrors.size(), 2u);
  EXPECT_EQ(config.mirrors[0].name, "a");
  EXPECT_EQ(config.mirrors[0].http_url, "http://127.0.0.1:8444");
  EXPECT_EQ(config.mirrors[0].https_url, "https://127.0.0.1:8444");
  EXPECT_EQ(config.mirrors[1].country, "JP");
  EXPECT_EQ(config.mirrors[1].place, "Tokyo");
  ASSERT_EQ(config.geoip.overrides.size(), 2u);
  EXPECT_EQ(config.health.ca_file, "/d/tls/ca.crt");
  EXPECT_EQ(config.health.interval, std::chrono::seconds(1));
}

TEST(DemoConfig, MirrorYamlIsAValidMirrorConfigFillingFromTheDemoOrigin) {
  auto text = render_mirror_yaml({.upstream_url = "https://127.0.0.1:8443",
                                  .ca_file = "/tmp/d: x/tls/ca.crt",
                                  .cache_dir = "/tmp/d: x/cache-a",
                                  .host = "127.0.0.1",
                                  .port = 8444,
                                  .certificate = "/tmp/d: x/tls/server.crt",
                                  .key = "/tmp/d: x/tls/server.key"});
  auto c = mirror::parse_mirror_config(text, "/tmp/d: x/mirror-a.yaml");
  EXPECT_EQ(c.upstream.url, "https://127.0.0.1:8443");
  EXPECT_EQ(c.upstream.port, "8443");
  EXPECT_EQ(c.upstream.ca_file, "/tmp/d: x/tls/ca.crt");
  EXPECT_EQ(c.cache.dir, "/tmp/d: x/cache-a");
  EXPECT_EQ(c.cache.max_size, 1ull << 30);
  ASSERT_EQ(c.server.listeners.size(), 1u);
  EXPECT_EQ(c.server.listeners[0].address, "127.0.0.1");
  EXPECT_EQ(c.server.listeners[0].port, 8444);
  EXPECT_TRUE(c.server.listeners[0].tls);
  EXPECT_EQ(c.server.tls.certificate, "/tmp/d: x/tls/server.crt");
  EXPECT_EQ(c.redirect_host, "127.0.0.1:8443");  // non-image paths go back to the demo origin
}

TEST(DemoConfig, CertificateHosts) {
  EXPECT_EQ(demo_certificate_hosts("127.0.0.1"),
            (std::vector<std::string>{"127.0.0.1", "::1", "localhost"}));
  EXPECT_EQ(demo_certificate_hosts("192.0.2.7"),
            (std::vector<std::string>{"127.0.0.1", "::1", "localhost", "192.0.2.7"}));
}

}  // namespace
}  // namespace lxcdn::demo
