#pragma once

#include <boost/asio/awaitable.hpp>

#include "net/request.hpp"
#include "net/response_sink.hpp"

namespace lxcdn::net {

// What a server role (origin, mirror) does with each request. Implementations must be safe to
// call concurrently from many sessions (they run on different threads): keep shared state
// immutable or internally synchronized.
class request_handler {
 public:
  virtual ~request_handler() = default;

  // Writes exactly one response to `sink`. `keep_alive` is what the session proposes (client
  // wants it and the server is not shutting down); the handler copies it into the head. Returns
  // false if the connection must be closed after this response (a write failed, or the body
  // could not be completed).
  virtual boost::asio::awaitable<bool> handle(const request& req, response_sink& sink,
                                              bool keep_alive) = 0;
};

}  // namespace lxcdn::net
