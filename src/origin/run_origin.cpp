#include "origin/run_origin.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <iostream>

#include "core/config_error.hpp"
#include "net/server.hpp"
#include "origin/canary.hpp"
#include "origin/origin_handler.hpp"

namespace lxcdn::origin {

int run_origin(const origin_config& config) {
  std::error_code ec;
  if (!std::filesystem::is_directory(config.root, ec)) {
    throw config_error(fmt::format("{}: root: '{}' is not a directory", config.source.string(),
                                   config.root.string()));
  }
  geoip::geoip_store geo(config.geoip);  // throws config_error naming an unusable database
  health::health_board board(config.mirrors.size());
  net::server server(config.server);
  origin_handler handler(config, &geo, &board);
  server.set_handler(handler);
  auto now = [] {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  health::prober prober(server.context(), config.mirrors, config.health,
                        [root = config.root] { return pick_canary(root); }, board, now);
  // The GeoIP database is swapped in when its file changes (and on SIGHUP with the certificate).
  boost::asio::steady_timer geo_timer(server.context());
  std::function<void()> watch_geoip = [&] {
    if (config.geoip.check_interval.count() == 0 || config.geoip.database.empty()) {
      return;
    }
    geo_timer.expires_after(config.geoip.check_interval);
    geo_timer.async_wait([&](boost::system::error_code ec) {
      if (ec) {
        return;
      }
      auto r = geo.maybe_reload_if_changed();
      if (r.result == geoip::geoip_store::check_result::reloaded) {
        spdlog::info("GeoIP database reloaded: {}", config.geoip.database.string());
      } else if (r.result == geoip::geoip_store::check_result::failed) {
        spdlog::warn("GeoIP database reload failed, keeping the old data: {}", r.error);
      }
      watch_geoip();
    });
  };
  watch_geoip();
  server.on_stop([&] {
    prober.stop();
    boost::asio::post(geo_timer.get_executor(), [&] { geo_timer.cancel(); });
  });
  prober.start();
  for (const auto& l : server.bind()) {
    std::cout << "lxcdn origin listening on " << l.url << "\n";
  }
  std::cout << std::flush;
  spdlog::info("serving {}", config.root.string());
  server.run();
  spdlog::info("stopped");
  return 0;
}

}  // namespace lxcdn::origin
