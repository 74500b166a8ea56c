#include "health/prober.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "checkmirror/probe.hpp"
#include "checkmirror/site_url.hpp"

namespace lxcdn::health {

namespace asio = boost::asio;

health_board::health_board(std::size_t mirrors)
    : statuses_(std::make_shared<const std::vector<selection::mirror_status>>(
          mirrors, selection::mirror_status{false, 0, 1})) {}

std::shared_ptr<const std::vector<selection::mirror_status>> health_board::statuses() const {
  std::lock_guard lock(mutex_);
  return statuses_;
}

std::vector<mirror_health_report> health_board::reports() const {
  std::lock_guard lock(mutex_);
  return reports_;
}

void health_board::publish(std::vector<selection::mirror_status> statuses,
                           std::vector<mirror_health_report> reports) {
  auto fresh = std::make_shared<const std::vector<selection::mirror_status>>(std::move(statuses));
  std::lock_guard lock(mutex_);
  statuses_ = std::move(fresh);
  reports_ = std::move(reports);
}

struct prober::impl {
  impl(asio::io_context& ioc, std::vector<selection::mirror> m, probe_settings s,
       std::function<canary()> c, health_board& b, std::function<std::int64_t()> clk)
      : strand(asio::make_strand(ioc)), timer(strand), mirrors(std::move(m)),
        settings(std::move(s)), canary_source(std::move(c)), board(b), clock(std::move(clk)),
        tls(settings.ca_file) {
    for (const auto& mirror : mirrors) {
      trackers.emplace_back(settings.policy);
      reports.push_back({mirror.name});
    }
  }

  asio::strand<asio::io_context::executor_type> strand;
  asio::steady_timer timer;
  std::vector<selection::mirror> mirrors;
  probe_settings settings;
  std::function<canary()> canary_source;
  health_board& board;
  std::function<std::int64_t()> clock;
  checkmirror::tls_contexts tls;
  std::vector<health_tracker> trackers;
  std::vector<mirror_health_report> reports;
  bool stopping = false;

  // Probes one URL of a mirror. Returns "" when healthy, else the reason.
  asio::awaitable<std::string> probe_url(const std::string& base, const canary& c,
                                         bool check_status) {
    std::string error;
    auto site = checkmirror::parse_site_url(base, error);
    if (!site) {
      co_return base + ": " + error;
    }
    checkmirror::endpoint ep;
    ep.scheme = site->scheme.value_or("https");
    ep.host = site->host;
    ep.port = site->port.value_or(ep.scheme == "https" ? 443 : 80);
    ep.base_path = site->path;
    checkmirror::probe_timeouts t{settings.timeout, settings.timeout, settings.timeout};
    if (check_status) {
      checkmirror::probe_request req{ep, ep.base_path + "/.lxcdn/status", 64 * 1024, true};
      auto r = co_await checkmirror::probe(strand, tls, req, true, t);
      if (!r.error.empty()) {
        co_return ep.url() + ": " + r.error;
      }
      if (r.status == 200 && r.body.find("\"reachable\":false") != std::string::npos) {
        co_return ep.url() + ": the mirror reports its upstream unreachable";
      }
      // Anything else (404 from an nginx mirror, say) says nothing: the canary decides.
    }
    if (c.path.empty()) {
      co_return "";
    }
    checkmirror::probe_request req{ep, ep.base_path + checkmirror::encode_path(c.path),
                                   c.size + 1, false};
    auto r = co_await checkmirror::probe(strand, tls, req, true, t);
    if (!r.error.empty()) {
      co_return ep.url() + ": " + r.error;
    }
    if (r.status != 200) {
      co_return ep.url() + c.path + ": HTTP " + std::to_string(r.status);
    }
    if (!r.body_complete || r.body_bytes != c.size || r.body_sha256 != c.sha256) {
      co_return ep.url() + c.path + ": canary bytes do not match the index" +
          (r.body_error.empty() ? "" : " (" + r.body_error + ")");
    }
    co_return "";
  }

  asio::awaitable<void> loop() {
    while (!stopping) {
      auto c = canary_source();
      std::vector<selection::mirror_status> statuses;
      for (std::size_t i = 0; i < mirrors.size() && !stopping; ++i) {
        const auto& m = mirrors[i];
        std::string failure;
        bool first = true;
        for (const auto* url : {&m.http_url, &m.https_url}) {
          if (url->empty() || !failure.empty()) {
            continue;
          }
          failure = co_await probe_url(*url, c, first);
          first = false;
        }
        auto now = clock();
        bool ok = failure.empty();
        if (auto t = trackers[i].record(ok, now, ok ? "ok" : failure)) {
          ++reports[i].transitions;
          if (t->to == health_state::down) {
            spdlog::warn("mirror {} is down: {}", m.name, t->reason);
          } else {
            spdlog::info("mirror {} is up: {}", m.name, t->reason);
          }
        }
        auto& rep = reports[i];
        rep.state = trackers[i].state();
        rep.share = trackers[i].share(now);
        rep.last_probe = now;
        rep.last_ok = ok;
        rep.last_reason = trackers[i].last_reason();
      }
      auto now = clock();
      for (std::size_t i = 0; i < mirrors.size(); ++i) {
        statuses.push_back({trackers[i].state() == health_state::up, trackers[i].share(now), 1.0});
      }
      if (!stopping) {
        board.publish(std::move(statuses), reports);
      }
      timer.expires_after(settings.interval);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
};

prober::prober(asio::io_context& ioc, std::vector<selection::mirror> mirrors,
               probe_settings settings, std::function<canary()> canary_source,
               health_board& board, std::function<std::int64_t()> clock)
    : impl_(std::make_unique<impl>(ioc, std::move(mirrors), std::move(settings),
                                   std::move(canary_source), board, std::move(clock))) {}

prober::~prober() = default;

void prober::start() {
  if (!impl_->mirrors.empty()) {
    asio::co_spawn(impl_->strand, impl_->loop(), asio::detached);
  }
}

void prober::stop() {
  asio::post(impl_->strand, [this] {
    impl_->stopping = true;
    impl_->timer.cancel();
  });
}

}  // namespace lxcdn::health
