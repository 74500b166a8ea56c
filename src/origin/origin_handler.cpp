#include "origin/origin_handler.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/string.hpp>

#include <chrono>
#include <random>

#include "core/unique_fd.hpp"
#include "geoip/client_address.hpp"
#include "http/log_text.hpp"
#include "selection/explain.hpp"
#include "selection/redirect_url.hpp"
#include "selection/select_mirror.hpp"
#include "origin/static_files.hpp"
#include "origin/status_page.hpp"

namespace lxcdn::origin {

namespace http = net::http;

origin_handler::origin_handler(const origin_config& config, const geoip::geoip_store& geo,
                               const routing_store& routes, origin_metrics& metrics)
    : config_(config), geo_(geo), routes_(routes), metrics_(metrics), root_(config.root) {}

std::vector<status_row> origin_handler::status_rows(const routing_store& routes,
                                                    const origin_metrics& metrics) {
  std::vector<status_row> rows;
  for (auto& e : routes.entries()) {
    auto name = e.mirror.name;
    rows.push_back({std::move(e), metrics.redirects_per_minute(name), 0});
  }
  const auto& table = routes.table();
  for (auto& r : rows) {
    for (std::size_t i = 0; i < table.mirrors.size(); ++i) {
      if (table.mirrors[i].name == r.entry.mirror.name) {
        r.redirects_total = table.redirects[i]->total();
      }
    }
  }
  return rows;
}

origin_handler::choice origin_handler::choose_redirect(const net::request& req,
                                                       std::string* explain) const {
  const auto& msg = req.message;
  // Client address: the socket peer, or X-Forwarded-For behind trusted proxies.
  const auto& a = req.peer.address();
  geoip::ip_address peer = a.is_v4() ? geoip::ip_address::v4(a.to_v4().to_bytes())
                                     : geoip::ip_address::v6(a.to_v6().to_bytes());
  // Both snapshots are this thread's cached ones: no lock, no reference count (used only until
  // the end of this function, before any co_await).
  const auto& table = routes_.table();
  if (table.mirrors.empty() && !explain) {
    return {std::nullopt, local_reason::no_mirrors};
  }
  const auto& geo = geo_.local();
  std::vector<std::string_view> forwarded;
  if (!geo.settings().trusted_proxies.empty()) {
    auto [first, last] = msg.equal_range("X-Forwarded-For");
    for (auto it = first; it != last; ++it) {
      forwarded.push_back(it->value());
    }
  }
  auto client = geoip::client_address(peer, forwarded, geo.settings().trusted_proxies);
  selection::selection_request sr;
  sr.client = geo.lookup(client);
  sr.scheme = req.tls ? "https" : "http";
  sr.self.emplace_back(msg[http::field::host]);
  sr.self.insert(sr.self.end(), table.settings.origin_names.begin(),
                 table.settings.origin_names.end());
  thread_local std::mt19937_64 rng{std::random_device{}()};
  sr.random = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  sr.explain = explain != nullptr;
  auto sel = selection::select_mirror(sr, table.mirrors, table.status, table.settings);
  choice out;
  if (sel.chosen) {
    auto r = selection::build_redirect(sr.scheme, msg.target(), table.mirrors[*sel.chosen],
                                       sr.self);
    if (!r.location.empty()) {
      out.location = std::move(r.location);
      if (!explain) {
        auto reason = sel.reason == selection::decision::country_rule
                          ? redirect_reason::country_rule
                      : sel.reason == selection::decision::continent_rule
                          ? redirect_reason::continent_rule
                          : redirect_reason::nearest;
        table.redirects[*sel.chosen]->add(country_index(sr.client.country), reason);
      }
    }
  } else {
    out.why_local = local_reason_of(sel.reason);
  }
  if (explain) {
    *explain = selection::explain_json(sel, sr, table.settings, geoip::to_string(client),
                                       out.location.value_or(""));
  }
  return out;
}

boost::asio::awaitable<bool> origin_handler::serve_reserved(const net::request& req,
                                                            net::response_sink& sink,
                                                            bool keep_alive,
                                                            std::string_view path) {
  const auto& msg = req.message;
  auto method = msg.method();
  bool head = method == http::verb::head;
  if (method != http::verb::get && !head) {
    auto plan = net::plan_text_response(http::status::method_not_allowed, msg.version(),
                                        keep_alive, false, "GET or HEAD only\n");
    plan.head.set(http::field::allow, "GET, HEAD");
    co_return !co_await net::write_planned(sink, plan);
  }
  std::string body;
  std::string_view type;
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  if (path == metrics_path) {
    std::vector<origin_metrics::mirror_sample> samples;
    for (auto& e : routes_.entries()) {
      samples.push_back({e.mirror.name, e.mirror.state, std::move(e.health)});
    }
    body = metrics_.render(samples, geo_.failed_reloads());
    if (connection_counts_) {
      auto c = connection_counts_();
      body += fmt::format(
          "# HELP lxcdn_origin_connections Open client connections.\n"
          "# TYPE lxcdn_origin_connections gauge\nlxcdn_origin_connections {}\n"
          "# HELP lxcdn_origin_connections_parked Idle keep-alive connections parked (socket "
          "only, no request loop).\n"
          "# TYPE lxcdn_origin_connections_parked gauge\nlxcdn_origin_connections_parked {}\n",
          c.open, c.parked);
    }
    type = "text/plain; version=0.0.4; charset=utf-8";
  } else if (path == status_json_path) {
    body = render_status_json(status_rows(routes_, metrics_), now);
    type = "application/json";
  } else {
    body = render_status_html(status_rows(routes_, metrics_), now);
    type = "text/html; charset=utf-8";
  }
  auto plan =
      net::plan_text_response(http::status::ok, msg.version(), keep_alive, head, std::move(body));
  plan.head.set(http::field::content_type, type);
  plan.head.set(http::field::cache_control, "no-store");
  co_return !co_await net::write_planned(sink, plan);
}

boost::asio::awaitable<bool> origin_handler::handle(const net::request& req,
                                                    net::response_sink& sink, bool keep_alive) {
  const auto& msg = req.message;
  auto method = msg.method();
  auto target = msg.target();
  if (target.starts_with("/.lxcdn/")) {
    auto path = std::string_view(target).substr(0, std::string_view(target).find('?'));
    if (path == status_page_path || path == status_json_path || path == metrics_path) {
      co_return co_await serve_reserved(req, sink, keep_alive, path);
    }
  }
  bool get_or_head = method == http::verb::get || method == http::verb::head;
  if (!get_or_head) {
    // Answered by the static plan (405), not counted.
  } else if (!selection::is_redirectable_target(target)) {
    metrics_.served_locally(local_reason::not_image);
  } else {
    bool explain = msg["X-LXC-Explain"] == "1";
    // Only image files move; the index is always served here. A mirror's own fill
    // (X-LXC-No-GeoIP: on) is served, never redirected.
    if (!explain && boost::beast::iequals(msg["X-LXC-No-GeoIP"], "on")) {
      metrics_.served_locally(local_reason::no_geoip);
    } else {
      std::string trace;
      auto c = choose_redirect(req, explain ? &trace : nullptr);
      if (explain) {
        metrics_.explained();
        auto plan = net::plan_text_response(http::status::ok, msg.version(), keep_alive,
                                            method == http::verb::head, std::move(trace));
        plan.head.set(http::field::content_type, "application/json");
        plan.head.set(http::field::cache_control, "no-store");
        co_return !co_await net::write_planned(sink, plan);
      }
      if (c.location) {
        // The hot path of an origin: a head of fixed fields, built without Beast fields.
        const net::head_field fields[] = {{"Content-Type", "text/plain; charset=utf-8"},
                                          {"Content-Length", "0"},
                                          {"Location", *c.location},
                                          {"Cache-Control", "no-store"}};
        co_return !co_await sink.write_head_fields(http::status::found, msg.version(),
                                                   keep_alive, fields, false);
      }
      metrics_.served_locally(c.why_local);
    }
  }
  // Checked per request (root_dir) so a publisher that swaps a `current` symlink takes effect
  // at once, and every request resolves beneath one consistent generation.
  const int root = root_.current();
  static_response plan;
  if (root < 0) {
    spdlog::error("cannot open root {}: {}", config_.root.string(), std::strerror(errno));
    plan = net::plan_text_response(http::status::service_unavailable, req.message.version(),
                                   keep_alive, req.message.method() == http::verb::head,
                                   "temporarily unavailable\n");
  } else {
    plan = plan_static_response(root, config_.cache_control, req.message, keep_alive);
  }

  auto ec = co_await net::write_planned(sink, plan);
  if (config_.access_log) {
    spdlog::info("{} {} {} {} {} {}", req.peer.address().to_string(),
                 std::string_view(req.message.method_string()), ::lxcdn::http::log_escape(req.message.target()),
                 plan.head.result_int(), sink.body_bytes_written(), ec ? ec.message() : "ok");
  }
  co_return !ec;
}

}  // namespace lxcdn::origin
