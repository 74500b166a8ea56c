#include "simplestreams/json_writer.hpp"

#include <stdexcept>
#include <utility>

namespace lxcdn::simplestreams {

std::string json_quote(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += "\\u00";
      out += hex[u >> 4];
      out += hex[u & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

void json_writer::before_value() {
  if (done_) {
    throw std::logic_error("json_writer: value after the top-level value");
  }
  if (open_.empty()) {
    return;
  }
  frame& f = open_.back();
  if (f.object) {
    if (!key_pending_) {
      throw std::logic_error("json_writer: object member without a key");
    }
    key_pending_ = false;
    return;
  }
  if (!f.empty) {
    out_ += ',';
  }
  f.empty = false;
}

json_writer& json_writer::begin_object() {
  before_value();
  out_ += '{';
  open_.push_back({.object = true});
  return *this;
}

json_writer& json_writer::begin_array() {
  before_value();
  out_ += '[';
  open_.push_back({.object = false});
  return *this;
}

void json_writer::close(bool object) {
  if (open_.empty() || open_.back().object != object || key_pending_) {
    throw std::logic_error("json_writer: unbalanced close");
  }
  out_ += object ? '}' : ']';
  open_.pop_back();
  done_ = open_.empty();
}

json_writer& json_writer::end_object() {
  close(true);
  return *this;
}

json_writer& json_writer::end_array() {
  close(false);
  return *this;
}

json_writer& json_writer::key(std::string_view k) {
  if (open_.empty() || !open_.back().object || key_pending_) {
    throw std::logic_error("json_writer: key outside an object");
  }
  frame& f = open_.back();
  if (!f.empty && !(f.last_key < k)) {
    throw std::logic_error("json_writer: key \"" + std::string(k) + "\" not after \"" + f.last_key +
                           "\"");
  }
  if (!f.empty) {
    out_ += ',';
  }
  f.empty = false;
  f.last_key = k;
  out_ += json_quote(k);
  out_ += ':';
  key_pending_ = true;
  return *this;
}

json_writer& json_writer::string(std::string_view s) {
  before_value();
  out_ += json_quote(s);
  done_ = open_.empty();
  return *this;
}

json_writer& json_writer::integer(std::uint64_t n) {
  before_value();
  out_ += std::to_string(n);
  done_ = open_.empty();
  return *this;
}

std::string json_writer::take() {
  if (!done_) {
    throw std::logic_error("json_writer: incomplete document");
  }
  done_ = false;
  return std::exchange(out_, {});
}

}  // namespace lxcdn::simplestreams
