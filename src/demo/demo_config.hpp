#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
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
  // The mirror list (docs/geoip.md); empty: none, every file is served by the origin.
  struct mirror {
    std::string name;       // "a"
    std::string host_port;  // "127.0.0.1:8444": HTTP and HTTPS on the same port
    std::string country;    // where the demo pretends it is, e.g. "DE"
    std::string place;      // for the status page, e.g. "Frankfurt (demo mirror A)"
  };
  std::vector<mirror> mirrors;
  // `geoip.overrides`: network -> country, so loopback clients land in different regions.
  std::vector<std::pair<std::string, std::string>> overrides;
  std::filesystem::path ca_file;  // `health.ca_file`: the demo CA, for probing mirrors over HTTPS
};

// The YAML text of the demo's origin config: `root`, two `listen` entries (TLS first), `tls`,
// and with mirrors: `geoip.overrides`, `mirrors` (each with http and https URLs) and a `health`
// section probing every second (a mirror is in rotation one probe after it answers). Paths are
// written as given (absolute ones keep the file valid wherever it is copied).
std::string render_origin_yaml(const demo_origin_settings& settings);

// What a demo mirror's YAML says (format: src/mirror/mirror_config.hpp, docs/mirror.md).
struct demo_mirror_settings {
  std::string upstream_url;           // the demo origin's HTTPS base URL
  std::filesystem::path ca_file;      // the demo CA, which the upstream's certificate chains to
  std::filesystem::path cache_dir;    // absolute
  std::string host;                   // listen address
  std::uint16_t port = 0;             // one TLS listener; plain HTTP is served on it too, so the
                                      // origin's redirect (one HOST:PORT, scheme kept) works
  std::filesystem::path certificate;  // chain, leaf first
  std::filesystem::path key;
};

// The YAML text of a demo mirror's config: `upstream` (url, ca_file), `cache` (dir, max_size 1G),
// one TLS `listen` entry, `tls`. Paths as given.
std::string render_mirror_yaml(const demo_mirror_settings& settings);

// The certificate names of the demo's server: 127.0.0.1, ::1, localhost, and `host` if it is
// none of those.
std::vector<std::string> demo_certificate_hosts(const std::string& host);

}  // namespace lxcdn::demo
