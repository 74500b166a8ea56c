#include "checkmirror/verdicts.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>

#include <algorithm>
#include <vector>

namespace lxcdn::checkmirror {

namespace json = boost::json;

namespace {

std::string human_bytes(std::uint64_t n) {
  constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  std::size_t u = 0;
  while (v >= 1024 && u + 1 < std::size(units)) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", n) : fmt::format("{:.1f} {}", v, units[u]);
}

std::string seconds_text(double s) { return fmt::format("{:.3f} s", s); }

std::string cache_note(const probe_result& r) {
  return r.x_cache.empty() ? "" : " (X-Cache: " + r.x_cache + ")";
}

check_result pass(std::string name, std::string detail) {
  return {std::move(name), true, std::move(detail)};
}
check_result fail(std::string name, std::string detail) {
  return {std::move(name), false, std::move(detail)};
}

// The body of `r` against what the index lists; empty if it matches.
std::string body_mismatch(const probe_result& r, const mirror::listed_file& listed) {
  if (!r.body_complete) {
    return fmt::format("body broke off after {} of {} bytes: {}", r.body_bytes, listed.size,
                       r.body_error.empty() ? "connection closed" : r.body_error);
  }
  if (r.body_bytes != listed.size) {
    return fmt::format("{} bytes served, the index lists {}", r.body_bytes, listed.size);
  }
  if (r.body_sha256 != listed.sha256) {
    return fmt::format("sha256 {} served, the index lists {}", r.body_sha256, listed.sha256);
  }
  return "";
}

const json::value* at(const json::value& v, std::initializer_list<std::string_view> keys) {
  const json::value* cur = &v;
  for (auto k : keys) {
    auto* obj = cur->if_object();
    cur = obj ? obj->if_contains(k) : nullptr;
    if (!cur) {
      return nullptr;
    }
  }
  return cur;
}

std::optional<std::uint64_t> number_at(const json::value& v,
                                       std::initializer_list<std::string_view> keys) {
  auto* p = at(v, keys);
  if (p && p->is_int64() && p->as_int64() >= 0) {
    return static_cast<std::uint64_t>(p->as_int64());
  }
  if (p && p->is_uint64()) {
    return p->as_uint64();
  }
  return std::nullopt;
}

}  // namespace

std::optional<probe_files> choose_probe_files(const mirror::image_index& index,
                                              std::uint64_t seed) {
  if (index.files.empty()) {
    return std::nullopt;
  }
  std::vector<std::pair<std::uint64_t, std::string>> by_size;
  by_size.reserve(index.files.size());
  for (const auto& [path, f] : index.files) {
    by_size.emplace_back(f.size, path);
  }
  std::ranges::sort(by_size);
  probe_files p;
  p.primary = by_size[0].second;
  p.primary_file = index.files.at(p.primary);
  const std::size_t others = std::min<std::size_t>(by_size.size() - 1, 8);
  p.miss = others == 0 ? p.primary : by_size[1 + seed % others].second;
  p.miss_file = index.files.at(p.miss);
  return p;
}

check_result judge_origin_index(const endpoint& origin, const std::string& error,
                                std::size_t files) {
  const std::string where = origin.url() + "/streams/v1/index.json";
  if (!error.empty()) {
    return fail("origin-index", "cannot read the origin's index " + where + ": " + error);
  }
  if (files == 0) {
    return fail("origin-index", where + " lists no image files");
  }
  return pass("origin-index", fmt::format("{} lists {} files (verified TLS 1.3)", where, files));
}

check_result judge_reachable(std::string name, const probe_result& r) {
  if (!r.error.empty()) {
    return fail(std::move(name), r.url + ": " + r.error);
  }
  std::string tls = r.tls ? " over " + r.tls->version : "";
  return pass(std::move(name),
              fmt::format("{} answered HTTP {}{} in {}", r.url, r.status, tls,
                          seconds_text(r.headers_seconds)));
}

check_result judge_certificate(const probe_result& r, const std::string& host) {
  const std::string name = "https-certificate";
  if (!r.tls) {
    return fail(name, "no TLS handshake with " + r.url + ": " + r.error);
  }
  if (!r.tls->verified) {
    return fail(name, "certificate not valid for " + host + ": " + r.tls->verify_error);
  }
  if (r.tls->version != "TLSv1.3") {
    return fail(name, "negotiated " + r.tls->version + "; LXD requires TLS 1.3");
  }
  std::string expiry =
      r.tls->days_left ? fmt::format(", expires in {} days", *r.tls->days_left) : "";
  if (r.tls->days_left && *r.tls->days_left < 14) {
    expiry += " (renew soon)";
  }
  return pass(name, "valid for " + host + ", TLSv1.3" + expiry);
}

std::string expected_location(const endpoint& origin, std::string_view scheme,
                              std::string_view target) {
  std::string host = origin.host.find(':') != std::string::npos ? "[" + origin.host + "]"
                                                                 : origin.host;
  if (origin.port != 443) {
    host += ":" + std::to_string(origin.port);
  }
  return fmt::format("{}://{}{}{}", scheme, host, origin.base_path, target);
}

check_result judge_redirect(std::string name, const probe_result& r, const endpoint& origin,
                            std::string_view scheme, std::string_view target) {
  const std::string expected = expected_location(origin, scheme, target);
  if (!r.error.empty()) {
    return fail(std::move(name), r.url + ": " + r.error);
  }
  if (r.status == 200) {
    return fail(std::move(name),
                fmt::format("{} served it itself (HTTP 200); only the origin may serve the "
                            "index: answer 302 to {}",
                            r.url, expected));
  }
  const std::string https_form = expected_location(origin, "https", target);
  const bool right_place = r.location == expected || r.location == https_form;
  if (r.status != 302 || !right_place) {
    return fail(std::move(name),
                fmt::format("{} answered HTTP {}{}; expected 302 to {}", r.url, r.status,
                            r.location.empty() ? "" : " to " + r.location, expected));
  }
  return pass(std::move(name), fmt::format("{} -> 302 {}", r.url, r.location));
}

check_result judge_image(std::string name, const probe_result& r, const std::string& path,
                         const mirror::listed_file& listed) {
  if (!r.error.empty()) {
    return fail(std::move(name), r.url + ": " + r.error);
  }
  if (r.status != 200) {
    return fail(std::move(name),
                fmt::format("{} answered HTTP {}{}; expected 200", r.url, r.status,
                            r.location.empty() ? "" : " to " + r.location));
  }
  if (auto why = body_mismatch(r, listed); !why.empty()) {
    return fail(std::move(name), path + ": " + why + cache_note(r));
  }
  return pass(std::move(name), fmt::format("{}: {} bytes, sha256 matches the index{}", r.url,
                                           r.body_bytes, cache_note(r)));
}

check_result judge_fast_miss(const probe_result& r, const std::string& path,
                             const mirror::listed_file& listed, std::chrono::milliseconds limit) {
  const std::string name = "fast-miss";
  const double limit_s = std::chrono::duration<double>(limit).count();
  if (!r.error.empty()) {
    return fail(name, r.url + ": " + r.error);
  }
  check_result out;
  out.name = name;
  out.seconds = r.headers_seconds;
  std::string figure = fmt::format("response headers after {} (limit {:g} s) for {}",
                                   seconds_text(r.headers_seconds), limit_s, path);
  if (r.x_cache == "HIT") {
    figure += " (X-Cache: HIT: it was cached already, so this measured a hit)";
  } else {
    figure += cache_note(r);
  }
  if (r.headers_seconds >= limit_s) {
    out.detail = figure + "; a mirror must stream a miss, not buffer it";
    return out;
  }
  if (r.status != 200) {
    out.detail = fmt::format("{}, but HTTP {}; expected 200", figure, r.status);
    return out;
  }
  if (auto why = body_mismatch(r, listed); !why.empty()) {
    out.detail = figure + ", but " + why;
    return out;
  }
  out.passed = true;
  out.detail = figure;
  return out;
}

check_result judge_status(const probe_result& r) {
  const std::string name = "status";
  check_result skipped{name, true, "", false};
  if (!r.error.empty()) {
    skipped.detail = "not an lxcdn mirror (optional): " + r.url + ": " + r.error;
    return skipped;
  }
  boost::system::error_code ec;
  json::value doc;
  if (r.status == 200 && r.body_complete) {
    doc = json::parse(r.body, ec);
  }
  if (r.status != 200 || !r.body_complete || ec || !at(doc, {"version"}) ||
      !at(doc, {"upstream", "reachable"})) {
    skipped.detail = fmt::format("not an lxcdn mirror (optional): HTTP {} for {}", r.status, r.url);
    return skipped;
  }
  auto* version = at(doc, {"version"});
  auto* reachable = at(doc, {"upstream", "reachable"});
  auto* upstream = at(doc, {"upstream", "url"});
  std::string summary = fmt::format(
      "lxcdn {}, upstream {}", version->is_string() ? std::string(version->as_string()) : "?",
      upstream && upstream->is_string() ? std::string(upstream->as_string()) : "?");
  auto bytes = number_at(doc, {"cache", "bytes"});
  auto max = number_at(doc, {"cache", "max_size"});
  if (bytes && max) {
    summary += fmt::format(", cache {} of {}", human_bytes(*bytes), human_bytes(*max));
  }
  if (auto fills = number_at(doc, {"fills_in_progress"})) {
    summary += fmt::format(", {} fills in progress", *fills);
  }
  if (auto bad = number_at(doc, {"integrity_failures"}); bad && *bad > 0) {
    summary += fmt::format(", {} integrity failures", *bad);
  }
  if (auto days = at(doc, {"certificate_days_left"}); days && days->is_int64()) {
    summary += fmt::format(", certificate expires in {} days", days->as_int64());
  }
  check_result out{name, false, "", true};
  if (!reachable->is_bool() || !reachable->as_bool()) {
    auto* last = at(doc, {"upstream", "last_error"});
    out.detail = summary + ": upstream NOT reachable" +
                 (last && last->is_string() && !last->as_string().empty()
                      ? " (" + std::string(last->as_string()) + ")"
                      : "");
    return out;
  }
  out.passed = true;
  out.detail = summary + ", upstream reachable";
  return out;
}

}  // namespace lxcdn::checkmirror
