#include "http/http_date.hpp"

#include <cstring>

namespace lxcdn::http {

std::string format_http_date(std::time_t t) {
  // Every static response carries Last-Modified, and most requests name the same few files:
  // remember the last conversion per thread (strftime is a measurable share of a small request).
  thread_local bool have_last = false;
  thread_local std::time_t last_t = 0;
  thread_local std::string last_text;
  if (have_last && t == last_t) {
    return last_text;
  }
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  auto n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  have_last = true;
  last_t = t;
  last_text.assign(buf, n);
  return last_text;
}

std::optional<std::time_t> parse_http_date(std::string_view text) {
  if (text.size() > 64) {
    return std::nullopt;
  }
  std::string s(text);
  // strptime is locale-dependent for names; the C locale is what a server process runs with.
  for (const char* fmt : {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"}) {
    std::tm tm{};
    const char* end = ::strptime(s.c_str(), fmt, &tm);
    if (end != nullptr && *end == '\0') {
      return ::timegm(&tm);
    }
  }
  return std::nullopt;
}

}  // namespace lxcdn::http
