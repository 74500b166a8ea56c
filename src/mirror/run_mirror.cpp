#include "mirror/run_mirror.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <iostream>

#include "http/target.hpp"
#include "mirror/image_index.hpp"
#include "mirror/metrics.hpp"
#include "mirror/mirror_handler.hpp"
#include "mirror/upstream_client.hpp"
#include "net/server.hpp"

namespace lxcdn::mirror {

namespace asio = boost::asio;

std::int64_t system_clock_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

// Fetches index.json and every products file it names; returns the merged index or an error.
asio::awaitable<std::pair<std::shared_ptr<const image_index>, std::string>> load_index(
    upstream_client& upstream) {
  constexpr std::size_t limit = 256u << 20;
  unsigned status = 0;
  auto [ec, text] = co_await upstream.fetch_text("/streams/v1/index.json", limit, &status);
  if (ec || status != 200) {
    co_return std::pair{nullptr, ec ? "index.json: " + ec.message()
                                    : "index.json: HTTP " + std::to_string(status)};
  }
  std::string error;
  auto paths = products_paths(text, error);
  if (!error.empty()) {
    co_return std::pair{nullptr, error};
  }
  auto index = std::make_shared<image_index>();
  for (const auto& p : paths) {
    auto [pec, products] = co_await upstream.fetch_text("/" + p, limit, &status);
    if (pec || status != 200) {
      co_return std::pair{nullptr, p + ": " + (pec ? pec.message() : "HTTP " + std::to_string(status))};
    }
    if (!add_products(products, *index, error)) {
      co_return std::pair{nullptr, p + ": " + error};
    }
  }
  co_return std::pair{std::shared_ptr<const image_index>(std::move(index)), std::string()};
}

asio::awaitable<void> refresh_index_loop(upstream_client& upstream, index_holder& holder,
                                         upstream_health& health, asio::steady_timer& timer,
                                         const bool& stopping) {
  while (!stopping) {
    auto [index, error] = co_await load_index(upstream);
    if (index) {
      if (!health.reachable) {
        spdlog::info("upstream index loaded: {} files", index->files.size());
      }
      holder.replace(std::move(index));
      health.reachable = true;
      health.last_success = system_clock_seconds();
    } else {
      spdlog::warn("upstream index refresh failed: {}", error);
      health.reachable = false;
      std::lock_guard lock(health.mutex);
      health.last_error = error;
    }
    if (stopping) {
      // Stop arrived while the index was being fetched: its cancel found no wait to cancel, so
      // waiting now would hold the process for a whole index_refresh after SIGTERM.
      break;
    }
    timer.expires_after(upstream.config().index_refresh);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<void> sweep_loop(cache_store& store, asio::steady_timer& timer,
                                 std::chrono::milliseconds every, const bool& stopping) {
  while (!stopping) {
    timer.expires_after(every);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!stopping) {
      if (auto n = store.sweep()) {
        spdlog::info("cache: sweep removed {} entries", n);
      }
    }
  }
}

}  // namespace

int run_mirror(const mirror_config& config, clock_fn clock) {
  cache_store store(config.cache, clock);
  store.open();
  mirror_metrics metrics;
  fill_registry registry;
  index_holder index;
  upstream_health health;

  net::server server(config.server);
  upstream_client upstream(server.context(), config.upstream);
  fill_context ctx{config, store, upstream, index, metrics, registry};
  mirror_handler handler(ctx, health, config.server.tls.certificate.string());
  server.set_handler(handler);

  bool stopping = false;  // touched only on the upstream strand
  asio::steady_timer refresh_timer(upstream.strand());
  asio::steady_timer sweep_timer(upstream.strand());
  server.on_stop([&] {
    asio::post(upstream.strand(), [&] {
      stopping = true;
      refresh_timer.cancel();
      sweep_timer.cancel();
    });
  });
  // Fills outlive their clients (a fill goes on when its client leaves), so a stop would wait for
  // each to finish or time out. Once the clients are served or the grace is over, every upstream
  // exchange is cut: each fill fails, its temp file is removed, and nothing unfinished is kept.
  server.on_drained([&] {
    asio::post(upstream.strand(), [&] {
      if (auto running = metrics.fills_in_progress.load(); running > 0) {
        spdlog::info("stopping: abandoning {} fills in progress", running);
      }
      upstream.abort_all();
    });
  });
  auto sweep_every = std::clamp<std::chrono::milliseconds>(config.cache.inactive / 10,
                                                           std::chrono::seconds(1),
                                                           std::chrono::minutes(1));
  asio::co_spawn(upstream.strand(),
                 refresh_index_loop(upstream, index, health, refresh_timer, stopping),
                 asio::detached);
  asio::co_spawn(upstream.strand(), sweep_loop(store, sweep_timer, sweep_every, stopping),
                 asio::detached);

  for (const auto& l : server.bind()) {
    std::cout << "lxcdn mirror listening on " << l.url << "\n";
  }
  std::cout << std::flush;
  spdlog::info("mirror of {} caching in {} on {} I/O thread(s)", config.upstream.url,
               config.cache.dir.string(), server.io_threads());
  server.run();
  spdlog::info("stopped");
  return 0;
}

std::size_t purge(const mirror_config& config, const std::vector<std::string>& paths) {
  cache_store store(config.cache, system_clock_seconds);
  std::size_t removed = 0;
  for (const auto& p : paths) {
    auto t = http::normalize_target(p);
    if (t.error != http::target_error::none) {
      std::cerr << "lxcdn mirror purge: " << p << ": " << http::to_string(t.error) << "\n";
      continue;
    }
    if (store.remove(t.path)) {
      std::cout << "purged " << t.path << "\n";
      ++removed;
    } else {
      std::cerr << "lxcdn mirror purge: " << t.path << ": not in the cache\n";
    }
  }
  return removed;
}

}  // namespace lxcdn::mirror
