#include "mirror/cache_entry.hpp"

#include <charconv>

#include "core/sha256.hpp"

namespace lxcdn::mirror {

namespace {
constexpr std::string_view magic = "LXCDN-CACHE 1\n";

bool has_newline(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

template <typename T>
bool parse_int(std::string_view s, T& out) {
  if (s.empty()) {
    return false;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}
}  // namespace

std::optional<std::string> encode_cache_header(const cache_meta& m) {
  if (has_newline(m.key) || has_newline(m.sha256) || has_newline(m.location)) {
    return std::nullopt;
  }
  std::string out(magic);
  out += "key: " + m.key + "\n";
  out += "status: " + std::to_string(m.status) + "\n";
  out += "size: " + std::to_string(m.size) + "\n";
  out += "stored: " + std::to_string(m.stored_at) + "\n";
  out += "sha256: " + m.sha256 + "\n";
  out += "location: " + m.location + "\n";
  out += "\n";
  if (out.size() > cache_header_size) {
    return std::nullopt;
  }
  out.resize(cache_header_size, '\0');
  return out;
}

std::optional<cache_meta> decode_cache_header(std::string_view block) {
  if (block.size() < cache_header_size || !block.starts_with(magic)) {
    return std::nullopt;
  }
  block = block.substr(0, cache_header_size);
  auto end = block.find("\n\n");
  if (end == std::string_view::npos) {
    return std::nullopt;
  }
  auto body = block.substr(magic.size(), end + 1 - magic.size());
  cache_meta m;
  unsigned seen = 0;
  while (!body.empty()) {
    auto nl = body.find('\n');
    auto line = body.substr(0, nl);
    body.remove_prefix(nl + 1);
    auto colon = line.find(": ");
    if (colon == std::string_view::npos) {
      return std::nullopt;
    }
    auto name = line.substr(0, colon);
    auto value = line.substr(colon + 2);
    if (name == "key") {
      m.key = value;
      seen |= 1;
    } else if (name == "status") {
      if (!parse_int(value, m.status)) {
        return std::nullopt;
      }
      seen |= 2;
    } else if (name == "size") {
      if (!parse_int(value, m.size)) {
        return std::nullopt;
      }
      seen |= 4;
    } else if (name == "stored") {
      if (!parse_int(value, m.stored_at)) {
        return std::nullopt;
      }
      seen |= 8;
    } else if (name == "sha256") {
      m.sha256 = value;
    } else if (name == "location") {
      m.location = value;
    } else {
      return std::nullopt;
    }
  }
  if (seen != 15 || m.key.empty() || m.key.front() != '/') {
    return std::nullopt;
  }
  return m;
}

std::string cache_file_name(std::string_view key) { return sha256_hex(key); }

}  // namespace lxcdn::mirror
