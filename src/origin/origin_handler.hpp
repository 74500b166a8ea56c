#pragma once

#include <functional>
#include <optional>
#include <string>

#include "geoip/geoip_store.hpp"
#include "net/connection_counts.hpp"
#include "net/request_handler.hpp"
#include "origin/origin_config.hpp"
#include "origin/origin_metrics.hpp"
#include "origin/root_dir.hpp"
#include "origin/routing_store.hpp"
#include "origin/status_page.hpp"

namespace lxcdn::origin {

// Reserved paths of the origin (public, read-only). The published tree never holds them: `lxcdn
// index` ignores dot directories and a request for them never reaches the tree.
inline constexpr std::string_view status_page_path = "/.lxcdn/mirrors";
inline constexpr std::string_view status_json_path = "/.lxcdn/mirrors.json";
inline constexpr std::string_view metrics_path = "/.lxcdn/metrics";

// The origin's request handler: `/images/...` redirected to the best healthy mirror for the
// client (GeoIP selection) or served, the status page and /metrics, everything else served from
// the published tree. Holds no state of its own beyond references; safe to call from every
// session concurrently. The redirect path reads two snapshots (GeoIP data, routing table)
// without taking a lock and bumps sharded counters.
class origin_handler final : public net::request_handler {
 public:
  origin_handler(const origin_config& config, const geoip::geoip_store& geo,
                 const routing_store& routes, origin_metrics& metrics);

  boost::asio::awaitable<bool> handle(const net::request& req, net::response_sink& sink,
                                      bool keep_alive) override;

  // The status rows (status page, admin API).
  static std::vector<status_row> status_rows(const routing_store& routes,
                                                    const origin_metrics& metrics);

 private:
  struct choice {
    std::optional<std::string> location;  // the redirect, or nullopt to serve it here
    local_reason why_local = local_reason::no_candidate;
  };
  // Writes the explain document into `explain` when the request asks for it.
  choice choose_redirect(const net::request& req, std::string* explain) const;

 public:
  // Where /.lxcdn/metrics gets the open and parked connection counts (the server's); unset, they
  // are not reported.
  void set_connection_counts(std::function<net::connection_counts()> f) {
    connection_counts_ = std::move(f);
  }

 private:
  boost::asio::awaitable<bool> serve_reserved(const net::request& req, net::response_sink& sink,
                                              bool keep_alive, std::string_view path);

  const origin_config& config_;
  const geoip::geoip_store& geo_;
  const routing_store& routes_;
  origin_metrics& metrics_;
  root_dir root_;  // config_.root, followed across a publisher's symlink switches
  std::function<net::connection_counts()> connection_counts_;
};

}  // namespace lxcdn::origin
