#pragma once

#include <cstddef>
#include <string_view>

namespace lxcdn::http {

// What the raw bytes of a request head show that the parser's result hides: Beast unfolds
// obs-fold into the field value and counts nothing. Feed it every byte the parser consumed for
// one head (in one piece or in consecutive pieces: a fold never spans two, see session.hpp).
struct head_scan {
  bool obs_fold = false;        // a line break followed by SP or HT (RFC 9112 §5.2)
  std::size_t line_breaks = 0;  // LF bytes: request line + field lines + the empty line
};

// Adds what `bytes` show to `into`. Pure; no allocation.
void scan_head(std::string_view bytes, head_scan& into);

// Field lines of a whole scanned head (its line breaks less the request line and the empty line).
inline std::size_t field_lines(const head_scan& s) {
  return s.line_breaks >= 2 ? s.line_breaks - 2 : 0;
}

}  // namespace lxcdn::http
