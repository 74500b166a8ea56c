#pragma once

#include <string>
#include <string_view>

namespace lxcdn::http {

// Why a request target was refused. `none` means the target is usable.
enum class target_error {
  none,
  not_origin_form,  // does not start with '/' (and is not absolute-form http(s)://host/...)
  bad_encoding,     // '%' not followed by two hex digits
  encoded_slash,    // %2F or %5C: would let a client smuggle a separator past segment checks
  control_char,     // NUL, other C0 controls or DEL, raw or encoded; or a raw backslash
  traversal,        // a ".." segment, raw or encoded (%2e%2e, .%2E, ...)
  hidden,           // a segment starting with '.', e.g. the publisher's temp files
  too_long,         // longer than max_target_bytes
};

// A normalised request target. `path` is percent-decoded, starts with '/', has no empty, "." or
// ".." segments and no trailing '/' (except the root itself, "/"). It is the cache key on a mirror
// and the file name below the root on an origin. `query` is the raw text after '?', if any.
struct target {
  std::string path;
  std::string query;
  target_error error = target_error::none;
};

inline constexpr std::size_t max_target_bytes = 8192;

// The origin-form part of a raw request-target: for absolute-form ("http://host/a?b", scheme
// case-insensitive, RFC 9112 §3.2.2) the path and query after the authority ("/a?b"; "/" when
// nothing follows the authority); any other target unchanged. The authority ends at the first
// '/', '?' or '#' (RFC 3986 §3.2); an absolute-form target whose authority is followed by '?' or
// '#' has no path and yields "" (not usable). Pure; points into `raw`, no allocation.
std::string_view origin_form(std::string_view raw);

// Normalises a raw request-target (RFC 9112 §3.2). Pure; never throws for any input.
// Tolerates "//" (lxc-download sends them) and ':' raw or as %3A (lxc-ci serials contain ':').
target normalize_target(std::string_view raw);

// normalize_target() into `out`, reusing the capacity of its strings: the per-request form,
// which allocates nothing once `out` has held a target as long. On an error `out.path` and
// `out.query` are unspecified.
void normalize_target_into(std::string_view raw, target& out);

// Human-readable reason for logs and error bodies.
std::string_view to_string(target_error e);

}  // namespace lxcdn::http
