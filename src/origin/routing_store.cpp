#include "origin/routing_store.hpp"

#include <spdlog/spdlog.h>

namespace lxcdn::origin {

routing_store::routing_store(std::vector<selection::mirror> mirrors,
                             selection::selection_settings settings, origin_metrics& metrics)
    : metrics_(metrics), configured_(std::move(mirrors)), settings_(std::move(settings)),
      table_(std::make_shared<const routing_table>()) {
  std::lock_guard lock(mutex_);
  rebuild();
}

void routing_store::rebuild() {
  auto t = std::make_shared<routing_table>();
  t->settings = settings_;
  for (const auto& m : configured_) {
    auto& e = t->mirrors.emplace_back(m);
    if (auto a = admin_.find(m.name); a != admin_.end()) {
      e.state = a->second.state;
    }
    auto h = health_.find(m.name);
    bool up = h != health_.end() && h->second.state == health::health_state::up;
    t->status.push_back({up, up ? h->second.share : 0.0, 1.0});
    t->redirects.push_back(metrics_.redirects_of(m.name));
  }
  table_.store(std::move(t));
}

void routing_store::replace(std::vector<selection::mirror> mirrors,
                            selection::selection_settings settings) {
  std::lock_guard lock(mutex_);
  std::map<std::string, admin_state, std::less<>> kept;
  for (const auto& m : mirrors) {
    auto a = admin_.find(m.name);
    if (a == admin_.end()) {
      continue;
    }
    if (a->second.configured_when_set == m.state) {
      kept.insert(*a);
    } else {
      spdlog::info("mirror {}: the reloaded config sets state {}, replacing {} set through the "
                   "admin API", m.name, selection::to_string(m.state),
                   selection::to_string(a->second.state));
    }
  }
  // Count configured state changes of mirrors that stay, like admin changes.
  for (const auto& m : mirrors) {
    for (const auto& old : configured_) {
      if (old.name == m.name && old.state != m.state) {
        metrics_.count_operator_change(m.name, m.state);
      }
    }
  }
  admin_ = std::move(kept);
  std::map<std::string, health::mirror_health_report, std::less<>> health;
  for (const auto& m : mirrors) {
    // Health was observed at the mirror's URLs; new URLs start unprobed (like the prober).
    bool same_urls = false;
    for (const auto& old : configured_) {
      same_urls = same_urls || (old.name == m.name && old.http_url == m.http_url &&
                                old.https_url == m.https_url);
    }
    if (auto h = health_.find(m.name); h != health_.end() && same_urls) {
      health.insert(*h);
    }
  }
  health_ = std::move(health);
  configured_ = std::move(mirrors);
  settings_ = std::move(settings);
  rebuild();
}

routing_store::set_result routing_store::set_state(std::string_view name,
                                                   selection::operator_state state) {
  std::lock_guard lock(mutex_);
  const selection::mirror* m = nullptr;
  for (const auto& c : configured_) {
    if (c.name == name) {
      m = &c;
    }
  }
  if (!m) {
    return set_result::unknown_mirror;
  }
  auto a = admin_.find(name);
  auto current = a != admin_.end() ? a->second.state : m->state;
  if (current == state) {
    return set_result::unchanged;
  }
  admin_.insert_or_assign(std::string(name), admin_state{state, m->state});
  spdlog::info("mirror {}: operator state {} -> {} (admin API)", name,
               selection::to_string(current), selection::to_string(state));
  metrics_.count_operator_change(std::string(name), state);
  rebuild();
  return set_result::changed;
}

void routing_store::publish_health(std::vector<health::mirror_health_report> reports) {
  std::lock_guard lock(mutex_);
  for (auto& r : reports) {
    bool configured = false;
    for (const auto& c : configured_) {
      configured = configured || c.name == r.name;
    }
    if (configured) {  // a round that started before a reload may name removed mirrors
      auto name = r.name;
      health_.insert_or_assign(std::move(name), std::move(r));
    }
  }
  rebuild();
}

std::vector<mirror_entry> routing_store::entries() const {
  std::lock_guard lock(mutex_);
  std::vector<mirror_entry> out;
  for (const auto& m : configured_) {
    mirror_entry e{m, m.state, false, {m.name}};
    if (auto a = admin_.find(m.name); a != admin_.end()) {
      e.mirror.state = a->second.state;
      e.set_by_admin = true;
    }
    if (auto h = health_.find(m.name); h != health_.end()) {
      e.health = h->second;
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace lxcdn::origin
