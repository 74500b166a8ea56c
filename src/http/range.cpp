#include "http/range.hpp"

#include "core/text.hpp"

#include <charconv>
#include <optional>

namespace lxcdn::http {

namespace {

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  if (s.empty() || s.size() > 19) {
    return std::nullopt;
  }
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) {
    return false;
  }
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
    if (c != prefix[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

range_decision resolve_range(std::string_view header, std::uint64_t size) {
  range_decision full;
  header = trim_ows(header);
  if (!iequals_prefix(header, "bytes=")) {
    return full;
  }
  auto spec = trim_ows(header.substr(6));
  if (spec.find(',') != std::string_view::npos) {
    return full;
  }
  auto dash = spec.find('-');
  if (dash == std::string_view::npos) {
    return full;
  }
  auto first_text = trim_ows(spec.substr(0, dash));
  auto last_text = trim_ows(spec.substr(dash + 1));
  range_decision r;
  if (first_text.empty()) {
    // suffix-range: the last N bytes
    auto n = parse_u64(last_text);
    if (!n) {
      return full;
    }
    if (*n == 0 || size == 0) {
      r.kind = range_kind::unsatisfiable;
      return r;
    }
    r.kind = range_kind::partial;
    r.first = *n >= size ? 0 : size - *n;
    r.last = size - 1;
    return r;
  }
  auto first = parse_u64(first_text);
  if (!first) {
    return full;
  }
  std::optional<std::uint64_t> last;
  if (!last_text.empty()) {
    last = parse_u64(last_text);
    if (!last || *last < *first) {
      return full;
    }
  }
  if (*first >= size) {
    r.kind = range_kind::unsatisfiable;
    return r;
  }
  r.kind = range_kind::partial;
  r.first = *first;
  r.last = (!last || *last >= size) ? size - 1 : *last;
  return r;
}

}  // namespace lxcdn::http
