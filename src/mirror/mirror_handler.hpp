#pragma once

#include <atomic>
#include <string>

#include "mirror/fill.hpp"
#include "net/request_handler.hpp"

namespace lxcdn::mirror {

// Facts about the upstream for the status page, updated by the index refresher.
struct upstream_health {
  std::atomic<bool> reachable{false};
  std::atomic<std::int64_t> last_success{0};  // unix seconds of the last index refresh
  mutable std::mutex mutex;
  std::string last_error;  // guarded by mutex
};

// The mirror's request handler: /images/... from the cache (single-flight streaming fills on a
// miss), /.lxcdn/status and /metrics for operators, everything else 302 to the origin.
// Safe to call from every session concurrently (all shared state is internally synchronized).
class mirror_handler final : public net::request_handler {
 public:
  mirror_handler(fill_context ctx, upstream_health& health, std::string certificate_file);

  boost::asio::awaitable<bool> handle(const net::request& req, net::response_sink& sink,
                                      bool keep_alive) override;

  // The response itself; handle() adds the access log line around it.
  boost::asio::awaitable<bool> respond(const net::request& req, net::response_sink& sink,
                                       bool keep_alive);

  // The JSON document served at /.lxcdn/status.
  std::string status_json() const;

 private:
  boost::asio::awaitable<bool> serve_image(const net::request& req, net::response_sink& sink,
                                           bool keep_alive, const std::string& key);
  boost::asio::awaitable<bool> serve_fill(const net::request& req, net::response_sink& sink,
                                          bool keep_alive, std::shared_ptr<fill_state> fill,
                                          std::chrono::steady_clock::time_point started);

  fill_context ctx_;
  upstream_health& health_;
  std::string certificate_file_;
};

}  // namespace lxcdn::mirror
