// libFuzzer target for http::resolve_range. Input: "SIZE\nRANGE-HEADER" (SIZE decimal; without a
// newline the whole input is the header and the size is 1000). Checks the contract of
// http/range.hpp, and for headers in the plain "bytes=A-B" form compares with a straightforward
// model of RFC 9110 §14.1.2.
#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "http/range.hpp"

namespace {

using lxcdn::http::range_decision;
using lxcdn::http::range_kind;

[[noreturn]] void broken(const char* what, std::string_view header, std::uint64_t size,
                         const range_decision& r) {
  std::fprintf(stderr,
               "resolve_range invariant broken: %s\n  header: '%.*s'\n  size: %llu\n"
               "  kind: %d first: %llu last: %llu\n",
               what, static_cast<int>(header.size()), header.data(),
               static_cast<unsigned long long>(size), static_cast<int>(r.kind),
               static_cast<unsigned long long>(r.first), static_cast<unsigned long long>(r.last));
  std::abort();
}

std::optional<std::uint64_t> digits(std::string_view s) {
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  std::uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

range_decision decided(range_kind kind, std::uint64_t first = 0, std::uint64_t last = 0) {
  range_decision r;
  r.kind = kind;
  r.first = first;
  r.last = last;
  return r;
}

// The expected decision for "bytes=A-B" with A and B plain digit strings (either may be empty),
// written from RFC 9110 §14.1.2 and §14.4 rather than from range.cpp. Returns nullopt for headers
// outside that form.
std::optional<range_decision> model(std::string_view header, std::uint64_t size) {
  if (header.substr(0, 6) != "bytes=") {
    return std::nullopt;
  }
  auto spec = header.substr(6);
  auto dash = spec.find('-');
  auto a_text = spec.substr(0, dash == std::string_view::npos ? 0 : dash);
  auto b_text = dash == std::string_view::npos ? std::string_view() : spec.substr(dash + 1);
  if (dash == std::string_view::npos || (!a_text.empty() && !digits(a_text)) ||
      (!b_text.empty() && !digits(b_text))) {
    return std::nullopt;
  }
  auto a = digits(a_text);
  auto b = digits(b_text);
  if (!a && !b) {
    return decided(range_kind::full);  // "bytes=-" is no range at all
  }
  if (!a) {  // suffix-byte-range-spec: the last *b bytes; zero of them cannot be satisfied
    return (*b == 0 || size == 0) ? decided(range_kind::unsatisfiable)
                                  : decided(range_kind::partial, size - std::min(*b, size), size - 1);
  }
  if (b && *b < *a) {
    return decided(range_kind::full);  // invalid range-spec: ignore the header
  }
  if (*a >= size) {
    return decided(range_kind::unsatisfiable);
  }
  return decided(range_kind::partial, *a, b ? std::min(*b, size - 1) : size - 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::uint64_t file_size = 1000;
  std::string_view header = input;
  if (auto nl = input.find('\n'); nl != std::string_view::npos) {
    if (auto s = digits(input.substr(0, nl))) {
      file_size = *s;
    }
    header = input.substr(nl + 1);
  }
  auto r = lxcdn::http::resolve_range(header, file_size);
  switch (r.kind) {
    case range_kind::full:
      break;
    case range_kind::partial:
      if (r.first > r.last) {
        broken("first > last", header, file_size, r);
      }
      if (r.last >= file_size) {
        broken("range ends past the file", header, file_size, r);
      }
      if (r.length() == 0 || r.length() > file_size) {
        broken("length outside (0, size]", header, file_size, r);
      }
      break;
    case range_kind::unsatisfiable:
      break;
    default:
      broken("unknown kind", header, file_size, r);
  }
  if (header.find(',') != std::string_view::npos && r.kind != range_kind::full) {
    broken("multi-range not answered with the full body", header, file_size, r);
  }
  if (auto want = model(header, file_size)) {
    bool same = want->kind == r.kind &&
                (r.kind != range_kind::partial || (want->first == r.first && want->last == r.last));
    if (!same) {
      broken("differs from the RFC 9110 model", header, file_size, r);
    }
  }
  return 0;
}
