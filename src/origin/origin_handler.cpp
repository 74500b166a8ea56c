#include "origin/origin_handler.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/string.hpp>

#include <random>

#include "core/unique_fd.hpp"
#include "geoip/client_address.hpp"
#include "selection/explain.hpp"
#include "selection/redirect_url.hpp"
#include "selection/select_mirror.hpp"
#include "http/target.hpp"
#include "origin/static_files.hpp"

namespace lxcdn::origin {

namespace http = net::http;

origin_handler::origin_handler(const origin_config& config, const geoip::geoip_store* geo,
                               const health::health_board* board)
    : config_(config), geo_(geo), board_(board) {}

std::optional<std::string> origin_handler::choose_redirect(const net::request& req,
                                                           std::string* explain) const {
  const auto& msg = req.message;
  // Client address: the socket peer, or X-Forwarded-For behind trusted proxies.
  const auto& a = req.peer.address();
  geoip::ip_address peer = a.is_v4() ? geoip::ip_address::v4(a.to_v4().to_bytes())
                                     : geoip::ip_address::v6(a.to_v6().to_bytes());
  std::vector<std::string_view> forwarded;
  if (!config_.geoip.trusted_proxies.empty()) {
    auto [first, last] = msg.equal_range("X-Forwarded-For");
    for (auto it = first; it != last; ++it) {
      forwarded.push_back(it->value());
    }
  }
  auto client = geoip::client_address(peer, forwarded, config_.geoip.trusted_proxies);
  auto geo = geo_->current();
  selection::selection_request sr;
  sr.client = geo->lookup(client);
  sr.scheme = req.tls ? "https" : "http";
  sr.self.reserve(1 + config_.selection.origin_names.size());
  sr.self.emplace_back(msg[http::field::host]);
  sr.self.insert(sr.self.end(), config_.selection.origin_names.begin(),
                 config_.selection.origin_names.end());
  thread_local std::mt19937_64 rng{std::random_device{}()};
  sr.random = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  sr.explain = explain != nullptr;
  auto statuses = board_->statuses();
  auto sel = selection::select_mirror(sr, config_.mirrors, *statuses, config_.selection);
  std::optional<std::string> location;
  if (sel.chosen) {
    auto r = selection::build_redirect(sr.scheme, msg.target(), config_.mirrors[*sel.chosen],
                                       sr.self);
    if (!r.location.empty()) {
      location = std::move(r.location);
    }
  }
  if (explain) {
    *explain = selection::explain_json(sel, sr, config_.selection, geoip::to_string(client),
                                       location.value_or(""));
  }
  return location;
}

boost::asio::awaitable<bool> origin_handler::handle(const net::request& req,
                                                    net::response_sink& sink, bool keep_alive) {
  if (!config_.mirrors.empty()) {
    const auto& msg = req.message;
    auto method = msg.method();
    bool explain = msg["X-LXC-Explain"] == "1";
    // Only image files move; the index is always served here. A mirror's own fill
    // (X-LXC-No-GeoIP: on) is served, never redirected.
    if ((method == http::verb::get || method == http::verb::head) &&
        selection::is_redirectable_target(msg.target()) &&
        (explain || !boost::beast::iequals(msg["X-LXC-No-GeoIP"], "on"))) {
      std::string trace;
      auto location = choose_redirect(req, explain ? &trace : nullptr);
      if (explain) {
        auto plan = net::plan_text_response(http::status::ok, msg.version(), keep_alive,
                                            method == http::verb::head, std::move(trace));
        plan.head.set(http::field::content_type, "application/json");
        plan.head.set(http::field::cache_control, "no-store");
        co_return !co_await net::write_planned(sink, plan);
      }
      if (location) {
        auto plan = net::plan_text_response(http::status::found, msg.version(), keep_alive,
                                            method == http::verb::head, "");
        plan.head.set(http::field::location, *location);
        plan.head.set(http::field::cache_control, "no-store");
        co_return !co_await net::write_planned(sink, plan);
      }
    }
  }
  if (!config_.redirect_images_to.empty()) {
    auto target = req.message.target();
    auto no_geoip = req.message["X-LXC-No-GeoIP"];
    auto method = req.message.method();
    if ((method == http::verb::get || method == http::verb::head) &&
        !boost::beast::iequals(no_geoip, "on") &&
        lxcdn::http::normalize_target(target).path.starts_with("/images/")) {
      auto plan = net::plan_text_response(http::status::found, req.message.version(), keep_alive,
                                          method == http::verb::head, "");
      plan.head.set(http::field::location,
                    std::string(req.tls ? "https://" : "http://") + config_.redirect_images_to +
                        std::string(target));
      co_return !co_await net::write_planned(sink, plan);
    }
  }
  // The root is opened per request so a publisher that swaps a `current` symlink takes effect
  // at once, and every request resolves beneath one consistent generation.
  unique_fd root(::open(config_.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  static_response plan;
  if (!root) {
    spdlog::error("cannot open root {}: {}", config_.root.string(), std::strerror(errno));
    plan = net::plan_text_response(http::status::service_unavailable, req.message.version(),
                                   keep_alive, req.message.method() == http::verb::head,
                                   "temporarily unavailable\n");
  } else {
    plan = plan_static_response(root.get(), config_.cache_control, req.message, keep_alive);
  }

  auto ec = co_await net::write_planned(sink, plan);
  if (config_.access_log) {
    spdlog::info("{} {} {} {} {} {}", req.peer.address().to_string(),
                 std::string_view(req.message.method_string()), std::string_view(req.message.target()),
                 plan.head.result_int(), sink.body_bytes_written(), ec ? ec.message() : "ok");
  }
  co_return !ec;
}

}  // namespace lxcdn::origin
