#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/snapshot_cell.hpp"
#include "health/prober.hpp"
#include "origin/origin_metrics.hpp"
#include "selection/mirror.hpp"
#include "selection/select_mirror.hpp"

namespace lxcdn::origin {

// Everything a redirect decision reads besides the client's location: one immutable snapshot,
// rebuilt whole when the mirror list is reloaded, an operator changes a state, or a probe round
// ends. Readers keep the one they started with.
struct routing_table {
  std::vector<selection::mirror> mirrors;          // with the effective operator state
  std::vector<selection::mirror_status> status;    // parallel to mirrors
  std::vector<std::shared_ptr<mirror_redirects>> redirects;  // parallel to mirrors
  selection::selection_settings settings;
};

// One mirror as the status page, the admin API and /metrics show it.
struct mirror_entry {
  selection::mirror mirror;                    // with the effective operator state
  selection::operator_state configured_state;  // what the config says
  bool set_by_admin = false;                   // the state was changed through the admin API
  health::mirror_health_report health;
};

// The live mirror set of one origin process: the configured list, operator states set at run
// time, the health the prober reports. Internally synchronized: any thread may call any member.
// The request path only calls table(), which takes no lock in the steady state.
class routing_store {
 public:
  routing_store(std::vector<selection::mirror> mirrors, selection::selection_settings settings,
                origin_metrics& metrics);

  // The current table as this thread last saw it (snapshot_cell::local(): valid until this
  // thread's next call; never hold it across a co_await).
  const routing_table& table() const { return table_.local(); }

  // A new mirror list and settings (config reload). Health of mirrors that stay is kept (by
  // name; the prober decides whether it is still valid). A state set through the admin API
  // stays in force unless the reload changes that mirror's configured `state`.
  void replace(std::vector<selection::mirror> mirrors, selection::selection_settings settings);

  enum class set_result { changed, unchanged, unknown_mirror };
  // Operator state of `name` (admin API). Logged and counted when it changes.
  set_result set_state(std::string_view name, selection::operator_state state);

  // A probe round's reports (the prober's health_sink).
  void publish_health(std::vector<health::mirror_health_report> reports);

  // Every configured mirror, in config order.
  std::vector<mirror_entry> entries() const;

 private:
  struct admin_state {
    selection::operator_state state;
    selection::operator_state configured_when_set;  // a reload changing the config drops it
  };
  void rebuild();  // with mutex_ held

  origin_metrics& metrics_;
  mutable std::mutex mutex_;
  std::vector<selection::mirror> configured_;                          // guarded by mutex_
  selection::selection_settings settings_;                             // guarded by mutex_
  std::map<std::string, admin_state, std::less<>> admin_;              // guarded by mutex_
  std::map<std::string, health::mirror_health_report, std::less<>> health_;  // guarded by mutex_
  snapshot_cell<routing_table> table_;
};

}  // namespace lxcdn::origin
