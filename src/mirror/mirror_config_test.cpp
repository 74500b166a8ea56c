#include "mirror/mirror_config.hpp"

#include <gtest/gtest.h>

#include "core/config_error.hpp"

namespace lxcdn::mirror {
namespace {

const char* minimal = R"(upstream:
  url: https://images.example.net:8443/prefix/
cache:
  dir: cache
  max_size: 2G
  inactive: 1d
  valid:
    "404": 30s
listen:
  - address: "::"
    port: 80
)";

TEST(MirrorConfig, ParsesAndDerives) {
  auto c = parse_mirror_config(minimal, "/etc/lxcdn/mirror.yaml");
  EXPECT_EQ(c.upstream.host, "images.example.net");
  EXPECT_EQ(c.upstream.port, "8443");
  EXPECT_EQ(c.upstream.base_path, "/prefix");
  EXPECT_EQ(c.upstream.server_name, "images.example.net");
  EXPECT_EQ(c.cache.dir, "/etc/lxcdn/cache");
  EXPECT_EQ(c.cache.max_size, 2ull << 30);
  EXPECT_EQ(c.cache.inactive, std::chrono::hours(24));
  EXPECT_EQ(c.cache.valid.not_found, std::chrono::seconds(30));
  EXPECT_EQ(c.cache.valid.ok, std::chrono::hours(72));
  EXPECT_EQ(c.redirect_host, "images.example.net:8443/prefix");
}

std::string error_of(const std::string& yaml) {
  try {
    parse_mirror_config(yaml, "m.yaml");
  } catch (const config_error& e) {
    return e.what();
  }
  return "no error";
}

TEST(MirrorConfig, Errors) {
  EXPECT_EQ(error_of("upstream:\n  url: http://x\ncache:\n  dir: c\nlisten:\n  - address: ::1\n"
                     "    port: 1\n"),
            "m.yaml:2: upstream.url: 'http://x' must start with https:// (the mirror fills over "
            "verified TLS only)");
  EXPECT_EQ(error_of("upstream:\n  url: https://x\ncache:\n  dir: c\n  max_size: lots\nlisten:\n"
                     "  - address: ::1\n    port: 1\n"),
            "m.yaml:5: cache.max_size: expected a size like 100G, 512M or 4096, got 'lots'");
  EXPECT_EQ(error_of("upstream:\n  url: https://x\nlisten:\n  - address: ::1\n    port: 1\n"),
            "m.yaml: cache: missing required key");
  // An empty host would resolve to this machine: the mirror would fill from itself or nothing.
  for (const char* url : {"https://:8443/", "https://[]:8443"}) {
    EXPECT_EQ(error_of(std::string("upstream:\n  url: ") + url +
                       "\ncache:\n  dir: c\nlisten:\n  - address: ::1\n    port: 1\n"),
              std::string("m.yaml:2: upstream.url: '") + url + "' needs a host name")
        << url;
  }
}

}  // namespace
}  // namespace lxcdn::mirror
