#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "checkmirror/site_url.hpp"

namespace lxcdn::checkmirror {

// One GET the checker makes, on a fresh connection (so each probe also tests reachability).
// Redirects are never followed: the checker judges them.
struct probe_request {
  endpoint where;
  std::string target;                  // request-target, already encoded ("/images/...")
  std::uint64_t body_limit = 1u << 20;  // read at most this many body bytes, then stop
  bool keep_body = false;              // keep the body text (index, products, status JSON)
};

// Deadlines of one probe; none is a config value (the checker is a one-shot tool), so they are
// the ones the origin and LXD live by.
struct probe_timeouts {
  std::chrono::milliseconds connect{10'000};   // resolve + TCP + TLS handshake
  std::chrono::milliseconds headers{30'000};   // request sent to response head (LXD gives up at 30 s)
  std::chrono::milliseconds body_idle{30'000}; // longest wait for more body bytes
};

// What the TLS handshake showed about the server's certificate.
struct tls_facts {
  std::string version;               // negotiated protocol, e.g. "TLSv1.3"
  bool verified = false;             // chain to a trusted CA and name matches the host
  std::string verify_error;          // OpenSSL's reason when not verified
  std::optional<long> days_left;     // until the leaf certificate's notAfter
};

// What one probe saw. A transport failure leaves `error` set and `status` 0; a response whose
// body broke off has `status` set, `body_complete` false and `body_error` set.
struct probe_result {
  std::string url;                   // scheme://authority + target, for reports
  std::string error;                 // why no response head arrived ("connect: Connection refused")
  std::optional<tls_facts> tls;      // https only, once the handshake completed
  unsigned status = 0;
  std::string location;              // Location header
  std::string x_cache;               // X-Cache header (lxcdn: HIT or MISS)
  std::optional<std::uint64_t> content_length;
  double headers_seconds = 0;        // from the start of the connect to the end of the head
  std::uint64_t body_bytes = 0;
  bool body_complete = false;        // the body ended where its framing says
  std::string body_error;            // why not
  std::string body_sha256;           // of the bytes read
  std::string body;                  // when keep_body
};

// The two TLS client contexts of a check. Both trust the system's CAs plus `ca_file` (if given).
// `strict` (for the origin, whose index is the trust anchor) requires TLS 1.3 and aborts on any
// certificate error. `observing` (for the mirror) accepts TLS 1.2 and 1.3 and completes the
// handshake whatever the certificate, recording the verification result for the report, so one
// bad certificate does not hide every other finding (image bytes are checked by sha256 anyway).
// Throws config_error if `ca_file` cannot be loaded.
struct tls_contexts {
  explicit tls_contexts(const std::filesystem::path& ca_file);
  boost::asio::ssl::context strict;
  boost::asio::ssl::context observing;
};

// Performs `req` over plain TCP (`req.where.scheme == "http"`) or TLS with SNI for host names
// and host-name or IP verification. Never throws for network outcomes; they are in the result.
boost::asio::awaitable<probe_result> probe(boost::asio::any_io_executor ex, tls_contexts& tls,
                                           probe_request req, bool strict,
                                           probe_timeouts timeouts = {});

}  // namespace lxcdn::checkmirror
