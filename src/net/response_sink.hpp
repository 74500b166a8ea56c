#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace lxcdn::net {

namespace http = boost::beast::http;

using response_head = http::response<http::empty_body>;

// One field of a head given as text (response_sink::write_head_fields). Neither part may hold CR
// or LF.
struct head_field {
  std::string_view name;
  std::string_view value;
};

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
  // As write_head, for a head given as its status and fields: no Beast fields to build, no
  // allocation (the per-request path of redirects). The sink adds the status line, Connection
  // as `keep_alive` requires for `version`, Server and Date; `fields` must not name those.
  virtual boost::asio::awaitable<boost::system::error_code> write_head_fields(
      http::status status, unsigned version, bool keep_alive, std::span<const head_field> fields,
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
