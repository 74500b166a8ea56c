#include "origin/run_origin.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <csignal>
#include <functional>
#include <iostream>
#include <optional>
#include <thread>

#include "core/config_error.hpp"
#include "core/key_permissions.hpp"
#include "net/server.hpp"
#include "origin/admin_handler.hpp"
#include "origin/canary.hpp"
#include "origin/origin_handler.hpp"
#include "origin/routing_store.hpp"

namespace lxcdn::origin {

namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The admin API's own server: one thread, plain HTTP, its own listener.
net::server_config admin_server_config(const admin_config& a) {
  net::server_config c;
  c.listeners.push_back({a.address, a.port, false});
  c.threads = 1;
  c.limits.max_connections = 64;
  c.limits.shutdown_grace = std::chrono::seconds(5);
  return c;
}

// The admin token is a secret like the TLS key: the same check, the same warning (not an error,
// docs/errors.md). Not in read_admin_token, which `lxcdn mirrors` also calls as whoever runs it.
void warn_about_token_permissions(const std::filesystem::path& file) {
  if (auto warning = key_permission_warning(file, "admin token file")) {
    spdlog::warn("{}", *warning);
  }
}

}  // namespace

int run_origin(const origin_config& config) {
  std::error_code ec;
  if (!std::filesystem::is_directory(config.root, ec)) {
    throw config_error(fmt::format("{}: root: '{}' is not a directory", config.source.string(),
                                   config.root.string()));
  }
  geoip::geoip_store geo(config.geoip);  // throws config_error naming an unusable database
  origin_metrics metrics;
  routing_store routes(config.mirrors, config.selection, metrics);
  net::server server(config.server);
  origin_handler handler(config, geo, routes, metrics);
  server.set_handler(handler);
  handler.set_connection_counts([&server] { return server.counts(); });
  health::prober prober(
      server.context(), config.mirrors, config.health,
      [root = config.root] { return pick_canary(root); },
      [&routes](std::vector<health::mirror_health_report> r) { routes.publish_health(std::move(r)); },
      unix_now);

  std::optional<admin_handler> admin;
  std::optional<net::server> admin_server;
  if (config.admin.enabled) {
    admin.emplace(read_admin_token(config.admin.token_file), routes, metrics);
    warn_about_token_permissions(config.admin.token_file);
    admin_server.emplace(admin_server_config(config.admin), *admin);
  }

  // The GeoIP database is swapped in when its file changes (and on SIGHUP with the config).
  boost::asio::steady_timer geo_timer(server.context());
  std::function<void()> watch_geoip = [&] {
    if (config.geoip.check_interval.count() == 0) {
      return;
    }
    geo_timer.expires_after(config.geoip.check_interval);
    geo_timer.async_wait([&](boost::system::error_code ec) {
      if (ec) {
        return;
      }
      auto r = geo.maybe_reload_if_changed();
      if (r.result == geoip::geoip_store::check_result::reloaded) {
        spdlog::info("GeoIP database reloaded: {}", geo.current()->settings().database.string());
      } else if (r.result == geoip::geoip_store::check_result::failed) {
        spdlog::warn("GeoIP database reload failed, keeping the old data: {}", r.error);
      }
      watch_geoip();
    });
  };
  watch_geoip();

  // Redirects per minute: every mirror's total, sampled every few seconds.
  boost::asio::steady_timer rate_timer(server.context());
  std::function<void()> sample_rates = [&] {
    metrics.sample(std::chrono::steady_clock::now());
    rate_timer.expires_after(std::chrono::seconds(5));
    rate_timer.async_wait([&](boost::system::error_code ec) {
      if (!ec) {
        sample_rates();
      }
    });
  };
  sample_rates();

  // SIGHUP: re-read the config file; apply the mirror list, `selection:`, `geoip:` and the admin
  // token without a restart. Connections and transfers are untouched (requests in flight keep the
  // snapshots they started with). A config that does not parse, or a GeoIP database that does not
  // open, keeps all of the old state. The HTTP core reloads the certificate on the same signal.
  // Other sections (listen, root, limits, health, admin.listen) need a restart.
  boost::asio::signal_set hup(server.context());
  hup.add(SIGHUP);  // before bind(): a SIGHUP sent once we print our address is ours
  std::function<void()> wait_hup = [&] {
    hup.async_wait([&](boost::system::error_code ec, int) {
      if (ec) {
        return;
      }
      try {
        auto next = load_origin_config(config.source);
        std::string token;
        if (admin && next.admin.enabled) {
          token = read_admin_token(next.admin.token_file);
          warn_about_token_permissions(next.admin.token_file);
        }
        if (auto err = geo.reload(next.geoip); !err.empty()) {
          throw config_error(fmt::format("{}: geoip: {}", config.source.string(), err));
        }
        routes.replace(next.mirrors, next.selection);
        prober.update(next.mirrors);
        if (admin && !token.empty()) {
          admin->set_token(std::move(token));
        }
        metrics.count_reload(true);
        spdlog::info("SIGHUP: configuration reloaded from {}: {} mirrors",
                     config.source.string(), next.mirrors.size());
      } catch (const std::exception& e) {
        metrics.count_reload(false);
        spdlog::warn("SIGHUP: configuration reload failed, keeping the old configuration: {}",
                     e.what());
      }
      wait_hup();
    });
  };
  wait_hup();

  server.on_stop([&] {
    prober.stop();
    boost::asio::post(geo_timer.get_executor(), [&] {
      geo_timer.cancel();
      rate_timer.cancel();
      boost::system::error_code ignored;
      hup.cancel(ignored);
    });
    if (admin_server) {
      admin_server->stop();
    }
  });
  prober.start();
  std::thread admin_thread;
  if (admin_server) {
    for (const auto& l : admin_server->bind()) {
      std::cout << "lxcdn origin admin API on " << l.url << "\n";
    }
  }
  for (const auto& l : server.bind()) {
    std::cout << "lxcdn origin listening on " << l.url << "\n";
  }
  std::cout << std::flush;
  if (admin_server) {
    admin_thread = std::thread([&] { admin_server->run(); });
  }
  spdlog::info("serving {} on {} I/O thread(s)", config.root.string(), server.io_threads());
  struct join_admin {
    std::optional<net::server>& s;
    std::thread& t;
    ~join_admin() {
      if (t.joinable()) {
        s->stop();
        t.join();
      }
    }
  } joiner{admin_server, admin_thread};
  server.run();
  spdlog::info("stopped");
  return 0;
}

}  // namespace lxcdn::origin
