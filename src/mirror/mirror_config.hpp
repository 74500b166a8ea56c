#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "net/server_config.hpp"

namespace lxcdn::mirror {

// Where a mirror fills from: the origin, always over verified TLS 1.3 (the operators' nginx
// config: proxy_ssl_protocols TLSv1.3, proxy_ssl_verify on, proxy_ssl_server_name on).
struct upstream_config {
  std::string url;          // `upstream.url`, e.g. "https://images.example.net". Required.
  std::string host;         // derived from url
  std::string port = "443"; // derived from url
  std::string base_path;    // derived from url: a path prefix without trailing '/', may be empty
  std::filesystem::path ca_file;  // `upstream.ca_file`; empty = the system's trust store
  std::string server_name;  // `upstream.server_name`: SNI and name to verify; default: host
  std::chrono::milliseconds connect_timeout{10'000};  // `upstream.connect_timeout`, TCP + TLS
  std::chrono::milliseconds header_timeout{20'000};   // `upstream.header_timeout`
  std::chrono::milliseconds read_timeout{60'000};     // `upstream.read_timeout`: a body stall
  std::size_t max_idle_connections = 16;              // `upstream.max_idle_connections`
  std::chrono::milliseconds index_refresh{60'000};    // `upstream.index_refresh`
};

// How long a cached upstream answer stays fresh, by status (nginx proxy_cache_valid).
struct validity_config {
  std::chrono::milliseconds ok{std::chrono::hours(72)};          // 200, default 3d
  std::chrono::milliseconds redirect{std::chrono::minutes(1)};   // 301/302, default 1m
  std::chrono::milliseconds not_found{std::chrono::minutes(5)};  // 404, default 5m
};

// The disk cache (nginx proxy_cache_path).
struct cache_config {
  std::filesystem::path dir;  // `cache.dir`. Required.
  std::uint64_t max_size = 100ull << 30;  // `cache.max_size`, bytes; LRU eviction past it. 100G
  std::chrono::milliseconds inactive{std::chrono::hours(72)};  // `cache.inactive`; 3d
  validity_config valid;      // `cache.valid`
  std::size_t max_waiters = 1000;  // `cache.max_waiters`: readers of one fill; more get 503
};

// Everything `lxcdn mirror` reads from its YAML file (docs/mirror.md). Immutable after load.
struct mirror_config {
  std::filesystem::path source;
  upstream_config upstream;
  cache_config cache;
  net::server_config server;  // `listen`, `tls`, `limits`, `threads`
  // `redirect_to`: where non-image paths are sent (302, same scheme as the request).
  // Default: the upstream's host (and port if not 443).
  std::string redirect_host;
  bool access_log = false;    // `access_log`
};

mirror_config load_mirror_config(const std::filesystem::path& file);
mirror_config parse_mirror_config(const std::string& yaml_text, const std::filesystem::path& source);

}  // namespace lxcdn::mirror
