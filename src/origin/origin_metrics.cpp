#include "origin/origin_metrics.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "geoip/country_table.hpp"

namespace lxcdn::origin {

namespace {

constexpr auto reasons = static_cast<std::size_t>(redirect_reason::count);

// Prometheus label value escaping: backslash, double quote and newline.
std::string label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void header(std::string& out, std::string_view name, std::string_view type,
            std::string_view help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

std::string_view to_string(local_reason r) {
  switch (r) {
    case local_reason::not_image: return "not_image";
    case local_reason::no_geoip: return "no_geoip";
    case local_reason::no_mirrors: return "no_mirrors";
    case local_reason::no_candidate: return "no_candidate";
    case local_reason::unknown_location: return "unknown_location";
    case local_reason::too_far: return "too_far";
    case local_reason::count: break;
  }
  return "?";
}

local_reason local_reason_of(selection::decision d) {
  switch (d) {
    case selection::decision::no_mirrors: return local_reason::no_mirrors;
    case selection::decision::unknown_location: return local_reason::unknown_location;
    case selection::decision::too_far: return local_reason::too_far;
    default: return local_reason::no_candidate;
  }
}

std::string_view to_string(redirect_reason r) {
  switch (r) {
    case redirect_reason::country_rule: return "country_rule";
    case redirect_reason::continent_rule: return "continent_rule";
    case redirect_reason::nearest: return "nearest";
    case redirect_reason::count: break;
  }
  return "?";
}

std::size_t country_index(std::string_view country) {
  auto all = geoip::all_countries();
  const auto* c = geoip::find_country(country);
  return c ? static_cast<std::size_t>(c - all.data()) : all.size();
}

std::string_view country_label(std::size_t index) {
  auto all = geoip::all_countries();
  return index < all.size() ? all[index].code : std::string_view("unknown");
}

mirror_redirects::mirror_redirects() : cells_((geoip::all_countries().size() + 1) * reasons) {}

std::uint64_t mirror_redirects::count(std::size_t country, redirect_reason r) const noexcept {
  return cells_.sum(country * reasons + static_cast<std::size_t>(r));
}

origin_metrics::origin_metrics()
    : local_(static_cast<std::size_t>(local_reason::count)), explains_(1) {}

std::shared_ptr<mirror_redirects> origin_metrics::redirects_of(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto& p = redirects_[name];
  if (!p) {
    p = std::make_shared<mirror_redirects>();
  }
  return p;
}

void origin_metrics::count_reload(bool ok) {
  std::lock_guard lock(mutex_);
  ++(ok ? reloads_ok_ : reloads_failed_);
}

void origin_metrics::count_operator_change(const std::string& name,
                                           selection::operator_state to) {
  std::lock_guard lock(mutex_);
  ++operator_changes_[{name, to}];
}

void origin_metrics::sample(std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mutex_);
  for (const auto& [name, r] : redirects_) {
    auto& points = rates_[name];
    points.push_back({now, r->total()});
    // Keep one point at least a minute old, so the rate covers a whole minute.
    while (points.size() > 2 && now - points[1].at >= std::chrono::seconds(60)) {
      points.pop_front();
    }
  }
}

double origin_metrics::redirects_per_minute(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = rates_.find(name);
  if (it == rates_.end() || it->second.size() < 2) {
    return 0;
  }
  const auto& first = it->second.front();
  const auto& last = it->second.back();
  double seconds = std::chrono::duration<double>(last.at - first.at).count();
  if (seconds <= 0) {
    return 0;
  }
  return static_cast<double>(last.total - first.total) * 60.0 / seconds;
}

std::string origin_metrics::render(const std::vector<mirror_sample>& mirrors,
                                   std::uint64_t geoip_failed_reloads) const {
  std::string out;
  std::lock_guard lock(mutex_);

  header(out, "lxcdn_origin_redirects_total", "counter",
         "Requests redirected to a mirror, by mirror, client country and deciding rule.");
  auto countries = geoip::all_countries().size();
  for (const auto& [name, r] : redirects_) {
    for (std::size_t c = 0; c <= countries; ++c) {
      for (std::size_t k = 0; k < reasons; ++k) {
        auto reason = static_cast<redirect_reason>(k);
        if (auto v = r->count(c, reason)) {
          out += fmt::format(
              "lxcdn_origin_redirects_total{{mirror=\"{}\",country=\"{}\",reason=\"{}\"}} {}\n",
              label(name), country_label(c), to_string(reason), v);
        }
      }
    }
  }

  header(out, "lxcdn_origin_served_total", "counter",
         "Requests the origin answered itself, by why it did not redirect them.");
  for (std::size_t k = 0; k < static_cast<std::size_t>(local_reason::count); ++k) {
    out += fmt::format("lxcdn_origin_served_total{{reason=\"{}\"}} {}\n",
                       to_string(static_cast<local_reason>(k)), local_.sum(k));
  }
  header(out, "lxcdn_origin_explain_total", "counter",
         "Requests answered with the decision trace (X-LXC-Explain: 1).");
  out += fmt::format("lxcdn_origin_explain_total {}\n", explains_.sum(0));

  header(out, "lxcdn_origin_mirror_up", "gauge",
         "1 when this origin node's health checks find the mirror up.");
  for (const auto& m : mirrors) {
    out += fmt::format("lxcdn_origin_mirror_up{{mirror=\"{}\"}} {}\n", label(m.name),
                       m.health.state == health::health_state::up ? 1 : 0);
  }
  header(out, "lxcdn_origin_mirror_state", "gauge",
         "The operator state of each mirror (1 for the current one).");
  for (const auto& m : mirrors) {
    for (auto s : {selection::operator_state::active, selection::operator_state::draining,
                   selection::operator_state::disabled}) {
      out += fmt::format("lxcdn_origin_mirror_state{{mirror=\"{}\",state=\"{}\"}} {}\n",
                         label(m.name), selection::to_string(s), m.state == s ? 1 : 0);
    }
  }
  // One series per mirror and value of `key`: name{mirror="..",key="value"} n.
  auto per_mirror = [&](std::string_view name, std::string_view key,
                        std::initializer_list<std::pair<std::string_view,
                                                        std::uint64_t health::mirror_health_report::*>>
                            values) {
    for (const auto& m : mirrors) {
      for (const auto& [value, field] : values) {
        out += fmt::format("{}{{mirror=\"{}\",{}=\"{}\"}} {}\n", name, label(m.name), key, value,
                           m.health.*field);
      }
    }
  };
  header(out, "lxcdn_origin_probes_total", "counter",
         "Health probe rounds per mirror (status endpoint and canary), by result.");
  per_mirror("lxcdn_origin_probes_total", "result",
             {{"ok", &health::mirror_health_report::probes_ok},
              {"failed", &health::mirror_health_report::probes_failed}});
  header(out, "lxcdn_origin_mirror_last_probe_timestamp_seconds", "gauge",
         "Unix time of the last health probe of each mirror (0: not probed yet).");
  for (const auto& m : mirrors) {
    out += fmt::format("lxcdn_origin_mirror_last_probe_timestamp_seconds{{mirror=\"{}\"}} {}\n",
                       label(m.name), m.health.last_probe);
  }
  header(out, "lxcdn_origin_health_transitions_total", "counter",
         "Health state changes per mirror (k of n probes failed: down; m in a row ok: up).");
  per_mirror("lxcdn_origin_health_transitions_total", "to",
             {{"up", &health::mirror_health_report::transitions_up},
              {"down", &health::mirror_health_report::transitions_down}});
  header(out, "lxcdn_origin_operator_transitions_total", "counter",
         "Operator state changes per mirror made through the admin API or a reload.");
  for (const auto& [key, v] : operator_changes_) {
    out += fmt::format("lxcdn_origin_operator_transitions_total{{mirror=\"{}\",to=\"{}\"}} {}\n",
                       label(key.first), selection::to_string(key.second), v);
  }
  header(out, "lxcdn_origin_config_reloads_total", "counter",
         "Configuration reloads (SIGHUP), by result; a failed one keeps the old configuration.");
  out += fmt::format("lxcdn_origin_config_reloads_total{{result=\"ok\"}} {}\n", reloads_ok_);
  out += fmt::format("lxcdn_origin_config_reloads_total{{result=\"failed\"}} {}\n",
                     reloads_failed_);
  header(out, "lxcdn_origin_geoip_reload_failures_total", "counter",
         "GeoIP database reloads that failed (the old data stayed in use).");
  out += fmt::format("lxcdn_origin_geoip_reload_failures_total {}\n", geoip_failed_reloads);
  return out;
}

}  // namespace lxcdn::origin
