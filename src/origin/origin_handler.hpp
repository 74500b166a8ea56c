#pragma once

#include <optional>
#include <string>

#include "geoip/geoip_store.hpp"
#include "health/prober.hpp"
#include "net/request_handler.hpp"
#include "origin/origin_config.hpp"

namespace lxcdn::origin {

// The origin's request handler: `/images/...` redirected to the best healthy mirror for the
// client (GeoIP selection) or served, everything else served from the published tree.
// Immutable after construction apart from the snapshots it reads (GeoIP data, mirror health);
// safe to call from every session concurrently.
class origin_handler final : public net::request_handler {
 public:
  // `geo` and `board` may be null when no mirror is configured.
  origin_handler(const origin_config& config, const geoip::geoip_store* geo,
                 const health::health_board* board);

  boost::asio::awaitable<bool> handle(const net::request& req, net::response_sink& sink,
                                      bool keep_alive) override;

 private:
  // The redirect for this request, or nullopt to serve it here. Writes the explain document
  // into `explain` when the request asks for it.
  std::optional<std::string> choose_redirect(const net::request& req, std::string* explain) const;

  const origin_config& config_;
  const geoip::geoip_store* geo_;
  const health::health_board* board_;
};

}  // namespace lxcdn::origin
