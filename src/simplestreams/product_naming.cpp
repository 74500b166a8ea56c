#include "simplestreams/product_naming.hpp"

namespace lxcdn::simplestreams {

namespace {
bool is_ascii_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
}  // namespace

std::string product_name(std::string_view os, std::string_view release, std::string_view arch,
                         std::string_view variant) {
  std::string out;
  for (auto part : {os, release, arch, variant}) {
    if (!out.empty()) {
      out += ':';
    }
    out += part;
  }
  return out;
}

std::string product_aliases(std::string_view os, std::string_view release,
                            std::string_view variant) {
  std::string os_release = std::string(os) + "/" + std::string(release);
  std::string out = os_release + "/" + std::string(variant);
  if (variant == "default") {
    out += "," + os_release;
  }
  return out;
}

std::string os_title(std::string_view os) {
  std::string out(os);
  bool after_letter = false;
  for (char& c : out) {
    if (is_ascii_letter(c)) {
      c = after_letter ? static_cast<char>(c | 0x20) : static_cast<char>(c & ~0x20);
      after_letter = true;
    } else {
      after_letter = false;
    }
  }
  return out;
}

}  // namespace lxcdn::simplestreams
