#include "http/conditional.hpp"

#include <charconv>

#include "http/http_date.hpp"
#include "core/text.hpp"

namespace lxcdn::http {

namespace {

std::string_view opaque(std::string_view tag) {
  if (tag.starts_with("W/")) {
    tag.remove_prefix(2);
  }
  return tag;
}

}  // namespace

std::string make_etag(std::uint64_t size, std::time_t mtime) {
  // "<mtime hex>-<size hex>", as nginx. Formatted by hand: this runs for every static response.
  // Each number has at most 16 hex digits; each to_chars is given room for exactly that.
  char buf[2 * 16 + 3];
  char* p = buf;
  *p++ = '"';
  p = std::to_chars(p, p + 16, static_cast<std::uint64_t>(mtime), 16).ptr;
  *p++ = '-';
  p = std::to_chars(p, p + 16, size, 16).ptr;
  *p++ = '"';
  return std::string(buf, p);
}

bool is_not_modified(const preconditions& p, const validators& v) {
  if (!trim_ows(p.if_none_match).empty()) {
    std::string_view list = p.if_none_match;
    while (!list.empty()) {
      auto comma = list.find(',');
      auto item = trim_ows(list.substr(0, comma));
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
      if (item == "*" || (!item.empty() && opaque(item) == opaque(v.etag))) {
        return true;
      }
    }
    return false;
  }
  if (!trim_ows(p.if_modified_since).empty()) {
    auto since = parse_http_date(trim_ows(p.if_modified_since));
    return since && v.mtime <= *since;
  }
  return false;
}

bool if_range_allows(const preconditions& p, const validators& v) {
  auto ir = trim_ows(p.if_range);
  if (ir.empty()) {
    return true;
  }
  if (ir.front() == '"') {
    return ir == v.etag;
  }
  if (ir.starts_with("W/")) {
    return false;  // a weak tag never satisfies If-Range
  }
  auto d = parse_http_date(ir);
  return d && *d == v.mtime;
}

}  // namespace lxcdn::http
