#include "http/target.hpp"

#include <gtest/gtest.h>

#include <utility>

namespace lxcdn::http {
namespace {

struct ok_case {
  const char* raw;
  const char* path;
};

TEST(NormalizeTarget, AcceptsAndNormalises) {
  const ok_case cases[] = {
      {"/", "/"},
      {"//", "/"},
      {"/streams/v1/index.json", "/streams/v1/index.json"},
      {"//images/debian//12/amd64/default/20240101_05:24//rootfs.tar.xz",
       "/images/debian/12/amd64/default/20240101_05:24/rootfs.tar.xz"},
      {"/images/x/20240101_05%3A24/a", "/images/x/20240101_05:24/a"},
      {"/images/x/20240101_05%3a24/a", "/images/x/20240101_05:24/a"},
      {"/a/./b/", "/a/b"},
      {"/a%20b", "/a b"},
      {"/a?x=1", "/a"},
      {"/a#frag", "/a"},
      {"http://example.net/images/a", "/images/a"},
      {"HTTPS://example.net", "/"},
      {"/%25", "/%"},
      {"/%252e%252e/x", "/%2e%2e/x"},
  };
  for (auto& c : cases) {
    auto t = normalize_target(c.raw);
    EXPECT_EQ(t.error, target_error::none) << c.raw;
    EXPECT_EQ(t.path, c.path) << c.raw;
  }
}

TEST(NormalizeTarget, KeepsQuerySeparately) {
  auto t = normalize_target("/images/a?cache-buster=1");
  EXPECT_EQ(t.path, "/images/a");
  EXPECT_EQ(t.query, "cache-buster=1");
}

struct bad_case {
  const char* raw;
  target_error error;
};

TEST(NormalizeTarget, RefusesEscapes) {
  const bad_case cases[] = {
      {"", target_error::not_origin_form},
      {"images/a", target_error::not_origin_form},
      {"*", target_error::not_origin_form},
      {"/..", target_error::traversal},
      {"/../etc/passwd", target_error::traversal},
      {"/a/../../etc/passwd", target_error::traversal},
      {"/%2e%2e/etc/passwd", target_error::traversal},
      {"/%2E%2E/etc/passwd", target_error::traversal},
      {"/.%2e/x", target_error::traversal},
      {"/%2e./x", target_error::traversal},
      {"/a%2f..%2f..%2fetc", target_error::encoded_slash},
      {"/a%2F..", target_error::encoded_slash},
      {"/a%5c..", target_error::encoded_slash},
      {"/a\\..\\b", target_error::control_char},
      {"/a%00b", target_error::control_char},
      {"/a%0d%0aSet-Cookie:x", target_error::control_char},
      {"/a%7f", target_error::control_char},
      {"/%", target_error::bad_encoding},
      {"/%2", target_error::bad_encoding},
      {"/%zz", target_error::bad_encoding},
      {"/.hidden", target_error::hidden},
      {"/streams/v1/.index.json.tmp.1", target_error::hidden},
      {"/%2ehtaccess", target_error::hidden},
  };
  for (auto& c : cases) {
    EXPECT_EQ(normalize_target(c.raw).error, c.error) << c.raw;
  }
}

TEST(OriginForm, StripsTheSchemeAndAuthorityOfAbsoluteForm) {
  const std::pair<const char*, const char*> cases[] = {
      {"/a?b", "/a?b"},
      {"http://evil.example/x?y", "/x?y"},
      {"HTTPS://evil.example:443/images/a", "/images/a"},
      {"http://evil.example", "/"},
      {"http://user@evil.example/a", "/a"},
      {"http://evil.example?/../x", ""},  // the authority ends at '?': no path
      {"http://evil.example#/x", ""},
      {"http:/x", "http:/x"},  // not absolute-form: left as is (and refused by the normaliser)
      {"*", "*"},
      {"", ""},
  };
  for (auto& [raw, want] : cases) {
    EXPECT_EQ(origin_form(raw), want) << raw;
  }
}

TEST(NormalizeTarget, AbsoluteFormWithoutAPathIsRefused) {
  EXPECT_EQ(normalize_target("http://x?/../secret").error, target_error::not_origin_form);
  EXPECT_EQ(normalize_target("http://x?/images/a").error, target_error::not_origin_form);
  EXPECT_EQ(normalize_target("http://x#/images/a").error, target_error::not_origin_form);
}

TEST(NormalizeTarget, RefusesOverlongTargets) {
  std::string raw = "/" + std::string(max_target_bytes, 'a');
  EXPECT_EQ(normalize_target(raw).error, target_error::too_long);
}

// The reusing form gives what normalize_target gives, whatever the target held before: a longer
// path, a query, an error.
TEST(NormalizeTargetInto, ReusedTargetHoldsNothingOfTheLastOne) {
  const char* sequence[] = {"/images/debian/12/amd64/default/20240101_05:24/rootfs.squashfs?x=1",
                            "/a",
                            "/images/%2e%2e/secret",
                            "/b?",
                            "/%zz",
                            "//",
                            "http://example.net/images/a?q",
                            "/images/c"};
  target reused;
  for (const char* raw : sequence) {
    SCOPED_TRACE(raw);
    normalize_target_into(raw, reused);
    const auto fresh = normalize_target(raw);
    EXPECT_EQ(reused.error, fresh.error);
    if (fresh.error == target_error::none) {
      EXPECT_EQ(reused.path, fresh.path);
      EXPECT_EQ(reused.query, fresh.query);
    }
  }
}

}  // namespace
}  // namespace lxcdn::http
