#include "selection/redirect_url.hpp"

#include <gtest/gtest.h>

#include <random>

namespace lxcdn::selection {
namespace {

mirror fra() {
  mirror m;
  m.name = "eu-fra";
  m.http_url = "http://fra.mirror.example";
  m.https_url = "https://fra.mirror.example:8443/lxc";
  return m;
}

const std::vector<std::string_view> self{"images.example.org"};

std::string location(std::string_view scheme, std::string_view target, const mirror& m = fra()) {
  auto r = build_redirect(scheme, target, m, self);
  return r.refusal == redirect_refusal::none ? r.location : std::string(to_string(r.refusal));
}

TEST(RedirectUrl, KeepsSchemeAndTargetVerbatim) {
  const char* serial = "/images/debian/12/amd64/default/20240101_05:24/rootfs.squashfs";
  EXPECT_EQ(location("http", serial), std::string("http://fra.mirror.example") + serial);
  EXPECT_EQ(location("https", serial), std::string("https://fra.mirror.example:8443/lxc") + serial);
  // lxc-download's double slash and an escaped colon reach the mirror as the client sent them.
  EXPECT_EQ(
      location("http", "//images/debian/12/amd64/default/20240101_05%3A24/rootfs.tar.xz"),
      "http://fra.mirror.example//images/debian/12/amd64/default/20240101_05%3A24/rootfs.tar.xz");
  EXPECT_EQ(location("http", "/images//debian/x?x=1&y"),
            "http://fra.mirror.example/images//debian/x?x=1&y");
  // Absolute-form: the path is kept, the origin's authority is not.
  EXPECT_EQ(location("http", "http://images.example.org/images/debian/x"),
            "http://fra.mirror.example/images/debian/x");
}

TEST(RedirectUrl, OnlyImagesAreRedirected) {
  for (const char* t :
       {"/streams/v1/index.json", "/streams/v1/images.json", "/images", "/images/", "/imagesx/a",
        "/meta/1.0/index-system", "/", "/images/../streams/v1/index.json",
        "/images/%2e%2e/streams/v1/index.json", "/images/a%2Fb", "/images/.hidden", "*",
        "http://images.example.org", "/images/a\x01"}) {
    EXPECT_EQ(location("https", t), "not_images") << t;
    EXPECT_FALSE(is_redirectable_target(t)) << t;
  }
  EXPECT_TRUE(is_redirectable_target("/images/a"));
  EXPECT_TRUE(is_redirectable_target("//images//a"));
}

// The answer is kept per thread for the last target asked: asking again, or asking about a
// target that shares all but its end with the last one, must still get each target's own answer.
TEST(RedirectUrl, RepeatedAndNeighbouringTargetsGetTheirOwnAnswers) {
  const std::pair<const char*, bool> cases[] = {
      {"/images/a", true},          {"/images/a", true},
      {"/images/a/..", false},      {"/images/a/..", false},
      {"/images/a", true},          {"/images/", false},
      {"/images/b", true},          {"/streams/v1/index.json", false},
      {"/images/b", true},          {"/images/b%2F", false},
      {"/images/b", true},
  };
  for (auto [target, want] : cases) {
    EXPECT_EQ(is_redirectable_target(target), want) << target;
    EXPECT_EQ(location("https", target) != "not_images", want) << target;
  }
}

TEST(RedirectUrl, NeverSwitchesSchemeNorPointsAtItself) {
  auto m = fra();
  m.http_url.clear();
  EXPECT_EQ(location("http", "/images/a", m), "no_url_for_scheme");
  m = fra();
  m.http_url = "http://images.example.org";
  EXPECT_EQ(location("http", "/images/a", m), "points_at_self");
  EXPECT_TRUE(points_at_self("https://images.example.org", "https",
                             std::vector<std::string_view>{"Images.Example.ORG:443"}));
  EXPECT_TRUE(points_at_self("https://images.example.org:8443", "https", self));  // any port
  EXPECT_FALSE(points_at_self("https://images.example.org:8443", "https",
                              std::vector<std::string_view>{"images.example.org:443"}));
  EXPECT_TRUE(points_at_self("http://[::1]:8080", "http", std::vector<std::string_view>{"[::1]:8080"}));
  EXPECT_FALSE(points_at_self("http://mirror.example", "http", self));
}

TEST(BaseUrl, ParsesAndNormalises) {
  auto b = parse_base_url("HTTPS://Fra.Mirror.Example:443/lxc//", "https");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->text(), "https://fra.mirror.example/lxc");
  EXPECT_EQ(parse_base_url("http://m.example:8080", "http")->text(), "http://m.example:8080");
  EXPECT_EQ(parse_base_url("http://[2001:db8::1]:80/", "http")->text(), "http://[2001:db8::1]");
  EXPECT_EQ(parse_base_url("http://192.0.2.1/", "http")->authority, "192.0.2.1");
  for (const char* bad : {"https://m.example", "ftp://m.example", "http://", "http:///x",
                          "http://user@m.example", "http://m.example/?q", "http://m.example/#f",
                          "http://m.example:0", "http://m.example:99999", "http://m.example:x",
                          "http://m example", "m.example", "http://m_example"}) {
    EXPECT_FALSE(parse_base_url(bad, "http")) << bad;
  }
  EXPECT_EQ(normalize_authority("Images.Example.org:80", "http"), "images.example.org");
  EXPECT_EQ(normalize_authority("images.example.org:80", "https"), "images.example.org:80");
}

// Untrusted bytes in, never a crash, and a redirect only ever lands below the mirror's base with
// the target's own bytes after it. Deterministic pseudo-random inputs; run under ASan/UBSan.
TEST(RedirectUrl, ArbitraryTargetsAndBaseUrls) {
  std::mt19937 rng(4);
  const std::string alphabet = "/images.:%2eEfF?#@[]\\ \t\x01\x7f\xc3" "abc09";
  for (int i = 0; i < 20000; ++i) {
    std::string t = i % 3 ? "/images/" : "";
    const auto n = rng() % 24;
    for (unsigned k = 0; k < n; ++k) {
      t += alphabet[rng() % alphabet.size()];
    }
    auto r = build_redirect("https", t, fra(), self);
    if (r.refusal == redirect_refusal::none) {
      const std::string base = "https://fra.mirror.example:8443/lxc";
      ASSERT_EQ(r.location.substr(0, base.size()), base) << t;
      ASSERT_TRUE(t.ends_with(r.location.substr(base.size()))) << t;
      ASSERT_TRUE(is_redirectable_target(t));
    }
    (void)parse_base_url(t, "http");
    (void)normalize_authority(t, "https");
    (void)points_at_self("https://" + t, "https", std::vector<std::string_view>{t});
  }
}

}  // namespace
}  // namespace lxcdn::selection
