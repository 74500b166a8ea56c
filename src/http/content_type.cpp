#include "http/content_type.hpp"

#include <array>
#include <utility>

namespace lxcdn::http {

namespace {
constexpr std::array<std::pair<std::string_view, std::string_view>, 14> by_suffix{{
    {".json", "application/json"},
    {".sjson", "text/plain; charset=utf-8"},
    {".gpg", "application/pgp-signature"},
    {".asc", "application/pgp-signature"},
    {".html", "text/html; charset=utf-8"},
    {".txt", "text/plain; charset=utf-8"},
    {".yaml", "text/plain; charset=utf-8"},
    {".log", "text/plain; charset=utf-8"},
    {".xz", "application/x-xz"},
    {".gz", "application/gzip"},
    {".squashfs", "application/octet-stream"},
    {".qcow2", "application/octet-stream"},
    {".img", "application/octet-stream"},
    {".vcdiff", "application/octet-stream"},
}};
}  // namespace

std::string_view content_type_for(std::string_view path) {
  for (auto& [suffix, type] : by_suffix) {
    if (path.ends_with(suffix)) {
      return type;
    }
  }
  auto slash = path.rfind('/');
  auto base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  if (base == "SHA256SUMS" || base.starts_with("index-")) {
    return "text/plain; charset=utf-8";
  }
  return "application/octet-stream";
}

bool is_json(std::string_view path) { return path.ends_with(".json"); }

}  // namespace lxcdn::http
