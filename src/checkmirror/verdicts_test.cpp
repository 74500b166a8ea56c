#include "checkmirror/verdicts.hpp"

#include <gtest/gtest.h>

#include "core/sha256.hpp"

namespace lxcdn::checkmirror {
namespace {

using namespace std::chrono_literals;

const endpoint origin{"https", "images.example.net", 443, ""};
const std::string path = "/images/debian/12/amd64/default/20240101_05:24/incus.tar.xz";
const std::string body = "the image bytes";
const mirror::listed_file listed{body.size(), sha256_hex(body)};

probe_result served(std::string bytes, unsigned status = 200) {
  probe_result r;
  r.url = "http://m.example" + path;
  r.status = status;
  r.headers_seconds = 0.02;
  r.body_bytes = bytes.size();
  r.body_complete = true;
  r.body_sha256 = sha256_hex(bytes);
  return r;
}

probe_result refused() {
  probe_result r;
  r.url = "http://m.example/streams/v1/index.json";
  r.error = "connecting: Connection refused";
  return r;
}

probe_result redirected(unsigned status, std::string location) {
  probe_result r;
  r.url = "http://m.example/streams/v1/index.json";
  r.status = status;
  r.location = std::move(location);
  r.body_complete = true;
  return r;
}

TEST(ChooseProbeFiles, SmallestIsPrimaryMissIsAnotherSmallFile) {
  mirror::image_index index;
  for (int i = 0; i < 20; ++i) {
    index.files["/images/f" + std::to_string(i)] = {static_cast<std::uint64_t>(100 + i), "x"};
  }
  index.files["/images/tiny"] = {5, "y"};
  index.files["/images/also-5"] = {5, "z"};  // same size: the path breaks the tie
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    auto p = choose_probe_files(index, seed);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->primary, "/images/also-5");
    EXPECT_EQ(p->primary_file.sha256, "z");
    EXPECT_NE(p->miss, p->primary);
    EXPECT_LE(p->miss_file.size, 107u) << "miss must come from the 8 next-smallest files";
    EXPECT_EQ(index.files.at(p->miss).sha256, p->miss_file.sha256);
  }
  EXPECT_NE(choose_probe_files(index, 0)->miss, choose_probe_files(index, 1)->miss);
}

TEST(ChooseProbeFiles, OneFileServesAsBothEmptyIndexGivesNothing) {
  mirror::image_index one;
  one.files["/images/only"] = {7, "s"};
  auto p = choose_probe_files(one, 3);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->primary, "/images/only");
  EXPECT_EQ(p->miss, "/images/only");
  EXPECT_FALSE(choose_probe_files(mirror::image_index{}, 0));
}

TEST(OriginIndex, FailsWithTheReasonOrWhenEmpty) {
  EXPECT_TRUE(judge_origin_index(origin, "", 12).passed);
  auto bad = judge_origin_index(origin, "TLS handshake: certificate verify failed", 0);
  EXPECT_FALSE(bad.passed);
  EXPECT_NE(bad.detail.find("https://images.example.net/streams/v1/index.json"), std::string::npos);
  EXPECT_NE(bad.detail.find("certificate verify failed"), std::string::npos);
  EXPECT_FALSE(judge_origin_index(origin, "", 0).passed);
}

TEST(Reachable, AnyResponseHeadPassesATransportErrorFails) {
  EXPECT_TRUE(judge_reachable("http-reachable", redirected(302, "x")).passed);
  EXPECT_TRUE(judge_reachable("http-reachable", served("", 404)).passed);
  auto r = judge_reachable("http-reachable", refused());
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.name, "http-reachable");
  EXPECT_NE(r.detail.find("Connection refused"), std::string::npos);
}

TEST(Certificate, VerifiedTls13Passes) {
  probe_result r = redirected(302, "");
  EXPECT_FALSE(judge_certificate(r, "m.example").passed);  // no handshake at all
  r.tls = tls_facts{"TLSv1.3", true, "", 60};
  auto ok = judge_certificate(r, "m.example");
  EXPECT_TRUE(ok.passed);
  EXPECT_NE(ok.detail.find("expires in 60 days"), std::string::npos);

  r.tls = tls_facts{"TLSv1.3", false, "hostname mismatch", 60};
  auto wrong_name = judge_certificate(r, "m.example");
  EXPECT_FALSE(wrong_name.passed);
  EXPECT_NE(wrong_name.detail.find("hostname mismatch"), std::string::npos);

  r.tls = tls_facts{"TLSv1.2", true, "", 60};
  auto old = judge_certificate(r, "m.example");
  EXPECT_FALSE(old.passed);
  EXPECT_NE(old.detail.find("TLS 1.3"), std::string::npos);

  r.tls = tls_facts{"TLSv1.3", true, "", 3};
  EXPECT_NE(judge_certificate(r, "m.example").detail.find("renew soon"), std::string::npos);
}

TEST(Redirect, ExpectedLocationKeepsSchemeAndNamesTheOriginsPortUnless443) {
  EXPECT_EQ(expected_location(origin, "http", "/streams/v1/index.json"),
            "http://images.example.net/streams/v1/index.json");
  endpoint test_origin{"https", "::1", 8443, "/base"};
  EXPECT_EQ(expected_location(test_origin, "https", "/x"), "https://[::1]:8443/base/x");
}

