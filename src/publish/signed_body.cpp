#include "publish/signed_body.hpp"

namespace lxcdn::publish {

std::string break_json_lines(std::string_view json) {
  std::string out;
  out.reserve(json.size() + json.size() / 16);
  bool in_string = false;
  bool escaped = false;
  for (char c : json) {
    out += c;
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == ',') {
      out += '\n';
    }
  }
  return out;
}

std::string signed_body(std::string_view json, bool is_index) {
  std::string text(json);
  if (is_index) {
    for (auto at = text.find("images.json\""); at != std::string::npos;
         at = text.find("images.json\"", at)) {
      text.replace(at, 11, "images.sjson");
    }
  }
  return break_json_lines(text);
}

}  // namespace lxcdn::publish
