#include "core/yaml_reader.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/config_error.hpp"
#include "core/duration.hpp"

namespace lxcdn {

YAML::Node parse_yaml(const std::string& text, const std::filesystem::path& source) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw config_error(
        fmt::format("{}:{}: syntax error: {}", source.string(), e.mark.line + 1, e.msg));
  }
}

std::filesystem::path resolve_config_path(const std::filesystem::path& source,
                                          const std::filesystem::path& p) {
  if (p.empty() || p.is_absolute()) {
    return p;
  }
  return source.parent_path() / p;
}

std::string read_config_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in || std::filesystem::is_directory(path)) {
    throw config_error(fmt::format("{}: cannot read config file", path.string()));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

YAML::Node load_yaml_file(const std::filesystem::path& path) {
  return parse_yaml(read_config_file(path), path);
}

yaml_map::yaml_map(YAML::Node node, std::string prefix, std::filesystem::path source)
    : node_(std::move(node)), prefix_(std::move(prefix)), source_(std::move(source)) {
  if (node_ && !node_.IsNull() && !node_.IsMap()) {
    throw config_error(fmt::format("{}:{}: {}: expected a mapping", source_.string(),
                                   node_.Mark().line + 1, prefix_.empty() ? "top level" : prefix_));
  }
}

std::string yaml_map::full_key(const std::string& key) const {
  return prefix_.empty() ? key : prefix_ + "." + key;
}

int yaml_map::line_of(const std::string& key) const {
  if (node_ && node_.IsMap()) {
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      if (it->first.Scalar() == key) {
        return it->first.Mark().line + 1;
      }
    }
  }
  return (node_ && node_.Mark().line >= 0) ? node_.Mark().line + 1 : 1;
}

void yaml_map::fail(const std::string& key, const std::string& reason) const {
  throw config_error(
      fmt::format("{}:{}: {}: {}", source_.string(), line_of(key), full_key(key), reason));
}

bool yaml_map::has(const std::string& key) const {
  return node_ && node_.IsMap() && node_[key] && !node_[key].IsNull();
}

void yaml_map::require(const std::string& key) {
  if (!has(key)) {
    if (prefix_.empty()) {
      throw config_error(
          fmt::format("{}: {}: missing required key", source_.string(), full_key(key)));
    }
    fail(key, "missing required key");
  }
}

std::string yaml_map::scalar(const std::string& key, const char* what) {
  seen_.insert(key);
  auto v = node_[key];
  if (!v.IsScalar()) {
    fail(key, fmt::format("expected {}", what));
  }
  return v.Scalar();
}

void yaml_map::get(const std::string& key, std::string& out) {
  if (has(key)) {
    out = scalar(key, "a string");
  } else {
    seen_.insert(key);
  }
}

void yaml_map::get(const std::string& key, std::filesystem::path& out) {
  if (has(key)) {
    // An empty value (`key: ""`, or a YAML tag with no text such as `key: !x`) names no file:
    // refused here, where the line is known, rather than failing later on an empty path.
    auto text = scalar(key, "a path");
    if (text.empty()) {
      fail(key, "expected a path, got an empty value");
    }
    out = std::move(text);
  } else {
    seen_.insert(key);
  }
}

void yaml_map::get_path(const std::string& key, std::filesystem::path& out) {
  get(key, out);
  out = resolve_config_path(source_, out);
}

void yaml_map::get(const std::string& key, bool& out) {
  seen_.insert(key);
  if (!has(key)) {
    return;
  }
  auto s = scalar(key, "true or false");
  if (s == "true" || s == "yes" || s == "on") {
    out = true;
  } else if (s == "false" || s == "no" || s == "off") {
    out = false;
  } else {
    fail(key, fmt::format("expected true or false, got '{}'", s));
  }
}

namespace {
template <typename T>
bool parse_unsigned(const std::string& s, T& out) {
  T v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) {
    return false;
  }
  out = v;
  return true;
}
}  // namespace

