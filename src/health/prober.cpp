#include "health/prober.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <optional>

#include "checkmirror/probe.hpp"
#include "checkmirror/site_url.hpp"

namespace lxcdn::health {

namespace asio = boost::asio;

struct prober::impl {
  impl(asio::io_context& ioc, std::vector<selection::mirror> m, probe_settings s,
       std::function<canary()> c, health_sink p, std::function<std::int64_t()> clk)
      : strand(asio::make_strand(ioc)), timer(strand), settings(std::move(s)),
        canary_source(std::move(c)), publish(std::move(p)), clock(std::move(clk)),
        tls(settings.ca_file) {
    apply(std::move(m));
  }

  // Installs a mirror list, keeping the tracker and report of every mirror whose name and URLs
  // are unchanged (on the strand, between rounds).
  void apply(std::vector<selection::mirror> next) {
    std::vector<health_tracker> next_trackers;
    std::vector<mirror_health_report> next_reports;
    for (const auto& n : next) {
      std::size_t i = 0;
      while (i < mirrors.size() && !(mirrors[i].name == n.name &&
                                     mirrors[i].http_url == n.http_url &&
                                     mirrors[i].https_url == n.https_url)) {
        ++i;
      }
      if (i < mirrors.size()) {
        next_trackers.push_back(std::move(trackers[i]));
        next_reports.push_back(std::move(reports[i]));
      } else {
        next_trackers.emplace_back(settings.policy);
        next_reports.push_back({n.name});
      }
    }
    mirrors = std::move(next);
    trackers = std::move(next_trackers);
    reports = std::move(next_reports);
  }

  asio::strand<asio::io_context::executor_type> strand;
  asio::steady_timer timer;
  std::vector<selection::mirror> mirrors;
  probe_settings settings;
  std::function<canary()> canary_source;
  health_sink publish;
  std::function<std::int64_t()> clock;
  checkmirror::tls_contexts tls;
  std::vector<health_tracker> trackers;
  std::vector<mirror_health_report> reports;
  std::optional<std::vector<selection::mirror>> pending;  // from update(), applied between rounds
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
      if (pending) {
        apply(std::move(*pending));
        pending.reset();
      }
      auto c = canary_source();
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
        ++(ok ? reports[i].probes_ok : reports[i].probes_failed);
        if (auto t = trackers[i].record(ok, now, ok ? "ok" : failure)) {
          ++(t->to == health_state::up ? reports[i].transitions_up
                                       : reports[i].transitions_down);
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
        reports[i].share = trackers[i].share(now);
      }
      if (!stopping && !pending) {
        publish(reports);
      }
      if (pending || stopping) {
        continue;
      }
      timer.expires_after(settings.interval);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
};

prober::prober(asio::io_context& ioc, std::vector<selection::mirror> mirrors,
               probe_settings settings, std::function<canary()> canary_source,
               health_sink publish, std::function<std::int64_t()> clock)
    : impl_(std::make_unique<impl>(ioc, std::move(mirrors), std::move(settings),
                                   std::move(canary_source), std::move(publish),
                                   std::move(clock))) {}

prober::~prober() = default;

// The loop runs even with no mirror configured, so a reload that adds some is probed.
void prober::start() { asio::co_spawn(impl_->strand, impl_->loop(), asio::detached); }

void prober::update(std::vector<selection::mirror> mirrors) {
  asio::post(impl_->strand, [this, m = std::move(mirrors)]() mutable {
    impl_->pending = std::move(m);
    impl_->timer.cancel();
  });
}

void prober::stop() {
  asio::post(impl_->strand, [this] {
    impl_->stopping = true;
    impl_->timer.cancel();
  });
}

}  // namespace lxcdn::health
