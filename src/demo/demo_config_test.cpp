#include "demo/demo_config.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

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

TEST(DemoConfig, CertificateHosts) {
  EXPECT_EQ(demo_certificate_hosts("127.0.0.1"),
            (std::vector<std::string>{"127.0.0.1", "::1", "localhost"}));
  EXPECT_EQ(demo_certificate_hosts("192.0.2.7"),
            (std::vector<std::string>{"127.0.0.1", "::1", "localhost", "192.0.2.7"}));
}

}  // namespace
}  // namespace lxcdn::demo
