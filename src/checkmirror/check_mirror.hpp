#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "checkmirror/report.hpp"

namespace lxcdn::checkmirror {

// What `lxcdn check-mirror` is asked to test (plain settings; the app fills them from flags).
struct check_options {
  std::string mirror;  // as the origin will name it: "host", "host:port" or an http(s) URL
                       // (a path is the prefix of both schemes)
  std::string origin = "https://images.linuxcontainers.org";  // `--origin`: base URL, https
  std::filesystem::path ca_file;  // `--ca-file`: extra trusted CAs (test CAs); system CAs too
  std::optional<std::uint16_t> http_port;   // `--http-port`: override the mirror's HTTP port
  std::optional<std::uint16_t> https_port;  // `--https-port`: override its HTTPS port
  // `--http-url`, `--https-url`: a scheme's base URL as the origin's mirror list names it
  // (`http:` / `https:`, optionally with a path prefix); each overrides what `mirror` says.
  // `mirror` may be empty when both are given.
  std::string http_url;
  std::string https_url;
  std::chrono::milliseconds miss_limit{5'000};  // fast-miss: longest acceptable time to headers
  std::uint64_t seed = 0;  // picks the fast-miss file among the small ones (the app: the time)
};

// Runs every check in order (origin index; reachability, certificate and redirects over HTTP and
// HTTPS; a likely-uncached small file's time to headers; the smallest listed file over HTTP and
// HTTPS against its size and sha256; /.lxcdn/status) and returns the report. Network outcomes
// are findings, never exceptions. Throws config_error for unusable options (a malformed
// URL, an unreadable CA file) with a message naming the option.
report run_check_mirror(const check_options& options);

}  // namespace lxcdn::checkmirror
