#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace lxcdn {

// Parses YAML text; a syntax error becomes config_error "FILE:LINE: syntax error: ...".
YAML::Node parse_yaml(const std::string& text, const std::filesystem::path& source);

// `p` taken relative to the directory of the config file `source` (absolute and empty paths are
// returned as they are), so a config file and the files it names can move together.
std::filesystem::path resolve_config_path(const std::filesystem::path& source,
                                          const std::filesystem::path& p);

// Reads a whole config file; an unreadable file is a config_error naming it.
std::string read_config_file(const std::filesystem::path& path);

// Reads `path` and parses it; an unreadable file is a config_error naming it.
YAML::Node load_yaml_file(const std::filesystem::path& path);

// Typed, checked reading of one YAML mapping. Every getter leaves the target untouched when the
// key is absent (so struct defaults stand) and throws config_error "FILE:LINE: KEY: reason" when
// it is present but wrong. finish() rejects keys nobody asked for, which catches typos such as
// `lisen:`. A value type; not thread-safe.
class yaml_map {
 public:
  yaml_map(YAML::Node node, std::string prefix, std::filesystem::path source);

  bool has(const std::string& key) const;
  void get(const std::string& key, std::string& out);
  void get(const std::string& key, bool& out);
  void get(const std::string& key, unsigned& out);
  void get(const std::string& key, std::uint16_t& out);
  void get(const std::string& key, std::size_t& out);
  void get(const std::string& key, std::filesystem::path& out);
  // A path, relative ones taken from the config file's directory (resolve_config_path); `out`
  // (its default, when the key is absent) is resolved the same way.
  void get_path(const std::string& key, std::filesystem::path& out);
  void get(const std::string& key, double& out);  // a finite decimal number, e.g. 50.11 or -8
  // A list of scalars, `[DE, AT]` or one per line; a lone scalar is a one-element list.
  void get(const std::string& key, std::vector<std::string>& out);
  void get_duration(const std::string& key, std::chrono::milliseconds& out);
  void get_byte_size(const std::string& key, std::uint64_t& out);
  void require(const std::string& key);  // throws "missing required key" if absent

  yaml_map child(const std::string& key);                  // a nested mapping (empty if absent)
  std::vector<yaml_map> children(const std::string& key);  // a sequence of mappings

  // Throws on the first key that no getter read.
  void finish() const;

  [[noreturn]] void fail(const std::string& key, const std::string& reason) const;
  std::string full_key(const std::string& key) const;

 private:
  YAML::Node node_;
  std::string prefix_;
  std::filesystem::path source_;
  std::set<std::string> seen_;
  int line_of(const std::string& key) const;
  std::string scalar(const std::string& key, const char* what);
};

}  // namespace lxcdn
