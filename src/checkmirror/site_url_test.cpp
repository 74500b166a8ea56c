#include "checkmirror/site_url.hpp"

#include <gtest/gtest.h>

namespace lxcdn::checkmirror {
namespace {

TEST(SiteUrl, ParsesWhatUsersType) {
  struct row {
    const char* text;
    std::optional<std::string> scheme;
    std::string host;
    std::optional<std::uint16_t> port;
    std::string path;
  };
  for (const auto& r : std::initializer_list<row>{
           {"lxd-images.example.net", std::nullopt, "lxd-images.example.net", std::nullopt, ""},
           {"mirror.example:8443", std::nullopt, "mirror.example", 8443, ""},
           {"https://mirror.example/", "https", "mirror.example", std::nullopt, ""},
           {"HTTP://127.0.0.1:8080", "http", "127.0.0.1", 8080, ""},
           {"https://[::1]:8443", "https", "::1", 8443, ""},
           {"[2001:db8::7]", std::nullopt, "2001:db8::7", std::nullopt, ""},
           {"https://origin.example/prefix/", "https", "origin.example", std::nullopt, "/prefix"},
       }) {
    std::string error;
    auto u = parse_site_url(r.text, error);
    ASSERT_TRUE(u) << r.text << ": " << error;
    EXPECT_EQ(u->scheme, r.scheme) << r.text;
    EXPECT_EQ(u->host, r.host) << r.text;
    EXPECT_EQ(u->port, r.port) << r.text;
    EXPECT_EQ(u->path, r.path) << r.text;
  }
}

TEST(SiteUrl, RefusesMalformedInput) {
  for (const char* text : {"", "ftp://host", "user@host", "host:0", "host:65536", "host:80x",
                           "host:", "[::1", "[::1]x", "::1", "host/?q=1", "https://"}) {
    std::string error;
    EXPECT_FALSE(parse_site_url(text, error)) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
}

TEST(SiteUrl, MirrorWithoutPortUsesDefaultPortsWithPortUsesItForBothSchemes) {
  std::string error;
  auto plain = mirror_endpoints_for(*parse_site_url("mirror.example", error), {}, {});
  EXPECT_EQ(plain.http.url(), "http://mirror.example");
  EXPECT_EQ(plain.https.url(), "https://mirror.example");
  EXPECT_EQ(plain.https.port, 443);

  // The origin's redirect keeps the scheme and names one HOST:PORT.
  auto ported = mirror_endpoints_for(*parse_site_url("https://[::1]:8443", error), {}, {});
  EXPECT_EQ(ported.http.url(), "http://[::1]:8443");
  EXPECT_EQ(ported.https.url(), "https://[::1]:8443");

  auto overridden = mirror_endpoints_for(*parse_site_url("127.0.0.1", error), 8080, 8443);
  EXPECT_EQ(overridden.http.authority(), "127.0.0.1:8080");
  EXPECT_EQ(overridden.https.authority(), "127.0.0.1:8443");

  auto prefixed = mirror_endpoints_for(*parse_site_url("ams.mirror.example/lxc/", error), {}, {});
  EXPECT_EQ(prefixed.http.url(), "http://ams.mirror.example/lxc");
  EXPECT_EQ(prefixed.https.base_path, "/lxc");
}

TEST(SiteUrl, EndpointForSchemeTakesAMirrorListEntry) {
  std::string error;
  auto e = endpoint_for_scheme(*parse_site_url("https://ams.mirror.example/lxc/", error), "https",
                               error);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->port, 443);
  EXPECT_EQ(e->url(), "https://ams.mirror.example/lxc");
  auto h = endpoint_for_scheme(*parse_site_url("http://fra.mirror.example:8080", error), "http",
                               error);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->port, 8080);
  EXPECT_FALSE(endpoint_for_scheme(*parse_site_url("https://x.example", error), "http", error));
  EXPECT_EQ(error, "must start with http://");
  EXPECT_FALSE(endpoint_for_scheme(*parse_site_url("x.example", error), "https", error));
}

TEST(SiteUrl, OriginMustBeHttps) {
  std::string error;
  auto o = origin_endpoint_for(*parse_site_url("images.example.net", error), error);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->url(), "https://images.example.net");
  auto p = origin_endpoint_for(*parse_site_url("https://127.0.0.1:8443/base/", error), error);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->url(), "https://127.0.0.1:8443/base");
  EXPECT_FALSE(origin_endpoint_for(*parse_site_url("http://images.example.net", error), error));
  EXPECT_NE(error.find("https"), std::string::npos);
}

TEST(SiteUrl, EncodePathKeepsPcharAndEscapesTheRest) {
  EXPECT_EQ(encode_path("/images/debian/12/amd64/default/20240101_05:24/incus.tar.xz"),
            "/images/debian/12/amd64/default/20240101_05:24/incus.tar.xz");
  EXPECT_EQ(encode_path("/a b/%/?#\x01\xc3\xa9"), "/a%20b/%25/%3F%23%01%C3%A9");
}

}  // namespace
}  // namespace lxcdn::checkmirror
