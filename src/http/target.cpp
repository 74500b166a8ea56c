#include "http/target.hpp"

#include <vector>

#include "core/text.hpp"

namespace lxcdn::http {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

// Decodes one path segment into `out`. Returns the error, if any.
target_error decode_segment(std::string_view seg, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < seg.size(); ++i) {
    char c = seg[i];
    if (c == '%') {
      if (i + 2 >= seg.size()) {
        return target_error::bad_encoding;
      }
      int hi = hex_value(seg[i + 1]);
      int lo = hex_value(seg[i + 2]);
      if (hi < 0 || lo < 0) {
        return target_error::bad_encoding;
      }
      auto d = static_cast<unsigned char>(hi * 16 + lo);
      if (d == '/' || d == '\\') {
        return target_error::encoded_slash;
      }
      if (is_control(d)) {
        return target_error::control_char;
      }
      out.push_back(static_cast<char>(d));
      i += 2;
      continue;
    }
    if (is_control(static_cast<unsigned char>(c)) || c == '\\') {
      return target_error::control_char;
    }
    out.push_back(c);
  }
  return target_error::none;
}

// True if `seg` has a '%' escape, a control character or a backslash, i.e. if decode_segment
// must look at it (it then decodes or refuses it); false means the segment is its own decoding.
bool needs_decoding(std::string_view seg) {
  for (char c : seg) {
    auto u = static_cast<unsigned char>(c);
    if (c == '%' || c == '\\' || is_control(u)) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string_view origin_form(std::string_view raw) {
  if (raw.empty() || raw.front() == '/') {
    return raw;  // origin-form, the usual case: nothing to look at
  }
  for (std::string_view scheme : {"http://", "https://"}) {
    if (raw.size() < scheme.size()) {
      continue;
    }
    bool same = true;
    for (std::size_t i = 0; i < scheme.size(); ++i) {
      same = same && ascii_lower(raw[i]) == scheme[i];
    }
    if (same) {
      auto end = raw.find_first_of("/?#", scheme.size());
      if (end == std::string_view::npos) {
        return "/";
      }
      return raw[end] == '/' ? raw.substr(end) : std::string_view();
    }
  }
  return raw;
}

target normalize_target(std::string_view raw) {
  target t;
  normalize_target_into(raw, t);
  if (t.error != target_error::none) {
    t.path.clear();  // as documented for target: no path for a refused target
  }
  return t;
}

void normalize_target_into(std::string_view raw, target& t) {
  t.error = target_error::none;
  t.path.clear();
  t.query.clear();
  if (raw.size() > max_target_bytes) {
    t.error = target_error::too_long;
    return;
  }
  // Absolute-form (RFC 9112 §3.2.2): a server must accept it; keep only the path. The authority
  // names no one we would contact: the origin serves its own root, a mirror its fixed upstream.
  raw = origin_form(raw);
  if (raw.empty() || raw.front() != '/') {
    t.error = target_error::not_origin_form;
    return;
  }
  if (auto hash = raw.find('#'); hash != std::string_view::npos) {
    raw = raw.substr(0, hash);
  }
  if (auto q = raw.find('?'); q != std::string_view::npos) {
    t.query.assign(raw.substr(q + 1));
    raw = raw.substr(0, q);
  }
  std::string& path = t.path;
  path.reserve(raw.size());
  thread_local std::string scratch;  // a segment's decoded form, when it has escapes
  std::size_t pos = 0;
  while (pos <= raw.size()) {
    auto next = raw.find('/', pos);
    if (next == std::string_view::npos) {
      next = raw.size();
    }
    auto seg = raw.substr(pos, next - pos);
    pos = next + 1;
    if (seg.empty()) {
      continue;
    }
    // Most segments have nothing to decode: check them in place and append them whole.
    std::string_view decoded = seg;
    if (needs_decoding(seg)) {
      if (auto e = decode_segment(seg, scratch); e != target_error::none) {
        t.error = e;
        return;
      }
      decoded = scratch;
    }
    if (decoded.empty()) {
      continue;
    }
    if (decoded == ".") {
      continue;
    }
    if (decoded == "..") {
      t.error = target_error::traversal;
      return;
    }
    if (decoded.front() == '.') {
      t.error = target_error::hidden;
      return;
    }
    path.push_back('/');
    path.append(decoded);
  }
  if (path.empty()) {
    path = "/";
  }
}

std::string_view to_string(target_error e) {
  switch (e) {
    case target_error::none:
      return "ok";
    case target_error::not_origin_form:
      return "request target is not an absolute path";
    case target_error::bad_encoding:
      return "invalid percent-encoding";
    case target_error::encoded_slash:
      return "encoded path separator";
    case target_error::control_char:
      return "control character or backslash in path";
    case target_error::traversal:
      return "path traversal";
    case target_error::hidden:
      return "hidden path segment";
    case target_error::too_long:
      return "request target too long";
  }
  return "unknown";
}

}  // namespace lxcdn::http
