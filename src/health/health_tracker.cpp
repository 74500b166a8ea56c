#include "health/health_tracker.hpp"

#include <algorithm>

namespace lxcdn::health {

std::optional<transition> health_tracker::record(bool ok, std::int64_t now,
                                                 const std::string& reason) {
  recent_.push_back(ok);
  while (recent_.size() > policy_.window) {
    recent_.pop_front();
  }
  consecutive_ok_ = ok ? consecutive_ok_ + 1 : 0;
  last_probe_ = now;
  last_ok_ = ok;
  last_reason_ = reason;
  auto failures = static_cast<unsigned>(std::count(recent_.begin(), recent_.end(), false));

  if (state_ == health_state::up && failures >= policy_.fail_after) {
    state_ = health_state::down;
    return transition{health_state::up, health_state::down,
                      std::to_string(failures) + " of the last " + std::to_string(recent_.size()) +
                          " probes failed; last: " + reason};
  }
  // The first success of a never-seen mirror brings it up; afterwards m in a row are needed.
  unsigned needed = ever_up_ ? policy_.recover_after : 1;
  if (state_ == health_state::down && consecutive_ok_ >= needed) {
    state_ = health_state::up;
    ever_up_ = true;
    up_since_ = now;
    recent_.clear();
    recent_.push_back(true);
    return transition{health_state::down, health_state::up,
                      std::to_string(consecutive_ok_) + " consecutive successful probes"};
  }
  return std::nullopt;
}

double health_tracker::share(std::int64_t now) const {
  if (state_ == health_state::down) {
    return 0.0;
  }
  auto ramp = policy_.slow_start.count();
  if (ramp <= 0 || now - up_since_ >= ramp) {
    return 1.0;
  }
  double t = static_cast<double>(std::max<std::int64_t>(0, now - up_since_)) /
             static_cast<double>(ramp);
  return 0.1 + 0.9 * t;
}

}  // namespace lxcdn::health
