#include "geoip/geoip_store.hpp"

#include "core/config_error.hpp"

namespace lxcdn::geoip {

geoip_store::geoip_store(geoip_settings settings)
    : current_(std::make_shared<const geo_snapshot>(std::move(settings))) {
  last_tried_ = current_.load()->database_file();
}

std::shared_ptr<const geo_snapshot> geoip_store::current() const { return current_.load(); }

std::string geoip_store::install(geoip_settings settings) {
  // Called with reload_mutex_ held. The new snapshot is built before it is stored, so
  // lookups go on against the old one meanwhile.
  if (!settings.database.empty()) {
    last_tried_ = identify_file(settings.database);
  }
  std::shared_ptr<const geo_snapshot> next;
  try {
    next = std::make_shared<const geo_snapshot>(std::move(settings));
  } catch (const config_error& e) {
    ++failed_reloads_;
    return e.what();
  }
  current_.store(std::move(next));
  return {};
}

std::string geoip_store::reload() {
  return reload(current()->settings());
}

std::string geoip_store::reload(geoip_settings settings) {
  std::lock_guard lock(reload_mutex_);
  return install(std::move(settings));
}

geoip_store::check_outcome geoip_store::maybe_reload_if_changed() {
  std::lock_guard lock(reload_mutex_);
  auto settings = current()->settings();
  if (settings.database.empty()) {
    return {};
  }
  auto now = identify_file(settings.database);
  if (!now || now == last_tried_) {
    return {};
  }
  auto error = install(std::move(settings));
  if (!error.empty()) {
    return {check_result::failed, std::move(error)};
  }
  return {check_result::reloaded, {}};
}

}  // namespace lxcdn::geoip
