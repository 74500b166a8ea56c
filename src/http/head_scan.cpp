#include "http/head_scan.hpp"

#include <cstring>

namespace lxcdn::http {

void scan_head(std::string_view bytes, head_scan& into) {
  const char* p = bytes.data();
  const char* end = p + bytes.size();
  while (p < end) {
    const auto* lf = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    if (lf == nullptr) {
      return;
    }
    ++into.line_breaks;
    if (lf + 1 < end && (lf[1] == ' ' || lf[1] == '\t')) {
      into.obs_fold = true;
    }
    p = lf + 1;
  }
}

}  // namespace lxcdn::http
