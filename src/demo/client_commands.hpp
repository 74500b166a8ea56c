#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace lxcdn::demo {

// What the printed client commands point at.
struct client_target {
  std::string remote = "lxcdn-demo";  // the lxc remote name to add
  std::string host = "127.0.0.1";     // the origin's TLS listener (IPv6 literals get brackets)
  std::uint16_t https_port = 8443;
  std::filesystem::path ca_certificate;  // the test CA to trust
  std::string alias = "busybox/1.35";    // image to launch
  std::string instance = "c1";           // container name
};

// The shell lines `lxcdn demo` prints for pasting into bash (LXD's `lxc`; Debian package or any
// non-snap install). Trust goes through the remote's certificate pin
// `${LXD_CONF:-$HOME/.config/lxc}/servercerts/<remote>.crt`: the CLI adds it to its roots
// (lxc/config/remote.go getConnectionArgs) and sends it with `lxc launch`/`image copy` as the
// source certificate, which the daemon adds to its roots for the download (shared/network.go
// finalizeTLSConfig), so neither needs SSL_CERT_FILE. The lines, in order: remove a stale remote
// of that name (which would also delete the pin), install the pin, add the remote, list its
// images, launch `instance` from `alias`, and read the container's /etc/hostname (prints the
// instance name). Paths are single-quoted for the shell.
std::vector<std::string> client_commands(const client_target& target);

// What the "watch a download go origin -> mirror" lines point at.
struct watch_target {
  std::string host = "127.0.0.1";         // where the origin and the mirror listen
  std::uint16_t origin_http_port = 8080;  // the origin's plain listener
  std::uint16_t origin_https_port = 8443;
  std::uint16_t mirror_port = 8444;       // mirror A, where clients from `source_a` are sent
  std::uint16_t mirror_b_port = 8445;     // mirror B, where clients from `source_b` are sent
  // Loopback source addresses the origin's GeoIP overrides place near mirror A and mirror B
  // (curl --interface). Empty (an IPv6 demo host): no source is chosen and only mirror A's
  // lines are printed.
  std::string source_a;
  std::string source_b;
  std::string image_path;                 // an image file, "/images/..."
  std::filesystem::path program;          // the lxcdn binary, for the check-mirror line
  std::filesystem::path ca_certificate;   // the test CA
};

// Shell lines that show the path of a download, in order: a HEAD to the origin's plain port from
// source_a (answered 302 to mirror A), a GET from there that follows the redirect and prints
// where the bytes came from, mirror A's /.lxcdn/status and the fill counters of its /metrics,
// `lxcdn check-mirror` against it; then (with sources) the same HEAD from source_b (302 to
// mirror B) and the origin's redirect counters by mirror and country. URLs and paths are
// single-quoted for the shell.
std::vector<std::string> watch_commands(const watch_target& target);

// `s` as one single-quoted shell word ('it'\''s').
std::string shell_quote(const std::string& s);

}  // namespace lxcdn::demo
