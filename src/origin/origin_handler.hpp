#pragma once

#include "net/request_handler.hpp"
#include "origin/origin_config.hpp"

namespace lxcdn::origin {

// The origin's request handler: static serving of the published tree. Immutable after
// construction; safe to call from every session concurrently.
class origin_handler final : public net::request_handler {
 public:
  explicit origin_handler(const origin_config& config);

  boost::asio::awaitable<bool> handle(const net::request& req, net::response_sink& sink,
                                      bool keep_alive) override;

 private:
  const origin_config& config_;
};

}  // namespace lxcdn::origin
