#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace lxcdn::net {

// One listening socket.
struct listener_config {
  std::string address;    // IPv4 or IPv6 literal, e.g. "0.0.0.0", "::", "127.0.0.1", "::1"
  std::uint16_t port = 0; // 0 picks a free port (tests); the chosen one is printed at start
  bool tls = false;       // TLS listener; plain HTTP arriving here is detected and served too
};

// Certificate chain and key, PEM. Re-read on SIGHUP; a failed reload keeps the old pair.
struct tls_files {
  std::filesystem::path certificate;  // full chain, leaf first
  std::filesystem::path key;
  // `tls.session_tickets`: session tickets sent after each full TLS 1.3 handshake, 0-8; 0 (the
  // default) sends none and keeps no session cache, so no client resumes, over 1.2 either.
  // LXD and Incus never resume (a new connection and a full handshake per request), and the
  // first ticket costs about 15% of a full handshake's CPU (bench/origin line c: 0.60 ms with
  // OpenSSL's default of 2, 0.50 ms with none).
  unsigned session_tickets = 0;
};

// Limits and deadlines of the HTTP core; every number has a unit and a default.
struct limits_config {
  std::size_t max_connections = 10000;  // open connections per process; extra ones are closed at once
  std::size_t max_header_bytes = 16 * 1024;  // request line + headers; larger gets 431 and close
  std::size_t max_header_fields = 100;  // field lines per request head; more gets 431 and close
  std::chrono::milliseconds header_timeout{10'000};  // from first byte to end of headers
  std::chrono::milliseconds idle_timeout{60'000};    // keep-alive wait for the next request
  std::chrono::milliseconds send_timeout{60'000};    // longest wait for one write to make progress
  std::chrono::milliseconds tls_handshake_timeout{10'000};
  std::chrono::milliseconds shutdown_grace{30'000};  // SIGTERM: time left for in-flight responses
};

struct server_config {
  std::vector<listener_config> listeners;
  tls_files tls;                 // required when any listener has tls
  unsigned threads = 0;          // I/O threads; 0 = one per CPU of the process affinity mask
  limits_config limits;
};

}  // namespace lxcdn::net
