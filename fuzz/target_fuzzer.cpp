// libFuzzer target for http::normalize_target, the gate between a raw request-target and a file
// name below the served root. Checks the contract of http/target.hpp on every input; any breach
// aborts, which libFuzzer and the corpus replay test report with the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/target.hpp"

namespace {

[[noreturn]] void broken(const char* what, std::string_view raw, std::string_view path) {
  std::fprintf(stderr, "normalize_target invariant broken: %s\n  raw:  '%.*s'\n  path: '%.*s'\n",
               what, static_cast<int>(raw.size()), raw.data(), static_cast<int>(path.size()),
               path.data());
  std::abort();
}

// Percent-encodes the bytes that normalize_target would otherwise interpret ('%', '?', '#') or
// refuse raw, so that a decoded path can be fed back as a request-target.
std::string encode_path(std::string_view path) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : path) {
    auto u = static_cast<unsigned char>(c);
    if (c == '%' || c == '?' || c == '#' || u < 0x21 || u >= 0x7f) {
      out.push_back('%');
      out.push_back(hex[u >> 4]);
      out.push_back(hex[u & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void check_path(std::string_view raw, std::string_view path) {
  if (path.empty() || path.front() != '/') {
    broken("path does not start with '/'", raw, path);
  }
  if (path.size() > 1 && path.back() == '/') {
    broken("trailing '/'", raw, path);
  }
  if (path.find("//") != std::string_view::npos) {
    broken("empty segment", raw, path);
  }
  if (path.find('\\') != std::string_view::npos) {
    broken("backslash", raw, path);
  }
  for (char c : path) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      broken("control character", raw, path);
    }
  }
  // Every segment: not ".", not "..", not hidden. Covers "/../", "/./" and a trailing "/..".
  for (std::size_t pos = 1; pos <= path.size();) {
    auto next = path.find('/', pos);
    if (next == std::string_view::npos) {
      next = path.size();
    }
    auto seg = path.substr(pos, next - pos);
    if (!seg.empty() && seg.front() == '.') {
      broken("segment starting with '.'", raw, path);
    }
    pos = next + 1;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  auto t = lxcdn::http::normalize_target(raw);
  // The reusing form (the per-request one) agrees with the fresh one, whatever the previous
  // input left in the reused target.
  static lxcdn::http::target reused;
  lxcdn::http::normalize_target_into(raw, reused);
  if (reused.error != t.error ||
      (t.error == lxcdn::http::target_error::none &&
       (reused.path != t.path || reused.query != t.query))) {
    broken("normalize_target_into differs from normalize_target", raw, reused.path);
  }
  if (t.error != lxcdn::http::target_error::none) {
    if (lxcdn::http::to_string(t.error).empty()) {
      broken("error without a reason", raw, t.path);
    }
    return 0;
  }
  check_path(raw, t.path);
  if (t.path.size() > raw.size() && t.path != "/") {
    broken("path longer than the target", raw, t.path);
  }
  // Idempotence: the path, encoded back into a target, normalises to itself (unless encoding
  // made it longer than any target may be).
  auto encoded = encode_path(t.path);
  auto again = lxcdn::http::normalize_target(encoded);
  bool fits = encoded.size() <= lxcdn::http::max_target_bytes;
  if (fits && (again.error != lxcdn::http::target_error::none || again.path != t.path)) {
    broken("encoded path does not normalise to itself", raw, t.path);
  }
  // A path with nothing to decode is already normal.
  if (t.path.find_first_of("%?#") == std::string::npos) {
    auto same = lxcdn::http::normalize_target(t.path);
    if (same.error != lxcdn::http::target_error::none || same.path != t.path) {
      broken("normalised path is not a fixed point", raw, t.path);
    }
  }
  return 0;
}
