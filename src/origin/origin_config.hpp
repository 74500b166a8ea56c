#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "geoip/geoip_config.hpp"
#include "health/prober.hpp"
#include "net/server_config.hpp"
#include "selection/mirror.hpp"
#include "selection/select_mirror.hpp"

namespace lxcdn::origin {

// Cache-Control values by part of the tree (simplestreams-spec §6.13).
struct cache_control_config {
  // Image files are immutable per path. Default: "public, max-age=31536000, immutable".
  std::string images = "public, max-age=31536000, immutable";
  // The index changes on every publication; clients never revalidate, proxies and mirrors do.
  // Default: "public, max-age=60".
  std::string streams = "public, max-age=60";
  // Anything else. Default: "public, max-age=300".
  std::string other = "public, max-age=300";
};

// `admin:`: the admin API (docs/operations.md). Absent = no admin API. Read at start-up; only
// the token file is re-read on SIGHUP (a token rotation needs no restart).
struct admin_config {
  bool enabled = false;               // the section is present
  std::string address = "127.0.0.1";  // `listen`: "ADDRESS:PORT"; default 127.0.0.1:9180
  std::uint16_t port = 9180;          //   (loopback: the API changes what clients get)
  std::filesystem::path token_file;   // `token_file`: the bearer token, one line. Required.
};

// Reads the token: the file's first line without surrounding white space. Throws config_error
// naming the file when it cannot be read or the token is shorter than 16 characters.
std::string read_admin_token(const std::filesystem::path& file);

// Everything `lxcdn origin` reads from its YAML file, parsed once at start-up (docs/origin.md).
// Immutable after load.
struct origin_config {
  std::filesystem::path source;     // the YAML file this came from, for messages
  std::filesystem::path root;       // `root`: the published tree (images/, streams/). Required.
  net::server_config server;        // `listen`, `tls`, `limits`, `threads`
  cache_control_config cache_control;
  bool access_log = false;          // `access_log`: one line per request. Default off (privacy).

  // GeoIP redirection (docs/geoip.md): `/images/...` requests go to the best healthy mirror.
  geoip::geoip_settings geoip;          // `geoip:`; default: no database, no overrides
  std::vector<selection::mirror> mirrors;  // `mirrors:`; empty = every file served here
  selection::selection_settings selection;  // `selection:`
  health::probe_settings health;        // `health:`
  admin_config admin;                   // `admin:`
};

// Reads and validates an origin config file. Throws config_error (core/config_error.hpp) whose
// message names the file, the line and the key, e.g.
// "origin.yaml:7: limits.header_timeout: expected a duration like 10s, got 'soon'".
origin_config load_origin_config(const std::filesystem::path& file);

// Same, from YAML text; `source` is used in messages only.
origin_config parse_origin_config(const std::string& yaml_text, const std::filesystem::path& source);

}  // namespace lxcdn::origin
