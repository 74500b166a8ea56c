#pragma once

#include <string_view>

namespace lxcdn {

// `c` lower-cased if it is an ASCII capital letter. Protocol tokens (schemes, host names,
// header words) compare this way: no locale, no library call per character.
constexpr char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// `s` without leading and trailing spaces and tabs (HTTP's optional whitespace, RFC 9110 §5.6.3).
inline std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace lxcdn
