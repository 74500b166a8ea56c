#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "mirror/mirror_config.hpp"

namespace lxcdn::mirror {

class upstream_connection;

// One upstream response: the head has arrived, the body is read in pieces.
// Strand-confined to the upstream strand. Destroying it returns the connection to the pool if the
// body was read completely and the upstream allows keep-alive, and closes it otherwise.
class upstream_response {
 public:
  upstream_response(std::unique_ptr<upstream_connection> conn, class upstream_client& owner);
  ~upstream_response();
  upstream_response(const upstream_response&) = delete;
  upstream_response& operator=(const upstream_response&) = delete;

  unsigned status() const;
  std::string header(std::string_view name) const;
  std::optional<std::uint64_t> content_length() const;

  // Reads up to `buf.size()` body bytes; 0 bytes with no error means the body is complete.
  // Each call has upstream.read_timeout as its deadline.
  boost::asio::awaitable<std::pair<boost::system::error_code, std::size_t>> read_some(
      std::span<char> buf);

 private:
  std::unique_ptr<upstream_connection> conn_;
  upstream_client& owner_;
  bool done_ = false;
};

// HTTPS client for the origin: TLS 1.3 only, certificate chain and host name verified, SNI sent,
// `X-LXC-No-GeoIP: on` on every request (so the origin serves, never redirects), connections kept
// alive and reused. Strand-confined: every call runs on `strand()`.
class upstream_client {
 public:
  // Throws config_error if the CA file cannot be loaded.
  upstream_client(boost::asio::io_context& ioc, upstream_config config);
  ~upstream_client();

  boost::asio::strand<boost::asio::io_context::executor_type>& strand() { return strand_; }
  const upstream_config& config() const { return config_; }

  // GET base_path + target, `target` being a decoded path (a cache key; percent-encoded here).
  // Returns once the response head has arrived (connect + TLS within connect_timeout, head
  // within header_timeout). A reused connection that turns out dead is retried once on a fresh
  // one. A non-empty `range` is sent as the Range header value (e.g. "bytes=100-199").
  boost::asio::awaitable<std::pair<boost::system::error_code, std::unique_ptr<upstream_response>>>
  get(std::string target, std::string range = {});

  // Ends every upstream exchange for good (the mirror is stopping): connections in use are
  // closed, so their pending reads, writes and handshakes complete with operation_aborted; idle
  // ones are dropped; later get() calls fail at once with operation_aborted.
  void abort_all();

  // Reads a whole small response body (the index). Fails past `limit` bytes.
  boost::asio::awaitable<std::pair<boost::system::error_code, std::string>> fetch_text(
      std::string target, std::size_t limit, unsigned* status = nullptr);

 private:
  friend class upstream_response;
  boost::asio::awaitable<std::pair<boost::system::error_code, std::unique_ptr<upstream_connection>>>
  connect();
  void release(std::unique_ptr<upstream_connection> conn);

  upstream_config config_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::ssl::context tls_;
  std::vector<std::unique_ptr<upstream_connection>> idle_;  // strand-confined
  // Every live connection (idle, connecting or carrying a response), for abort_all(); each one
  // adds and removes itself. Strand-confined.
  std::set<upstream_connection*> live_;
  bool aborted_ = false;  // abort_all() was called; strand-confined
};

}  // namespace lxcdn::mirror
