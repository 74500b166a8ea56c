#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lxcdn::simplestreams {

// Builds compact JSON text (no insignificant whitespace) from a sequence of calls. Canonical by
// construction: object keys must come in strictly increasing byte order, and the writer throws
// std::logic_error otherwise (also on any call that would make invalid JSON), so the same data
// always gives the same bytes. Strings are written as given, with '"', '\' and control characters
// escaped; callers pass UTF-8. A value; not thread-safe.
class json_writer {
 public:
  json_writer& begin_object();
  json_writer& end_object();
  json_writer& begin_array();
  json_writer& end_array();
  json_writer& key(std::string_view k);
  json_writer& string(std::string_view s);
  json_writer& integer(std::uint64_t n);

  // key(k).string(s) / key(k).integer(n)
  json_writer& member(std::string_view k, std::string_view s) { return key(k).string(s); }
  json_writer& member(std::string_view k, std::uint64_t n) { return key(k).integer(n); }

  // The text, once every object and array is closed. Leaves the writer empty.
  std::string take();

 private:
  struct frame {
    bool object = false;
    bool empty = true;
    std::string last_key;  // objects only
  };
  void before_value();
  void close(bool object);

  std::string out_;
  std::vector<frame> open_;
  bool key_pending_ = false;  // a key was written and awaits its value
  bool done_ = false;         // the top-level value is complete
};

// `s` as a JSON string literal, quotes included.
std::string json_quote(std::string_view s);

}  // namespace lxcdn::simplestreams
