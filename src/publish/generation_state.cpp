#include "publish/generation_state.hpp"

#include <charconv>
#include <vector>

namespace lxcdn::publish {

namespace {

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start <= line.size()) {
    auto sp = line.find(' ', start);
    if (sp == std::string_view::npos) {
      out.push_back(line.substr(start));
      break;
    }
    out.push_back(line.substr(start, sp - start));
    start = sp + 1;
  }
  return out;
}

template <typename T>
bool number(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

}  // namespace

std::string render_state(const generation_state& s) {
  std::string out = "lxcdn-publish-state 1\ngeneration " + s.generation + "\n";
  for (const auto& [path, retired] : s.builds) {
    out += retired ? "build retired " + std::to_string(*retired) + " " + path + "\n"
                   : "build listed " + path + "\n";
  }
  for (const auto& [path, h] : s.files) {
    out += "file " + std::to_string(h.key.inode) + " " + std::to_string(h.key.size) + " " +
           std::to_string(h.key.mtime_ns) + " " + h.sha256 + " " + path + "\n";
  }
  for (const auto& [paths, sha] : s.combined) {
    out += "combined " + sha + " " + paths.first + " " + paths.second + "\n";
  }
  return out;
}

std::optional<generation_state> parse_state(std::string_view text, std::string& error) {
  generation_state s;
  std::size_t line_no = 0;
  std::size_t start = 0;
  bool header = false;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string_view::npos) {
      error = "line " + std::to_string(line_no + 1) + ": no newline at the end (truncated)";
      return std::nullopt;
    }
    auto line = text.substr(start, nl - start);
    start = nl + 1;
    ++line_no;
    auto f = fields(line);
    auto bad = [&] {
      error = "line " + std::to_string(line_no) + ": cannot parse '" + std::string(line) + "'";
      return std::nullopt;
    };
    if (!header) {
      if (line != "lxcdn-publish-state 1") {
        return bad();
      }
      header = true;
    } else if (f[0] == "generation" && f.size() == 2) {
      s.generation = f[1];
    } else if (f[0] == "build" && f.size() == 3 && f[1] == "listed") {
      s.builds[std::string(f[2])] = std::nullopt;
    } else if (f[0] == "build" && f.size() == 4 && f[1] == "retired") {
      std::int64_t t = 0;
      if (!number(f[2], t)) {
        return bad();
      }
      s.builds[std::string(f[3])] = t;
    } else if (f[0] == "file" && f.size() == 6) {
      cached_hash h;
      if (!number(f[1], h.key.inode) || !number(f[2], h.key.size) ||
          !number(f[3], h.key.mtime_ns) || f[4].size() != 64) {
        return bad();
      }
      h.sha256 = f[4];
      s.files[std::string(f[5])] = h;
    } else if (f[0] == "combined" && f.size() == 4 && f[1].size() == 64) {
      s.combined[{std::string(f[2]), std::string(f[3])}] = f[1];
    } else {
      return bad();
    }
  }
  if (!header) {
    error = "empty state";
    return std::nullopt;
  }
  return s;
}

}  // namespace lxcdn::publish
