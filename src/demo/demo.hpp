#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace lxcdn::demo {

struct demo_options {
  std::filesystem::path dir = "demo-run";  // everything the demo makes goes here
  std::string host = "127.0.0.1";          // loopback address the origin and mirrors listen on
  std::uint16_t https_port = 8443;         // origin: TLS listener (plain HTTP is detected too)
  std::uint16_t http_port = 8080;          // origin: plain listener
  std::uint16_t mirror_a_port = 8444;      // mirror A ("DE": 127.0.0.2 and other loopback clients)
  std::uint16_t mirror_b_port = 8445;      // mirror B ("JP": clients from 127.0.0.3)
};

// The demo's GeoIP overrides: network -> country (see prepare_demo).
std::vector<std::pair<std::string, std::string>> demo_overrides();

// What prepare_demo wrote (absolute paths).
struct prepared_demo {
  std::filesystem::path dir;
  std::filesystem::path origin_config;    // DIR/origin.yaml
  std::filesystem::path mirror_a_config;  // DIR/mirror-a.yaml; empty if https_port is 0
  std::filesystem::path mirror_b_config;  // DIR/mirror-b.yaml; empty if https_port is 0
  std::filesystem::path ca_certificate;   // DIR/tls/ca.crt
  std::string sample_image_path;          // "/images/busybox/1.35/amd64/default/<serial>/rootfs.squashfs"
};

// Builds the sample images under DIR/www/images/..., indexes them, makes a test CA and a server
// certificate under DIR/tls/, and writes DIR/origin.yaml, DIR/mirror-a.yaml and DIR/mirror-b.yaml
// (caches in DIR/cache-a and DIR/cache-b). The origin's mirror list names both mirrors, and its
// GeoIP `overrides` place loopback clients: 127.0.0.3 in Japan (mirror B), every other loopback
// address (127.0.0.2, 127.0.0.1, ::1) in Germany (mirror A); both mirrors fill from the origin's
// HTTPS port. A port of 0 is written as 0 (the process picks one) and cannot be referred to: with
// https_port 0 no mirror config is written and, as with a mirror port of 0, the origin has no
// mirror list. Throws std::runtime_error with a message naming what failed (a
// missing tool, say).
prepared_demo prepare_demo(const demo_options& options);

// "HOST:PORT" (IPv6 in brackets).
std::string host_port(const std::string& host, std::uint16_t port);

}  // namespace lxcdn::demo
