#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace lxcdn::demo {

// What the demo's origin.yaml says (format: src/origin/origin_config.hpp, docs/origin.md).
struct demo_origin_settings {
  std::filesystem::path root;         // the published tree (absolute)
  std::string host;                   // listen address of both listeners
  std::uint16_t https_port = 0;       // TLS listener
  std::uint16_t http_port = 0;        // plain listener
  std::filesystem::path certificate;  // chain, leaf first
  std::filesystem::path key;
};

// The YAML text of the demo's origin config: `root`, two `listen` entries (TLS first), `tls`.
// Paths are written as given (absolute ones keep the file valid wherever it is copied).
std::string render_origin_yaml(const demo_origin_settings& settings);

// The certificate names of the demo's server: 127.0.0.1, ::1, localhost, and `host` if it is
// none of those.
std::vector<std::string> demo_certificate_hosts(const std::string& host);

}  // namespace lxcdn::demo