TEST(Redirect, Only302ToTheOriginPasses) {
  const std::string t = "/streams/v1/index.json";
  struct row {
    probe_result r;
    bool passed;
    const char* says;
  };
  for (const auto& [r, passed, says] : std::initializer_list<row>{
           {redirected(302, "http://images.example.net" + t), true, "302"},
           {redirected(302, "https://images.example.net" + t), true, "302"},  // upgrade is fine
           {redirected(302, "http://evil.example" + t), false, "evil.example"},
           {redirected(302, "http://images.example.net/"), false, "expected 302 to"},
           {redirected(301, "http://images.example.net" + t), false, "HTTP 301"},
           {served("{}", 200), false, "only the origin may serve the index"},
           {served("", 404), false, "HTTP 404"},
           {refused(), false, "Connection refused"},
       }) {
    auto c = judge_redirect("redirect-http", r, origin, "http", t);
    EXPECT_EQ(c.passed, passed) << r.location << " " << c.detail;
    EXPECT_NE(c.detail.find(says), std::string::npos) << c.detail;
  }
}

TEST(Image, RightBytesPassEveryDifferenceFailsWithIt) {
  auto good = judge_image("image-http", served(body), path, listed);
  EXPECT_TRUE(good.passed) << good.detail;

  auto corrupt = judge_image("image-http", served("the image bytez"), path, listed);
  EXPECT_FALSE(corrupt.passed);
  EXPECT_NE(corrupt.detail.find("sha256"), std::string::npos);

  auto shorter = judge_image("image-http", served("the image"), path, listed);
  EXPECT_FALSE(shorter.passed);
  EXPECT_NE(shorter.detail.find("9 bytes served, the index lists 15"), std::string::npos);

  auto cut = served("the im");
  cut.body_complete = false;
  cut.body_error = "partial message";
  auto broken = judge_image("image-https", cut, path, listed);
  EXPECT_FALSE(broken.passed);
  EXPECT_NE(broken.detail.find("broke off after 6 of 15"), std::string::npos);

  auto missing = judge_image("image-http", served("not found\n", 404), path, listed);
  EXPECT_FALSE(missing.passed);
  EXPECT_NE(missing.detail.find("HTTP 404"), std::string::npos);

  EXPECT_FALSE(judge_image("image-http", refused(), path, listed).passed);
}

TEST(FastMiss, HeadersUnderTheLimitAndRightBytesPass) {
  auto r = served(body);
  r.x_cache = "MISS";
  r.headers_seconds = 0.25;
  auto ok = judge_fast_miss(r, path, listed, 5s);
  EXPECT_TRUE(ok.passed) << ok.detail;
  ASSERT_TRUE(ok.seconds);
  EXPECT_DOUBLE_EQ(*ok.seconds, 0.25);
  EXPECT_NE(ok.detail.find("0.250 s"), std::string::npos);
  EXPECT_NE(ok.detail.find("MISS"), std::string::npos);

  r.headers_seconds = 5.0;
  auto slow = judge_fast_miss(r, path, listed, 5s);
  EXPECT_FALSE(slow.passed);
  EXPECT_NE(slow.detail.find("stream a miss"), std::string::npos);

  r.headers_seconds = 0.1;
  r.body_sha256 = sha256_hex("other");
  EXPECT_FALSE(judge_fast_miss(r, path, listed, 5s).passed);

  auto hit = served(body);
  hit.x_cache = "HIT";
  auto h = judge_fast_miss(hit, path, listed, 5s);
  EXPECT_TRUE(h.passed);
  EXPECT_NE(h.detail.find("measured a hit"), std::string::npos);

  EXPECT_FALSE(judge_fast_miss(served("", 502), path, listed, 5s).passed);
  EXPECT_FALSE(judge_fast_miss(refused(), path, listed, 5s).passed);
}

probe_result status_body(std::string json) {
  auto r = served(json);
  r.body = std::move(json);
  return r;
}

TEST(Status, LxcdnMirrorMustHaveItsUpstreamReachable) {
  auto ok = judge_status(status_body(
      R"({"version":"0.1.0","upstream":{"url":"https://o","reachable":true,"last_error":""},)"
      R"("cache":{"bytes":1048576,"max_size":107374182400},"fills_in_progress":0,)"
      R"("certificate_days_left":29,"integrity_failures":0})"));
  EXPECT_TRUE(ok.passed);
  EXPECT_TRUE(ok.required);
  EXPECT_NE(ok.detail.find("lxcdn 0.1.0"), std::string::npos);
  EXPECT_NE(ok.detail.find("1.0 MiB of 100.0 GiB"), std::string::npos);
  EXPECT_NE(ok.detail.find("29 days"), std::string::npos);

  auto down = judge_status(status_body(
      R"({"version":"0.1.0","upstream":{"url":"https://o","reachable":false,)"
      R"("last_error":"index.json: Connection refused"}})"));
  EXPECT_FALSE(down.passed);
  EXPECT_TRUE(down.required);
  EXPECT_NE(down.detail.find("NOT reachable (index.json: Connection refused)"), std::string::npos);
}

TEST(Status, AnythingElseIsNotApplicableAndNotRequired) {
  for (const auto& r : {redirected(302, "http://images.example.net/.lxcdn/status"),
                        status_body("<html>hello</html>"), status_body(R"({"other":1})"),
                        refused()}) {
    auto c = judge_status(r);
    EXPECT_TRUE(c.passed);
    EXPECT_FALSE(c.required);
    EXPECT_NE(c.detail.find("not an lxcdn mirror"), std::string::npos) << c.detail;
  }
}

}  // namespace
}  // namespace lxcdn::checkmirror