void yaml_map::get(const std::string& key, unsigned& out) {
  seen_.insert(key);
  if (has(key)) {
    auto s = scalar(key, "a non-negative integer");
    if (!parse_unsigned(s, out)) {
      fail(key, fmt::format("expected a non-negative integer, got '{}'", s));
    }
  }
}

void yaml_map::get(const std::string& key, std::uint16_t& out) {
  seen_.insert(key);
  if (has(key)) {
    auto s = scalar(key, "a port number");
    if (!parse_unsigned(s, out)) {
      fail(key, fmt::format("expected a port number 0-65535, got '{}'", s));
    }
  }
}

void yaml_map::get(const std::string& key, std::size_t& out) {
  seen_.insert(key);
  if (has(key)) {
    auto s = scalar(key, "a non-negative integer");
    if (!parse_unsigned(s, out)) {
      fail(key, fmt::format("expected a non-negative integer, got '{}'", s));
    }
  }
}

void yaml_map::get_duration(const std::string& key, std::chrono::milliseconds& out) {
  seen_.insert(key);
  if (has(key)) {
    auto s = scalar(key, "a duration");
    auto d = parse_duration(s);
    if (!d) {
      fail(key, fmt::format("expected a duration like 10s, 500ms, 2m, 1h or 3d, got '{}'", s));
    }
    out = *d;
  }
}

void yaml_map::get_byte_size(const std::string& key, std::uint64_t& out) {
  seen_.insert(key);
  if (has(key)) {
    auto s = scalar(key, "a size");
    auto v = parse_byte_size(s);
    if (!v) {
      fail(key, fmt::format("expected a size like 100G, 512M or 4096, got '{}'", s));
    }
    out = *v;
  }
}

void yaml_map::get(const std::string& key, double& out) {
  seen_.insert(key);
  if (has(key)) {
    auto s = scalar(key, "a number");
    double v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) {
      fail(key, fmt::format("expected a number, got '{}'", s));
    }
    out = v;
  }
}

void yaml_map::get(const std::string& key, std::vector<std::string>& out) {
  seen_.insert(key);
  if (!has(key)) {
    return;
  }
  auto v = node_[key];
  if (v.IsScalar()) {
    out = {v.Scalar()};
    return;
  }
  if (!v.IsSequence()) {
    fail(key, "expected a list of strings");
  }
  std::vector<std::string> items;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!v[i].IsScalar()) {
      fail(key, fmt::format("item {}: expected a string", i + 1));
    }
    items.push_back(v[i].Scalar());
  }
  out = std::move(items);
}

yaml_map yaml_map::child(const std::string& key) {
  seen_.insert(key);
  if (!has(key)) {
    return yaml_map(YAML::Node(), full_key(key), source_);
  }
  if (!node_[key].IsMap()) {
    fail(key, "expected a mapping");
  }
  return yaml_map(node_[key], full_key(key), source_);
}

std::vector<yaml_map> yaml_map::children(const std::string& key) {
  seen_.insert(key);
  std::vector<yaml_map> out;
  if (!has(key)) {
    return out;
  }
  auto seq = node_[key];
  if (!seq.IsSequence()) {
    fail(key, "expected a list");
  }
  for (std::size_t i = 0; i < seq.size(); ++i) {
    auto item = seq[i];
    auto name = fmt::format("{}[{}]", full_key(key), i);
    if (!item.IsMap()) {
      throw config_error(fmt::format("{}:{}: {}: expected a mapping", source_.string(),
                                     item.Mark().line + 1, name));
    }
    out.emplace_back(item, name, source_);
  }
  return out;
}

void yaml_map::finish() const {
  if (!node_ || !node_.IsMap()) {
    return;
  }
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    auto k = it->first.Scalar();
    if (!seen_.contains(k)) {
      throw config_error(fmt::format("{}:{}: {}: unknown key", source_.string(),
                                     it->first.Mark().line + 1, full_key(k)));
    }
  }
}

}  // namespace lxcdn
