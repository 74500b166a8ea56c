#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

namespace lxcdn::http {

// The validators of one representation.
struct validators {
  std::string etag;     // strong entity tag, quoted, e.g. "\"65a1b2c3-1f400\""
  std::time_t mtime{};  // Last-Modified
};

// A strong ETag derived from modification time and size, like nginx's: the published tree is
// immutable per path, so (mtime, size) identifies the bytes.
std::string make_etag(std::uint64_t size, std::time_t mtime);

// The precondition headers of a GET/HEAD request; empty means absent.
struct preconditions {
  std::string_view if_none_match;
  std::string_view if_modified_since;
  std::string_view if_range;
};

// True if a GET/HEAD should be answered 304 Not Modified (RFC 9110 §13.1.2, §13.1.3):
// If-None-Match takes precedence and uses weak comparison ("*" matches anything); only when it is
// absent is If-Modified-Since evaluated (not modified if mtime <= the date). An unparsable date is
// ignored.
bool is_not_modified(const preconditions& p, const validators& v);

// True if a Range may be honoured under If-Range (RFC 9110 §13.1.5): no If-Range, a strong ETag
// that matches exactly, or an HTTP-date equal to Last-Modified.
bool if_range_allows(const preconditions& p, const validators& v);

}  // namespace lxcdn::http
