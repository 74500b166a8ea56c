#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

namespace lxcdn::health {

// When a mirror leaves and rejoins the rotation (DESIGN.md, "Mirror health").
struct health_policy {
  unsigned window = 5;        // `health.window`: the last n probes considered
  unsigned fail_after = 3;    // `health.fail_after`: k failures among them take a mirror down
  unsigned recover_after = 3; // `health.recover_after`: m consecutive successes bring it back
  std::chrono::seconds slow_start{60};  // `health.slow_start`: share ramps from 10% to 100%
};

enum class health_state { up, down };

struct transition {
  health_state from;
  health_state to;
  std::string reason;  // the probe result that caused it
};

// One mirror's health as seen by this origin node. A value, confined to the health checker.
// Starts down ("not probed yet") and comes up on its first successful probe, so a node never
// redirects to a mirror it has not reached itself.
class health_tracker {
 public:
  explicit health_tracker(health_policy policy = {}) : policy_(policy) {}

  // Records one probe at `now` (unix seconds). Returns the state change it caused, if any.
  std::optional<transition> record(bool ok, std::int64_t now, const std::string& reason);

  health_state state() const { return state_; }
  // The fraction of its normal share a mirror gets at `now`: 0 when down, ramping linearly from
  // 0.1 to 1 over slow_start after it came up.
  double share(std::int64_t now) const;
  const std::string& last_reason() const { return last_reason_; }
  std::int64_t last_probe() const { return last_probe_; }
  bool last_ok() const { return last_ok_; }

 private:
  health_policy policy_;
  health_state state_ = health_state::down;
  std::deque<bool> recent_;    // newest at the back, at most policy_.window long
  unsigned consecutive_ok_ = 0;
  bool ever_up_ = false;
  std::int64_t up_since_ = 0;
  std::int64_t last_probe_ = 0;
  bool last_ok_ = false;
  std::string last_reason_ = "not probed yet";
};

}  // namespace lxcdn::health
