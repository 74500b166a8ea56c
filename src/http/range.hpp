#pragma once

#include <cstdint>
#include <string_view>

namespace lxcdn::http {

// What to do with a Range header for a representation of `size` bytes (RFC 9110 §14).
enum class range_kind {
  full,           // no usable Range: send 200 with the whole body
  partial,        // send 206 with bytes [first, last]
  unsatisfiable,  // send 416 with "Content-Range: bytes */size"
};

struct range_decision {
  range_kind kind = range_kind::full;
  std::uint64_t first = 0;  // inclusive
  std::uint64_t last = 0;   // inclusive; valid only for `partial`
  std::uint64_t length() const { return last - first + 1; }
};

// Resolves one Range header value. Only a single "bytes=" range is honoured; a syntax error, an
// unknown unit or a multi-range request yields `full` (a server may ignore Range, §14.2), which is
// what every client handles. Pure; never throws.
range_decision resolve_range(std::string_view header, std::uint64_t size);

}  // namespace lxcdn::http
