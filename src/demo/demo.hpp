#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace lxcdn::demo {

struct demo_options {
  std::filesystem::path dir = "demo-run";  // everything the demo makes goes here
  std::string host = "127.0.0.1";          // loopback address the origin listens on
  std::uint16_t https_port = 8443;         // TLS listener (plain HTTP is detected there too)
  std::uint16_t http_port = 8080;          // plain listener
};

// Builds the sample images under DIR/www/images/..., indexes them, makes a test CA and a server
// certificate under DIR/tls/, and writes DIR/origin.yaml. Returns the path of that config.
// Throws std::runtime_error with a message naming what failed (a missing tool, say).
std::filesystem::path prepare_demo(const demo_options& options);

}  // namespace lxcdn::demo
