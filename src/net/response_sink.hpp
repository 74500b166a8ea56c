#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <string>

namespace lxcdn::net {

namespace http = boost::beast::http;

using response_head = http::response<http::empty_body>;

// Where a handler writes its one response. Implemented by the session for its stream type (plain
// TCP or TLS). Strand-confined: use only from the handler coroutine that received it.
// Every write has the server's send_timeout as its deadline; errors come back as values.
// The caller sets Content-Length in the head and then writes exactly that many body bytes; for
// HEAD requests it writes only the head.
class response_sink {
 public:
  virtual ~response_sink() = default;

  // Sends the head. With `body_follows` the head may be held back and sent together with the
  // first body bytes (one packet, one TLS record for small responses); the caller must then write
  // the body.
  virtual boost::asio::awaitable<boost::system::error_code> write_head(response_head& head,
                                                                       bool body_follows) = 0;
  virtual boost::asio::awaitable<boost::system::error_code> write_body(
      boost::asio::const_buffer data) = 0;
  // Sends `length` bytes of the open file `fd` from `offset`: sendfile(2) on plain TCP, read and
  // encrypt on TLS. A short file (truncated under us) is an error, never padding.
  virtual boost::asio::awaitable<boost::system::error_code> write_file(int fd,
                                                                       std::uint64_t offset,
                                                                       std::uint64_t length) = 0;
  // Body bytes written so far, for access logs and metrics.
  virtual std::uint64_t body_bytes_written() const = 0;
};

// Writes a complete small response: status, text body, Content-Type text/plain, Content-Length.
// For HEAD only the head is written.
boost::asio::awaitable<boost::system::error_code> write_simple_response(
    response_sink& sink, unsigned version, bool keep_alive, bool head_only, http::status status,
    std::string body);

}  // namespace lxcdn::net
